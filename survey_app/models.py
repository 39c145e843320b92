"""Typed SQLAlchemy 2 models.

Times are stored as naive UTC (``utcnow``) on both SQLite and PostgreSQL and
shown in UK time by the templates.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    event,
    func,
    literal_column,
    select,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db

# The longest answer in the index that filters responses by an answer: an answer code's longest.
INDEXED_ANSWER_LENGTH = 63


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


class Role(StrEnum):
    """What a signed-in person may do. Each role can do everything the ones below it can."""

    VIEWER = "viewer"  # dashboards and published aggregates only
    OFFICER = "officer"  # survey runs, responses, comments, exports, measures
    ADMIN = "admin"  # users, settings, the audit log, erasure and everything else

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        return self.rank >= Role(needed).rank


class User(UserMixin, db.Model):
    """Someone who signs in to the officer area. Respondents never have accounts."""

    __tablename__ = "officer_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored in lower case
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(default=True)
    # Part of the id kept in the session cookie: raising it ends every
    # session of this user on every device and every worker at once.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_signed_in_at: Mapped[datetime | None]

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        return self.active

    def can(self, needed: Role) -> bool:
        return Role(self.role).allows(needed)


class SignInFailure(db.Model):
    """A failed sign-in, counted to slow down password guessing.

    Kept in the database so that every worker process sees the same counts.
    Neither the email address nor the network address is stored: only keyed
    hashes of them, which are enough to count by.
    """

    __tablename__ = "sign_in_failure"
    __table_args__ = (Index("ix_sign_in_failure_key_at", "key_hash", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class AuditEvent(db.Model):
    """Who did what, and when. Written by the app, never changed by it.

    ``details`` holds identifiers and counts, never answers or passwords.
    """

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("officer_user.id"))
    # The email as it was at the time: an account's address can change.
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(40), index=True)
    subject: Mapped[str] = mapped_column(String(200), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AuditLogIsReadOnly(Exception):
    """The audit log cannot be edited or deleted from the app."""


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_audit_change(mapper, connection, target: AuditEvent) -> None:
    raise AuditLogIsReadOnly("Audit log entries cannot be changed or deleted.")


class Wave(db.Model):
    """A round of surveys reported together, like "Baseline November 2021" or "Wave 2 autumn 2022"."""

    __tablename__ = "wave"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    is_baseline: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    runs: Mapped[list[SurveyRun]] = relationship(back_populates="wave")


class Access(StrEnum):
    """Who can answer a run."""

    OPEN = "open"  # anyone with the run's link; answers are anonymous
    # One link per invited person. Which links were used is kept apart from
    # what was answered, so answers cannot be traced to a family.
    ANONYMOUS_INVITATIONS = "anonymous_invitations"
    # One link per invited person, and each response carries the invitation's
    # reference, to follow up on a specific plan.
    IDENTIFIED_INVITATIONS = "identified_invitations"

    @property
    def by_invitation(self) -> bool:
        return self is not Access.OPEN


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
    # Who is asked, in the officer's words ("Parent carers of children with an EHC plan").
    audience_description: Mapped[str] = mapped_column(String(200), default="")
    wave_id: Mapped[int | None] = mapped_column(ForeignKey("wave.id"), index=True)
    access: Mapped[Access] = mapped_column(String(30), default=Access.OPEN)
    # How many people could answer, for the response rate of an open run.
    expected_eligible: Mapped[int | None]
    paused_at: Mapped[datetime | None]
    # When an officer closed it before its closing time (closes_at is then moved to this time).
    closed_early_at: Mapped[datetime | None]
    # Individual responses are deleted this many months after they were sent.
    retention_months: Mapped[int] = mapped_column(default=24)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("officer_user.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    questionnaire_version: Mapped[QuestionnaireVersion] = relationship(back_populates="runs")
    wave: Mapped[Wave | None] = relationship(back_populates="runs")


class Invitation(db.Model):
    """A personal link to one invitation-only run: one response per link.

    The link's token is an HMAC, under the app's SECRET_KEY, of a 128-bit
    random ``link_salt``; only the salt and the token's SHA-256 are stored.
    So the app can give the same link again (a lost download, a reminder
    email), while a copy of the database alone opens nothing. In an
    anonymous run ``used`` is a bare flag, with no time and no link to the
    response, so the order or time of use cannot be matched to answers.
    """

    __tablename__ = "invitation"
    __table_args__ = (UniqueConstraint("run_id", "reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("survey_run.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    link_salt: Mapped[str] = mapped_column(String(32))
    # The case management system's reference for the family or plan.
    reference: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used: Mapped[bool] = mapped_column(default=False)
    reminders_sent: Mapped[int] = mapped_column(default=0)
    last_reminded_at: Mapped[datetime | None]


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
    # The invitation this draft answers, for an invitation-only run.
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitation.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class Response(db.Model):
    """One submitted questionnaire. No name, address or IP address is kept."""

    __tablename__ = "response"
    # A run's responses in time order: its table of responses, newest first, and its responses per day.
    __table_args__ = (Index("ix_response_run_submitted", "run_id", "submitted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    submission_key: Mapped[str] = mapped_column(String(64), unique=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("survey_run.id"), index=True)
    questionnaire_version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_version.id"))
    audience: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(8))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # Identified runs only: the invitation answered, and the plan's reference
    # (the invitation's, or one the respondent gave), which puts the family's,
    # the young person's and the setting's views of one plan side by side.
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitation.id", ondelete="SET NULL"))
    plan_reference: Mapped[str | None] = mapped_column(String(100), index=True)

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
    __table_args__ = (
        Index("ix_answer_run_question", "run_id", "question_key"),
        # Filtering a run's responses by an answer (a context question's code). Only answers of up to
        # INDEXED_ANSWER_LENGTH characters are in it, as free text can be longer than a PostgreSQL index
        # entry holds; every answer code is (codes are keys of at most 63 characters). A query must say
        # so, with ``indexed_answer``, for the database to use it.
        Index(
            "ix_answer_run_question_value",
            "run_id",
            "question_key",
            "value",
            "response_id",
            sqlite_where=text(f"length(value) <= {INDEXED_ANSWER_LENGTH}"),
            postgresql_where=text(f"length(value) <= {INDEXED_ANSWER_LENGTH}"),
        ),
    )

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


def indexed_answer(answer=Answer):
    """The condition of ix_answer_run_question_value, for a query on ``answer`` (Answer or an alias) to use it.

    Written as the index writes it, the number included (not a bound
    parameter), since SQLite uses a partial index only for a query whose
    conditions include the index's own.
    """
    return func.length(answer.value) <= literal_column(str(INDEXED_ANSWER_LENGTH))


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


class CommentTag(db.Model):
    """A theme an officer gave a free-text answer ("communication", "waiting times")."""

    __tablename__ = "comment_tag"
    __table_args__ = (UniqueConstraint("answer_id", "tag"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("answer.id", ondelete="CASCADE"), index=True)
    tag: Mapped[str] = mapped_column(String(50), index=True)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("officer_user.id"))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    added_by: Mapped[User | None] = relationship()


class FollowUp(db.Model):
    """A free-text answer that needs following up, such as a safeguarding concern."""

    __tablename__ = "follow_up"

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("answer.id", ondelete="CASCADE"), unique=True)
    flagged_by_id: Mapped[int | None] = mapped_column(ForeignKey("officer_user.id"))
    flagged_at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("officer_user.id"))
    resolved_at: Mapped[datetime | None]

    flagged_by: Mapped[User | None] = relationship(foreign_keys=[flagged_by_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])


class Redaction(db.Model):
    """That a free-text answer was redacted, by whom and when. The original text is not kept anywhere."""

    __tablename__ = "redaction"

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("answer.id", ondelete="CASCADE"), index=True)
    redacted_by_id: Mapped[int | None] = mapped_column(ForeignKey("officer_user.id"))
    redacted_at: Mapped[datetime] = mapped_column(default=utcnow)

    redacted_by: Mapped[User | None] = relationship()


class AnswerCount(db.Model):
    """Counts of answers, kept up to date as responses are stored and removed (``services.answer_counts``).

    One row per run, UK month of submission, question, answer and group,
    counting what a ``GROUP BY`` of the answers would: the group is "" for
    everyone, or a context question and its answer (``school_phase`` =
    ``secondary``; "" for people who did not answer it), so that measures and
    their breakdowns are read from here without counting the answers again.
    Only choice questions are counted: free text is never copied here.
    The question key ``""`` with value ``""`` counts the responses
    themselves; a key starting ``@`` is a measure's own per-response counts
    (``positive``, ``base`` and ``responses`` read) for measures that need whole
    responses; equality monitoring answers are counted for everyone only,
    never by a group. ``retained`` rows are what retention kept when it
    deleted a run's responses: they are never recounted.
    """

    __tablename__ = "answer_count"

    retained: Mapped[bool] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("survey_run.id", ondelete="CASCADE"), primary_key=True)
    group_key: Mapped[str] = mapped_column(String(63), primary_key=True)
    question_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(63), primary_key=True)
    group_value: Mapped[str] = mapped_column(String(63), primary_key=True)
    # The first day of the UK month the responses were sent in.
    month: Mapped[date] = mapped_column(primary_key=True)
    count: Mapped[int]


class CountedMeasure(db.Model):
    """A measure whose per-response outcome ``answer_count`` keeps (question key ``@`` and its key), and the
    definition it is counted by: new responses are counted by this, not by the measures file, until
    ``flask measures rebuild-counts`` counts them again by the file's."""

    __tablename__ = "counted_measure"

    measure_key: Mapped[str] = mapped_column(String(63), primary_key=True)
    definition_hash: Mapped[str] = mapped_column(String(64))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    counted_at: Mapped[datetime] = mapped_column(default=utcnow)


# The counts retention kept, as the table ``retained_count`` held them before migration 0007 (read only).
_RETAINED_ROWS = (
    select(
        AnswerCount.run_id,
        AnswerCount.month,
        AnswerCount.question_key,
        AnswerCount.value,
        AnswerCount.group_key,
        AnswerCount.group_value,
        AnswerCount.count,
    )
    .where(AnswerCount.retained == true())
    .subquery("retained_count")
)


class RetainedCount(db.Model):
    """Read only: the rows of ``answer_count`` that retention kept when it deleted runs' responses.

    For code that adds the counts of responses still held (counted from the
    answers) to those of responses deleted. Written only by
    ``services.answer_counts``, through ``AnswerCount``.
    """

    __table__ = _RETAINED_ROWS
    __mapper_args__ = {
        "primary_key": [
            _RETAINED_ROWS.c.run_id,
            _RETAINED_ROWS.c.month,
            _RETAINED_ROWS.c.question_key,
            _RETAINED_ROWS.c.value,
            _RETAINED_ROWS.c.group_key,
            _RETAINED_ROWS.c.group_value,
        ]
    }


class RecordedFigure(db.Model):
    """A measure's figure for one period from outside the surveys, such as the case management system.

    A proportion has a numerator and a denominator (SEND6: plans issued within
    20 weeks, of all new plans); a count has a value (SEND1: open plans).
    Recording a period again replaces its figure; the audit log keeps who
    recorded what, and when.
    """

    __tablename__ = "recorded_figure"
    __table_args__ = (UniqueConstraint("measure_key", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    measure_key: Mapped[str] = mapped_column(String(63))
    # The period as the analysis names it: "2024-25 Q1", "2024-04" or "2024".
    period: Mapped[str] = mapped_column(String(20))
    period_start: Mapped[date]
    numerator: Mapped[int | None]
    denominator: Mapped[int | None]
    value: Mapped[float | None]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by: Mapped[str] = mapped_column(String(254))
