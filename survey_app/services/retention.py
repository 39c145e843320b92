"""Deleting individual responses at the end of their retention period, keeping counts.

A run's responses are kept for ``retention_months`` months after it closes.
After that, ``apply`` keeps their counts (already in ``answer_count``, kept
up to date with every response: it marks the run's rows as retained, so that
they are never counted again), then deletes the responses with their
answers, the run's equality monitoring records and its invitations (with
their email addresses and link tokens), in one transaction per run, so
counts are never kept without the deletion or the other way round. Running
it again finds nothing left to delete, and changes nothing.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from analysis.measures_file import MeasuresFileError

from ..database import begin_write
from ..extensions import db
from ..models import (
    Answer,
    Draft,
    EqualityMonitoring,
    Invitation,
    Response,
    SignInFailure,
    SurveyRun,
    utcnow,
)
from . import answer_counts, audit
from .measures import measure_set
from .questionnaires import library as questionnaire_library

# Failed sign-ins only slow down guessing for a while; older ones serve no purpose.
SIGN_IN_FAILURES_KEPT = timedelta(days=1)
ACTOR = "the retention command"


@dataclass(frozen=True)
class RunRetention:
    """What was (or, in a dry run, would be) deleted from one run."""

    run_id: int
    title: str
    responses: int
    equality_records: int
    invitations: int


@dataclass
class RetentionReport:
    dry_run: bool
    runs: list[RunRetention] = field(default_factory=list)
    expired_drafts: int = 0
    old_sign_in_failures: int = 0


def add_months(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` later (the month's last day where it is shorter)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def retention_ends(run: SurveyRun) -> datetime:
    """When a run's individual responses are due to be deleted."""
    return add_months(run.closes_at, run.retention_months)


def apply(dry_run: bool = False, now: datetime | None = None) -> RetentionReport:
    """Delete what is past its retention period; with ``dry_run``, only say what that would be."""
    now = now or utcnow()
    report = RetentionReport(dry_run=dry_run)
    for run_id in _due_run_ids(now):
        outcome = _count_run(run_id) if dry_run else _retain_run(run_id, now)
        if outcome is not None:
            report.runs.append(outcome)
    if dry_run:
        report.expired_drafts, report.old_sign_in_failures = _count_housekeeping(now)
    else:
        report.expired_drafts, report.old_sign_in_failures = _delete_housekeeping(now)
    return report


def _due_run_ids(now: datetime) -> list[int]:
    runs = db.session.execute(select(SurveyRun.id, SurveyRun.closes_at, SurveyRun.retention_months)).all()
    return sorted(run.id for run in runs if add_months(run.closes_at, run.retention_months) < now)


def _count_run(run_id: int) -> RunRetention | None:
    run = db.session.get(SurveyRun, run_id)
    outcome = RunRetention(
        run_id=run.id,
        title=run.title,
        responses=_count(select(func.count()).select_from(Response).where(Response.run_id == run.id)),
        equality_records=_count(
            select(func.count()).select_from(EqualityMonitoring).where(EqualityMonitoring.run_id == run.id)
        ),
        invitations=_count(select(func.count()).select_from(Invitation).where(Invitation.run_id == run.id)),
    )
    return outcome if outcome.responses or outcome.equality_records or outcome.invitations else None


def _retain_run(run_id: int, now: datetime) -> RunRetention | None:
    begin_write()
    run = db.session.get(SurveyRun, run_id)
    # Checked again inside the transaction: the run may have been changed since it was listed.
    outcome = _count_run(run_id) if retention_ends(run) < now else None
    if outcome is None:
        db.session.rollback()
        return None
    # Its counts are already in answer_count: they are kept as retained, and are never counted again.
    kept = answer_counts.retain_run(db.session.connection(), run.id, _recounted_measures(run))
    _delete_run_rows(run.id)
    audit.record(
        "retention_applied",
        run.title,
        by=ACTOR,
        run_id=run.id,
        responses=outcome.responses,
        equality_records=outcome.equality_records,
        invitations=outcome.invitations,
        counts_kept=kept,
    )
    db.session.commit()
    return outcome


def _recounted_measures(run: SurveyRun) -> list[answer_counts.ResponseMeasure]:
    """The measures file's measures counted per response whose counts were made by another definition (or not
    made): counted again from this run's responses before they go, so that the history kept is by the file's
    definitions. With a measures file that cannot be read, the counts are kept as they were made."""
    try:
        measures = measure_set()
    except (MeasuresFileError, OSError):
        return []
    stored = answer_counts.stored_hashes(db.session.connection())
    key = run.questionnaire_version.key
    return [
        measure
        for measure in answer_counts.whole_response_measures(measures, questionnaire_library().questionnaires)
        if key in measure.questionnaires and stored.get(measure.key) != measure.definition_hash
    ]


def _delete_run_rows(run_id: int) -> None:
    # Comment tags, follow-ups and redaction records go with their answers,
    # equality answers with their records, and drafts with their invitations
    # (the foreign keys cascade).
    for statement in (
        delete(Answer).where(Answer.run_id == run_id),
        delete(Response).where(Response.run_id == run_id),
        delete(EqualityMonitoring).where(EqualityMonitoring.run_id == run_id),
        delete(Invitation).where(Invitation.run_id == run_id),
    ):
        db.session.execute(statement.execution_options(synchronize_session=False))


def _housekeeping_filters(now: datetime) -> tuple:
    return Draft.expires_at < now, SignInFailure.at < now - SIGN_IN_FAILURES_KEPT


def _count_housekeeping(now: datetime) -> tuple[int, int]:
    drafts, failures = _housekeeping_filters(now)
    return (
        _count(select(func.count()).select_from(Draft).where(drafts)),
        _count(select(func.count()).select_from(SignInFailure).where(failures)),
    )


def _delete_housekeeping(now: datetime) -> tuple[int, int]:
    drafts, failures = _housekeeping_filters(now)
    begin_write()
    deleted_drafts = db.session.execute(delete(Draft).where(drafts).execution_options(synchronize_session=False))
    deleted_failures = db.session.execute(
        delete(SignInFailure).where(failures).execution_options(synchronize_session=False)
    )
    db.session.commit()
    return deleted_drafts.rowcount, deleted_failures.rowcount


def _count(query) -> int:
    return db.session.scalar(query) or 0
