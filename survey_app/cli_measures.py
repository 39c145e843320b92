"""Command-line tasks for board measures and responses: ``flask --app wsgi measures ...`` and ``responses ...``."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click
from flask.cli import AppGroup

from analysis.measures import MeasureSet, PeriodKind
from analysis.measures_file import MeasuresFileError
from analysis.report import Report

from . import report_formats
from .models import utcnow
from .services import measures as measure_service
from .services import questionnaires as questionnaire_service
from .services import response_import, response_rates, runs
from .services.csv_files import CsvFileRefused
from .services.uk_time import uk_date

measures_cli = AppGroup("measures", help="Board measures: check their definitions, record figures, report.")
responses_cli = AppGroup("responses", help="Import responses collected elsewhere; response rates.")

PERIODS = click.Choice([kind.value for kind in PeriodKind])
FORMATS = click.Choice(report_formats.FORMATS)


class _Date(click.ParamType):
    name = "DATE"

    def convert(self, value, param, ctx) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(f"'{value}' is not a date: write it as YYYY-MM-DD, like 2024-03-31.", param, ctx)


DATE = _Date()


def _fail(lines: list[str] | str, summary: str | None = None) -> None:
    for line in [lines] if isinstance(lines, str) else lines:
        click.echo(line, err=True)
    if summary:
        click.echo(summary, err=True)
    sys.exit(1)


def _measures() -> MeasureSet:
    try:
        return measure_service.measure_set()
    except MeasuresFileError as refused:
        _fail([str(problem) for problem in refused.problems], "Correct the measures file first.")
    except OSError as error:
        _fail(f"The measures file {measure_service.measures_file()} cannot be read: {error.strerror}.")


def _only(measures: MeasureSet, keys: tuple[str, ...]) -> MeasureSet:
    if not keys:
        return measures
    unknown = [key for key in keys if measures.measure(key) is None]
    if unknown:
        known = ", ".join(measure.key for measure in measures.measures)
        _fail(f"There is no measure {', '.join(unknown)}. The measures are: {known}.")
    return MeasureSet(tuple(m for m in measures.measures if m.key in keys), measures.rules, measures.populations)


def _today() -> date:
    return uk_date(utcnow())


def _legend() -> str:
    rules = measure_service.disclosure_rules()
    return (
        f"c: withheld to protect a small count (counts of 1 to {rules.threshold}, and whatever would let one be "
        f"worked out; no percentage on a base under {rules.minimum_base}). Changes are tested at 5% "
        "(two-proportion z-test, or Fisher's exact test for small counts); intervals are 95% Wilson intervals."
    )


@measures_cli.command("check")
def measures_check() -> None:
    """Check the measures file against the questionnaires; one "file:line: field: message" per problem."""
    measures = _measures()
    click.echo(f"{measure_service.measures_file()}: {len(measures.measures)} measures, no problems.", err=True)


@measures_cli.command("report")
@click.option("--as-of", type=DATE, help="Report as it stood at the end of this day (default: today).")
@click.option("--period", "kind", type=PERIODS, default=PeriodKind.QUARTER.value, show_default=True)
@click.option("--format", "output", type=FORMATS, default="table", show_default=True)
@click.option("--measure", "keys", multiple=True, help="Only this measure (may be given more than once).")
def measures_report(as_of: date | None, kind: str, output: str, keys: tuple[str, ...]) -> None:
    """Every measure in every period: estimate and interval, changes and their tests, direction of travel,
    trajectory, status, target assurance, benchmarks and SPC, with disclosure control applied.

    Quarters are financial-year quarters (Q1 is April to June). Recorded
    measures are never reported by a shorter period than they are recorded in.
    """
    as_of = as_of or _today()
    measures = _only(_measures(), keys)
    report: Report = measure_service.published_report(measures, PeriodKind(kind), as_of)
    if output == "csv":
        click.echo(report_formats.to_csv(report.rows), nl=False)
    elif output == "json":
        rules = measure_service.disclosure_rules()
        settings = {
            "as_of": as_of.isoformat(),
            "period": kind,
            "disclosure": {"threshold": rules.threshold, "minimum_base": rules.minimum_base},
        }
        click.echo(report_formats.to_json(report, settings))
    else:
        click.echo(f"Measures as of {as_of:%d %B %Y}, by {kind}\n")
        click.echo(report_formats.to_table(report, measures, _legend()), nl=False)


@measures_cli.command("breakdown")
@click.option("--by", "group", required=True, help="A context question, such as school_phase or locality.")
@click.option("--as-of", type=DATE, help="As it stood at the end of this day (default: today).")
@click.option("--period", "kind", type=PERIODS, default=PeriodKind.WAVE.value, show_default=True)
@click.option("--format", "output", type=click.Choice(["table", "csv"]), default="table", show_default=True)
@click.option("--measure", "keys", multiple=True, help="Only this measure (may be given more than once).")
def measures_breakdown(group: str, as_of: date | None, kind: str, output: str, keys: tuple[str, ...]) -> None:
    """Each survey measure by the answers to one context question, with a test of whether the groups differ."""
    measures = _only(_measures(), keys)
    context = response_rates.context_questions()
    if group not in context:
        _fail(f"'{group}' is not a context question. The context questions are: {', '.join(sorted(context))}.")
    table = measure_service.breakdown(measures, PeriodKind(kind), as_of or _today(), group)
    if output == "csv":
        click.echo(report_formats.to_csv(table), nl=False)
        return
    click.echo(report_formats.breakdown_table(table, measures, context[group], _legend()), nl=False)


@measures_cli.command("record")
@click.argument("key")
@click.argument("period")
@click.option("--numerator", help="For a percentage: how many met the measure (like 10 plans within 20 weeks).")
@click.option("--denominator", help="For a percentage: how many there were in all (like 19 plans).")
@click.option("--value", help="For a count: the figure (like 2039 open plans).")
def measures_record(key: str, period: str, numerator: str | None, denominator: str | None, value: str | None) -> None:
    """Record a measure's figure for PERIOD (2024-25 Q1, 2024-04 or 2024), replacing any already recorded."""
    measures = _measures()
    try:
        figure = measure_service.check_figure(measures, key, period, numerator, denominator, value)
    except measure_service.FigureRefused as refused:
        _fail(f"Not recorded: {refused}")
    _, replaced = measure_service.save_figures([figure])
    if figure.denominator:
        share = report_formats.whole_percent(figure.numerator / figure.denominator)
        shown = f"{figure.numerator} of {figure.denominator} ({share})"
    else:
        shown = f"{figure.value:,.0f}"
    click.echo(f"{'Replaced' if replaced else 'Recorded'} {key} for {figure.period.label}: {shown}.")


@measures_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def measures_import(file: Path) -> None:
    """Import recorded figures from a CSV file with the columns measure, period, and numerator and denominator
    (for percentages) or value (for counts). A file with any problem is refused whole."""
    measures = _measures()
    try:
        figures = measure_service.read_figures(file.read_bytes(), measures)
    except CsvFileRefused as refused:
        _refused(file, refused)
    added, replaced = measure_service.save_figures(figures)
    click.echo(
        f"Imported {len(figures):,} figures from {file.name}: {added:,} new, {replaced:,} replacing earlier ones."
    )


def _refused(file: Path, refused: CsvFileRefused) -> None:
    more = f" ({refused.not_shown:,} more not shown)" if refused.not_shown else ""
    _fail(
        refused.problems,
        f"{file.name} was not imported: {refused.total:,} problem(s){more}. Nothing was changed.",
    )


@responses_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--run", "slug", help="The survey run to import into, by the name in its link.")
@click.option("--new-run", "title", help="Or: make a closed run with this title for the file's responses.")
@click.option("--questionnaire", "key", help="With --new-run: the questionnaire the responses answered.")
@click.option("--wave", help="With --new-run: the wave it belongs to (made if there is none of that name).")
@click.option("--baseline-wave", is_flag=True, help="With --new-run and a new --wave: the wave is the baseline.")
@click.option("--expected-eligible", type=click.IntRange(min=1), help="With --new-run: how many could have answered.")
@click.option("--mapping", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="A YAML mapping file.")
@click.option("--submitted-on", type=DATE, help="The date of every response, when the file has no submitted_at.")
def responses_import(
    file: Path,
    slug: str | None,
    title: str | None,
    key: str | None,
    wave: str | None,
    baseline_wave: bool,
    expected_eligible: int | None,
    mapping: Path | None,
    submitted_on: date | None,
) -> None:
    """Import responses collected elsewhere (such as a baseline run in another survey tool).

    Into an existing run (--run), or into a closed run made for them
    (--new-run with --questionnaire), dated from the file's first response to
    its last. Columns are matched to questions by key or wording, answers by
    code or wording; a mapping file covers other names. Every cell is checked
    against the questionnaire, and a file with any problem is refused whole.
    """
    run = _import_run(slug, title, key, wave, baseline_wave, expected_eligible)
    questionnaire = questionnaire_service.questionnaire_of(run.questionnaire_version)
    try:
        mapped = response_import.read_mapping(mapping, questionnaire) if mapping else None
        found = response_import.read_file(file.read_bytes(), run, questionnaire, mapped, submitted_on)
        stored = response_import.store(run, questionnaire, found, source=f"import of {file.name}")
    except response_import.MappingRefused as refused:
        _fail(refused.problems, "Correct the mapping file: nothing was imported.")
    except CsvFileRefused as refused:
        _refused(file, refused)
    except response_import.AlreadyImported as refused:
        _fail(f"{refused} Nothing was imported.")
    click.echo(f"Imported {stored:,} responses from {file.name} into '{run.title}' (/surveys/{run.slug}).")


def _import_run(slug, title, key, wave, baseline_wave, expected_eligible):
    if bool(slug) == bool(title):
        _fail("Give either --run, the run to import into, or --new-run with --questionnaire to make one.")
    if slug:
        if key or wave or baseline_wave or expected_eligible:
            _fail("--questionnaire, --wave, --baseline-wave and --expected-eligible go with --new-run, not --run.")
        run = runs.run_record(slug)
        if run is None:
            _fail(f"There is no survey run '{slug}'. Give the name in its link, like pathways-baseline-2021.")
        return run
    versions = {version.key: version for version in questionnaire_service.latest_versions()}
    if key not in versions:
        _fail(f"Give --questionnaire, one of: {', '.join(sorted(versions))}.")
    if baseline_wave and not wave:
        _fail("--baseline-wave needs --wave, the name of the wave.")
    return response_import.new_run(title.strip(), versions[key], wave, baseline_wave, expected_eligible)


@responses_cli.command("rates")
@click.option("--format", "output", type=click.Choice(["table", "csv"]), default="table", show_default=True)
def responses_rates(output: str) -> None:
    """Response rates per run and wave, and who responded against the eligible population where it is known."""
    measures = _measures()
    rates = response_rates.rates()
    checks = response_rates.representativeness(measures.populations, measure_service.disclosure_rules())
    if output == "csv":
        click.echo(report_formats.to_csv(rates), nl=False)
        for check in checks:
            click.echo(report_formats.to_csv(check.table), nl=False)
        return
    click.echo(report_formats.rates_table(rates, checks, _legend()), nl=False)


def init_app(app) -> None:
    app.cli.add_command(measures_cli)
    app.cli.add_command(responses_cli)
