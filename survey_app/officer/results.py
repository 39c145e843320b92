"""A survey run's results: responses per day, the response rate, and the answers to every closed question.

Everyone signed in sees figures fit to publish, under the disclosure rules
the measures report follows (``analysis.results``); officers and admins may
switch to exact counts, marked "not for publication" on the page and in each
download. Viewers see a run's answers once it has closed (see
``run_results.answers_released``). The counts come from the database
(``services.run_results``); the figures and their tables from
``analysis.results_charts``.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Response, abort, render_template, request, url_for
from flask_login import current_user

from analysis import results as analysis
from analysis import results_charts
from analysis.charts import Chart
from questionnaires import Question

from ..access import requires
from ..models import Role, SurveyRun
from ..services import run_results, runs
from ..services.measures import disclosure_rules
from ..services.questionnaires import questionnaire_of
from . import bp

PUBLISHED, EXACT = "published", "exact"
FIGURES = {
    PUBLISHED: "Fit to publish: small numbers hidden",
    EXACT: "Exact counts: not for publication",
}
FIGURES_ERROR = "Choose which figures to show: fit to publish, or exact counts"
PER_DAY = "daily-responses"
ANSWERS_PREFIX = "answers-"


@dataclass(frozen=True)
class QuestionResult:
    distribution: analysis.Distribution
    chart: Chart


@dataclass(frozen=True)
class Results:
    exact: bool
    responses: int  # every response, including those counted by retention
    responses_shown: int | None  # as published: None when withheld
    retained: int
    rate: analysis.ResponseRate
    per_day: Chart
    released: bool  # whether the answers are shown (viewers: once the run has closed)
    questions: list[QuestionResult]


def chart_id(question: Question) -> str:
    return ANSWERS_PREFIX + question.key.replace("_", "-")


def _figures() -> tuple[str, str | None]:
    """Which figures were asked for, and the error to show when the choice is not one of them."""
    choice = request.args.get("figures", PUBLISHED)
    if choice not in FIGURES:
        return PUBLISHED, FIGURES_ERROR
    if choice == EXACT and not current_user.can(Role.OFFICER):
        abort(403)  # viewers never see exact counts
    return choice, None


def _results(run: SurveyRun, exact: bool, *, only: str | None = None) -> Results:
    """The run's figures; with ``only`` (a chart's id), its questions' answers are counted for that chart alone."""
    rules = None if exact else disclosure_rules()
    held = run_results.responses(run)
    rate = runs.response_rate(run, held.total, held.invitations)
    questions = analysis.charted_questions(questionnaire_of(run.questionnaire_version))
    if only is not None:
        questions = [question for question in questions if chart_id(question) == only]
    released = current_user.can(Role.OFFICER) or run_results.answers_released(run)
    wanted = questions if released and held.total and only != PER_DAY else []
    counted = run_results.answer_counts(run, wanted, held.retained)
    distributions = analysis.distributions(wanted, counted.counts, held.total, counted.respondents, rules)
    per_day = analysis.daily_counts(runs.submissions_per_day(run) if only in (None, PER_DAY) else [], rules)
    return Results(
        exact=exact,
        responses=held.total,
        responses_shown=analysis.responses_published(held.total, rules),
        retained=held.retained,
        rate=analysis.response_rate(held.total, rate.denominator, rate.basis, rules),
        per_day=results_charts.responses_per_day_chart(per_day, PER_DAY, exact=exact),
        released=released,
        questions=[
            QuestionResult(distribution, results_charts.answers_chart(distribution, chart_id(question)))
            for question, distribution in zip(wanted, distributions, strict=True)
        ],
    )


@bp.get("/runs/<int:run_id>/results")
@requires(Role.VIEWER)
def run_results_page(run_id: int):
    run = runs.run_by_id(run_id) or abort(404)
    choice, error = _figures()
    results = _results(run, exact=choice == EXACT)
    officer = current_user.can(Role.OFFICER)
    return render_template(
        "officer/run_results.html",
        run=run,
        status=runs.status(run),
        results=results,
        officer=officer,
        figures=choice,
        figures_options=FIGURES,
        rules=disclosure_rules(),
        error=error,
        errors=[{"text": error, "href": "#figures"}] if error else [],
        csv_url=lambda chart: url_for(
            ".run_results_csv", run_id=run.id, chart=chart.id, **({"figures": EXACT} if results.exact else {})
        ),
    )


@bp.get("/runs/<int:run_id>/results/<chart>.csv")
@requires(Role.VIEWER)
def run_results_csv(run_id: int, chart: str):
    run = runs.run_by_id(run_id) or abort(404)
    choice = request.args.get("figures", PUBLISHED)
    if choice not in FIGURES:
        abort(400)
    if choice == EXACT and not current_user.can(Role.OFFICER):
        abort(403)
    results = _results(run, exact=choice == EXACT, only=chart)
    found = [results.per_day] if chart == PER_DAY else [item.chart for item in results.questions]
    if not found:
        # An unknown chart, or a question's answers that this person cannot see yet.
        abort(403 if chart.startswith(ANSWERS_PREFIX) and not results.released else 404)
    table = found[0].table
    if results.exact:
        table = results_charts.with_publication_column(table)
    name = f"results-{run.slug}-{chart}" + ("-not-for-publication" if results.exact else "")
    return Response(
        "\ufeff" + table.to_csv(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )
