"""answer_count: kept equal to a GROUP BY of the answers it summarises, by every path that adds or removes them.

The randomised test (several seeds) drives submissions through the journey
service, responses stored directly at chosen times (month ends, the clock
changes), imports (and an import stopped part-way), erasures, the demo and
retention, in a random order; after each step it checks that every live
count is what a GROUP BY of the answers, responses and equality monitoring
answers still held gives, worked out here independently of the app's
counting, that retained counts are exactly what was live when retention ran,
and that the measures counted from the table equal the same measures counted
from the answers (old GROUP BY path) and do not change when retention runs.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import random
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from flask_migrate import upgrade
from sqlalchemy import and_, case, create_engine, distinct, func, select, text
from sqlalchemy.orm import aliased

from analysis.measures import CompositeSource, Filter, MeasureSet, PeriodKind, SurveySource
from questionnaires import Questionnaire, QuestionType
from questionnaires.schema import Section
from survey_app import create_app
from survey_app.database import begin_write
from survey_app.extensions import db
from survey_app.models import (
    Answer,
    AnswerCount,
    EqualityAnswer,
    EqualityMonitoring,
    QuestionnaireVersion,
    Response,
    Role,
    SurveyRun,
    utcnow,
)
from survey_app.services import (
    accounts,
    answer_counts,
    demo,
    journey,
    measure_counts,
    records,
    response_import,
    retention,
    runs,
)
from survey_app.services import measures as measure_service
from survey_app.services import questionnaires as questionnaire_service
from survey_app.services.uk_time import uk_month

from . import stored
from .conftest import PASSWORD
from .test_storage import answered_draft, full_answers

INFORMATION, OUTCOMES, PLAN = "send_pathways_information", "outcomes_parent_carer", "ehc_plan_feedback"
# Live keys, as the table holds them: (run, group key, question key, value, group value, month).
Key = tuple[int, str, str, str, str, date]


# The measures counted per response in these tests: the shipped ones, and one of each other kind --------------


def counted_measures_set() -> MeasureSet:
    """The shipped measures, with a filtered one, one on a question with several answers and a filtered composite."""
    shipped = measure_service.measure_set()
    information = shipped.measure("pathways_information_good")
    outcomes = shipped.measure("outcomes_better_parent_carers")
    extra = (
        dataclasses.replace(
            information,
            key="information_good_with_plans",
            source=dataclasses.replace(information.source, filters=(Filter("support_type", ("ehc_plan",)),)),
        ),
        dataclasses.replace(
            information,
            key="health_needs_missing",
            source=SurveySource(
                questionnaires=(PLAN,), question="needs_missing", positive=("health",), left_out=("dont_know",)
            ),
            baseline=None,
        ),
        dataclasses.replace(
            outcomes,
            key="outcomes_better_school_age",
            source=dataclasses.replace(
                outcomes.source, filters=(Filter("school_phase", ("primary", "secondary")),), minimum_applicable=2
            ),
        ),
    )
    return dataclasses.replace(shipped, measures=shipped.measures + extra)


def count_again(measures: MeasureSet | None, everything: bool = True) -> None:
    begin_write()
    answer_counts.rebuild(db.session.connection(), measures, questionnaire_service.library().questionnaires, everything)
    db.session.commit()


@pytest.fixture
def counted_db(survey_db):
    """A fresh database whose per-response counts are by ``counted_measures_set``; the shipped ones again afterwards."""
    count_again(counted_measures_set())
    yield survey_db
    db.session.rollback()
    count_again(measure_service.measure_set())


# What the table should hold, worked out independently ----------------------------------------------------


def month(text_month: str) -> date:
    return date(int(text_month[:4]), int(text_month[5:7]), 1)


def questionnaires_by_run() -> dict[int, Questionnaire]:
    rows = db.session.execute(
        select(SurveyRun.id, QuestionnaireVersion).join(
            QuestionnaireVersion, SurveyRun.questionnaire_version_id == QuestionnaireVersion.id
        )
    )
    return {run_id: questionnaire_service.questionnaire_of(version) for run_id, version in rows}


def choice_questions(questionnaire: Questionnaire) -> list[str]:
    return [q.key for q in questionnaire.questions if q.type.is_choice and q.section is not Section.EQUALITY]


def context_questions(questionnaire: Questionnaire) -> list[str]:
    return [q.key for q in questionnaire.questions if q.section is Section.CONTEXT and q.type.is_choice]


def grouped_sql(measures: MeasureSet) -> Counter[Key]:
    """Every live count, by GROUP BY over response, answer and equality monitoring rows."""
    expected: Counter[Key] = Counter()
    by_run = questionnaires_by_run()
    library = questionnaire_service.library().questionnaires

    def add(rows, shape):
        for row in rows:
            key, count = shape(*row)
            if count:
                expected[key] += int(count)

    response_month = uk_month(Response.submitted_at)
    add(
        db.session.execute(
            select(Response.run_id, response_month, func.count()).group_by(Response.run_id, response_month)
        ),
        lambda run_id, m, n: ((run_id, "", "", "", "", month(m)), n),
    )
    answer_month = uk_month(Answer.submitted_at)
    for run_id, questionnaire in by_run.items():
        counted = choice_questions(questionnaire)
        add(
            db.session.execute(
                select(answer_month, Answer.question_key, Answer.value, func.count())
                .where(Answer.run_id == run_id, Answer.question_key.in_(counted))
                .group_by(answer_month, Answer.question_key, Answer.value)
            ),
            lambda m, q, v, n, run_id=run_id: ((run_id, "", q, v, "", month(m)), n),
        )
        for group in context_questions(questionnaire):
            given = aliased(Answer)
            value = func.coalesce(given.value, "")
            add(
                db.session.execute(
                    select(response_month, value, func.count(distinct(Response.id)))
                    .outerjoin(given, and_(given.response_id == Response.id, given.question_key == group))
                    .where(Response.run_id == run_id)
                    .group_by(response_month, value)
                ),
                lambda m, g, n, run_id=run_id, group=group: ((run_id, group, "", "", g, month(m)), n),
            )
            add(
                db.session.execute(
                    select(answer_month, Answer.question_key, Answer.value, value, func.count())
                    .outerjoin(given, and_(given.response_id == Answer.response_id, given.question_key == group))
                    .where(Answer.run_id == run_id, Answer.question_key.in_(counted))
                    .group_by(answer_month, Answer.question_key, Answer.value, value)
                ),
                lambda m, q, v, g, n, run_id=run_id, group=group: ((run_id, group, q, v, g, month(m)), n),
            )
    add(
        db.session.execute(
            select(
                EqualityMonitoring.run_id,
                EqualityMonitoring.submitted_month,
                EqualityAnswer.question_key,
                EqualityAnswer.value,
                func.count(),
            )
            .join(EqualityAnswer, EqualityAnswer.monitoring_id == EqualityMonitoring.id)
            .group_by(
                EqualityMonitoring.run_id,
                EqualityMonitoring.submitted_month,
                EqualityAnswer.question_key,
                EqualityAnswer.value,
            )
        ),
        lambda run_id, m, q, v, n: ((run_id, "", q, v, "", m), n),
    )
    for measure in measures.measures:
        if not isinstance(measure.source, SurveySource | CompositeSource):
            continue
        if not answer_counts.needs_whole_responses(measure, library):
            continue
        mine = [
            run_id
            for run_id, questionnaire in by_run.items()
            if questionnaire.key in measure.source.questionnaires
            and (measure.source.audience is None or questionnaire.audience.value == measure.source.audience)
        ]
        groups = {group for run_id in mine for group in context_questions(by_run[run_id])}
        for group in [None, *sorted(groups)]:
            asking = [run_id for run_id in mine if group is None or group in context_questions(by_run[run_id])]
            if not asking:
                continue
            for run_id, m, g, positives, n, read in measure_rows(measure, asking, group, library):
                for value, count in (("positive", positives), ("base", n), ("responses", read)):
                    if count:
                        expected[(run_id, group or "", "@" + measure.key, value, g, month(m))] += int(count)
    return expected


def measure_rows(measure, run_ids, group, library):
    """A measure's (run, month, group value, positives, base, responses read), by GROUP BY, as the report
    counted measures before there was a table."""
    source = measure.source
    answer = aliased(Answer)

    def filters():
        conditions = []
        for rule in source.filters:
            other = aliased(Answer)
            conditions.append(
                select(other.id)
                .where(
                    other.response_id == answer.response_id,
                    other.question_key == rule.question,
                    other.value.in_(rule.any_of),
                )
                .exists()
            )
        return conditions

    if isinstance(source, CompositeSource):
        per_response = (
            select(
                answer.response_id,
                answer.run_id,
                func.min(answer.submitted_at).label("submitted_at"),
                func.sum(case((answer.value.in_(source.positive), 1), else_=0)).label("positive"),
                func.sum(case((answer.value.not_in(source.left_out), 1), else_=0)).label("applicable"),
            )
            .where(answer.run_id.in_(run_ids), answer.question_key.in_(source.questions), *filters())
            .group_by(answer.response_id, answer.run_id)
            .subquery()
        )
        counted = per_response.c.applicable >= source.minimum_applicable
        reached = and_(counted, per_response.c.positive >= source.at_least * per_response.c.applicable)
        m = uk_month(per_response.c.submitted_at)
        query = select(per_response.c.run_id, m)
        query, extra = _group_column(query, per_response.c.response_id, group)
        query = query.add_columns(
            func.sum(case((reached, 1), else_=0)),
            func.sum(case((counted, 1), else_=0)),
            func.count(distinct(per_response.c.response_id)),
        ).group_by(per_response.c.run_id, m, *extra)
        return [row if extra else (row[0], row[1], "", *row[2:]) for row in db.session.execute(query)]
    several = answer_counts.several_answers(source, library)
    positive, in_base = answer.value.in_(source.positive), answer.value.not_in(source.left_out)
    if several:
        positives = func.count(distinct(case((positive, answer.response_id))))
        n = func.count(distinct(case((in_base, answer.response_id))))
    else:
        positives, n = func.sum(case((positive, 1), else_=0)), func.sum(case((in_base, 1), else_=0))
    m = uk_month(answer.submitted_at)
    query = select(answer.run_id, m)
    query, extra = _group_column(query, answer.response_id, group)
    query = (
        query.add_columns(positives, n, func.count(distinct(answer.response_id)))
        .where(answer.run_id.in_(run_ids), answer.question_key == source.question, *filters())
        .group_by(answer.run_id, m, *extra)
    )
    return [row if extra else (row[0], row[1], "", *row[2:]) for row in db.session.execute(query)]


def _group_column(query, response_id, group):
    if group is None:
        return query, []
    given = aliased(Answer)
    value = func.coalesce(given.value, "")
    query = query.outerjoin(given, and_(given.response_id == response_id, given.question_key == group))
    return query.add_columns(value), [value]


def table(retained: bool) -> Counter[Key]:
    rows = db.session.execute(
        select(
            AnswerCount.run_id,
            AnswerCount.group_key,
            AnswerCount.question_key,
            AnswerCount.value,
            AnswerCount.group_value,
            AnswerCount.month,
            AnswerCount.count,
        ).where(AnswerCount.retained.is_(retained))
    )
    return Counter({tuple(row[:6]): row[6] for row in rows})


def assert_table_is_the_group_by(measures: MeasureSet, retained: Counter[Key]) -> None:
    db.session.rollback()
    live, expected = table(False), grouped_sql(measures)
    missing = {key: count for key, count in expected.items() if live.get(key) != count}
    extra = {key: count for key, count in live.items() if key not in expected}
    assert not missing and not extra, (dict(list(missing.items())[:10]), dict(list(extra.items())[:10]))
    assert min(live.values(), default=1) > 0, "no row of 0 or less is left"
    assert table(True) == retained


# Driving it ------------------------------------------------------------------------------------------------


def invented(questionnaire: Questionnaire, chance: random.Random, number: int) -> dict:
    """A whole response following the routing, with equality monitoring answers now and then."""
    answers = demo._invent_answers(questionnaire, questionnaire.audience.value, chance, number, chance.random())
    if chance.random() < 0.15:
        # Now and then a context question left out, or "don't know", whatever the demo's shares.
        context = [q.key for q in questionnaire.questions if q.section is Section.CONTEXT and q.key in answers]
        if context:
            answers.pop(chance.choice(context))
    if chance.random() < 0.5:
        for page in questionnaire.pages:
            if page.section is not Section.EQUALITY or not page.is_shown(answers):
                continue
            for question in page.questions:
                if question.is_shown(answers) and question.type.is_choice and chance.random() < 0.8:
                    options = [option.value for option in question.options]
                    if question.type is QuestionType.MULTIPLE_CHOICE:
                        answers[question.key] = sorted(set(chance.sample(options, chance.randint(1, 2))))
                    else:
                        answers[question.key] = chance.choice(options)
    return answers


class Driver:
    """Random operations on a few runs, remembering what retention kept."""

    def __init__(self, seed: int, tmp_path: Path):
        self.chance = random.Random(seed)  # noqa: S311 - test data
        self.tmp_path = tmp_path
        self.retained: Counter[Key] = Counter()
        self.files = 0
        versions = {version.key: version for version in questionnaire_service.latest_versions()}
        self.open_runs = [runs.run_by_slug(key.replace("_", "-")) for key in (INFORMATION, OUTCOMES, PLAN)]
        # Runs of the past, over several months and the clock changes; the 2020 ones are past their retention.
        self.past = [
            runs.open_run(versions[key], f"{key}-{opens:%Y}", f"{key} {opens:%Y}", opens, closes)
            for key, opens, closes in (
                (INFORMATION, datetime(2020, 1, 1), datetime(2020, 11, 30)),
                (OUTCOMES, datetime(2020, 2, 1), datetime(2020, 12, 31)),
                (PLAN, datetime(2023, 2, 1), datetime(2024, 11, 30)),
                (INFORMATION, datetime(2024, 3, 1), datetime(2024, 11, 30)),
            )
        ]
        admin = accounts.create_user("eraser@example.gov.uk", PASSWORD, Role.ADMIN)
        self.admin_id = admin.id

    def moment(self, run: SurveyRun) -> datetime:
        """A time in the run: often the last hour of a month, in summer or winter time."""
        if self.chance.random() < 0.4:
            ends = [
                day
                for day in (
                    datetime(year, month_number, 1) - timedelta(minutes=self.chance.choice([30, 90]))
                    for year in range(run.opens_at.year, run.closes_at.year + 1)
                    for month_number in range(1, 13)
                )
                if run.opens_at < day < run.closes_at
            ]
            if ends:
                return self.chance.choice(ends)
        span = (run.closes_at - run.opens_at).total_seconds()
        return run.opens_at + timedelta(seconds=int(span * self.chance.random()))

    def submit(self) -> None:
        run = runs.run_by_slug(self.chance.choice(self.open_runs).slug)
        questionnaire = questionnaire_service.questionnaire_for(run)
        answers = invented(questionnaire, self.chance, self.chance.randint(0, 99))
        token = answered_draft(run, questionnaire, answers)
        journey.submit(run, questionnaire, token, journey.load_progress(run, token).submission_key)

    def store(self) -> None:
        run = db.session.get(SurveyRun, self.chance.choice(self.past + self.open_runs).id)
        questionnaire = questionnaire_service.questionnaire_of(run.questionnaire_version)
        answers = invented(questionnaire, self.chance, self.chance.randint(0, 99))
        equality = {
            key: value for key, value in answers.items() if questionnaire.question(key).section is Section.EQUALITY
        }
        main = {key: value for key, value in answers.items() if key not in equality}
        single = {key: value for key, value in equality.items() if isinstance(value, str)}
        at = min(self.moment(run), utcnow())
        stored.store_response(run, main, submitted_at=at, equality=single or None)

    def import_file(self, stop_part_way: bool = False) -> None:
        run = db.session.get(SurveyRun, self.chance.choice(self.past).id)
        questionnaire = questionnaire_service.questionnaire_of(run.questionnaire_version)
        keys = [q.key for q in questionnaire.questions if q.key != "plan_reference"]
        lines = [",".join(["submitted_at", *keys])]
        for number in range(self.chance.randint(3, 9)):
            answers = invented(questionnaire, self.chance, number)
            at = self.moment(run) + timedelta(hours=1)  # UK time in the file, within the run
            at = min(max(at, run.opens_at + timedelta(hours=2)), run.closes_at - timedelta(hours=2))
            given = [answers.get(key, "") for key in keys]
            cells = [";".join(value) if isinstance(value, list) else str(value) for value in given]
            lines.append(",".join([f"{at:%Y-%m-%d %H:%M}", *(f'"{cell}"' for cell in cells)]))
        self.files += 1
        path = self.tmp_path / f"import-{self.files}.csv"
        path.write_text("\n".join(lines) + "\n")
        checked = response_import.check_file(path, run, questionnaire)

        def stop(stage, done, total):
            if stop_part_way and stage == response_import.STORED and done >= 2:
                raise KeyboardInterrupt

        try:
            response_import.store(run, questionnaire, checked, "a test", stop, batch_size=2)
        except KeyboardInterrupt:
            assert stop_part_way

    def erase(self) -> None:
        ids = db.session.scalars(select(Response.id)).all()
        if not ids:
            return
        response = records.find(db.session.get(Response, self.chance.choice(ids)).reference)
        records.erase(response, db.session.get(accounts.User, self.admin_id))

    def apply_retention(self, measures: MeasureSet) -> None:
        """Retention now: the report must not change; what it keeps is exactly what was live for its runs."""
        db.session.rollback()
        before_counts = measures_now(measures)
        due = [run.id for run in self.past if retention.retention_ends(db.session.get(SurveyRun, run.id)) < utcnow()]
        live = grouped_sql(measures)
        retention.apply()
        for key, count in live.items():
            if key[0] in due:
                self.retained[key] += count
        pd.testing.assert_frame_equal(measures_now(measures), before_counts)

    def demo(self) -> None:
        version = next(v for v in questionnaire_service.latest_versions() if v.key == OUTCOMES)
        slug = runs.free_slug("demo-outcomes")
        runs.open_run(version, slug, "Demo outcomes", utcnow() - timedelta(days=40), utcnow() + timedelta(days=1))
        demo.add_demo_responses([slug], per_run=self.chance.randint(5, 20))


def measures_now(measures: MeasureSet, as_of: date | None = None, by: str | None = None) -> pd.DataFrame:
    library = questionnaire_service.library().questionnaires
    counts = measure_counts.measure_counts(measures, library, PeriodKind.MONTH, as_of or date.today(), by).counts
    return counts.sort_values(["measure", "period", "group"]).reset_index(drop=True)


def from_the_answers(monkeypatch, measures: MeasureSet, as_of: date, by: str | None) -> pd.DataFrame:
    """The same counts with every measure counted per response counted from the answers instead."""
    with monkeypatch.context() as patched:
        patched.setattr(answer_counts, "stored_hashes", lambda connection: {})
        return measures_now(measures, as_of, by)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_table_is_always_the_group_by_of_what_it_counts(counted_db, tmp_path, monkeypatch, seed):
    measures = counted_measures_set()
    driver = Driver(seed, tmp_path)
    steps = ["submit"] * 5 + ["store"] * 8 + ["import"] * 3 + ["stopped import", "erase", "erase", "retention"]
    steps += ["demo"]
    driver.chance.shuffle(steps)
    steps += ["store", "import", "erase", "retention"]  # a late import into a retained run, retained again
    for step in steps:
        match step:
            case "submit":
                driver.submit()
            case "store":
                driver.store()
            case "import":
                driver.import_file()
            case "stopped import":
                driver.import_file(stop_part_way=True)
            case "erase":
                driver.erase()
            case "retention":
                driver.apply_retention(measures)
            case "demo":
                driver.demo()
        assert_table_is_the_group_by(measures, driver.retained)
    assert driver.retained, "retention kept counts"

    # The measures from the table are the measures counted from the answers, in every grouping, as of today
    # and as of a day part-way through a month with responses after it (their counts taken away).
    middle = driver.moment(db.session.get(SurveyRun, driver.past[2].id)).date()
    for as_of in (date.today(), middle, date(2024, 3, 31)):
        for by in (None, "school_phase", "support_type", "locality"):
            db.session.rollback()
            from_table = measures_now(measures, as_of, by)
            assert not from_table.empty
            pd.testing.assert_frame_equal(from_table, from_the_answers(monkeypatch, measures, as_of, by))


def test_the_report_from_the_table_is_the_report_from_the_answers(counted_db, tmp_path, monkeypatch):
    driver = Driver(7, tmp_path)
    for _ in range(25):
        driver.store()
    for _ in range(3):
        driver.submit()
    measures = counted_measures_set()
    as_of = date.today()
    report = measure_service.report(measures, PeriodKind.QUARTER, as_of)
    with monkeypatch.context() as patched:
        patched.setattr(answer_counts, "stored_hashes", lambda connection: {})
        again = measure_service.report(measures, PeriodKind.QUARTER, as_of)
    pd.testing.assert_frame_equal(report.rows, again.rows)
    assert set(report.rows["measure"]) >= {"outcomes_better_parent_carers", "information_good_with_plans"}


# Free text, equality monitoring, what a response adds ----------------------------------------------------------


def test_free_text_is_never_counted_and_equality_answers_only_for_everyone(counted_db):
    run = runs.run_by_slug("ehc-plan-feedback")
    questionnaire = questionnaire_service.questionnaire_for(run)
    answers = full_answers(questionnaire) | {"worked_well": "Our caseworker, Sam Smith, rang every week."}
    assert not questionnaire.question("locality").required
    answers.pop("locality", None)
    token = answered_draft(run, questionnaire, answers)
    journey.submit(run, questionnaire, token, journey.load_progress(run, token).submission_key)
    db.session.rollback()
    counts = table(False)
    assert not any("Sam" in value for key in counts for value in key[1:5])
    assert not {key[2] for key in counts} & {"worked_well", "could_be_better", "plan_reference"}
    equality = [key for key in counts if key[2] == "respondent_sex"]
    assert equality and all(key[1] == "" and key[4] == "" for key in equality)
    assert not [key for key in counts if key[1] == "respondent_sex"]
    this_month = answer_counts.month_of(utcnow())
    assert counts[(run.id, "", "needs_missing", "health", "", this_month)] == 1
    assert counts[(run.id, "locality", "felt_involved", "agree", "", this_month)] == 1  # no area given
    assert counts[(run.id, "", "@health_needs_missing", "positive", "", this_month)] == 1


def test_one_statement_writes_a_submission_s_counts(counted_db):
    run = runs.run_by_slug("send-pathways-information")
    questionnaire = questionnaire_service.questionnaire_for(run)
    answers = invented(questionnaire, random.Random(1), 0)  # noqa: S311 - test data
    token = answered_draft(run, questionnaire, answers)
    key = journey.load_progress(run, token).submission_key
    sent: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    from sqlalchemy import event

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        journey.submit(run, questionnaire, token, key)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    writes = [statement for statement in sent if "answer_count" in statement]
    assert len(writes) == 1 and writes[0].startswith("INSERT INTO answer_count") and "ON CONFLICT" in writes[0]


def stored_run(slug: str) -> SurveyRun:
    """A demo run as a row (``stored`` takes one), not the journey's snapshot."""
    return db.session.get(SurveyRun, runs.run_by_slug(slug).id)


def test_erasing_the_only_response_of_a_month_leaves_no_row(counted_db):
    run = stored_run("send-pathways-information")
    response = stored.store_response(run, {"pathways_information": "good", "support_type": "ehc_plan"})
    db.session.rollback()
    assert table(False)
    admin = accounts.create_user("admin@example.gov.uk", PASSWORD, Role.ADMIN)
    records.erase(records.find(response.reference), admin)
    db.session.rollback()
    assert not table(False)


def test_concurrent_submissions_to_one_run_all_count_without_deadlock(app, counted_db):
    """Writers adding to the same rows at once (on PostgreSQL each locks its rows until it commits): every row is
    written in key order, so no two wait for each other in a cycle, and every response is counted."""
    import threading

    run_id = stored_run("outcomes-parent-carer").id
    failures: list[BaseException] = []

    def respond(number: int) -> None:
        chance = random.Random(number)  # noqa: S311 - test data
        with app.app_context():
            try:
                run = db.session.get(SurveyRun, run_id)
                questionnaire = questionnaire_service.questionnaire_of(run.questionnaire_version)
                for step in range(6):
                    answers = invented(questionnaire, chance, step)
                    main = {
                        k: v for k, v in answers.items() if questionnaire.question(k).section is not Section.EQUALITY
                    }
                    stored.store_response(run, main)
            except BaseException as error:  # noqa: BLE001 - reported below
                failures.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=respond, args=(number,)) for number in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    assert_table_is_the_group_by(counted_measures_set(), Counter())
    assert db.session.scalar(select(func.count()).select_from(Response).where(Response.run_id == run_id)) == 36


# The measures file changes -----------------------------------------------------------------------------------


SHIPPED_MEASURES = measure_service.measure_set  # the file, whatever a test puts in its place


def changed_composite() -> MeasureSet:
    """The shipped measures, with the composite of parent carers' outcomes counting a quarter of areas better."""
    shipped = SHIPPED_MEASURES()
    measure = shipped.measure("outcomes_better_parent_carers")
    changed = dataclasses.replace(measure, source=dataclasses.replace(measure.source, at_least=0.25))
    return dataclasses.replace(
        shipped, measures=tuple(changed if m.key == measure.key else m for m in shipped.measures)
    )


def test_a_changed_definition_is_counted_from_the_answers_until_the_counts_are_made_again(app, counted_db, monkeypatch):
    count_again(measure_service.measure_set())
    run = stored_run("outcomes-parent-carer")
    for number in range(12):
        stored.store_response(
            run, {"learning": "better", "communication": "better" if number % 2 else "same", "the_future": "worse"}
        )
    changed = changed_composite()
    monkeypatch.setattr(measure_service, "measure_set", changed_composite)
    db.session.rollback()
    found = answer_counts.staleness(changed)
    assert found.changed == ["outcomes_better_parent_carers"] and not found.dropped
    assert "flask --app wsgi measures rebuild-counts" in found.message()

    # Until then: counted by GROUP BY over the answers, with the new definition.
    sent = statements(lambda: measures_now(changed))
    touching = [statement for statement in sent if " answer " in f" {statement} ".replace("\n", " ")]
    assert touching and all("GROUP BY" in statement for statement in touching)
    before = measures_now(changed)
    mine = before[before["measure"] == "outcomes_better_parent_carers"]
    assert (int(mine["positives"].sum()), int(mine["n"].sum())) == (12, 12)  # a quarter is enough now

    # The command says so, makes them again, and then says nothing.
    runner = app.test_cli_runner()
    checked = runner.invoke(args=["measures", "check"])
    assert checked.exit_code == 0 and "outcomes_better_parent_carers" in checked.output
    rebuilt = runner.invoke(args=["measures", "rebuild-counts"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "outcomes_better_parent_carers" in rebuilt.output
    db.session.rollback()
    assert answer_counts.staleness(changed).current
    assert "rebuild-counts" not in runner.invoke(args=["measures", "check"]).output
    sent = statements(lambda: measures_now(changed))
    assert not [statement for statement in sent if " answer " in f" {statement} ".replace("\n", " ")]
    pd.testing.assert_frame_equal(measures_now(changed), before)


def statements(work) -> list[str]:
    from sqlalchemy import event

    sent: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        work()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return sent


def test_a_new_response_is_counted_by_the_stored_definition_not_the_file(counted_db, monkeypatch):
    """Until the counts are made again, new responses go on being counted as the stored counts were."""
    monkeypatch.setattr(measure_service, "measure_set", changed_composite)
    run = stored_run("outcomes-parent-carer")
    stored.store_response(run, {"learning": "better", "communication": "same", "health_wellbeing": "worse"})
    db.session.rollback()
    counts = table(False)
    this_month = answer_counts.month_of(utcnow())
    assert counts[(run.id, "", "@outcomes_better_parent_carers", "base", "", this_month)] == 1
    # Better in 1 of 3: positive by the file's new definition (a quarter), not by the stored one (half).
    assert (run.id, "", "@outcomes_better_parent_carers", "positive", "", this_month) not in counts


def test_retention_keeps_a_changed_measure_counted_by_the_file_s_definition(app, counted_db, monkeypatch):
    count_again(measure_service.measure_set())
    version = next(v for v in questionnaire_service.latest_versions() if v.key == OUTCOMES)
    past = runs.open_run(version, "outcomes-2020", "Outcomes 2020", datetime(2020, 1, 1), datetime(2020, 3, 1))
    for _ in range(4):
        answers = {"learning": "better", "communication": "same", "health_wellbeing": "worse"}
        stored.store_response(past, answers, submitted_at=datetime(2020, 2, 3))
    monkeypatch.setattr(measure_service, "measure_set", changed_composite)
    monkeypatch.setattr(retention, "measure_set", changed_composite)
    retention.apply()
    db.session.rollback()
    kept = table(True)
    february = date(2020, 2, 1)
    assert kept[(past.id, "", "@outcomes_better_parent_carers", "base", "", february)] == 4
    assert kept[(past.id, "", "@outcomes_better_parent_carers", "positive", "", february)] == 4  # 1 of 3 >= 25%


def test_app_start_up_warns_when_the_counts_were_made_by_another_definition(app, counted_db, caplog):
    count_again(measure_service.measure_set())
    with caplog.at_level(logging.WARNING):
        answer_counts.warn_if_stale(app)
    assert "rebuild-counts" not in caplog.text
    count_again(None)  # as a database whose measures file could not be read when the table was made
    with caplog.at_level(logging.WARNING):
        answer_counts.warn_if_stale(app)
    assert "outcomes_better_parent_carers" in caplog.text and "rebuild-counts" in caplog.text


# The migration ---------------------------------------------------------------------------------------------


MIGRATION_SCHEMA = "answer_counts_migration"


@pytest.fixture(params=["sqlite", "postgresql"])
def upgrade_url(request, tmp_path):
    """A database of its own: a SQLite file, or a schema of its own in the tests' PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'upgrade.db'}"
        return
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("PostgreSQL tests run when TEST_DATABASE_URL is set")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {MIGRATION_SCHEMA} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {MIGRATION_SCHEMA}"))
    yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{MIGRATION_SCHEMA}"
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {MIGRATION_SCHEMA} CASCADE"))
    engine.dispose()


def test_the_migration_counts_what_is_held_and_keeps_what_retention_kept(upgrade_url):
    """A database at 0006 with responses, equality answers and retained counts: 0007 gives the same counts as
    counting every response as it arrives would, and keeps the retained rows as retained."""
    app = create_app({"APP_ENV": "testing", "SECRET_KEY": "test", "DATABASE_URL": upgrade_url})
    with app.app_context():
        upgrade(revision="0006_large_runs")
        for questionnaire in questionnaire_service.library().questionnaires.values():
            questionnaire_service.publish(questionnaire)
        runs.ensure_demo_runs(questionnaire_service.latest_versions(), days=30)
        chance = random.Random(5)  # noqa: S311 - test data
        begin_write()
        for slug in ("ehc-plan-feedback", "outcomes-parent-carer"):
            run = db.session.get(SurveyRun, runs.run_by_slug(slug).id)
            questionnaire = questionnaire_service.questionnaire_of(run.questionnaire_version)
            for number in range(30):
                answers = invented(questionnaire, chance, number)
                response = Response(
                    reference=journey.new_reference(),
                    submission_key=f"{run.id}{number:031x}",
                    run_id=run.id,
                    questionnaire_version_id=run.questionnaire_version_id,
                    audience="parent_carer",
                    language="en",
                    # Late on a month's last days, in summer and winter time.
                    submitted_at=datetime(2025, 1 + number % 12, 27, 23, 30) + timedelta(days=number % 5),
                )
                equality = EqualityMonitoring(
                    id=f"{run.id}{number:031x}",
                    run_id=run.id,
                    questionnaire_version_id=run.questionnaire_version_id,
                    submitted_month=answer_counts.month_of(response.submitted_at),
                )
                for key, given in answers.items():
                    if questionnaire.question(key).section is not Section.EQUALITY:
                        journey.add_answers(response, key, given)
                    else:
                        values = given if isinstance(given, list) else [given]
                        equality.answers.extend(EqualityAnswer(question_key=key, value=value) for value in values)
                db.session.add(response)
                if equality.answers:
                    db.session.add(equality)
        db.session.execute(
            text(
                "INSERT INTO retained_count (run_id, month, question_key, value, group_key, group_value, "
                "questionnaire_version_id, count) "
                "VALUES (:run, '2019-05-01', 'learning', 'better', '', '', :version, 7)"
            ),
            {"run": run.id, "version": run.questionnaire_version_id},
        )
        db.session.commit()
        upgrade()
        db.session.rollback()
        migrated = table(False)
        assert table(True) == {(run.id, "", "learning", "better", "", date(2019, 5, 1)): 7}
        assert migrated == grouped_sql(measure_service.measure_set())
        assert any(key[2] == "@outcomes_better_parent_carers" for key in migrated), "per-response counts made"
        assert any(key[2] == "respondent_sex" for key in migrated), "equality answers counted"
        assert answer_counts.staleness(measure_service.measure_set()).current
        db.session.remove()
        db.engine.dispose()
