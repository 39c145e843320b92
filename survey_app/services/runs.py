"""Survey runs: a questionnaire version open to respondents between two times."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..database import begin_write
from ..extensions import db
from ..models import QuestionnaireVersion, SurveyRun, utcnow


def run_by_slug(slug: str) -> SurveyRun | None:
    return db.session.scalar(
        select(SurveyRun).options(joinedload(SurveyRun.questionnaire_version)).filter_by(slug=slug)
    )


def open_runs(at: datetime | None = None) -> list[SurveyRun]:
    at = at or utcnow()
    return list(
        db.session.scalars(
            select(SurveyRun)
            .options(joinedload(SurveyRun.questionnaire_version))
            .where(SurveyRun.opens_at <= at, SurveyRun.closes_at > at)
            .order_by(SurveyRun.closes_at, SurveyRun.title)
        )
    )


def open_run(
    version: QuestionnaireVersion, slug: str, title: str, opens_at: datetime, closes_at: datetime
) -> SurveyRun:
    if closes_at <= opens_at:
        raise ValueError("A survey must close after it opens.")
    begin_write()
    run = SurveyRun(slug=slug, title=title, questionnaire_version=version, opens_at=opens_at, closes_at=closes_at)
    db.session.add(run)
    db.session.commit()
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
