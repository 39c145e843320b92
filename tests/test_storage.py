"""Storage: published versions, answers stored long, and SQLite's write discipline."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import date, timedelta

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from questionnaires import AnswerValue, Question, Questionnaire, QuestionType
from questionnaires.examples import example_form_values
from questionnaires.schema import Section
from survey_app import create_app
from survey_app.database import WriteOutsideTransaction, begin_write
from survey_app.extensions import db
from survey_app.models import (
    Answer,
    Draft,
    EqualityAnswer,
    EqualityMonitoring,
    PublishedVersionChanged,
    QuestionnaireVersion,
    Response,
    utcnow,
)
from survey_app.services import journey, runs
from survey_app.services import questionnaires as questionnaire_service

from .conftest import reset_database

PLAN = "ehc_plan_feedback"


def plan_run():
    return runs.run_by_slug("ehc-plan-feedback")


def answered_draft(run, questionnaire, answers: dict) -> str:
    """Save the given answers page by page, as the journey does; return the token."""
    token = None
    for page in questionnaire.pages:
        page_answers = {q.key: answers[q.key] for q in page.questions if q.key in answers}
        if page.is_shown(answers):
            progress = journey.load_progress(run, token)
            token, _ = journey.save_page(run, questionnaire, token, progress, page, page_answers)
    return token


# Answers chosen to exercise storage: a multiple choice (one row per option),
# a number, "don't know", a question shown only after disagreeing, a context
# question, and equality monitoring answers (stored apart from the others).
CHOSEN = {
    "felt_involved": "agree",
    "communication_good": "disagree",
    "contacts_to_chase": "4",
    "plan_reflects_needs": "disagree",
    "needs_missing": ["health", "social_care"],
    "outcomes_good": "dont_know",
    "provision_meets_needs": "agree",
    "school_phase": "primary",
    "respondent_sex": "female",
    "ethnic_group": "white",
    "ethnic_background_white": "irish",
}


def example_answer(question: Question) -> AnswerValue:
    """A valid answer as the journey holds it (see questionnaires.examples for the form values)."""
    values = example_form_values(question)
    if question.type is QuestionType.MULTIPLE_CHOICE:
        return values
    if question.type is QuestionType.DATE:
        day, month, year = (int(value) for value in values)
        return date(year, month, day).isoformat()
    return values[0]


def full_answers(questionnaire: Questionnaire) -> dict[str, AnswerValue]:
    """The chosen answers, and an example answer to every other required question shown; optional ones blank."""
    assert set(CHOSEN) <= {question.key for question in questionnaire.questions}
    answers: dict[str, AnswerValue] = {}
    for question in questionnaire.questions:
        if question.key in CHOSEN:
            answers[question.key] = CHOSEN[question.key]
        elif question.required and question.is_shown(answers):
            answers[question.key] = example_answer(question)
    return answers


def rows_of(answers: dict[str, AnswerValue]) -> list[tuple[str, str]]:
    """(question, value) pairs, one per option chosen, sorted."""
    return sorted(
        (key, value) for key, given in answers.items() for value in (given if isinstance(given, list) else [given])
    )


def stored_equality_answers(response: Response) -> dict[str, list[str]]:
    """The equality monitoring answers stored with the response's run; checks nothing ties them to the response."""
    for table in (EqualityMonitoring.__table__, EqualityAnswer.__table__):
        linked = {key.column.table.name for key in table.foreign_keys}
        assert linked <= {"survey_run", "questionnaire_version", "equality_monitoring"}, table.name
        columns = {column.name for column in table.columns}
        assert not columns & {"response_id", "reference", "submission_key", "submitted_at"}, table.name
    records = db.session.scalars(select(EqualityMonitoring).filter_by(run_id=response.run_id)).all()
    if not records:
        return {}
    [record] = records
    assert record.questionnaire_version_id == response.questionnaire_version_id
    assert record.id not in {str(response.id), response.reference, response.submission_key}
    assert record.submitted_month == response.submitted_at.date().replace(day=1), "only the month is kept"
    stored: dict[str, list[str]] = {}
    for row in sorted(record.answers, key=lambda row: (row.question_key, row.value)):
        stored.setdefault(row.question_key, []).append(row.value)
    return stored


def test_answers_are_stored_long_with_their_context(survey_db):
    run = plan_run()
    questionnaire = questionnaire_service.questionnaire_for(run)
    answers = full_answers(questionnaire)
    token = answered_draft(run, questionnaire, answers)
    key = journey.load_progress(run, token).submission_key
    reference = journey.submit(run, questionnaire, token, key)
    db.session.rollback()

    equality = {k: v for k, v in answers.items() if questionnaire.question(k).section is Section.EQUALITY}
    assert equality, "some answers are to equality monitoring questions"
    response = db.session.scalar(select(Response).filter_by(reference=reference))
    rows = db.session.scalars(select(Answer).filter_by(response_id=response.id)).all()
    assert sorted((row.question_key, row.value) for row in rows) == rows_of(
        {k: v for k, v in answers.items() if k not in equality}
    )
    # Equality monitoring answers are stored apart, with nothing linking them to the response.
    assert rows_of(stored_equality_answers(response)) == rows_of(equality)
    for row in rows:
        assert (row.run_id, row.questionnaire_version_id, row.audience, row.language, row.submitted_at) == (
            response.run_id,
            response.questionnaire_version_id,
            response.audience,
            response.language,
            response.submitted_at,
        )

    # Counting answers is one GROUP BY over the answers table.
    counts = dict(
        db.session.execute(
            select(Answer.value, func.count())
            .where(Answer.run_id == run.id, Answer.question_key == "plan_reflects_needs")
            .group_by(Answer.value)
        ).all()
    )
    assert counts == {"disagree": 1}


def test_a_response_records_the_version_it_answered(survey_db):
    run = plan_run()
    questionnaire = questionnaire_service.questionnaire_for(run)
    token = answered_draft(run, questionnaire, full_answers(questionnaire))
    reference = journey.submit(run, questionnaire, token, journey.load_progress(run, token).submission_key)
    db.session.rollback()
    response = db.session.scalar(select(Response).filter_by(reference=reference))
    version = db.session.get(QuestionnaireVersion, response.questionnaire_version_id)
    assert (version.key, version.version) == (PLAN, questionnaire_service.library().get(PLAN).version)
    assert version.definition_hash == questionnaire.definition_hash


def test_publishing_the_same_version_again_changes_nothing(survey_db):
    questionnaire = questionnaire_service.library().get(PLAN)
    result = questionnaire_service.publish(questionnaire)
    assert result.created is False
    assert db.session.scalar(select(func.count()).select_from(QuestionnaireVersion).filter_by(key=PLAN)) == 1


def test_editing_a_published_version_in_place_is_refused(survey_db):
    questionnaire = questionnaire_service.library().get(PLAN)
    reworded = dataclasses.replace(questionnaire, title="A new title")
    following = questionnaire.version + 1
    with pytest.raises(PublishedVersionChanged, match=f"give the changed questionnaire version {following}"):
        questionnaire_service.publish(reworded)

    published = questionnaire_service.publish(dataclasses.replace(reworded, version=following))
    assert published.created
    assert [v.version for v in questionnaire_service.latest_versions() if v.key == PLAN] == [following]


def test_the_database_refuses_a_changed_definition_too(survey_db):
    begin_write()
    version = db.session.scalar(select(QuestionnaireVersion).filter_by(key=PLAN))
    version.definition = {**version.definition, "title": "Changed behind our back"}
    with pytest.raises(PublishedVersionChanged):
        db.session.commit()
    db.session.rollback()


def test_a_run_keeps_the_wording_it_was_opened_with(survey_db):
    run = plan_run()
    questionnaire = questionnaire_service.library().get(PLAN)
    questionnaire_service.publish(
        dataclasses.replace(questionnaire, version=questionnaire.version + 1, title="New wording")
    )
    db.session.rollback()
    assert questionnaire_service.questionnaire_for(plan_run()).title == questionnaire.title
    assert db.session.get(QuestionnaireVersion, run.questionnaire_version_id).version == questionnaire.version


def test_the_draft_token_is_stored_hashed_and_expired_drafts_are_removed(survey_db):
    run = plan_run()
    questionnaire = questionnaire_service.questionnaire_for(run)
    old_token = answered_draft(run, questionnaire, {"felt_involved": "agree"})
    begin_write()
    db.session.execute(Draft.__table__.update().values(expires_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    assert journey.load_progress(run, old_token).submission_key is None

    new_token = answered_draft(run, questionnaire, {"felt_involved": "agree"})
    db.session.rollback()
    drafts = db.session.scalars(select(Draft)).all()
    assert [d.token_hash for d in drafts] == [hashlib.sha256(new_token.encode()).hexdigest()]


def test_submitting_needs_the_drafts_own_key(survey_db):
    run = plan_run()
    questionnaire = questionnaire_service.questionnaire_for(run)
    token = answered_draft(run, questionnaire, full_answers(questionnaire))
    with pytest.raises(journey.NothingToSubmit):
        journey.submit(run, questionnaire, token, "0" * 32)
    with pytest.raises(journey.NothingToSubmit):
        journey.submit(run, questionnaire, token, "not a key")


def test_an_unfinished_draft_cannot_be_submitted(survey_db):
    run = plan_run()
    questionnaire = questionnaire_service.questionnaire_for(run)
    token = answered_draft(run, questionnaire, {"felt_involved": "agree"})
    with pytest.raises(journey.Unfinished) as unfinished:
        journey.submit(run, questionnaire, token, journey.load_progress(run, token).submission_key)
    # The first page after the one answered, which asks a required question.
    keys = [page.key for page in questionnaire.pages]
    following = questionnaire.pages[keys.index("felt_involved") + 1]
    assert any(question.required for question in following.questions)
    assert unfinished.value.page.key == following.key


def test_references_are_easy_to_read_out():
    reference = journey.new_reference()
    assert len(reference) == 11 and reference[5] == "-"
    assert not set(reference) & set("01OI")


# --- SQLite -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sqlite_app(tmp_path_factory):
    """SQLite's own behaviour, whichever database the rest of the suite is running on."""
    app = create_app(
        {
            "APP_ENV": "testing",
            "SECRET_KEY": "k",
            "DATABASE_URL": f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'survey.db'}",
            "SQLITE_BUSY_TIMEOUT_MS": 12_345,
        }
    )
    with app.app_context():
        upgrade()
        reset_database()
    return app


@pytest.fixture
def sqlite_only(sqlite_app):
    with sqlite_app.app_context():
        yield
        db.session.remove()


def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_a_busy_timeout(sqlite_only):
    assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
    assert db.session.execute(text("PRAGMA busy_timeout")).scalar() == 12_345


def a_response(version: QuestionnaireVersion, reference: str, submission_key: str) -> Response:
    return Response(
        reference=reference,
        submission_key=submission_key,
        run_id=1,
        questionnaire_version_id=version.id,
        audience="parent_carer",
        language="en",
    )


def test_a_write_must_begin_immediate_on_sqlite(sqlite_only):
    db.session.rollback()
    version = db.session.scalar(select(QuestionnaireVersion).limit(1))
    runs_before = db.session.scalar(select(func.count()).select_from(Response))
    db.session.add(a_response(version, reference="X", submission_key="x"))
    with pytest.raises(WriteOutsideTransaction):
        db.session.flush()
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Response)) == runs_before


def test_begin_write_takes_the_write_lock_at_the_start(sqlite_only):
    begin_write()
    # With the lock held, another connection cannot start a write.
    other = db.engine.raw_connection()
    try:
        other.execute("PRAGMA busy_timeout=0")
        with pytest.raises(Exception, match="locked"):
            other.execute("BEGIN IMMEDIATE")
    finally:
        other.close()
        db.session.rollback()


def test_database_errors_never_carry_answers(survey_db):
    """A failed write is logged; what families wrote must not be in the message."""
    begin_write()
    version = db.session.scalar(select(QuestionnaireVersion).limit(1))
    db.session.add(a_response(version, reference="SAME", submission_key="a"))
    db.session.add(a_response(version, reference="SAME", submission_key="Our son Example was failed"))
    with pytest.raises(IntegrityError) as failure:
        db.session.commit()
    db.session.rollback()
    assert "Example" not in str(failure.value)
