"""Storage: published versions, answers stored long, and SQLite's write discipline."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import timedelta

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from survey_app import create_app
from survey_app.database import WriteOutsideTransaction, begin_write
from survey_app.extensions import db
from survey_app.models import Answer, Draft, PublishedVersionChanged, QuestionnaireVersion, Response, utcnow
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


FULL_ANSWERS = {
    "felt_involved": "agree",
    "communication_good": "disagree",
    "contacts_to_chase": "4",
    "plan_reflects_needs": "disagree",
    "needs_missing": ["health", "social_care"],
    "outcomes_good": "dont_know",
    "provision_meets_needs": "agree",
    "child_phase": "primary",
}


def test_answers_are_stored_long_with_their_context(survey_db):
    run = plan_run()
    questionnaire = questionnaire_service.questionnaire_for(run)
    token = answered_draft(run, questionnaire, FULL_ANSWERS)
    key = journey.load_progress(run, token).submission_key
    reference = journey.submit(run, questionnaire, token, key)
    db.session.rollback()

    response = db.session.scalar(select(Response).filter_by(reference=reference))
    rows = db.session.scalars(select(Answer).filter_by(response_id=response.id)).all()
    assert sorted((row.question_key, row.value) for row in rows) == sorted(
        [(k, v) for k, v in FULL_ANSWERS.items() if not isinstance(v, list)]
        + [("needs_missing", "health"), ("needs_missing", "social_care")]
    )
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
    token = answered_draft(run, questionnaire, FULL_ANSWERS)
    reference = journey.submit(run, questionnaire, token, journey.load_progress(run, token).submission_key)
    db.session.rollback()
    response = db.session.scalar(select(Response).filter_by(reference=reference))
    version = db.session.get(QuestionnaireVersion, response.questionnaire_version_id)
    assert (version.key, version.version) == (PLAN, 1)
    assert version.definition_hash == questionnaire.definition_hash


def test_publishing_the_same_version_again_changes_nothing(survey_db):
    questionnaire = questionnaire_service.library().get(PLAN)
    result = questionnaire_service.publish(questionnaire)
    assert result.created is False
    assert db.session.scalar(select(func.count()).select_from(QuestionnaireVersion).filter_by(key=PLAN)) == 1


def test_editing_a_published_version_in_place_is_refused(survey_db):
    questionnaire = questionnaire_service.library().get(PLAN)
    reworded = dataclasses.replace(questionnaire, title="A new title")
    with pytest.raises(PublishedVersionChanged, match="give the changed questionnaire version 2"):
        questionnaire_service.publish(reworded)

    published = questionnaire_service.publish(dataclasses.replace(reworded, version=2))
    assert published.created
    assert [v.version for v in questionnaire_service.latest_versions() if v.key == PLAN] == [2]


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
    questionnaire_service.publish(dataclasses.replace(questionnaire, version=2, title="New wording"))
    db.session.rollback()
    assert questionnaire_service.questionnaire_for(plan_run()).title == questionnaire.title
    assert db.session.get(QuestionnaireVersion, run.questionnaire_version_id).version == 1


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
    token = answered_draft(run, questionnaire, FULL_ANSWERS)
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
    assert unfinished.value.page.key == "communication_good"


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
