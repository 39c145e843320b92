"""Pages that must not grow with a run: responses per UK day counted by the database, and the table of
responses filtered through the index on answers. On SQLite and PostgreSQL alike.

The query plans are the databases' own (EXPLAIN), of the statements the app
really sends: on PostgreSQL, with sequential scans turned off, as a handful of
rows would otherwise never be worth an index.
"""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import event, inspect, select, text

from survey_app.database import begin_write
from survey_app.extensions import db
from survey_app.models import Answer, Response, SurveyRun
from survey_app.services import responses as response_service
from survey_app.services import runs
from survey_app.services.questionnaires import questionnaire_of
from survey_app.services.uk_time import uk_date, uk_days

from .stored import add_response, store_response

ANSWER_INDEX = "ix_answer_run_question_value"
TIME_INDEX = "ix_response_run_submitted"

# (naive UTC time, the UK day it is in). Summer time starts at 01:00 UTC on 30 March 2031 and ends at
# 01:00 UTC on 26 October 2031.
TIMES = [
    (datetime(2031, 3, 29, 23, 30), date(2031, 3, 29)),  # GMT
    (datetime(2031, 3, 30, 0, 59), date(2031, 3, 30)),  # still GMT
    (datetime(2031, 3, 30, 1, 0), date(2031, 3, 30)),  # 02:00 BST
    (datetime(2031, 3, 30, 22, 59), date(2031, 3, 30)),  # 23:59 BST
    (datetime(2031, 3, 30, 23, 0), date(2031, 3, 31)),  # midnight BST
    (datetime(2031, 6, 1, 10, 0), date(2031, 6, 1)),
    (datetime(2031, 6, 1, 23, 30), date(2031, 6, 2)),  # 00:30 BST on 2 June
    (datetime(2031, 6, 2, 9, 0), date(2031, 6, 2)),
    (datetime(2031, 10, 25, 23, 30), date(2031, 10, 26)),  # 00:30 BST
    (datetime(2031, 10, 26, 0, 30), date(2031, 10, 26)),  # 01:30 BST
    (datetime(2031, 10, 26, 23, 30), date(2031, 10, 26)),  # GMT again: still the 26th
    (datetime(2031, 12, 31, 23, 59), date(2031, 12, 31)),
]


def run_of(slug: str) -> SurveyRun:
    return db.session.scalar(select(SurveyRun).filter_by(slug=slug))


@contextmanager
def statements_sent():
    """The SQL statements sent to the database meanwhile, with their parameters."""
    sent: list[tuple[str, object]] = []

    def record(connection, cursor, statement, parameters, context, executemany):
        sent.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def plan_of(statement: str, parameters) -> str:
    """The database's plan for a statement the app sent, as text."""
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
        return "\n".join(row[-1] for row in rows)
    # Statistics of the rows just added, as autovacuum would soon gather them:
    # without them the planner guesses from an empty table.
    connection.exec_driver_sql("ANALYZE response")
    connection.exec_driver_sql("ANALYZE answer")
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    try:
        return "\n".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {statement}", parameters).all())
    finally:
        db.session.rollback()


def add_times(run: SurveyRun, times: list[datetime]) -> None:
    begin_write()
    for moment in times:
        add_response(run, {}, moment)
    db.session.commit()


# --- Responses per day --------------------------------------------------------------


def test_responses_per_day_are_uk_days_counted_by_the_database(survey_db):
    run = run_of("ehc-plan-feedback")
    add_times(run, [moment for moment, _ in TIMES])
    with statements_sent() as sent:
        per_day = runs.submissions_per_day(run)
    expected = sorted(Counter(day for _, day in TIMES).items())
    assert per_day == expected
    assert per_day == sorted(Counter(uk_date(moment) for moment, _ in TIMES).items())
    # 11:30pm UTC on a summer day is the next day in the UK.
    assert (date(2031, 6, 2), 2) in per_day and (date(2031, 6, 1), 1) in per_day
    # The database counts: no statement reads the times one by one.
    assert sent and all("count(" in statement or "min(" in statement for statement, _ in sent)


def test_responses_per_day_of_a_run_longer_than_a_query_holds(survey_db):
    run = run_of("ehc-plan-feedback")
    first = datetime(2030, 1, 1, 12)
    times = [first, first + timedelta(days=runs.DAYS_PER_QUERY), first + timedelta(days=800, hours=11, minutes=30)]
    add_times(run, times)
    assert runs.submissions_per_day(run) == [(uk_date(moment), 1) for moment in times]
    assert runs.submissions_per_day(run_of("annual-review")) == []


def test_responses_per_day_are_counted_in_the_index_on_run_and_time(survey_db):
    run = run_of("ehc-plan-feedback")
    add_times(run, [moment for moment, _ in TIMES])
    with statements_sent() as sent:
        runs.submissions_per_day(run)
    for statement, parameters in sent:
        assert TIME_INDEX in plan_of(statement, parameters), statement


def test_uk_days_run_from_midnight_to_midnight_in_uk_time():
    days = uk_days(datetime(2031, 3, 29, 12), datetime(2031, 3, 31, 22, 59))
    assert [day for day, _, _ in days] == [date(2031, 3, 29), date(2031, 3, 30), date(2031, 3, 31)]
    assert days[0][1:] == (datetime(2031, 3, 29, 0, 0), datetime(2031, 3, 30, 0, 0))
    assert days[1][1:] == (datetime(2031, 3, 30, 0, 0), datetime(2031, 3, 30, 23, 0))  # 23 hours
    assert days[2][1:] == (datetime(2031, 3, 30, 23, 0), datetime(2031, 3, 31, 23, 0))
    autumn = uk_days(datetime(2031, 10, 26, 12), datetime(2031, 10, 26, 12))
    assert autumn == [(date(2031, 10, 26), datetime(2031, 10, 25, 23, 0), datetime(2031, 10, 27, 0, 0))]  # 25 hours


# --- The table of responses, filtered ---------------------------------------------


def _filtered(run: SurveyRun, **filters) -> tuple[list[str], int, list[tuple[str, object]]]:
    """The references on every page of the table filtered so, how many match, and the statements sent."""
    questionnaire = questionnaire_of(run.questionnaire_version)
    dates = {key: filters.pop(key) for key in ("submitted_from", "submitted_to") if key in filters}
    chosen = response_service.ResponseFilters(answers=filters, **dates)
    with statements_sent() as sent:
        references, page = [], 1
        while True:
            rows, total = response_service.responses_page(run, questionnaire, chosen, page, 3)
            references += [row.reference for row in rows]
            if page * 3 >= total:
                break
            page += 1
    return references, total, sent


@pytest.fixture
def answered(survey_db):
    """Twelve responses to one run, an hour apart either side of midnight (UK time), with phases and areas."""
    run = run_of("send-pathways-information")
    start = datetime(2031, 6, 1, 18)  # 7pm in the UK: the sixth response is the first of 2 June
    made = []
    for number in range(12):
        answers = {"school_phase": ["primary", "secondary", "post_16"][number % 3]}
        answers["locality"] = "north" if number % 2 else "dont_know"
        sent = start + timedelta(hours=number)
        made.append((store_response(run, answers, sent), answers, uk_date(sent)))
    return run, made


def _wanted(made, case: dict) -> list[str]:
    """The references the table should show, newest first, worked out here."""
    return [
        response.reference
        for response, answers, day in reversed(made)
        if all(answers.get(key) == value for key, value in case.items() if not key.startswith("submitted"))
        and day >= case.get("submitted_from", day)
        and day <= case.get("submitted_to", day)
    ]


@pytest.mark.parametrize("few_matches", [response_service.FEW_MATCHES, 0], ids=["few", "many"])
def test_filters_find_the_same_responses_read_from_the_index(answered, monkeypatch, few_matches):
    """Whether the matches are few (sorted among themselves) or many (the run read newest first), the table is
    the responses with every answer asked for, newest first, and each filter is read from the index."""
    run, made = answered
    monkeypatch.setattr(response_service, "FEW_MATCHES", few_matches)
    cases = [
        {"school_phase": "primary"},
        {"school_phase": "secondary", "locality": "north"},
        {"school_phase": "secondary", "locality": "north", "submitted_from": date(2031, 6, 2)},
        {"school_phase": "post_16", "submitted_to": date(2031, 6, 1)},
        {"locality": "dont_know", "submitted_from": date(2031, 6, 2), "submitted_to": date(2031, 6, 2)},
        {"school_phase": "post_19"},
    ]
    for case in cases:
        wanted = _wanted(made, case)
        references, total, sent = _filtered(run, **dict(case))
        assert references == wanted, case
        assert total == len(wanted), case
        filtering = [(statement, parameters) for statement, parameters in sent if "length(answer.value)" in statement]
        assert filtering, case
        for statement, parameters in filtering:
            assert ANSWER_INDEX in plan_of(statement, parameters), statement
    assert _wanted(made, cases[2]) and _wanted(made, cases[3])  # the dates leave some out, not all


def test_the_many_matches_are_read_newest_first_from_the_index_on_run_and_time(answered, monkeypatch):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("with a handful of rows, PostgreSQL sorts them whatever the index; the plan is SQLite's")
    run, _ = answered
    monkeypatch.setattr(response_service, "FEW_MATCHES", 0)
    _, _, sent = _filtered(run, school_phase="primary")
    [(statement, parameters), *_] = [(s, p) for s, p in sent if "ORDER BY response.submitted_at DESC" in s]
    plan = plan_of(statement, parameters)
    assert TIME_INDEX in plan and ANSWER_INDEX in plan
    assert "TEMP B-TREE" not in plan  # in order from the index, not sorted


def test_long_free_text_is_left_out_of_the_index_and_still_stored(survey_db):
    """PostgreSQL refuses an index entry over about 2,700 bytes: a long comment must not be one."""
    run = run_of("ehc-plan-feedback")
    comment = "A long comment about the plan. " * 300  # about 9 KB
    response = store_response(run, {"worked_well": comment, "school_phase": "primary"})
    stored = db.session.scalar(
        select(Answer.value).where(Answer.response_id == response.id, Answer.question_key == "worked_well")
    )
    assert stored == comment
    references, total, _ = _filtered(run, school_phase="primary")
    assert (references, total) == ([response.reference], 1)


def test_the_indexes_the_migrations_make_are_the_models(survey_db):
    """Migration 0006 and the models agree on the new indexes: their names and columns."""
    found = inspect(db.engine)
    for model in (Response, Answer):
        made = {
            index["name"]: index["column_names"]
            for index in found.get_indexes(model.__tablename__)
            if not index.get("duplicates_constraint")  # PostgreSQL's index of a unique constraint
        }
        declared = {index.name: [column.name for column in index.columns] for index in model.__table__.indexes}
        assert made == declared, model.__tablename__
    assert declared[ANSWER_INDEX] == ["run_id", "question_key", "value", "response_id"]


def test_postgresql_knows_which_answers_go_with_which_question(survey_db):
    """Without these statistics PostgreSQL expected a filter to match about 40 times too few responses, and
    joined them all before showing a large run's first page."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("statistics objects are PostgreSQL's")
    made = db.session.execute(
        text("SELECT stxname FROM pg_statistic_ext WHERE stxrelid = 'answer'::regclass ORDER BY stxname")
    ).scalars()
    assert set(made) == {"st_answer_question_value", "st_answer_value_length"}
