"""A run's results page: what each role sees, figures equal to the stored answers, disclosure control for
viewers and in downloads, exact counts for officers marked not for publication, and escaped labels."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import random
import re
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event

from analysis import results as analysis
from questionnaires.schema import DONT_KNOW, NOT_APPLICABLE, QuestionType
from survey_app.database import begin_write
from survey_app.extensions import db
from survey_app.models import SurveyRun, utcnow
from survey_app.officer.results import chart_id
from survey_app.services import questionnaires as questionnaire_service
from survey_app.services import retention, runs

from .stored import add_response, store_response

PATHWAYS = "send_pathways_information"
PLAN = "ehc_plan_feedback"
SCRIPT = "<script>alert('x')</script>"


def version_of(key: str):
    return next(v for v in questionnaire_service.latest_versions() if v.key == key)


def closed_run(key: str = PATHWAYS, slug: str = "closed-run", version=None) -> SurveyRun:
    now = utcnow()
    return runs.open_run(
        version or version_of(key), slug, "A closed run", now - timedelta(days=30), now - timedelta(days=2)
    )


def open_run(key: str = PATHWAYS, slug: str = "open-run") -> SurveyRun:
    now = utcnow()
    return runs.open_run(version_of(key), slug, "An open run", now - timedelta(days=3), now + timedelta(days=20))


def add_many(run: SurveyRun, answer_sets: list[dict], start: datetime | None = None) -> None:
    """Store responses in one transaction, a few hours apart."""
    start = start or run.opens_at + timedelta(hours=1)
    begin_write()
    for number, answers in enumerate(answer_sets):
        add_response(run, answers, start + timedelta(hours=5 * number))
    db.session.commit()


def random_answers(run: SurveyRun, count: int, seed: int = 1) -> list[dict]:
    """Valid answers to every closed question (some left out), Don't know and Not applicable included."""
    rng = random.Random(seed)
    questionnaire = questionnaire_service.questionnaire_of(run.questionnaire_version)
    sets = []
    for _ in range(count):
        answers: dict[str, str | list[str]] = {}
        for question in analysis.charted_questions(questionnaire):
            if rng.random() < 0.1:
                continue  # not asked, or not answered
            values = [option.value for option in question.options]
            if question.type is QuestionType.MULTIPLE_CHOICE:
                chosen = rng.sample([v for v in values if v != "none"], rng.randint(1, 3))
                answers[question.key] = ["none"] if rng.random() < 0.15 else chosen
            else:
                answers[question.key] = rng.choice(values)
        answers["worked_well"] = "Free text is never shown here"
        sets.append(answers)
    return sets


def results_url(run: SurveyRun, figures: str | None = None) -> str:
    return f"/officer/runs/{run.id}/results" + (f"?figures={figures}" if figures else "")


def table_of(page, figure_id: str) -> list[list[str]]:
    """The rows of a figure's table as shown (header first)."""
    table = page.soup.select_one(f"#{figure_id} table")
    assert table is not None, f"no table in #{figure_id}"
    return [[cell.get_text(" ", strip=True) for cell in row.select("th, td")] for row in table.select("tr")]


def figure_of(page, figure_id: str) -> dict | None:
    script = page.soup.select_one(f"#{figure_id}-figure")
    return json.loads(script.string) if script is not None else None


def csv_rows(client, url: str) -> list[list[str]]:
    response = client.get(url)
    assert response.status_code == 200, f"{url}: {response.status_code}"
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).removeprefix("\ufeff"))))


def question_ids(page) -> list[str]:
    return [figure["id"] for figure in page.soup.select("figure.app-chart") if figure["id"].startswith("answers-")]


# Roles --------------------------------------------------------------------


def test_the_page_as_each_role(app, signed_in, users):
    run = closed_run()
    add_many(run, random_answers(run, 30))
    signed_out = app.test_client().get(results_url(run))
    assert signed_out.status_code == 302 and "/sign-in" in signed_out.headers["Location"]

    for role in ("viewer", "officer", "admin"):
        browser = signed_in(role)
        run_page = browser.get(f"/officer/runs/{run.id}")
        assert run_page.link("See the results") == results_url(run)
        page = browser.get(results_url(run))
        assert page.h1 == "Results" and page.title.startswith("Results: A closed run")
        assert "daily-responses" in {figure["id"] for figure in page.soup.select("figure")}
        assert len(question_ids(page)) == len(
            analysis.charted_questions(questionnaire_service.questionnaire_of(run.questionnaire_version))
        )
        form = page.soup.select("input[name=figures]")
        if role == "viewer":
            assert not form, "viewers cannot choose exact counts"
            assert "fit to publish" in page.soup.select_one("#figures").get_text()
            assert "read the comments" not in page.text
        else:
            assert [radio["value"] for radio in form] == ["published", "exact"]
            assert page.soup.select_one("input[name=figures][value=published]").has_attr("checked")
        assert "Free text is never shown here" not in page.text


def test_an_unknown_run_or_chart_is_not_found(signed_in, users):
    browser = signed_in("officer")
    browser.get("/officer/runs/999999/results", status=404)
    assert browser.client.get("/officer/runs/999999/results/daily-responses.csv").status_code == 404
    run = closed_run()
    add_many(run, random_answers(run, 12))
    assert browser.client.get(f"/officer/runs/{run.id}/results/no-such-chart.csv").status_code == 404
    assert browser.client.get(f"/officer/runs/{run.id}/results/answers-no-such-question.csv").status_code == 404


def test_a_run_with_no_responses_says_so(signed_in, users):
    run = open_run()
    for role in ("viewer", "officer"):
        page = signed_in(role).get(results_url(run))
        assert "No responses are held yet." in page.text
        assert "Nobody has answered yet." in page.text
        assert not question_ids(page)
        assert page.soup.select_one("#daily-responses-figure") is None


# The figures -----------------------------------------------------------------


def test_the_exact_figures_equal_an_independent_count_of_the_stored_answers(signed_in, users):
    run = closed_run()
    answer_sets = random_answers(run, 80, seed=7)
    add_many(run, answer_sets)
    page = signed_in("officer").get(results_url(run, "exact"))
    questionnaire = questionnaire_service.questionnaire_of(run.questionnaire_version)
    for question in analysis.charted_questions(questionnaire):
        given = Counter()
        answered = 0
        for answers in answer_sets:
            value = answers.get(question.key)
            if value is None:
                continue
            answered += 1
            given.update(value if isinstance(value, list) else [value])
        rows = {row[0]: row[1:] for row in table_of(page, chart_id(question))[1:]}
        several = question.type is QuestionType.MULTIPLE_CHOICE
        base = answered if several else sum(given[o.value] for o in question.options if not o.apart)
        for option in question.options:
            number, percent = rows[option.label]
            assert number == f"{given[option.value]:,}", (question.key, option.value)
            if option.apart and not several:
                assert percent == "Left out", (question.key, option.value)  # Don't know, Not applicable
            else:
                assert percent == f"{100 * given[option.value] / base:.1f}%", (question.key, option.value)
        not_answered = rows[analysis.no_answer_label(question)]
        assert not_answered == [f"{len(answer_sets) - answered:,}", "Left out"]
        total = "People who answered" if several else "All answers on the scale"
        if analysis.kind_of(question) is analysis.ChartKind.BARS and not several:
            total = "All these answers"
        assert rows[total][0] == f"{base:,}"


def test_dont_know_and_not_applicable_are_apart_from_the_scale_and_out_of_its_percentages(signed_in, users):
    run = closed_run()
    answers = (
        [{"pathways_information": "very_good", "info_sen_support": "good"}] * 12
        + [{"pathways_information": "poor", "info_sen_support": "poor"}] * 8
        + [{"pathways_information": DONT_KNOW, "info_sen_support": NOT_APPLICABLE}] * 10
    )
    add_many(run, answers)
    page = signed_in("viewer").get(results_url(run))
    for key, label in (("pathways_information", "Don't know"), ("info_sen_support", "I have not looked for this")):
        figure_id = "answers-" + key.replace("_", "-")
        rows = {row[0]: row[1:] for row in table_of(page, figure_id)[1:]}
        assert rows[label] == ["10", "Left out"]
        assert rows["All answers on the scale"] == ["20", "100%"]
        good = "Very good" if key == "pathways_information" else "Good"
        assert rows[good] == ["12", "60.0%"] and rows["Poor"] == ["8", "40.0%"]
        figure = figure_of(page, figure_id)
        # Every point of the scale is in the legend, in order; those nobody chose have no width.
        assert [trace["name"] for trace in figure["data"]] == [
            "Very good",
            "Good",
            "Neither good nor poor",
            "Poor",
            "Very poor",
        ]
        assert {trace["name"]: trace["x"][0] for trace in figure["data"] if trace["x"][0]} == {good: 60.0, "Poor": 40.0}
        assert "Don't know" not in json.dumps(figure) and "I have not looked" not in json.dumps(figure)
        summary = page.soup.select_one(f"#{figure_id} .app-chart__summary").get_text()
        assert f"10 “{label}”" in summary


def test_several_answers_are_a_bar_each_as_shares_of_those_who_answered(signed_in, users):
    run = closed_run(PLAN)
    answers = (
        [{"needs_missing": ["communication_interaction", "health"]}] * 12
        + [{"needs_missing": ["health"]}] * 8
        + [{"needs_missing": ["none"]}] * 10
        + [{"felt_involved": "agree"}] * 10
    )
    add_many(run, answers)
    page = signed_in("viewer").get(results_url(run))
    figure_id = "answers-needs-missing"
    rows = {row[0]: row[1:] for row in table_of(page, figure_id)[1:]}
    question = questionnaire_service.questionnaire_of(run.questionnaire_version).question("needs_missing")
    labels = {option.value: option.label for option in question.options}
    assert rows[labels["communication_interaction"]] == ["12", "40.0%"]
    assert rows[labels["health"]] == ["20", "66.7%"]
    assert rows[labels["none"]] == ["10", "33.3%"]
    assert rows["People who answered"] == ["30", ""]
    assert rows["Not asked or not answered"] == ["10", "Left out"]
    bars = figure_of(page, figure_id)["data"][0]
    assert dict(zip(bars["y"], bars["x"], strict=True))[labels["health"]] == 66.7
    assert "could choose more than one" in page.soup.select_one(f"#{figure_id} figcaption").get_text()


@pytest.mark.parametrize("role", ["viewer", "officer"])
def test_every_charts_json_holds_the_same_points_as_its_table(signed_in, users, role):
    run = closed_run(PLAN)
    add_many(run, random_answers(run, 40, seed=3))
    page = signed_in(role).get(results_url(run, "exact" if role == "officer" else None))
    checked = 0
    for figure in page.soup.select("figure.app-chart"):
        data = figure_of(page, figure["id"])
        rows = {row[0]: row[1:] for row in table_of(page, figure["id"])[1:]}
        if data is None:
            continue
        for trace in data["data"]:
            if trace["name"] == "Withheld (c)":
                for name in (
                    trace.get("y", []) if trace["type"] == "scatter" and figure["id"] != "daily-responses" else []
                ):
                    assert rows[name][1] == "c"
                continue
            if figure["id"] == "daily-responses":
                shown = {row[0]: row[1] for row in table_of(page, figure["id"])[1:]}
                days = [datetime.fromisoformat(day) for day in trace["x"]]
                assert [shown[f"{day.day} {day:%B %Y}"] for day in days] == [f"{count:,}" for count in trace["y"]]
                assert len(trace["x"]) == sum(1 for value in shown.values() if value != "c")
            elif trace["type"] == "bar" and trace.get("y") == [""]:  # one part of a stacked bar
                assert f"{trace['x'][0]:.1f}%" == rows[trace["name"]][1]
                checked += 1
            else:  # a bar for each answer
                for name, percent in zip(trace["y"], trace["x"], strict=True):
                    assert f"{percent:.1f}%" == rows[name][1]
                    checked += 1
        if figure["id"] != "daily-responses":
            drawn = sum(
                len(trace["y"]) if trace.get("y") != [""] else 1
                for trace in data["data"]
                if trace["name"] != "Withheld (c)"
            )
            percents = [cells[1] for name, cells in rows.items() if cells[1].endswith("%") and cells[1] != "100%"]
            assert drawn == len(percents), figure["id"]
    assert checked > 20


# Disclosure control ----------------------------------------------------------


def small_counts_run() -> SurveyRun:
    """A closed run where some answers are given by 1 to 5 people."""
    run = closed_run()
    answers = (
        [{"pathways_information": "very_good", "aware_local_offer": "yes", "locality": "north"}] * 20
        + [{"pathways_information": "good", "aware_local_offer": "yes", "locality": "north"}] * 15
        + [{"pathways_information": "poor", "aware_local_offer": "no", "locality": "south"}] * 3
        + [{"pathways_information": "very_poor", "aware_local_offer": "yes", "locality": "south"}] * 9
        + [{"pathways_information": DONT_KNOW, "aware_local_offer": DONT_KNOW}] * 7
    )
    add_many(run, answers)
    return run


def test_viewers_see_small_counts_hidden_in_the_page_the_chart_and_the_download(signed_in, users):
    run = small_counts_run()
    browser = signed_in("viewer")
    page = browser.get(results_url(run))
    rows = {row[0]: row[1:] for row in table_of(page, "answers-pathways-information")[1:]}
    assert rows["Poor"] == ["c", "c"]
    assert rows["Very poor"] == ["c", "c"]  # the next smallest, or Poor would be 47 less the others
    assert rows["All answers on the scale"] == ["47", "100%"]
    assert rows["Very good"] == ["20", "42.6%"] and rows["Don't know"] == ["7", "Left out"]
    figure = figure_of(page, "answers-pathways-information")
    encoded = json.dumps(figure)
    names = [trace["name"] for trace in figure["data"]]
    assert "Poor" not in names and "Very poor" not in names and "Withheld (c)" in names
    assert "(3 of" not in encoded and "(9 of" not in encoded and "(1 of" not in encoded
    for trace in figure["data"]:
        if trace["name"] != "Withheld (c)":
            assert "c" != rows[trace["name"]][0]
    downloaded = csv_rows(browser.client, f"/officer/runs/{run.id}/results/answers-pathways-information.csv")
    assert downloaded == table_of(page, "answers-pathways-information")
    assert "Publication" not in downloaded[0]
    # No count from 1 to 5 anywhere in the answers' tables or figures.
    for figure_id in question_ids(page):
        for row in table_of(page, figure_id)[1:]:
            assert row[1] in ("c", "0") or int(row[1].replace(",", "")) > 5, (figure_id, row)


def test_viewers_see_the_answers_only_once_the_run_has_closed(app, signed_in, users):
    run = open_run()
    add_many(run, random_answers(run, 20), start=utcnow() - timedelta(days=2))
    browser = signed_in("viewer")
    page = browser.get(results_url(run))
    assert "The answers are shown once the survey has closed" in page.text
    assert not question_ids(page)
    assert page.soup.select_one("#daily-responses-figure") is not None
    assert browser.client.get(f"/officer/runs/{run.id}/results/answers-pathways-information.csv").status_code == 403
    # Officers see them at once, fit to publish unless they ask for exact counts.
    assert question_ids(signed_in("officer").get(results_url(run)))
    # Closed, but within the grace period for people still answering: still not shown to viewers.
    begin_write()
    run = db.session.get(SurveyRun, run.id)
    run.closes_at = utcnow() - timedelta(minutes=app.config["CLOSING_GRACE_MINUTES"] - 5)
    db.session.commit()
    assert not question_ids(browser.get(results_url(run)))
    begin_write()
    db.session.get(SurveyRun, run.id).closes_at = utcnow() - timedelta(minutes=app.config["CLOSING_GRACE_MINUTES"] + 1)
    db.session.commit()
    assert question_ids(browser.get(results_url(run)))


def test_viewers_never_get_exact_counts(signed_in, users):
    run = small_counts_run()
    browser = signed_in("viewer")
    assert browser.client.get(results_url(run, "exact")).status_code == 403
    for chart in ("daily-responses", "answers-pathways-information"):
        assert browser.client.get(f"/officer/runs/{run.id}/results/{chart}.csv?figures=exact").status_code == 403


def test_a_bad_choice_of_figures_is_explained_on_the_page(signed_in, users):
    run = small_counts_run()
    for role in ("officer", "viewer"):
        browser = signed_in(role)
        page = browser.get(results_url(run, "everything"))
        assert page.error_summary == [("Choose which figures to show: fit to publish, or exact counts", "#figures")]
        assert table_of(page, "answers-pathways-information")[1:][3] == ["Poor", "c", "c"]  # fit to publish
        assert browser.client.get(f"/officer/runs/{run.id}/results/daily-responses.csv?figures=x").status_code == 400


def test_officers_may_switch_to_exact_counts_marked_not_for_publication(signed_in, users):
    run = small_counts_run()
    for role in ("officer", "admin"):
        browser = signed_in(role)
        page = browser.get(results_url(run, "exact"))
        assert "(exact counts, not for publication)" in page.title
        assert "Not for publication" in page.soup.select_one(".govuk-warning-text").get_text()
        assert page.soup.select_one("input[name=figures][value=exact]").has_attr("checked")
        rows = {row[0]: row[1:] for row in table_of(page, "answers-pathways-information")[1:]}
        assert rows["Poor"] == ["3", "6.4%"] and rows["Very poor"] == ["9", "19.1%"]
        assert "not for publication" in page.soup.select_one("#answers-pathways-information figcaption").get_text()
        link = page.soup.select_one("#answers-pathways-information a[download]")["href"]
        assert link.endswith("figures=exact")
        response = browser.client.get(link)
        assert "not-for-publication.csv" in response.headers["Content-Disposition"]
        downloaded = csv_rows(browser.client, link)
        assert downloaded[0][-1] == "Publication"
        assert all(row[-1] == "Not for publication: exact counts" for row in downloaded[1:])
        assert [row[:-1] for row in downloaded] == table_of(page, "answers-pathways-information")
        per_day = csv_rows(browser.client, f"/officer/runs/{run.id}/results/daily-responses.csv?figures=exact")
        assert per_day[0] == ["Day", "Responses", "Publication"]


def test_hostile_text_in_a_questionnaire_is_escaped_in_labels_and_chart_json(signed_in, users):
    questionnaire = questionnaire_service.library().get(PATHWAYS)
    question = questionnaire.question("pathways_information")
    options = tuple(
        dataclasses.replace(option, label=f"{SCRIPT} {option.label}") if option.value == "very_good" else option
        for option in question.options
    )
    hostile = dataclasses.replace(question, label=f"{SCRIPT} & <b>pathways</b>", options=options)
    pages = tuple(
        dataclasses.replace(page, questions=tuple(hostile if q.key == hostile.key else q for q in page.questions))
        for page in questionnaire.pages
    )
    questionnaire_service.publish(dataclasses.replace(questionnaire, version=questionnaire.version + 1, pages=pages))
    version = version_of(PATHWAYS)
    run = closed_run(version=version)
    add_many(run, [{"pathways_information": "very_good"}] * 12 + [{"pathways_information": "good"}] * 10)
    for role, figures in (("viewer", None), ("officer", "exact")):
        page = signed_in(role).get(results_url(run, figures))
        body = page.response.get_data(as_text=True)
        assert SCRIPT not in body and "<b>pathways</b>" not in body
        assert "&lt;script&gt;" in body
        script = page.soup.select_one("#answers-pathways-information-figure").string
        assert "<" not in script and ">" not in script
        names = [trace["name"] for trace in json.loads(script)["data"]]
        assert names[0] == "&lt;script&gt;alert('x')&lt;/script&gt; Very good"  # plotly shows it as written
        assert page.soup.select_one("#answers-pathways-information table td").get_text().startswith(SCRIPT)


def test_equality_answers_and_free_text_are_not_shown(signed_in, users):
    run = closed_run()
    for _ in range(12):
        store_response(
            run,
            {"aware_local_offer": "yes", "worked_well": "A comment in my own words"},
            submitted_at=run.opens_at + timedelta(hours=2),
            equality={"respondent_sex": "female"},
        )
    page = signed_in("admin").get(results_url(run, "exact"))
    assert not [figure_id for figure_id in question_ids(page) if "respondent" in figure_id or "ethnic" in figure_id]
    assert "answers-worked-well" not in question_ids(page)
    assert "A comment in my own words" not in page.text
    assert "Equality monitoring answers are kept apart" in page.text


# Retention, and cost ---------------------------------------------------------


def test_a_run_whose_responses_were_deleted_by_retention_still_shows_its_results(signed_in, users):
    version = version_of(PLAN)
    run = runs.open_run(version, "retained-run", "Retained run", datetime(2020, 1, 1), datetime(2020, 3, 1))
    answer_sets = random_answers(run, 40, seed=11)
    add_many(run, answer_sets, start=datetime(2020, 1, 2))
    browser = signed_in("officer")
    before = browser.get(results_url(run, "exact"))
    retention.apply(now=datetime(2030, 1, 1))
    after = browser.get(results_url(run, "exact"))
    assert "40" in after.soup.select(".govuk-summary-list__value")[3].get_text()
    assert "40 responses have been deleted at the end of the retention period" in after.text
    assert after.soup.select_one("#daily-responses-figure") is None  # no days are held
    for figure_id in question_ids(before):
        if figure_id == "answers-needs-missing":
            # How many answered a question with several answers is not kept: counts, no percentages.
            numbers_before = {row[0]: row[1] for row in table_of(before, figure_id)[1:]}
            for name, number, percent in table_of(after, figure_id)[1:]:
                assert number == numbers_before[name] and percent == ""
            continue
        assert table_of(after, figure_id) == table_of(before, figure_id), figure_id


def test_the_pages_work_does_not_grow_with_its_responses(app, signed_in, users):
    """The same queries for 10 responses as for 60: counts come back, never the responses."""
    browser = signed_in("officer")
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sizes = {}
    for size in (10, 60):
        run = closed_run(PLAN, slug=f"sized-{size}")
        add_many(run, random_answers(run, size, seed=size))
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            statements.clear()
            browser.get(results_url(run, "exact"))
            sizes[size] = len(statements)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
    assert sizes[10] == sizes[60]
    assert not [s for s in statements if re.search(r"\bFROM answer\b", s) and "GROUP BY" not in s]
