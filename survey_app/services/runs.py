"""Survey runs: a questionnaire version open to respondents between two times."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, select

from ..database import begin_write
from ..extensions import db
from ..models import QuestionnaireVersion, SurveyRun, utcnow


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
)
_RUNS = select(*_RUN_COLUMNS).join(SurveyRun.questionnaire_version)
_RUN_BY_SLUG = _RUNS.where(SurveyRun.slug == bindparam("slug"))


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
    run = Run(*row)
    cache[slug] = (now + current_app.config["RUN_CACHE_SECONDS"], run)
    return run


def forget_cached_runs() -> None:
    """Drop this process's cached runs (after a change, or a reset in tests)."""
    current_app.extensions.get("run_cache", {}).clear()


def open_runs(at: datetime | None = None) -> list[Run]:
    at = at or utcnow()
    rows = db.session.execute(
        _RUNS.where(SurveyRun.opens_at <= at, SurveyRun.closes_at > at).order_by(SurveyRun.closes_at, SurveyRun.title)
    )
    return [Run(*row) for row in rows]


def open_run(
    version: QuestionnaireVersion, slug: str, title: str, opens_at: datetime, closes_at: datetime
) -> SurveyRun:
    if closes_at <= opens_at:
        raise ValueError("A survey must close after it opens.")
    begin_write()
    run = SurveyRun(slug=slug, title=title, questionnaire_version=version, opens_at=opens_at, closes_at=closes_at)
    db.session.add(run)
    db.session.commit()
    forget_cached_runs()
    return run


def ensure_demo_runs(versions: list[QuestionnaireVersion], days: int = 90) -> list[SurveyRun]:
    """Open a run of each questionnaire that has none open now; return the runs opened."""
    opened = []
    now = utcnow()
    open_version_ids = {run.questionnaire_version_id for run in open_runs(now)}
    for version in versions:
        if version.id in open_version_ids:
            continue
        slug = _free_slug(version.key.replace("_", "-"))
        opened.append(open_run(version, slug, version.title, now - timedelta(minutes=1), now + timedelta(days=days)))
    return opened


def _free_slug(base: str) -> str:
    taken = set(db.session.scalars(select(SurveyRun.slug).where(SurveyRun.slug.startswith(base))))
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"
