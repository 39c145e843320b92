"""A respondent's answers in progress, and their submission.

Answers in progress live in the ``draft`` table. The browser holds only a
random token (in the signed session cookie); the table holds its hash.

Submitting is idempotent: each draft carries a submission key, every submit
form posts it, and ``response.submission_key`` is UNIQUE. Whatever arrives
twice (a double click, a retry after a dropped connection, a second tab, the
back button) finds the response already stored and is shown the same
confirmation.

In an invitation-only run the draft records its invitation, and submitting
marks the invitation used in the same transaction that stores the response,
so a link sends one response however many devices it is opened on. In an
anonymous run nothing links the response to the invitation.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError

from questionnaires import Answers, AnswerValue, Page, Questionnaire, routing
from questionnaires.schema import ENGLISH, Audience, Section

from ..database import begin_write
from ..extensions import db
from ..models import (
    Access,
    Answer,
    Draft,
    EqualityAnswer,
    EqualityMonitoring,
    Invitation,
    Response,
    SurveyRun,
    utcnow,
)
from . import answer_counts
from .runs import Run
from .uk_time import uk_date

REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O or 1/I to misread
SUBMISSION_KEY_PATTERN = re.compile(r"^[0-9a-f]{32}$")
# The context question whose answer puts views of one EHC plan side by side.
PLAN_REFERENCE_QUESTION = "plan_reference"


class NothingToSubmit(Exception):
    """No draft for this submission: it expired, or the form is from an old draft."""


class NotInvited(Exception):
    """An invitation-only run, and this draft answers no invitation."""


class AlreadyAnswered(Exception):
    """The invitation has already sent its response (from this device or another)."""


class Unfinished(Exception):
    """A shown question still needs an answer."""

    def __init__(self, page: Page):
        self.page = page
        super().__init__(page.key)


@dataclass
class Progress:
    """What the respondent has given so far (empty when there is no draft)."""

    answers: Answers = field(default_factory=dict)
    completed_pages: list[str] = field(default_factory=list)
    submission_key: str | None = None
    draft_id: int | None = field(default=None, repr=False)
    # The draft's revision when read: saving checks nobody saved in between.
    revision: int = field(default=0, repr=False)
    expires_at: datetime | None = field(default=None, repr=False)
    language: str = ENGLISH
    # The invitation this draft answers, in an invitation-only run.
    invitation_id: int | None = field(default=None, repr=False)


def run_state(run: Run, has_draft: bool) -> str:
    """ "open", "paused", "not_open_yet" or "closed".

    Someone part-way through when a survey closes may finish within the
    configured grace period, so a closing time never loses their answers.
    """
    now = utcnow()
    if now < run.opens_at:
        return "not_open_yet"
    if now < run.closes_at:
        return "paused" if run.paused_at is not None else "open"
    grace = timedelta(minutes=current_app.config["CLOSING_GRACE_MINUTES"])
    if has_draft and now < run.closes_at + grace:
        return "open"
    return "closed"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# Drafts are read and written on every page, through the table rather than
# the ORM: a row is all a page needs, and the ORM's bookkeeping would double
# the cost of each statement.
DRAFTS = Draft.__table__
_LIVE_DRAFT = select(
    DRAFTS.c.id,
    DRAFTS.c.answers,
    DRAFTS.c.completed_pages,
    DRAFTS.c.submission_key,
    DRAFTS.c.revision,
    DRAFTS.c.expires_at,
    DRAFTS.c.language,
    DRAFTS.c.invitation_id,
).where(
    DRAFTS.c.token_hash == bindparam("token_hash"),
    DRAFTS.c.run_id == bindparam("run_id"),
    DRAFTS.c.expires_at > bindparam("now"),
)


def load_progress(run: Run, token: str | None) -> Progress:
    """The answers given so far in this draft."""
    if not token:
        return Progress()
    row = db.session.execute(_LIVE_DRAFT, {"token_hash": _hash(token), "run_id": run.id, "now": utcnow()}).first()
    if row is None:
        return Progress()
    return Progress(
        dict(row.answers),
        list(row.completed_pages),
        row.submission_key,
        row.id,
        row.revision,
        row.expires_at,
        row.language,
        row.invitation_id,
    )


def save_page(
    run: Run,
    questionnaire: Questionnaire,
    token: str | None,
    progress: Progress,
    page: Page,
    page_answers: Answers,
    complete: bool = True,
    *,
    invitation_id: int | None = None,
) -> tuple[str, Progress]:
    """Store one page's answers onto the progress read before; returns the draft token.

    ``complete=False`` keeps what was given without counting the page as
    answered (the person is switching language or saving to come back later).
    ``invitation_id`` is recorded on a draft this starts.
    """
    page_keys = {question.key for question in page.questions}

    def change(progress: Progress) -> tuple[Answers, list[str]]:
        answers = {key: value for key, value in progress.answers.items() if key not in page_keys}
        answers.update(page_answers)
        completed = list(progress.completed_pages)
        if complete:
            completed = [key for key in completed if key != page.key] + [page.key]
        return routing.prune(questionnaire, answers, completed)

    return _save(run, token, progress, questionnaire.language, change, invitation_id)


def skip_section(
    run: Run,
    questionnaire: Questionnaire,
    token: str | None,
    progress: Progress,
    section: Section,
    *,
    invitation_id: int | None = None,
) -> tuple[str, Progress]:
    """Leave out every question of an optional section (equality monitoring) in one go."""
    pages = [page for page in questionnaire.pages if page.section is section]
    if any(question.required for page in pages for question in page.questions):
        raise ValueError(f"The {section} section has required questions and cannot be skipped.")
    keys = {question.key for page in pages for question in page.questions}
    page_keys = [page.key for page in pages]

    def change(progress: Progress) -> tuple[Answers, list[str]]:
        answers = {key: value for key, value in progress.answers.items() if key not in keys}
        return answers, [key for key in progress.completed_pages if key not in page_keys] + page_keys

    return _save(run, token, progress, questionnaire.language, change, invitation_id)


def _save(
    run: Run, token: str | None, progress: Progress, language: str, change, invitation_id: int | None = None
) -> tuple[str, Progress]:
    """Apply ``change`` to the draft and write it, only if nobody saved it since it was read.

    The write lock is held only to write: the draft was read without it, and
    the update applies only if the draft's revision is still the one read.
    If another tab saved in between, the draft is read again and the change
    applied on top of what that tab saved.
    """
    for _attempt in range(5):
        answers, completed = change(progress)
        now = utcnow()
        expires_at = now + timedelta(hours=current_app.config["DRAFT_LIFETIME_HOURS"])
        if progress.expires_at is not None:
            # A return link keeps working for the days it promised.
            expires_at = max(expires_at, progress.expires_at)
        values = {
            "answers": answers,
            "completed_pages": completed,
            "updated_at": now,
            "expires_at": expires_at,
            "revision": progress.revision + 1,
            "language": language,
        }
        begin_write()
        if progress.draft_id is None:
            token, draft_id, submission_key = _new_draft(run, {**values, "invitation_id": invitation_id}, now)
            db.session.commit()
            return token, Progress(
                answers, completed, submission_key, draft_id, values["revision"], expires_at, language, invitation_id
            )
        updated = db.session.execute(
            DRAFTS.update()
            .where(DRAFTS.c.id == progress.draft_id, DRAFTS.c.revision == progress.revision, DRAFTS.c.expires_at > now)
            .values(**values)
        )
        if updated.rowcount == 1:
            db.session.commit()
            return token, Progress(
                answers,
                completed,
                progress.submission_key,
                progress.draft_id,
                values["revision"],
                expires_at,
                language,
                progress.invitation_id,
            )
        db.session.rollback()
        progress = load_progress(run, token)
    raise RuntimeError("The answers kept changing while being saved.")


def create_return_link(progress: Progress) -> str:
    """A new return-link token for a saved draft; any earlier link stops working.

    Only its hash is stored, and the draft is kept for the days the link
    promises (``RETURN_LINK_DAYS``).
    """
    token = secrets.token_urlsafe(32)
    lifetime = timedelta(days=current_app.config["RETURN_LINK_DAYS"])
    expires_at = max(utcnow() + lifetime, progress.expires_at or utcnow())
    begin_write()
    db.session.execute(
        DRAFTS.update()
        .where(DRAFTS.c.id == progress.draft_id)
        .values(return_token_hash=_hash(token), expires_at=expires_at)
    )
    db.session.commit()
    return token


def resume(run: Run, return_token: str) -> str | None:
    """Open a draft from its return link; returns a new draft token for this browser, or None.

    The browser gets a new token, so a link opened on another device takes
    the answers there, and the draft's old cookie stops reaching them.
    """
    if not return_token or len(return_token) > 100:
        return None
    begin_write()
    draft_id = db.session.scalar(
        select(DRAFTS.c.id).where(
            DRAFTS.c.return_token_hash == _hash(return_token),
            DRAFTS.c.run_id == run.id,
            DRAFTS.c.expires_at > utcnow(),
        )
    )
    if draft_id is None:
        db.session.rollback()
        return None
    token = secrets.token_urlsafe(32)
    db.session.execute(DRAFTS.update().where(DRAFTS.c.id == draft_id).values(token_hash=_hash(token)))
    db.session.commit()
    return token


def _new_draft(run: Run, values: dict, now) -> tuple[str, int, str]:
    """Start a draft; returns its token, id and submission key."""
    # Drafts left to expire are removed as new ones start, except those of a
    # paused run: its clock stops, and resuming gives them back the time.
    paused = select(SurveyRun.id).where(SurveyRun.paused_at.is_not(None), SurveyRun.closes_at > now)
    db.session.execute(DRAFTS.delete().where(DRAFTS.c.expires_at <= now, DRAFTS.c.run_id.not_in(paused)))
    token = secrets.token_urlsafe(32)
    submission_key = secrets.token_hex(16)
    draft_id = db.session.scalar(
        DRAFTS.insert()
        .values(
            token_hash=_hash(token),
            run_id=run.id,
            submission_key=submission_key,
            created_at=now,
            **values,
        )
        .returning(DRAFTS.c.id)
    )
    return token, draft_id, submission_key


def submit(run: Run, questionnaire: Questionnaire, token: str | None, submission_key: str) -> str:
    """Store the draft as a response, once, whatever number of times this is called; returns its reference.

    In an invitation-only run, raises ``NotInvited`` for a draft with no
    invitation and ``AlreadyAnswered`` when its invitation has been used.
    """
    if not SUBMISSION_KEY_PATTERN.match(submission_key or ""):
        raise NothingToSubmit()
    for _attempt in range(3):
        begin_write()
        existing = db.session.scalar(select(Response.reference).filter_by(submission_key=submission_key))
        if existing is not None:
            db.session.rollback()
            return existing
        draft = load_progress(run, token)
        if draft.submission_key != submission_key:
            db.session.rollback()
            raise NothingToSubmit()
        unfinished = routing.first_unfinished_page(questionnaire, draft.answers, draft.completed_pages)
        if unfinished is not None:
            db.session.rollback()
            raise Unfinished(unfinished)
        reference = new_reference()
        try:
            plan_reference = _claim_invitation(run, draft)
        except AlreadyAnswered:
            # Two tabs sending the same draft at once: the other one stored it.
            existing = db.session.scalar(select(Response.reference).filter_by(submission_key=submission_key))
            if existing is not None:
                return existing
            raise
        try:
            _store_response(run, questionnaire, draft, reference, plan_reference)
            db.session.commit()
        except IntegrityError:
            # Either the same submission arrived at the same moment (the loop
            # then finds it) or, very rarely, the reference was taken.
            db.session.rollback()
            continue
        return reference
    raise RuntimeError("Could not store the response after three attempts.")


def _claim_invitation(run: Run, draft: Progress) -> str | None:
    """Mark the draft's invitation used; returns its reference when the run is identified.

    The update succeeds only once per invitation: a second device sending
    answers through the same link finds it used and stores nothing.
    """
    if not run.access.by_invitation:
        return None
    if draft.invitation_id is None:
        db.session.rollback()
        raise NotInvited()
    claimed = db.session.execute(
        update(Invitation)
        .where(Invitation.id == draft.invitation_id, Invitation.run_id == run.id, Invitation.used.is_(False))
        .values(used=True)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        db.session.rollback()
        raise AlreadyAnswered()
    if run.access is Access.IDENTIFIED_INVITATIONS:
        return db.session.scalar(select(Invitation.reference).where(Invitation.id == draft.invitation_id))
    return None


def links_to_plan(run: Run) -> bool:
    """Whether a run's responses carry their invitation's plan reference.

    Only by identified invitation, and never a young person's answers. A
    reference is never typed: one typed could be anyone's, and would identify
    a child in an anonymous response.
    """
    return run.access is Access.IDENTIFIED_INVITATIONS and run.audience != Audience.YOUNG_PERSON


def _plan_reference(run: Run, from_invitation: str | None) -> str | None:
    return (from_invitation or None) if links_to_plan(run) else None


def add_answers(response: Response, question_key: str, given: AnswerValue) -> None:
    """One answer row per value (per option chosen), carrying its response's context for counting."""
    for value in given if isinstance(given, list) else [given]:
        response.answers.append(
            Answer(
                run_id=response.run_id,
                questionnaire_version_id=response.questionnaire_version_id,
                question_key=question_key,
                value=value,
                audience=response.audience,
                language=response.language,
                submitted_at=response.submitted_at,
            )
        )


def _store_response(
    run: Run, questionnaire: Questionnaire, draft: Progress, reference: str, plan_reference: str | None = None
) -> None:
    now = utcnow()
    identified = links_to_plan(run)
    response = Response(
        reference=reference,
        submission_key=draft.submission_key,
        run_id=run.id,
        questionnaire_version_id=run.questionnaire_version_id,
        audience=run.audience,
        language=draft.language,
        submitted_at=now,
        # An anonymous run keeps no link from the response to its invitation.
        invitation_id=draft.invitation_id if identified else None,
        plan_reference=_plan_reference(run, plan_reference),
    )
    equality = EqualityMonitoring(
        id=secrets.token_hex(16),
        run_id=run.id,
        questionnaire_version_id=run.questionnaire_version_id,
        # The UK month, as the measures count responses.
        submitted_month=uk_date(now).replace(day=1),
    )
    stored: dict[str, AnswerValue] = {}
    for question in questionnaire.questions:
        given = draft.answers.get(question.key)
        if given is None:
            continue
        if question.section is Section.EQUALITY:
            values = given if isinstance(given, list) else [given]
            equality.answers.extend(EqualityAnswer(question_key=question.key, value=value) for value in values)
        else:
            add_answers(response, question.key, given)
            stored[question.key] = given
    db.session.add(response)
    if equality.answers:
        db.session.add(equality)
    db.session.execute(DRAFTS.delete().where(DRAFTS.c.id == draft.draft_id))
    # The counts the measures read, in the same transaction: last, so that on PostgreSQL their rows are
    # locked only until the commit that follows.
    db.session.flush()
    answer_counts.add_response(
        db.session.connection(),
        questionnaire,
        run.id,
        run.audience,
        now,
        stored,
        equality=[(answer.question_key, answer.value) for answer in equality.answers],
    )


def new_reference() -> str:
    """Ten characters (50 bits) read out easily over the phone: ``7KQ4M-X2RTD``."""
    characters = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(10))
    return f"{characters[:5]}-{characters[5:]}"
