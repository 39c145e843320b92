"""Typed SQLAlchemy 2 models.

Times are stored as naive UTC (``utcnow``) on both SQLite and PostgreSQL and
shown in UK time by the templates.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class PublishedVersionChanged(Exception):
    """A published questionnaire version may not change: publish a new version."""


class QuestionnaireVersion(db.Model):
    """One published version of a questionnaire, with its whole definition.

    Responses point here, so they are always read against the wording they
    answered, even after the YAML file has moved on to a later version.
    """

    __tablename__ = "questionnaire_version"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(63))
    version: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    audience: Mapped[str] = mapped_column(String(20))
    # Loaded only when a version's parsed definition is not cached yet.
    definition: Mapped[dict[str, Any]] = mapped_column(JSON, deferred=True)
    definition_hash: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)

    runs: Mapped[list[SurveyRun]] = relationship(back_populates="questionnaire_version")


@event.listens_for(QuestionnaireVersion, "before_update")
def _refuse_edit_in_place(mapper, connection, target: QuestionnaireVersion) -> None:
    history = db.inspect(target).attrs
    for name in ("key", "version", "definition", "definition_hash"):
        if history[name].history.has_changes():
            raise PublishedVersionChanged(
                f"Version {target.version} of '{target.key}' is published and cannot be changed: "
                "publish the change as a new version."
            )


class SurveyRun(db.Model):
    """A questionnaire version open to respondents between two times."""

    __tablename__ = "survey_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    questionnaire_version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_version.id"))
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    questionnaire_version: Mapped[QuestionnaireVersion] = relationship(back_populates="runs")


class Draft(db.Model):
    """Answers in progress, held on the server.

    The browser holds only a random token in the signed session cookie; the
    table holds its SHA-256, so a copy of the database cannot be used to take
    over someone's half-finished answers.
    """

    __tablename__ = "draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("survey_run.id", ondelete="CASCADE"))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    completed_pages: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The idempotency key of the eventual submission: every submit of this
    # draft, from any tab or retry, carries it.
    submission_key: Mapped[str] = mapped_column(String(64), unique=True)
    language: Mapped[str] = mapped_column(String(8), default="en")
    # Counts saves, so that two tabs saving at once cannot overwrite each other.
    revision: Mapped[int] = mapped_column(default=0)
    # "Save and come back later": the SHA-256 of the token in the return link.
    return_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class Response(db.Model):
    """One submitted questionnaire. No name, address or IP address is kept."""

    __tablename__ = "response"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    submission_key: Mapped[str] = mapped_column(String(64), unique=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("survey_run.id"), index=True)
    questionnaire_version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_version.id"))
    audience: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(8))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    run: Mapped[SurveyRun] = relationship()
    questionnaire_version: Mapped[QuestionnaireVersion] = relationship()
    answers: Mapped[list[Answer]] = relationship(
        back_populates="response", cascade="all, delete-orphan", passive_deletes=True
    )


class Answer(db.Model):
    """One answer, stored long with its response's context.

    A multiple-choice answer is one row per option chosen. The run, audience,
    language and submission time are copied from the response so that counting
    answers is a single GROUP BY over this table.
    """

    __tablename__ = "answer"
    # Not on value: free text can be longer than a PostgreSQL index entry.
    __table_args__ = (Index("ix_answer_run_question", "run_id", "question_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id", ondelete="CASCADE"), index=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("survey_run.id"))
    questionnaire_version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_version.id"))
    question_key: Mapped[str] = mapped_column(String(63))
    value: Mapped[str] = mapped_column(Text)
    audience: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(8))
    submitted_at: Mapped[datetime]

    response: Mapped[Response] = relationship(back_populates="answers")


class EqualityMonitoring(db.Model):
    """The equality monitoring answers of one response, kept apart from it.

    Nothing links these rows to the response or its reference: the id is
    random (so the order of rows cannot be matched with the order of
    responses) and only the month of submission is kept. They can be counted
    by run, but never read beside one person's other answers.
    """

    __tablename__ = "equality_monitoring"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("survey_run.id", ondelete="CASCADE"), index=True)
    questionnaire_version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_version.id"))
    # The first day of the month the response was sent in.
    submitted_month: Mapped[date]

    answers: Mapped[list[EqualityAnswer]] = relationship(cascade="all, delete-orphan", passive_deletes=True)


class EqualityAnswer(db.Model):
    """One equality monitoring answer; no row id, for the same reason as above."""

    __tablename__ = "equality_answer"

    monitoring_id: Mapped[str] = mapped_column(
        ForeignKey("equality_monitoring.id", ondelete="CASCADE"), primary_key=True
    )
    question_key: Mapped[str] = mapped_column(String(63), primary_key=True)
    value: Mapped[str] = mapped_column(String(63), primary_key=True)
