"""Retention: responses past their period are deleted, and exactly their counts are kept."""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from questionnaires.schema import Section
from survey_app.database import begin_write
from survey_app.extensions import db
from survey_app.models import (
    Answer,
    Draft,
    EqualityAnswer,
    EqualityMonitoring,
    Invitation,
    Response,
    RetainedCount,
    SignInFailure,
    SurveyRun,
    utcnow,
)
from survey_app.services import questionnaires as questionnaire_service
from survey_app.services import retention, runs

from .stored import store_response
from .test_exports import NEEDS_MISSING, audit_entries, plan_answers, questionnaire, run_of

PAST = "plan-feedback-2020"
JANUARY, FEBRUARY = datetime(2020, 1, 15, 12), datetime(2020, 2, 10, 9)


@pytest.fixture
def past_run(survey_db) -> SurveyRun:
    """A plan survey that closed in March 2020 (so its 24 months ended in March 2022), with
    five responses over two months, equality answers and two invitations."""
    version = next(v for v in questionnaire_service.latest_versions() if v.key == "ehc_plan_feedback")
    run = runs.open_run(version, PAST, "Plan feedback 2020", datetime(2020, 1, 1), datetime(2020, 3, 31))
    given = [
        (JANUARY, plan_answers(school_phase="primary", felt_involved="agree"), {"respondent_sex": "female"}),
        (
            JANUARY,
            plan_answers(
                school_phase="primary",
                felt_involved="disagree",
                plan_reflects_needs="disagree",
                needs_missing=NEEDS_MISSING,
            ),
            {"respondent_sex": "male", "respondent_disability": "yes"},
        ),
        (JANUARY, plan_answers(school_phase="secondary", felt_involved="agree"), None),
        (
            FEBRUARY,
            plan_answers(school_phase="secondary", felt_involved="strongly_agree"),
            {"respondent_sex": "female"},
        ),
        (FEBRUARY, plan_answers(school_phase="primary", felt_involved="agree", worked_well="Nothing"), None),
    ]
    for submitted_at, answers, equality in given:
        store_response(run, answers, submitted_at=submitted_at, equality=equality)
    begin_write()
    for number in (1, 2):
        db.session.add(
            Invitation(
                run_id=run.id,
                token_hash=secrets.token_hex(32),
                link_salt=secrets.token_hex(16),
                reference=f"EHC-{number}",
                email=f"family{number}@example.com",
            )
        )
    db.session.commit()
    return run


def retention_command(app, *options: str) -> str:
    result = app.test_cli_runner().invoke(args=["retention", "apply", *options])
    assert result.exit_code == 0, result.output
    db.session.rollback()  # see what the command committed
    db.session.expire_all()
    return result.output


def rows(model, run_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(model.run_id == run_id))


def choice_keys() -> list[str]:
    """The plan questionnaire's option-coded questions, equality monitoring apart."""
    return [q.key for q in questionnaire().questions if q.type.is_choice and q.section is not Section.EQUALITY]


def grouped_answers(run_id: int) -> dict[tuple[str, str], int]:
    """Counts of option-coded answers, as a GROUP BY gives them."""
    query = (
        select(Answer.question_key, Answer.value, func.count())
        .where(Answer.run_id == run_id, Answer.question_key.in_(choice_keys()))
        .group_by(Answer.question_key, Answer.value)
    )
    return {(key, value): count for key, value, count in db.session.execute(query)}


def grouped_by_school_phase(run_id: int) -> dict[tuple[str, str, str], int]:
    answer, group = aliased(Answer), aliased(Answer)
    query = (
        select(answer.question_key, answer.value, group.value, func.count())
        .join(group, (group.response_id == answer.response_id) & (group.question_key == "school_phase"))
        .where(answer.run_id == run_id, answer.question_key.in_(choice_keys()))
        .group_by(answer.question_key, answer.value, group.value)
    )
    return {(key, value, phase): count for key, value, phase, count in db.session.execute(query)}


def grouped_equality(run_id: int) -> dict[tuple[str, str], int]:
    query = (
        select(EqualityAnswer.question_key, EqualityAnswer.value, func.count())
        .join(EqualityMonitoring)
        .where(EqualityMonitoring.run_id == run_id)
        .group_by(EqualityAnswer.question_key, EqualityAnswer.value)
    )
    return {(key, value): count for key, value, count in db.session.execute(query)}


def kept(run_id: int, group_key: str = "") -> dict[tuple[str, ...], int]:
    """The retained counts over all months: (question, value) for everyone, (question, value, group value) by group."""
    query = (
        select(
            RetainedCount.question_key, RetainedCount.value, RetainedCount.group_value, func.sum(RetainedCount.count)
        )
        .where(RetainedCount.run_id == run_id, RetainedCount.group_key == group_key, RetainedCount.question_key != "")
        .group_by(RetainedCount.question_key, RetainedCount.value, RetainedCount.group_value)
    )
    return {
        ((key, value) if group_key == "" else (key, value, group_value)): int(count)
        for key, value, group_value, count in db.session.execute(query)
    }


def kept_responses(run_id: int, group_key: str = "") -> dict[tuple[date, str], int]:
    query = select(RetainedCount.month, RetainedCount.group_value, RetainedCount.count).where(
        RetainedCount.run_id == run_id, RetainedCount.question_key == "", RetainedCount.group_key == group_key
    )
    return {(month, group_value): count for month, group_value, count in db.session.execute(query)}


def test_responses_past_their_period_are_deleted_and_their_counts_kept(app, past_run):
    current = run_of()
    store_response(current, plan_answers())
    recent = runs.open_run(
        past_run.questionnaire_version,
        "closed-last-month",
        "Closed last month",
        utcnow() - timedelta(days=90),
        utcnow() - timedelta(days=30),
    )
    store_response(recent, plan_answers())
    everyone, by_phase, equality = (
        grouped_answers(past_run.id),
        grouped_by_school_phase(past_run.id),
        grouped_equality(past_run.id),
    )
    assert by_phase[("felt_involved", "agree", "primary")] == 2  # the breakdown is not trivial

    output = retention_command(app)

    assert "Run 'Plan feedback 2020': 5 responses deleted, counts kept" in output
    assert "1 run past its retention period, 5 responses deleted" in output
    assert rows(Response, past_run.id) == rows(Answer, past_run.id) == 0
    assert rows(EqualityMonitoring, past_run.id) == rows(Invitation, past_run.id) == 0
    assert db.session.scalar(select(func.count()).select_from(EqualityAnswer)) == 0
    # Counts: exactly what GROUP BY gave before, for everyone and by school phase.
    assert kept(past_run.id) == everyone | equality
    assert kept(past_run.id, "school_phase") == by_phase
    assert set(kept(past_run.id, "primary_need")) and set(kept(past_run.id, "locality"))
    assert kept_responses(past_run.id) == {(date(2020, 1, 1), ""): 3, (date(2020, 2, 1), ""): 2}
    assert kept_responses(past_run.id, "school_phase") == {
        (date(2020, 1, 1), "primary"): 2,
        (date(2020, 1, 1), "secondary"): 1,
        (date(2020, 2, 1), "primary"): 1,
        (date(2020, 2, 1), "secondary"): 1,
    }
    # Free text is never counted.
    assert not any(key in ("worked_well", "could_be_better", "plan_reference") for key, _ in kept(past_run.id))
    # Runs within their period are untouched.
    assert rows(Response, current.id) == rows(Response, recent.id) == 1
    assert not rows(RetainedCount, current.id) and not rows(RetainedCount, recent.id)

    [entry] = audit_entries("retention_applied")
    assert entry.actor == "the retention command"
    assert entry.subject == "Plan feedback 2020"
    assert entry.details["run_id"] == past_run.id
    assert (entry.details["responses"], entry.details["equality_records"], entry.details["invitations"]) == (5, 3, 2)


def test_running_it_again_changes_nothing(app, past_run):
    retention_command(app)
    before = {(r.month, r.question_key, r.value, r.group_key, r.group_value): r.count for r in all_counts()}
    output = retention_command(app)
    assert "Run '" not in output
    assert "0 runs past their retention period, 0 responses deleted" in output
    assert {(r.month, r.question_key, r.value, r.group_key, r.group_value): r.count for r in all_counts()} == before
    assert len(audit_entries("retention_applied")) == 1


def test_a_dry_run_says_what_would_go_and_changes_nothing(app, past_run):
    expired_draft(past_run)
    output = retention_command(app, "--dry-run")
    assert "Run 'Plan feedback 2020': 5 responses would be deleted, counts kept" in output
    assert "Dry run, nothing changed" in output and "1 expired draft" in output
    assert rows(Response, past_run.id) == 5
    assert rows(Invitation, past_run.id) == 2
    assert rows(Draft, past_run.id) == 1
    assert not all_counts()
    assert not audit_entries("retention_applied")


def test_counts_are_added_to_those_already_kept(app, past_run):
    """Responses stored after a run was retained (a late import) are added to its counts, not put beside them."""
    retention_command(app)
    first = kept(past_run.id)
    late = plan_answers(school_phase="primary", felt_involved="agree")
    store_response(past_run, late, submitted_at=JANUARY)
    retention_command(app)
    after = kept(past_run.id)
    assert after[("felt_involved", "agree")] == first[("felt_involved", "agree")] + 1
    assert after[("school_phase", "primary")] == first[("school_phase", "primary")] + 1
    assert kept_responses(past_run.id)[(date(2020, 1, 1), "")] == 4
    assert len(audit_entries("retention_applied")) == 2


def test_expired_drafts_and_old_failed_sign_ins_are_deleted(app, survey_db):
    run = run_of()
    expired, live = expired_draft(run), expired_draft(run, expires_in=timedelta(days=1))
    begin_write()
    db.session.add_all(
        [
            SignInFailure(key_hash="a" * 64, at=utcnow() - timedelta(days=2)),
            SignInFailure(key_hash="b" * 64, at=utcnow() - timedelta(minutes=5)),
        ]
    )
    db.session.commit()
    output = retention_command(app)
    assert "1 expired draft and 1 old failed sign-in deleted" in output
    assert db.session.scalars(select(Draft.id)).all() == [live]
    assert db.session.scalars(select(SignInFailure.key_hash)).all() == ["b" * 64]
    assert expired not in db.session.scalars(select(Draft.id)).all()


def test_the_export_page_says_when_responses_have_gone(app, past_run, signed_in):
    officer = signed_in("officer")
    assert "are kept until" in officer.get(f"/officer/runs/{run_of().id}/export").text
    assert "retention period ended on 31 March 2022" in officer.get(f"/officer/runs/{past_run.id}/export").text
    retention_command(app)
    page = officer.get(f"/officer/runs/{past_run.id}/export")
    assert "There are no responses to export" in page.text


def test_the_command_documents_itself(app):
    result = app.test_cli_runner().invoke(args=["retention", "apply", "--help"])
    assert result.exit_code == 0
    assert "--dry-run" in result.output and "retention period" in result.output


def test_a_retention_period_ends_on_the_same_day_months_later():
    assert retention.add_months(datetime(2024, 3, 31, 17), 24) == datetime(2026, 3, 31, 17)
    assert retention.add_months(datetime(2024, 8, 31), 6) == datetime(2025, 2, 28)
    assert retention.add_months(datetime(2023, 11, 30), 3) == datetime(2024, 2, 29)


def all_counts() -> list[RetainedCount]:
    return list(db.session.scalars(select(RetainedCount)))


def expired_draft(run: SurveyRun, expires_in: timedelta = timedelta(days=-1)) -> int:
    begin_write()
    draft = Draft(
        token_hash=secrets.token_hex(32),
        run_id=run.id,
        answers={"felt_involved": "agree"},
        submission_key=secrets.token_hex(16),
        expires_at=utcnow() + expires_in,
    )
    db.session.add(draft)
    db.session.commit()
    return draft.id
