"""The board measures in the officer area: an overview of every measure, and a page for each.

Every role sees them. Viewers see only what a published report shows
(disclosure control, as ``flask measures report`` prints); officers and
admins see the same by default and may switch to exact counts, which the
page and every download label "not for publication". The figures come from
``services.measures``; the charts, the sparklines and the words beside them
from ``analysis.measure_charts``. The views parse the filters, call those,
and render.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from flask import Response, abort, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSelect
from wtforms import SelectChoice, SelectField, ValidationError

from analysis import measure_charts
from analysis.measures import Measure, MeasureSet, PeriodKind
from analysis.measures_file import MeasuresFileError
from analysis.report import Report

from .. import report_formats
from ..access import requires
from ..models import Role, utcnow
from ..officer_forms import error_list
from ..services import measures as measure_service
from ..services import response_rates, runs
from ..services.questionnaires import library
from ..services.uk_time import uk_date
from . import bp
from .responses import FILTER_NAMES, FilterDateField

PERIODS = {
    PeriodKind.QUARTER.value: "Financial-year quarters",
    PeriodKind.MONTH.value: "Months",
    PeriodKind.YEAR.value: "Calendar years",
    PeriodKind.WAVE.value: "Survey waves",
}
RECORDED = "recorded"
AUDIENCES = {
    "": "Every measure",
    "parent_carer": "Parents and carers",
    "young_person": "Children and young people",
    "setting": "Schools, colleges and early years settings",
    "practitioner": "Professionals",
    RECORDED: "Figures recorded from elsewhere",
}
EXACT = "exact"
# The charts a measure's page offers as CSV, by the id in their address.
CHART_IDS = ("over-time", "spc", "by-group")
NOT_FOR_PUBLICATION = "NOT FOR PUBLICATION: exact counts, without disclosure control"
# How many of a measure's survey runs the page links to for their comments.
COMMENT_RUNS = 6


class AsOfField(FilterDateField):
    """ "As it stood on": a day, month and year in three boxes, all empty for today."""

    def subject(self) -> str:
        return "The date"


class FilterForm(FlaskForm):
    """The filters of the measures pages, read from the query string (GET: nothing to protect, links can be
    shared)."""

    class Meta:
        csrf = False

    period = SelectField(
        "Periods",
        choices=[SelectChoice(value, label) for value, label in PERIODS.items()],
        default="quarter",
        widget=GovSelect(),
        validate_choice=False,
    )
    as_of = AsOfField("As it stood on")
    audience = SelectField(
        "Whose views",
        choices=[SelectChoice(value, label) for value, label in AUDIENCES.items()],
        default="",
        widget=GovSelect(),
        validate_choice=False,
    )
    by = SelectField("Break down by", choices=[], widget=GovSelect(), validate_choice=False)
    group_period = SelectField("Period", choices=[], widget=GovSelect(), validate_choice=False)

    def validate_period(self, field: SelectField) -> None:
        if field.data not in PERIODS:
            raise ValidationError("Choose financial-year quarters, months, calendar years or survey waves")

    def validate_as_of(self, field: AsOfField) -> None:
        if field.data is not None and field.data > today():
            raise ValidationError("The date must be today or in the past")

    def validate_audience(self, field: SelectField) -> None:
        if field.data not in AUDIENCES:
            raise ValidationError("Choose whose views to show, or every measure")


@dataclass(frozen=True)
class Filters:
    """What the pages show: the filters that were typed correctly, and the defaults for any that were not."""

    kind: PeriodKind
    as_of: date
    audience: str
    exact: bool
    form: FilterForm

    def args(self, **changes) -> list[tuple[str, str]]:
        """The filters as query string arguments (the date as its three boxes), for links that keep them; those at
        their defaults are left out, so that each page has one address."""
        values = {
            "period": self.kind.value if self.kind is not PeriodKind.QUARTER else "",
            "as_of": self.as_of if self.as_of != today() else None,
            "audience": self.audience,
            EXACT: "yes" if self.exact else "",
            **changes,
        }
        pairs: list[tuple[str, str]] = []
        for name, value in values.items():
            if isinstance(value, date):
                pairs += [("as_of", str(value.day)), ("as_of", str(value.month)), ("as_of", str(value.year))]
            elif value:
                pairs.append((name, str(value)))
        return pairs

    def url(self, endpoint: str, **changes) -> str:
        path_values = {key: changes.pop(key) for key in ("key", "chart_id") if key in changes}
        pairs = self.args(**changes)
        return url_for(endpoint, **path_values) + (f"?{urlencode(pairs)}" if pairs else "")


def today() -> date:
    return uk_date(utcnow())


def may_see_exact() -> bool:
    return current_user.can(Role.OFFICER)


def read_filters(*, with_audience: bool = False) -> tuple[Filters, list[dict[str, str]]]:
    """The filters in the query string, with the errors to show; ``with_audience``: the page offers that filter
    (elsewhere a bad one is only dropped from the links back)."""
    form = FilterForm(formdata=request.args)
    form.validate()
    kind = PeriodKind(form.period.data) if not form.period.errors else PeriodKind.QUARTER
    as_of = form.as_of.data if form.as_of.data and not form.as_of.errors else today()
    audience = form.audience.data if not form.audience.errors else ""
    # A viewer asking for exact counts gets the published figures: only officers and admins may see them.
    exact = request.args.get(EXACT) == "yes" and may_see_exact()
    shown = ("#period", "#as_of-day", "#audience") if with_audience else ("#period", "#as_of-day")
    errors = [error for error in error_list(form) if error["href"] in shown]
    return Filters(kind, as_of, audience or "", exact, form), errors


def measures_or_problems() -> tuple[MeasureSet | None, list[str]]:
    try:
        return measure_service.measure_set(), []
    except MeasuresFileError as refused:
        return None, [str(problem) for problem in refused.problems]


def the_report(measures: MeasureSet, filters: Filters) -> Report:
    if filters.exact:
        return measure_service.report(measures, filters.kind, filters.as_of)
    return measure_service.published_report(measures, filters.kind, filters.as_of)


def audiences_of(measure: Measure) -> set[str]:
    """Whose views a measure counts: its questionnaires' audiences, or "recorded" for figures from elsewhere."""
    if measure.is_recorded:
        return {RECORDED}
    if measure.source.audience:
        return {measure.source.audience}
    questionnaires = library().questionnaires
    return {str(questionnaires[key].audience) for key in measure.source.questionnaires if key in questionnaires}


def chosen(measures: MeasureSet, audience: str) -> list[Measure]:
    return [measure for measure in measures.measures if not audience or audience in audiences_of(measure)]


def groups_by_audience(measures: list[Measure]) -> list[tuple[str, list[Measure]]]:
    """The measures under a heading for each audience, in the measures file's order within each."""
    groups: dict[str, list[Measure]] = {key: [] for key in AUDIENCES if key}
    for measure in measures:
        found = sorted(audiences_of(measure), key=list(AUDIENCES).index) or [RECORDED]
        groups[found[0]].append(measure)
    return [(AUDIENCES[key], found) for key, found in groups.items() if found]


def only(report: Report, keys: set[str]) -> Report:
    """The report's rows and benchmarks of the measures ``keys``: the same figures, fewer measures."""
    return dataclasses.replace(
        report,
        rows=report.rows[report.rows["measure"].isin(keys)],
        benchmarks=report.benchmarks[report.benchmarks["measure"].isin(keys)]
        if not report.benchmarks.empty
        else report.benchmarks,
        without_data=tuple(key for key in report.without_data if key in keys),
    )


# The overview ----------------------------------------------------------------


@bp.get("/measures")
@requires(Role.VIEWER)
def measures():
    filters, errors = read_filters(with_audience=True)
    measure_set, problems = measures_or_problems()
    if measure_set is None:
        return render_template("officer/measures_problems.html", problems=problems)
    shown = chosen(measure_set, filters.audience)
    report = the_report(measure_set, filters)
    lines = {line.measure.key: line for line in measure_charts.overview(shown, report.rows, filters.kind)}
    return render_template(
        "officer/measures.html",
        filters=filters,
        form=filters.form,
        errors=errors,
        groups=[(heading, [lines[measure.key] for measure in found]) for heading, found in groups_by_audience(shown)],
        shown=shown,
        may_see_exact=may_see_exact(),
        rules=measure_service.disclosure_rules(),
        kind_words=measure_charts.PERIOD_WORDS[filters.kind],
    )


def _download(body: str, filename: str, mimetype: str) -> Response:
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _download_name(filters: Filters, name: str, extension: str) -> str:
    exact = "-not-for-publication" if filters.exact else ""
    return f"{name}-{filters.as_of.isoformat()}-{filters.kind.value}{exact}.{extension}"


def _download_report() -> tuple[Filters, Report, str]:
    filters, _errors = read_filters()
    measure_set, problems = measures_or_problems()
    if measure_set is None:
        abort(404)
    keys = {measure.key for measure in chosen(measure_set, filters.audience)}
    name = "measures"
    if request.args.get("measure"):
        key = request.args["measure"]
        if measure_set.measure(key) is None:
            abort(404)
        keys, name = {key}, key.replace("_", "-")
    return filters, only(the_report(measure_set, filters), keys), name


@bp.get("/measures.csv")
@requires(Role.VIEWER)
def measures_csv():
    """The report as ``flask measures report --format csv`` writes it (exact: a first column says it is not for
    publication)."""
    filters, report, name = _download_report()
    rows = report.rows
    if filters.exact:
        rows = rows.copy()
        rows.insert(0, "not_for_publication", NOT_FOR_PUBLICATION)
    return _download(report_formats.to_csv(rows), _download_name(filters, name, "csv"), "text/csv")


@bp.get("/measures.json")
@requires(Role.VIEWER)
def measures_json():
    """The report as ``flask measures report --format json`` writes it."""
    filters, report, name = _download_report()
    rules = measure_service.disclosure_rules()
    settings: dict = {"as_of": filters.as_of.isoformat(), "period": filters.kind.value}
    if filters.exact:
        settings |= {"not_for_publication": NOT_FOR_PUBLICATION, "disclosure": None}
    else:
        settings["disclosure"] = {"threshold": rules.threshold, "minimum_base": rules.minimum_base}
    return _download(
        report_formats.to_json(report, settings), _download_name(filters, name, "json"), "application/json"
    )


# A measure's page ------------------------------------------------------------------


def context_questions(measure: Measure) -> dict[str, str]:
    """The context questions a survey measure's questionnaires ask, by key, with a short name for each."""
    if measure.is_recorded:
        return {}
    questionnaires = library().questionnaires
    asked = {}
    for key, label in response_rates.context_questions().items():
        if any(
            questionnaires[name].question(key) is not None
            for name in measure.source.questionnaires
            if name in questionnaires
        ):
            asked[key] = FILTER_NAMES.get(key, label)
    return asked


def source_description(measure: Measure) -> list[str]:
    """Where a measure's figures come from, in a line or two."""
    if measure.is_recorded:
        origin = f" Where from: {measure.source.origin.rstrip('.')}." if measure.source.origin else ""
        return [f"Recorded by officers each {measure.source.frequency.value}.{origin}"]
    questionnaires = library().questionnaires
    found = [questionnaires[key] for key in measure.source.questionnaires if key in questionnaires]
    lines = [f"Counted from the answers to: {', '.join(questionnaire.title for questionnaire in found)}."]
    keys = getattr(measure.source, "questions", None) or (measure.source.question,)
    labels = []
    for key in keys:
        question = next((q.question(key) for q in found if q.question(key) is not None), None)
        labels.append(f"“{question.label}”" if question is not None else key)
    lines.append(f"{'Questions' if len(labels) > 1 else 'Question'}: {'; '.join(labels)}")
    return lines


def comment_runs(measure: Measure) -> list[runs.RunSummary]:
    """The latest runs of the questionnaires a survey measure counts, for links to their comments."""
    if measure.is_recorded:
        return []
    keys = set(measure.source.questionnaires)
    return [summary for summary in runs.summaries() if summary.run.questionnaire_version.key in keys][:COMMENT_RUNS]


@dataclass
class Breakdown:
    questions: dict[str, str]
    question: str | None
    periods: list[dict]
    period: dict | None
    chart: measure_charts.Chart | None
    test: str


def breakdown_of(
    measure: Measure, measure_set: MeasureSet, filters: Filters, rows: list[dict], errors: list
) -> Breakdown | None:
    """The breakdown the page shows: by the context question chosen (or the first the measure asks), in the period
    chosen (or the latest)."""
    questions = context_questions(measure)
    if not questions:
        return None
    form = filters.form
    form.by.choices = [SelectChoice(key, label) for key, label in questions.items()]
    asked = request.args.get("by", "")
    if asked and asked not in questions:
        form.by.errors = ["Choose a question that this measure's surveys ask"]
        errors.append({"text": form.by.errors[0], "href": "#by"})
    question = (
        asked if asked in questions else ("school_phase" if "school_phase" in questions else next(iter(questions)))
    )
    form.by.data = question
    one = dataclasses.replace(measure_set, measures=(measure,))
    table = measure_service.breakdown(one, filters.kind, filters.as_of, question, exact=filters.exact)
    periods = list(rows)
    form.group_period.choices = [
        SelectChoice(str(row["period"]), str(row.get("period_label") or row["period"])) for row in periods
    ]
    if not periods:
        return Breakdown(questions, question, [], None, None, "")
    wanted = request.args.get("group_period", "")
    by_key = {str(row["period"]): row for row in periods}
    if wanted and wanted not in by_key:
        form.group_period.errors = ["Choose a period that has figures"]
        errors.append({"text": form.group_period.errors[0], "href": "#group_period"})
    period = by_key.get(wanted) or periods[-1]
    form.group_period.data = str(period["period"])
    mine = table[table["period"] == period["period"]] if not table.empty else table
    chart = measure_charts.breakdown_chart(measure, mine, questions[question], period, period)
    test = measure_charts.group_test_text(mine.iloc[0].to_dict()) if not mine.empty else ""
    return Breakdown(questions, question, periods, period, chart, test)


def _measure_page_data(key: str) -> dict:
    filters, errors = read_filters()
    measure_set, problems = measures_or_problems()
    if measure_set is None:
        abort(404)
    measure = measure_set.measure(key) or abort(404)
    report = the_report(measure_set, filters)
    rows = report.rows[report.rows["measure"] == key]
    records = measure_charts.records(rows)
    over_time = measure_charts.measure_chart(measure, rows, filters.kind)
    return {
        "filters": filters,
        "form": filters.form,
        "errors": errors,
        "measure": measure,
        "measure_set": measure_set,
        "rows": records,
        "latest": measure_charts.overview([measure], rows, filters.kind)[0],
        "over_time": over_time,
        "spc": measure_charts.spc_chart(measure, rows, filters.kind),
        "spc_note": measure_charts.spc_note(measure, rows, filters.kind),
        "plan": measure_charts.plan_line(measure, records),
        "benchmarks": measure_charts.benchmark_sources(measure),
    }


@bp.get("/measures/<key>")
@requires(Role.VIEWER)
def measure(key: str):
    data = _measure_page_data(key)
    measure = data["measure"]
    breakdown = breakdown_of(measure, data.pop("measure_set"), data["filters"], data["rows"], data["errors"])
    return render_template(
        "officer/measure.html",
        **data,
        breakdown=breakdown,
        source=source_description(measure),
        comment_runs=comment_runs(measure) if current_user.can(Role.OFFICER) else [],
        may_see_exact=may_see_exact(),
        rules=measure_service.disclosure_rules(),
        kind_words=measure_charts.PERIOD_WORDS[data["filters"].kind],
    )


@bp.get("/measures/<key>/charts/<chart_id>.csv")
@requires(Role.VIEWER)
def measure_chart_csv(key: str, chart_id: str):
    """A chart's figures as CSV: the table beside it on the page."""
    if chart_id not in CHART_IDS:
        abort(404)
    data = _measure_page_data(key)
    if chart_id == "over-time":
        chart = data["over_time"]
    elif chart_id == "spc":
        chart = data["spc"]
    else:
        breakdown = breakdown_of(data["measure"], data["measure_set"], data["filters"], data["rows"], [])
        chart = breakdown.chart if breakdown else None
    if chart is None or chart.empty:
        abort(404)
    filters = data["filters"]
    table = measure_charts.not_for_publication(chart.table) if filters.exact else chart.table
    return _download(table.to_csv(), _download_name(filters, f"{key.replace('_', '-')}-{chart_id}", "csv"), "text/csv")
