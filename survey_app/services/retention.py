"""Deleting individual responses at the end of their retention period, keeping counts.

A run's responses are kept for ``retention_months`` months after it closes.
After that, ``apply`` first adds their counts to ``retained_count`` (worked
out by GROUP BY in the database), then deletes the responses with their
answers, the run's equality monitoring records and its invitations (with
their email addresses and link tokens), in one transaction per run, so
counts are never kept without the deletion or the other way round. Running
it again finds nothing left to delete, and changes nothing.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import delete, distinct, func, select
from sqlalchemy.orm import aliased

from questionnaires import Questionnaire
from questionnaires.schema import Section

from ..database import begin_write
from ..extensions import db
from ..models import (
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
from . import audit, measure_counts
from .exports import exported_questions
from .measures import measure_set
from .questionnaires import library as questionnaire_library
from .questionnaires import questionnaire_of
from .uk_time import uk_month

# Failed sign-ins only slow down guessing for a while; older ones serve no purpose.
SIGN_IN_FAILURES_KEPT = timedelta(days=1)
ACTOR = "the retention command"

# (month, question key, value, group key, group value)
CountKey = tuple[date, str, str, str, str]


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
    kept = _keep_counts(run, _counts(run, questionnaire_of(run.questionnaire_version)))
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


def _counts(run: SurveyRun, questionnaire: Questionnaire) -> dict[CountKey, int]:
    """Every count to keep, by month, question, value and group, all worked out in the database."""
    counted = [question.key for question in exported_questions(questionnaire) if question.type.is_choice]
    groups = [
        question.key
        for question in questionnaire.questions
        if question.section is Section.CONTEXT and question.type.is_choice
    ]
    counts: dict[CountKey, int] = {}
    for rows in (
        _response_counts(run.id),
        _response_counts_by_group(run.id, groups),
        _answer_counts(run.id, counted),
        _answer_counts_by_group(run.id, counted, groups),
        _equality_counts(run.id),
        _measure_counts(run, questionnaire, groups),
    ):
        for year, month, question_key, value, group_key, group_value, count in rows:
            key = (date(int(year), int(month), 1), question_key, value, group_key, group_value)
            counts[key] = counts.get(key, 0) + count
    return counts


def _year_month(column) -> tuple:
    """The UK month of a time, as (year, month) columns: measures count by UK month."""
    month = uk_month(column)
    return func.substr(month, 1, 4), func.substr(month, 6, 2)


def _response_counts(run_id: int) -> Iterable[tuple]:
    year, month = _year_month(Response.submitted_at)
    rows = db.session.execute(select(year, month, func.count()).where(Response.run_id == run_id).group_by(year, month))
    return ((y, m, "", "", "", "", count) for y, m, count in rows)


def _response_counts_by_group(run_id: int, groups: list[str]) -> Iterable[tuple]:
    year, month = _year_month(Answer.submitted_at)
    rows = db.session.execute(
        select(year, month, Answer.question_key, Answer.value, func.count(distinct(Answer.response_id)))
        .where(Answer.run_id == run_id, Answer.question_key.in_(groups))
        .group_by(year, month, Answer.question_key, Answer.value)
    )
    return ((y, m, "", "", key, value, count) for y, m, key, value, count in rows)


def _answer_counts(run_id: int, counted: list[str]) -> Iterable[tuple]:
    year, month = _year_month(Answer.submitted_at)
    rows = db.session.execute(
        select(year, month, Answer.question_key, Answer.value, func.count())
        .where(Answer.run_id == run_id, Answer.question_key.in_(counted))
        .group_by(year, month, Answer.question_key, Answer.value)
    )
    return ((y, m, key, value, "", "", count) for y, m, key, value, count in rows)


def _answer_counts_by_group(run_id: int, counted: list[str], groups: list[str]) -> Iterable[tuple]:
    answer, group = aliased(Answer), aliased(Answer)
    year, month = _year_month(answer.submitted_at)
    rows = db.session.execute(
        select(year, month, answer.question_key, answer.value, group.question_key, group.value, func.count())
        .join(group, (group.response_id == answer.response_id) & group.question_key.in_(groups))
        .where(answer.run_id == run_id, answer.question_key.in_(counted))
        .group_by(year, month, answer.question_key, answer.value, group.question_key, group.value)
    )
    return (
        (y, m, key, value, group_key, group_value, count) for y, m, key, value, group_key, group_value, count in rows
    )


def _equality_counts(run_id: int) -> Iterable[tuple]:
    rows = db.session.execute(
        select(EqualityMonitoring.submitted_month, EqualityAnswer.question_key, EqualityAnswer.value, func.count())
        .join(EqualityAnswer, EqualityAnswer.monitoring_id == EqualityMonitoring.id)
        .where(EqualityMonitoring.run_id == run_id)
        .group_by(EqualityMonitoring.submitted_month, EqualityAnswer.question_key, EqualityAnswer.value)
    )
    return ((month.year, month.month, key, value, "", "", count) for month, key, value, count in rows)


def _measure_counts(run: SurveyRun, questionnaire: Questionnaire, groups: list[str]) -> Iterable[tuple]:
    """Each measure's own positives and base, for the measures that answer counts cannot give back: a composite,
    a question with several answers, a filter on a context answer. Worked out now, while whole responses exist."""
    library = questionnaire_library().questionnaires
    measures = [
        measure
        for measure in measure_counts.survey_measures(measure_set())
        if questionnaire.key in measure.source.questionnaires and measure_counts.needs_whole_responses(measure, library)
    ]
    runs = {run_id: info for run_id, info in measure_counts.runs_for([questionnaire.key]).items() if run_id == run.id}
    if not measures or not runs:
        return
    for group in [None, *groups]:
        counted = measure_counts.buckets(measures, runs, library, None, group, retained=False)
        for row in counted.itertuples(index=False):
            key = measure_counts.MEASURE_PREFIX + row.measure
            year, month = row.month.split("-")
            group_key, group_value = (group, row.group) if group else ("", "")
            yield year, month, key, measure_counts.POSITIVE, group_key, group_value, int(row.positives)
            yield year, month, key, measure_counts.BASE, group_key, group_value, int(row.n)


def _keep_counts(run: SurveyRun, counts: dict[CountKey, int]) -> int:
    """Add the counts to any already kept for the run (by an earlier retention); return how many there are."""
    existing = {
        (row.month, row.question_key, row.value, row.group_key, row.group_value): row
        for row in db.session.scalars(select(RetainedCount).where(RetainedCount.run_id == run.id))
    }
    for key, count in counts.items():
        if key in existing:
            existing[key].count += count
            continue
        month, question_key, value, group_key, group_value = key
        db.session.add(
            RetainedCount(
                run_id=run.id,
                month=month,
                question_key=question_key,
                value=value,
                group_key=group_key,
                group_value=group_value,
                questionnaire_version_id=run.questionnaire_version_id,
                count=count,
            )
        )
    db.session.flush()
    return len(counts)


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
