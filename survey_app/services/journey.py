"""A respondent's answers in progress, and their submission.

Answers in progress live in the ``draft`` table. The browser holds only a
random token (in the signed session cookie); the table holds its hash.

Submitting is idempotent: each draft carries a submission key, every submit
form posts it, and ``response.submission_key`` is UNIQUE. Whatever arrives
twice (a double click, a retry after a dropped connection, a second tab, the
back button) finds the response already stored and is shown the same
confirmation.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from questionnaires import Answers, Page, Questionnaire, routing

from ..database import begin_write
from ..extensions import db
from ..models import Answer, Draft, Response, SurveyRun, utcnow

REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O or 1/I to misread
SUBMISSION_KEY_PATTERN = re.compile(r"^[0-9a-f]{32}$")


class NothingToSubmit(Exception):
    """No draft for this submission: it expired, or the form is from an old draft."""


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


@dataclass(frozen=True)
class Submission:
    reference: str
    already_submitted: bool


def run_state(run: SurveyRun, has_draft: bool) -> str:
    """ "open", "not_open_yet" or "closed".

    Someone part-way through when a survey closes may finish within the
    configured grace period, so a closing time never loses their answers.
    """
    now = utcnow()
    if now < run.opens_at:
        return "not_open_yet"
    if now < run.closes_at:
        return "open"
    grace = timedelta(minutes=current_app.config["CLOSING_GRACE_MINUTES"])
    if has_draft and now < run.closes_at + grace:
        return "open"
    return "closed"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _live_draft(run: SurveyRun, token: str | None) -> Draft | None:
    if not token:
        return None
    return db.session.scalar(
        select(Draft).where(Draft.token_hash == _hash(token), Draft.run_id == run.id, Draft.expires_at > utcnow())
    )


def load_progress(run: SurveyRun, token: str | None) -> Progress:
    draft = _live_draft(run, token)
    if draft is None:
        return Progress()
    return Progress(dict(draft.answers), list(draft.completed_pages), draft.submission_key)


def save_page(
    run: SurveyRun, questionnaire: Questionnaire, token: str | None, page: Page, page_answers: Answers
) -> tuple[str, Progress]:
    """Store one page's answers; returns the draft token (new if there was no draft)."""
    begin_write()
    now = utcnow()
    lifetime = timedelta(hours=current_app.config["DRAFT_LIFETIME_HOURS"])
    draft = _live_draft(run, token)
    if draft is None:
        # Drafts left to expire are removed as new ones start.
        db.session.execute(delete(Draft).where(Draft.expires_at <= now))
        token = secrets.token_urlsafe(32)
        draft = Draft(
            token_hash=_hash(token),
            run_id=run.id,
            answers={},
            completed_pages=[],
            submission_key=secrets.token_hex(16),
            created_at=now,
            expires_at=now + lifetime,
        )
        db.session.add(draft)
    answers = {key: value for key, value in draft.answers.items() if key not in {q.key for q in page.questions}}
    answers.update(page_answers)
    completed = [key for key in draft.completed_pages if key != page.key] + [page.key]
    answers, completed = routing.prune(questionnaire, answers, completed)
    # New objects, so that the JSON columns are seen to have changed.
    draft.answers = answers
    draft.completed_pages = completed
    draft.updated_at = now
    draft.expires_at = now + lifetime
    db.session.commit()
    return token, Progress(dict(answers), list(completed), draft.submission_key)


def submit(run: SurveyRun, questionnaire: Questionnaire, token: str | None, submission_key: str) -> Submission:
    """Store the draft as a response, once, whatever number of times this is called."""
    if not SUBMISSION_KEY_PATTERN.match(submission_key or ""):
        raise NothingToSubmit()
    for _attempt in range(3):
        begin_write()
        existing = db.session.scalar(select(Response.reference).filter_by(submission_key=submission_key))
        if existing is not None:
            db.session.rollback()
            return Submission(existing, already_submitted=True)
        draft = _live_draft(run, token)
        if draft is None or draft.submission_key != submission_key:
            db.session.rollback()
            raise NothingToSubmit()
        unfinished = routing.first_unfinished_page(questionnaire, draft.answers, draft.completed_pages)
        if unfinished is not None:
            db.session.rollback()
            raise Unfinished(unfinished)
        reference = new_reference()
        _store_response(run, questionnaire, draft, reference)
        try:
            db.session.commit()
        except IntegrityError:
            # Either the same submission arrived at the same moment (the loop
            # then finds it) or, very rarely, the reference was taken.
            db.session.rollback()
            continue
        return Submission(reference, already_submitted=False)
    raise RuntimeError("Could not store the response after three attempts.")


def _store_response(run: SurveyRun, questionnaire: Questionnaire, draft: Draft, reference: str) -> None:
    now = utcnow()
    version = run.questionnaire_version
    response = Response(
        reference=reference,
        submission_key=draft.submission_key,
        run_id=run.id,
        questionnaire_version_id=version.id,
        audience=version.audience,
        language=draft.language,
        submitted_at=now,
    )
    for question in questionnaire.questions:
        given = draft.answers.get(question.key)
        if given is None:
            continue
        for value in given if isinstance(given, list) else [given]:
            response.answers.append(
                Answer(
                    run_id=run.id,
                    questionnaire_version_id=version.id,
                    question_key=question.key,
                    value=value,
                    audience=version.audience,
                    language=draft.language,
                    submitted_at=now,
                )
            )
    db.session.add(response)
    db.session.delete(draft)


def new_reference() -> str:
    """Ten characters (50 bits) read out easily over the phone: ``7KQ4M-X2RTD``."""
    characters = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(10))
    return f"{characters[:5]}-{characters[5:]}"
