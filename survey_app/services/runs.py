"""Survey runs: a questionnaire version open to respondents between two times.

The respondent journey reads runs through ``run_by_slug`` (a cached, frozen
snapshot); the officer area opens, changes, pauses and closes them here, and
reads their figures: responses, response rates and submissions per day.
"""

from __future__ import annotations

import re
import time
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import DateTime, Integer, bindparam, column, func, select, values
from sqlalchemy.orm import joinedload

from ..database import begin_write
from ..extensions import db
from ..models import (
    Access,
    Draft,
    Invitation,
    QuestionnaireVersion,
    Response,
    RetainedCount,
    SurveyRun,
    User,
    Wave,
    utcnow,
)
from . import audit
from .uk_time import uk_days

SCHEDULED, OPEN, PAUSED, CLOSED = "scheduled", "open", "paused", "closed"
STATUSES = (OPEN, PAUSED, SCHEDULED, CLOSED)  # the order the runs list shows them in
SLUG_LENGTH = 60


@dataclass(frozen=True)
class Run:
    """A run as the respondent journey uses it: a snapshot, safe to keep and share between threads."""

    id: int
    slug: str
    title: str
    opens_at: datetime
    closes_at: datetime
    questionnaire_version_id: int
    questionnaire_key: str
    audience: str
    definition_hash: str
    access: Access = Access.OPEN
    paused_at: datetime | None = None


_RUN_COLUMNS = (
    SurveyRun.id,
    SurveyRun.slug,
    SurveyRun.title,
    SurveyRun.opens_at,
    SurveyRun.closes_at,
    SurveyRun.questionnaire_version_id,
    QuestionnaireVersion.key,
    QuestionnaireVersion.audience,
    QuestionnaireVersion.definition_hash,
    SurveyRun.access,
    SurveyRun.paused_at,
)
_RUNS = select(*_RUN_COLUMNS).join(SurveyRun.questionnaire_version)
_RUN_BY_SLUG = _RUNS.where(SurveyRun.slug == bindparam("slug"))


def _snapshot(row) -> Run:
    *fields, access, paused_at = row
    return Run(*fields, access=Access(access), paused_at=paused_at)


def run_by_slug(slug: str) -> Run | None:
    """The run at this address.

    Every page of the journey looks its run up, so each process keeps runs
    for ``RUN_CACHE_SECONDS``: a change made by an officer reaches every
    worker within that time. Whether a run is open is always worked out from
    the current time, so a run still opens and closes on the minute.
    """
    cache: dict[str, tuple[float, Run]] = current_app.extensions.setdefault("run_cache", {})
    now = time.monotonic()
    cached = cache.get(slug)
    if cached is not None and cached[0] > now:
        return cached[1]
    row = db.session.execute(_RUN_BY_SLUG, {"slug": slug}).first()
    if row is None:
        return None  # not cached, so that unknown addresses cannot fill memory
    run = _snapshot(row)
    cache[slug] = (now + current_app.config["RUN_CACHE_SECONDS"], run)
    return run


def forget_cached_runs() -> None:
    """Drop this process's cached runs (after a change, or a reset in tests)."""
    current_app.extensions.get("run_cache", {}).clear()


def open_runs(at: datetime | None = None, *, listed_only: bool = False) -> list[Run]:
    """Runs between their opening and closing times.

    ``listed_only`` leaves out what the public list of surveys must not
    offer: paused runs, and runs answered only through personal invitations.
    """
    at = at or utcnow()
    query = _RUNS.where(SurveyRun.opens_at <= at, SurveyRun.closes_at > at)
    if listed_only:
        query = query.where(SurveyRun.access == Access.OPEN.value, SurveyRun.paused_at.is_(None))
    rows = db.session.execute(query.order_by(SurveyRun.closes_at, SurveyRun.title))
    return [_snapshot(row) for row in rows]


def open_run(
    version: QuestionnaireVersion,
    slug: str,
    title: str,
    opens_at: datetime,
    closes_at: datetime,
    *,
    access: Access = Access.OPEN,
) -> SurveyRun:
    """Open a run with nothing but its times (demo runs and tests); officers use ``create_run``."""
    if closes_at <= opens_at:
        raise ValueError("A survey must close after it opens.")
    refusal = access_refusal(access, version.audience)
    if refusal:
        raise AccessRefused(refusal)
    begin_write()
    run = SurveyRun(
        slug=slug, title=title, questionnaire_version=version, opens_at=opens_at, closes_at=closes_at, access=access
    )
    db.session.add(run)
    db.session.commit()
    forget_cached_runs()
    return run


def ensure_demo_runs(
    versions: list[QuestionnaireVersion], days: int = 90, opened_ago: timedelta = timedelta(minutes=1)
) -> list[SurveyRun]:
    """Open a run of each questionnaire that has none open now, from ``opened_ago`` until ``days`` from now.

    Returns the runs opened. The demo opens them weeks ago, before the responses it invents.
    """
    opened = []
    now = utcnow()
    open_version_ids = {run.questionnaire_version_id for run in open_runs(now)}
    for version in versions:
        if version.id in open_version_ids:
            continue
        slug = free_slug(version.key.replace("_", "-"))
        opened.append(open_run(version, slug, version.title, now - opened_ago, now + timedelta(days=days)))
    return opened


def free_slug(base: str) -> str:
    taken = set(db.session.scalars(select(SurveyRun.slug).where(SurveyRun.slug.startswith(base))))
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def slug_from_title(title: str) -> str:
    """An address made from the title: "Parents' views, 2027!" becomes ``parents-views-2027``."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.replace("'", "").replace("’", "").lower()).strip("-")
    return slug[:SLUG_LENGTH].rstrip("-") or "survey"


# Officers: reading runs -----------------------------------------------------


def status(run: SurveyRun, at: datetime | None = None) -> str:
    """Scheduled, open, paused or closed, at ``at`` (now by default)."""
    at = at or utcnow()
    if run.closes_at <= at:
        return CLOSED
    if run.opens_at > at:
        return SCHEDULED
    return PAUSED if run.paused_at is not None else OPEN


@dataclass(frozen=True)
class Rate:
    """Responses over a denominator: invitations sent, or the people expected to be eligible."""

    responses: int
    denominator: int | None
    # "invitations", "expected eligible", or None when not known.
    basis: str | None

    @property
    def percent(self) -> float | None:
        if not self.denominator:
            return None
        return 100 * self.responses / self.denominator


def response_rate(run: SurveyRun, responses: int, invitations: int) -> Rate:
    """Over the invitations for an invitation-only run, over the expected number for an open one."""
    if Access(run.access).by_invitation:
        return Rate(responses, invitations or None, "invitations" if invitations else None)
    if run.expected_eligible:
        return Rate(responses, run.expected_eligible, "expected eligible")
    return Rate(responses, None, None)


@dataclass(frozen=True)
class RunSummary:
    run: SurveyRun
    status: str
    responses: int
    invitations: int
    rate: Rate


def summaries() -> list[RunSummary]:
    """Every run with its status, response count and response rate, newest opening first."""
    now = utcnow()
    all_runs = db.session.scalars(
        select(SurveyRun)
        .join(SurveyRun.questionnaire_version)
        .order_by(SurveyRun.opens_at.desc(), SurveyRun.title)
        .options(joinedload(SurveyRun.questionnaire_version), joinedload(SurveyRun.wave))
    ).all()
    responses = _response_counts()
    invitations = dict(db.session.execute(select(Invitation.run_id, func.count()).group_by(Invitation.run_id)).all())
    result = []
    for run in all_runs:
        count, invited = responses.get(run.id, 0), invitations.get(run.id, 0)
        result.append(RunSummary(run, status(run, now), count, invited, response_rate(run, count, invited)))
    return result


def _response_counts(run_id: int | None = None) -> dict[int, int]:
    """Responses per run, including those deleted at the end of their retention period."""
    live = select(Response.run_id, func.count()).group_by(Response.run_id)
    # Retention keeps the number of responses as the count with no question, answer or group.
    retained = (
        select(RetainedCount.run_id, func.sum(RetainedCount.count))
        .where(
            RetainedCount.question_key == "",
            RetainedCount.value == "",
            RetainedCount.group_key == "",
            RetainedCount.group_value == "",
        )
        .group_by(RetainedCount.run_id)
    )
    if run_id is not None:
        live = live.where(Response.run_id == run_id)
        retained = retained.where(RetainedCount.run_id == run_id)
    counts: dict[int, int] = {}
    for rows in (db.session.execute(live), db.session.execute(retained)):
        for key, count in rows:
            counts[key] = counts.get(key, 0) + int(count or 0)
    return counts


def run_by_id(run_id: int) -> SurveyRun | None:
    """A run with its questionnaire version, which every page about a run reads."""
    return db.session.get(SurveyRun, run_id, options=[joinedload(SurveyRun.questionnaire_version)])


def run_record(slug: str) -> SurveyRun | None:
    """A run by its address, with its questionnaire version, for the command line."""
    return db.session.scalar(
        select(SurveyRun).where(SurveyRun.slug == slug).options(joinedload(SurveyRun.questionnaire_version))
    )


def summary(run: SurveyRun) -> RunSummary:
    count = _response_counts(run.id).get(run.id, 0)
    invited = db.session.scalar(select(func.count()).select_from(Invitation).where(Invitation.run_id == run.id))
    return RunSummary(run, status(run), count, invited, response_rate(run, count, invited))


def has_responses(run: SurveyRun) -> bool:
    return bool(_response_counts(run.id))


# UK days counted in one query: a year's.
DAYS_PER_QUERY = 366


def submissions_per_day(run: SurveyRun) -> list[tuple[date, int]]:
    """Responses still held, by the UK day they were sent, oldest first; days with none are left out.

    Counted in the database, a UK day at a time: each day is the range of
    UTC times it spans (``uk_time.uk_days``: 11:30pm UTC on a summer day is
    already the next day), counted in the index on run and time, so no
    response is read, and a run of a million takes as long as its days.
    """
    # Apart, each is one step in the index; asked together, SQLite reads the whole run.
    first, last = db.session.execute(
        select(
            select(func.min(Response.submitted_at)).where(Response.run_id == run.id).scalar_subquery(),
            select(func.max(Response.submitted_at)).where(Response.run_id == run.id).scalar_subquery(),
        )
    ).one()
    if first is None:
        return []
    days = uk_days(first, last)
    counts: list[tuple[date, int]] = []
    for start in range(0, len(days), DAYS_PER_QUERY):
        some = days[start : start + DAYS_PER_QUERY]
        bounds = (
            values(column("number", Integer), column("starts", DateTime), column("ends", DateTime), name="uk_days")
            .data([(number, starts, ends) for number, (_, starts, ends) in enumerate(some)])
            .cte()
        )
        sent = (
            select(func.count())
            .select_from(Response)
            .where(
                Response.run_id == run.id,
                Response.submitted_at >= bounds.c.starts,
                Response.submitted_at < bounds.c.ends,
            )
            .scalar_subquery()
        )
        found = dict(db.session.execute(select(bounds.c.number, sent)).all())
        counts += [(day, found[number]) for number, (day, _, _) in enumerate(some) if found.get(number)]
    return counts


def waves() -> list[Wave]:
    return list(db.session.scalars(select(Wave).order_by(Wave.created_at.desc(), Wave.name)))


def wave_named(name: str) -> Wave | None:
    return db.session.scalar(select(Wave).where(func.lower(Wave.name) == name.strip().lower()))


def version_by_id(version_id: int) -> QuestionnaireVersion | None:
    return db.session.get(QuestionnaireVersion, version_id)


# Officers: changing runs ----------------------------------------------------


@dataclass
class RunDetails:
    """What an officer chooses when opening or changing a run."""

    title: str
    audience_description: str
    opens_at: datetime
    closes_at: datetime
    expected_eligible: int | None
    retention_months: int
    version_id: int | None = None
    access: Access | None = None
    wave_id: int | None = None
    # A wave to create, instead of choosing one: its name and whether it is the baseline.
    new_wave: tuple[str, bool] | None = None


class WaveNameTaken(Exception):
    """Someone else created a wave of this name in the meantime."""


class AccessRefused(ValueError):
    """Who can answer does not suit the questionnaire: a young people's survey by identified invitation."""


YOUNG_PEOPLE_NOT_IDENTIFIED = (
    "A young people's survey cannot be by identified invitation: their answers are never linked to a plan. "
    "Choose anyone with the link, or invitation only, anonymous"
)


def access_refusal(access: Access | str | None, audience: str | None) -> str | None:
    """Why this questionnaire's audience cannot be asked this way, or None when it can."""
    if access == Access.IDENTIFIED_INVITATIONS and audience == "young_person":
        return YOUNG_PEOPLE_NOT_IDENTIFIED
    return None


def _refuse_access(access: Access | str | None, version_id: int | None) -> None:
    version = db.session.get(QuestionnaireVersion, version_id) if version_id is not None else None
    refusal = access_refusal(access, version.audience if version else None)
    if refusal:
        db.session.rollback()
        raise AccessRefused(refusal)


def create_run(details: RunDetails, by: User) -> SurveyRun:
    """Open a run for officers: its address is made from the title, unique."""
    begin_write()
    _refuse_taken_wave(details)
    _refuse_access(details.access or Access.OPEN, details.version_id)
    run = SurveyRun(
        slug=free_slug(slug_from_title(details.title)),
        title=details.title,
        questionnaire_version_id=details.version_id,
        access=details.access or Access.OPEN,
        created_by_id=by.id,
        updated_at=utcnow(),
    )
    _apply(run, details)
    db.session.add(run)
    db.session.flush()
    audit.record("run_created", run.title, run_id=run.id, questionnaire_version_id=run.questionnaire_version_id)
    db.session.commit()
    forget_cached_runs()
    return run


def _refuse_taken_wave(details: RunDetails) -> None:
    """Checked again inside the write transaction, which no other writer can enter on SQLite."""
    if details.new_wave is not None and wave_named(details.new_wave[0]) is not None:
        db.session.rollback()
        raise WaveNameTaken(f"There is already a wave called “{details.new_wave[0]}”: choose it from the list")


def change_run(run: SurveyRun, details: RunDetails, by: User) -> None:
    """Change a run. The questionnaire and who can answer stay as they are once anyone has answered."""
    begin_write()
    _refuse_taken_wave(details)
    db.session.refresh(run)
    locked = has_responses(run)
    if not locked:
        _refuse_access(
            details.access if details.access is not None else run.access,
            details.version_id if details.version_id is not None else run.questionnaire_version_id,
        )
    if details.version_id is not None and not locked:
        run.questionnaire_version_id = details.version_id
    if details.access is not None and not locked:
        run.access = details.access
    if status(run) != SCHEDULED:
        details.opens_at = run.opens_at  # it has opened: when it opened is history
    _apply(run, details)
    run.updated_at = utcnow()
    audit.record("run_changed", run.title, run_id=run.id)
    db.session.commit()
    forget_cached_runs()


def _apply(run: SurveyRun, details: RunDetails) -> None:
    run.title = details.title
    run.audience_description = details.audience_description
    run.opens_at = details.opens_at
    run.closes_at = details.closes_at
    run.expected_eligible = details.expected_eligible
    run.retention_months = details.retention_months
    if details.new_wave is not None:
        name, is_baseline = details.new_wave
        run.wave = Wave(name=name, is_baseline=is_baseline, created_at=utcnow())
    else:
        run.wave_id = details.wave_id


class RunNotChanged(Exception):
    """The action does not apply to the run as it is now (it closed, or someone else paused it)."""


def pause(run: SurveyRun) -> None:
    """Stop respondents answering for now. Their answers in progress are kept."""
    begin_write()
    db.session.refresh(run)
    if status(run) != OPEN:
        db.session.rollback()
        raise RunNotChanged("Only an open survey can be paused.")
    run.paused_at = run.updated_at = utcnow()
    audit.record("run_paused", run.title, run_id=run.id)
    db.session.commit()
    forget_cached_runs()


def resume(run: SurveyRun) -> None:
    """Let respondents answer again, giving drafts back the time the pause took from them."""
    begin_write()
    db.session.refresh(run)
    if status(run) != PAUSED:
        db.session.rollback()
        raise RunNotChanged("Only a paused survey can be resumed.")
    now = utcnow()
    _extend_drafts(run, now - run.paused_at)
    run.paused_at = None
    run.updated_at = now
    audit.record("run_resumed", run.title, run_id=run.id)
    db.session.commit()
    forget_cached_runs()


def _extend_drafts(run: SurveyRun, by: timedelta) -> None:
    # Drafts of a paused run are not removed when they expire (see
    # journey._new_draft), so each gets back the time the pause took.
    drafts = Draft.__table__
    for draft_id, expires_at in db.session.execute(
        select(drafts.c.id, drafts.c.expires_at).where(drafts.c.run_id == run.id)
    ):
        db.session.execute(drafts.update().where(drafts.c.id == draft_id).values(expires_at=expires_at + by))


def close_early(run: SurveyRun) -> None:
    """Close the run now. Its responses are kept."""
    begin_write()
    db.session.refresh(run)
    if status(run) not in (OPEN, PAUSED):
        db.session.rollback()
        raise RunNotChanged("Only an open or paused survey can be closed early.")
    now = utcnow()
    run.closes_at = run.closed_early_at = run.updated_at = now
    run.paused_at = None
    audit.record("run_closed", run.title, run_id=run.id)
    db.session.commit()
    forget_cached_runs()
