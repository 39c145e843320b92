"""Command-line tasks for board measures and responses: ``flask --app wsgi measures ...`` and ``responses ...``."""

from __future__ import annotations

import signal
import sys
import threading
import time
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import click
from flask.cli import AppGroup

from analysis.measures import MeasureSet, PeriodKind
from analysis.measures_file import MeasuresFileError
from analysis.report import Report

from . import report_formats
from .models import utcnow
from .services import answer_counts, response_import, response_rates, runs
from .services import measures as measure_service
from .services import questionnaires as questionnaire_service
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
    """Check the measures file against the questionnaires; one "file:line: field: message" per problem. Says too
    when the counts kept per response were made by other definitions, and what to run."""
    measures = _measures()
    click.echo(f"{measure_service.measures_file()}: {len(measures.measures)} measures, no problems.", err=True)
    _say_if_counts_stale(measures)


def _say_if_counts_stale(measures: MeasureSet) -> None:
    found = answer_counts.staleness(measures)
    if not found.current:
        click.echo(found.message(), err=True)


@measures_cli.command("rebuild-counts")
@click.option(
    "--all", "everything", is_flag=True, help="Count every answer again, not only the measures counted per response."
)
def measures_rebuild_counts(everything: bool) -> None:
    """Count the responses still held again for the measures that need whole responses (a composite, a question
    with several answers, a filter on a context answer), by the measures file's definitions.

    Run it after changing the measures file, when `measures check` says so.
    Counts kept from responses deleted at the end of their retention period
    cannot be counted again: they stay as they were made. Responses cannot be
    stored while it runs (about a minute for a million responses with --all,
    less without), so run it when few people are answering.
    """
    measures = _measures()
    rebuilt = answer_counts.rebuild_held(measures, everything)
    what = "every count" if everything else "the per-response counts"
    counted = ", ".join(rebuilt.measures) or "none"
    click.echo(f"Counted {what} of {rebuilt.responses:,} responses again. Measures counted per response: {counted}.")


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
    _say_if_counts_stale(measures)
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


IMPORT_HELP = """Import responses collected elsewhere (such as a baseline run in another survey tool) from a CSV file.

Into an existing run (--run), or into a closed run made for them (--new-run with --questionnaire), dated from the
file's first response to its last.

\b
The CSV file (UTF-8: in Excel, "CSV UTF-8"), one row per response after the header row:
  submitted_at   when the response was sent, in UK time (GMT or BST, as the clocks
                 showed): 2021-11-14, 14/11/2021 or 14/11/21, with a time if known
                 (2021-11-14 09:30, 14/11/2021 09:30:15); a date alone is taken as
                 12:00. Or ISO 8601 with an offset: 2021-11-14T09:30:00Z,
                 2021-06-14T09:30:00+01:00. Day first: never 11/14/2021.
                 Another name for it goes in the mapping file; or give
                 --submitted-on for a file with no dates.
  a question     headed by its key (pathways_information) or its English
                 wording; the answer's code (very_good) or wording in any of
                 the questionnaire's languages (Very good), case and spacing
                 ignored. Several answers in one cell: separated by ; or |.
                 Numbers, and dates (2021-11-14 or 14/11/2021), within the
                 question's limits. An empty cell is not answered.
  plan_reference refused: plan references come only from identified invitations.
Rows that are wholly empty are skipped. Up to 100,000 responses and 50 MB a file.

\b
A mapping file (--mapping, YAML) gives another tool's names:
  columns:                      # heading: question key, or submitted_at
    "Date submitted": submitted_at
    "Q4. How would you rate the information?": pathways_information
  answers:                      # per question, answer as written: code
    pathways_information:
      "Excellent": very_good
  ignore: ["Respondent ID", "IP Address"]

Every cell is checked before anything is stored, and a file with any problem is refused whole, each problem named by
its row and column. The responses are then stored in batches, so people answering surveys at the same time are not
held up; if the import stops part-way (an error, Ctrl+C), what it stored is removed. A file already imported into a
run is refused. Progress goes to standard error. More in the README, "Importing responses".

\b
Examples in the repository:
  examples/responses.csv
  examples/other-tool.csv with --mapping examples/other-tool-mapping.yaml
"""


@responses_cli.command("import", help=IMPORT_HELP)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--run", "slug", help="The survey run to import into, by the name in its link.")
@click.option("--new-run", "title", help="Or: make a closed run with this title for the file's responses.")
@click.option("--questionnaire", "key", help="With --new-run: the questionnaire the responses answered.")
@click.option("--wave", help="With --new-run: the wave it belongs to (made if there is none of that name).")
@click.option("--baseline-wave", is_flag=True, help="With --new-run and a new --wave: the wave is the baseline.")
@click.option("--expected-eligible", type=click.IntRange(min=1), help="With --new-run: how many could have answered.")
@click.option(
    "--mapping",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A YAML file naming the file's columns and answers (see above).",
)
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
    run = _import_run(slug, title, key, wave, baseline_wave, expected_eligible)
    questionnaire = questionnaire_service.questionnaire_of(run.questionnaire_version)
    progress = _ImportProgress()
    try:
        with _stopped_cleanly(progress):
            mapped = response_import.read_mapping(mapping, questionnaire) if mapping else None
            checked = response_import.check_file(file, run, questionnaire, mapped, submitted_on, progress)
            stored = response_import.store(run, questionnaire, checked, f"import of {file.name}", progress)
    except response_import.MappingRefused as refused:
        _fail(refused.problems, "Correct the mapping file: nothing was imported.")
    except CsvFileRefused as refused:
        _refused(file, refused)
    except response_import.AlreadyImported as refused:
        _fail(f"{refused} Nothing was imported.")
    except KeyboardInterrupt:
        _fail(f"The import of {file.name} was stopped. Nothing was imported.")
    click.echo(f"Imported {stored:,} responses from {file.name} into '{run.title}' (/surveys/{run.slug}).")


@contextmanager
def _stopped_cleanly(progress: _ImportProgress):
    """Ctrl+C and SIGTERM stop the import as an error would, removing what it stored; a second one waits for that.

    The signal only asks: the import stops at its next report of progress, between two batches, and never
    in the middle of a statement, which could leave SQLite's connection holding the write lock.
    """

    def stop(signum, frame):
        for number in previous:
            signal.signal(number, signal.SIG_IGN)
        click.echo("\nStopping after the batch being stored; anything stored so far will be removed.", err=True)
        progress.stop_requested = True

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    for number in previous:
        signal.signal(number, stop)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


class _ImportProgress:
    """Progress on standard error: one line updated in place on a terminal, otherwise a line every 20,000 rows."""

    EVERY = 20_000
    SECONDS = 0.25

    def __init__(self):
        self.stream = sys.stderr
        self.live = self.stream.isatty()
        self.shown_at = 0.0
        self.last = None
        self.stop_requested = False

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        final = total is not None and done >= total
        self._show(stage, done, total, final)
        # A stop asked for (see _stopped_cleanly) happens here, between batches: never once all are stored.
        if self.stop_requested and (
            stage == response_import.CHECKED or (stage == response_import.STORED and not final)
        ):
            raise KeyboardInterrupt

    def _show(self, stage: str, done: int, total: int | None, final: bool) -> None:
        if stage == response_import.CHECKED:
            text = f"Checked {done:,} rows" + ("" if final else "…")
        elif stage == response_import.STORED:
            text = f"Stored {done:,} of {total:,} responses"
        else:
            of = f" of {total:,}" if total else ""
            text = f"Removed {done:,}{of} responses " + (
                "left by an earlier import of this file that did not finish"
                if stage == response_import.CLEARED
                else "stored so far"
            )
        if (stage, done, final) == self.last:
            return
        if self.live:
            now = time.monotonic()
            if final or now - self.shown_at >= self.SECONDS:
                self.stream.write(f"\r{text}\x1b[K" + ("\n" if final else ""))
                self.stream.flush()
                self.shown_at, self.last = now, (stage, done, final)
        elif (final and stage == response_import.CLEARED) or (done >= self.EVERY and (final or done % self.EVERY == 0)):
            if self.last is None or self.last[:2] != (stage, done):
                click.echo(text, err=True)
            self.last = (stage, done, final)


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
