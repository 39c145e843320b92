"""Free-text answers ("comments"): reading them, tagging them, flagging them for follow-up, redacting them.

Tags, follow-ups and redactions record who and when, and each change is
audited with identifiers only: never the comment, the tag or the note.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import case, delete, exists, func, select
from sqlalchemy.orm import joinedload, selectinload

from questionnaires import Questionnaire
from questionnaires.schema import Audience, Question, Section

from ..database import begin_write
from ..extensions import db
from ..models import Answer, CommentTag, FollowUp, Redaction, Response, SurveyRun, User, utcnow
from . import audit, text_checks
from .questionnaires import questionnaire_of

TAG_MAX_LENGTH = 50
NOTE_MAX_LENGTH = 1000
FOLLOW_UP_FILTERS = {"open": "Needs follow-up", "done": "Follow-up done"}


class CommentChangeRefused(Exception):
    """A change to a comment that cannot be made; the message says why, for the person who asked."""


def comment_questions(questionnaire: Questionnaire) -> list[Question]:
    """The questions answered in free text, other than context ones such as the plan reference."""
    return [q for q in questionnaire.questions if q.type.is_text and q.section is Section.MAIN]


@dataclass(frozen=True)
class CommentFilters:
    question: str = ""
    tag: str = ""
    # "", or a key of FOLLOW_UP_FILTERS.
    follow_up: str = ""

    def as_args(self) -> dict[str, str]:
        """The filters as query string arguments, leaving out those not set."""
        return {name: value for name, value in vars(self).items() if value}


@dataclass
class Comment:
    answer_id: int
    question_key: str
    text: str
    reference: str
    submitted_at: datetime
    audience: str
    tags: list[CommentTag] = field(default_factory=list)
    follow_up: FollowUp | None = None
    redactions: list[Redaction] = field(default_factory=list)
    risks: list[str] = field(default_factory=list)

    @property
    def findings(self) -> list[text_checks.Finding]:
        return text_checks.personal_details(self.text)

    @property
    def may_contain(self) -> str:
        return text_checks.describe(self.findings)

    @property
    def needs_follow_up(self) -> bool:
        return self.follow_up is not None and self.follow_up.resolved_at is None


_COMMENT_COLUMNS = (
    Answer.id,
    Answer.question_key,
    Answer.value,
    Response.reference,
    Answer.submitted_at,
    Answer.audience,
)


def configured_risk_words() -> tuple[str, ...]:
    return text_checks.risk_words(current_app.config["RISK_WORDS"])


def risk_comments(run: SurveyRun, questionnaire: Questionnaire) -> list[Comment]:
    """Young people's comments with a risk word, newest first, until their follow-up is marked done.

    Matching needs whole words whatever the punctuation, which SQL cannot
    do the same way on SQLite and PostgreSQL, so the run's young people's
    comments are read and checked here; those already dealt with are not read.
    """
    words = configured_risk_words()
    keys = [q.key for q in comment_questions(questionnaire)]
    if not words or not keys:
        return []
    resolved = exists().where(FollowUp.answer_id == Answer.id, FollowUp.resolved_at.is_not(None))
    rows = db.session.execute(
        select(*_COMMENT_COLUMNS)
        .join(Answer.response)
        .where(
            Answer.run_id == run.id,
            Answer.question_key.in_(keys),
            Answer.audience == Audience.YOUNG_PERSON.value,
            ~resolved,
        )
        .order_by(Answer.submitted_at.desc(), Answer.id.desc())
    ).all()
    comments = []
    for row in rows:
        found = text_checks.risk_matches(row.value, words)
        if found:
            comments.append(_comment(row, risks=found))
    return _with_details(comments)


def comments_page(
    run: SurveyRun,
    questionnaire: Questionnaire,
    filters: CommentFilters,
    page: int,
    per_page: int,
    leave_out: list[int],
) -> tuple[list[Comment], int]:
    """One page of a run's comments, by question and newest first, and how many match in all.

    ``leave_out`` holds the comments already shown elsewhere on the page (the risk section).
    """
    keys = [q.key for q in comment_questions(questionnaire)]
    if filters.question:
        keys = [key for key in keys if key == filters.question]
    if not keys:
        return [], 0
    conditions = [Answer.run_id == run.id, Answer.question_key.in_(keys)]
    if leave_out:
        conditions.append(Answer.id.not_in(leave_out))
    if filters.tag:
        conditions.append(exists().where(CommentTag.answer_id == Answer.id, CommentTag.tag == filters.tag))
    if filters.follow_up == "open":
        conditions.append(exists().where(FollowUp.answer_id == Answer.id, FollowUp.resolved_at.is_(None)))
    elif filters.follow_up == "done":
        conditions.append(exists().where(FollowUp.answer_id == Answer.id, FollowUp.resolved_at.is_not(None)))
    total = db.session.scalar(select(func.count()).select_from(Answer).where(*conditions))
    question_order = case({key: position for position, key in enumerate(keys)}, value=Answer.question_key)
    rows = db.session.execute(
        select(*_COMMENT_COLUMNS)
        .join(Answer.response)
        .where(*conditions)
        .order_by(question_order, Answer.submitted_at.desc(), Answer.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return _with_details([_comment(row) for row in rows]), total


def comment_of(answer: Answer) -> Comment:
    """One comment, for its own page: with its tags, follow-up and redactions, and,
    when a young person wrote it, the risk words it uses (whether or not its
    follow-up is done)."""
    words = configured_risk_words()
    young = answer.audience == Audience.YOUNG_PERSON.value
    comment = Comment(
        answer_id=answer.id,
        question_key=answer.question_key,
        text=answer.value,
        reference=answer.response.reference,
        submitted_at=answer.submitted_at,
        audience=answer.audience,
        risks=text_checks.risk_matches(answer.value, words) if young and words else [],
    )
    return _with_details([comment])[0]


def _comment(row, risks: list[str] | None = None) -> Comment:
    return Comment(
        answer_id=row.id,
        question_key=row.question_key,
        text=row.value,
        reference=row.reference,
        submitted_at=row.submitted_at,
        audience=row.audience,
        risks=risks or [],
    )


def _with_details(comments: list[Comment]) -> list[Comment]:
    """Add each comment's tags, follow-up and redactions, and who made them, in three queries."""
    ids = [comment.answer_id for comment in comments]
    if not ids:
        return comments
    tags: dict[int, list[CommentTag]] = defaultdict(list)
    for tag in db.session.scalars(
        select(CommentTag)
        .options(selectinload(CommentTag.added_by))
        .where(CommentTag.answer_id.in_(ids))
        .order_by(CommentTag.tag)
    ):
        tags[tag.answer_id].append(tag)
    follow_ups = {
        follow_up.answer_id: follow_up
        for follow_up in db.session.scalars(
            select(FollowUp)
            .options(selectinload(FollowUp.flagged_by), selectinload(FollowUp.resolved_by))
            .where(FollowUp.answer_id.in_(ids))
        )
    }
    redactions: dict[int, list[Redaction]] = defaultdict(list)
    for redaction in db.session.scalars(
        select(Redaction)
        .options(selectinload(Redaction.redacted_by))
        .where(Redaction.answer_id.in_(ids))
        .order_by(Redaction.redacted_at)
    ):
        redactions[redaction.answer_id].append(redaction)
    for comment in comments:
        comment.tags = tags[comment.answer_id]
        comment.follow_up = follow_ups.get(comment.answer_id)
        comment.redactions = redactions[comment.answer_id]
    return comments


def tag_suggestions() -> list[str]:
    """The tags set up for the council, then every other tag officers have used, alphabetically."""
    configured = [tag.strip() for tag in current_app.config["COMMENT_TAGS"].split(",") if tag.strip()]
    used = db.session.scalars(select(CommentTag.tag).distinct()).all()
    known = {tag.lower() for tag in configured}
    return configured + sorted({tag for tag in used if tag.lower() not in known}, key=str.lower)


def comment_by_id(answer_id: int) -> Answer | None:
    """A free-text answer, with its response and run; None for any other answer."""
    answer = db.session.scalar(
        select(Answer)
        .options(joinedload(Answer.response).joinedload(Response.run))
        .options(joinedload(Answer.response).joinedload(Response.questionnaire_version))
        .where(Answer.id == answer_id)
    )
    if answer is None:
        return None
    questionnaire = questionnaire_of(answer.response.questionnaire_version)
    if answer.question_key not in {q.key for q in comment_questions(questionnaire)}:
        return None
    return answer


def question_of(answer: Answer) -> Question:
    return questionnaire_of(answer.response.questionnaire_version).question(answer.question_key)


def _subject(answer: Answer) -> str:
    return f"Comment {answer.id} on response {answer.response.reference}"


# --- Tags -------------------------------------------------------------------------


def clean_tag(typed: str) -> str:
    """A tag as typed, with spaces tidied, spelt as an existing tag is when it is one in another case.

    Refuses an empty or over-long tag with a message for the officer.
    """
    tag = " ".join((typed or "").split())
    if not tag:
        raise CommentChangeRefused("Enter a tag")
    if len(tag) > TAG_MAX_LENGTH:
        raise CommentChangeRefused(f"Tag must be {TAG_MAX_LENGTH} characters or fewer")
    return next((known for known in tag_suggestions() if known.lower() == tag.lower()), tag)


def add_tag(answer: Answer, typed: str, by: User) -> str:
    """Tag a comment; returns the tag as stored. Adding a tag it already has changes nothing."""
    tag = clean_tag(typed)
    begin_write()
    if db.session.scalar(select(CommentTag.id).filter_by(answer_id=answer.id, tag=tag)) is None:
        db.session.add(CommentTag(answer_id=answer.id, tag=tag, added_by_id=by.id, added_at=utcnow()))
        audit.record("comment_tagged", _subject(answer), actor=by, answer_id=answer.id, run_id=answer.run_id)
    db.session.commit()
    return tag


def remove_tag(answer: Answer, tag: str, by: User) -> bool:
    """Remove a tag; returns whether the comment had it."""
    begin_write()
    removed = db.session.execute(delete(CommentTag).filter_by(answer_id=answer.id, tag=tag)).rowcount
    if removed:
        audit.record("comment_untagged", _subject(answer), actor=by, answer_id=answer.id, run_id=answer.run_id)
    db.session.commit()
    return bool(removed)


# --- Follow-up --------------------------------------------------------------------


def clean_note(typed: str) -> str:
    note = (typed or "").replace("\r\n", "\n").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise CommentChangeRefused(f"Note must be {NOTE_MAX_LENGTH} characters or fewer")
    return note


def flag_follow_up(answer: Answer, typed_note: str, by: User) -> None:
    """Mark a comment as needing follow-up; one marked done before is opened again."""
    note = clean_note(typed_note)
    begin_write()
    follow_up = db.session.scalar(select(FollowUp).filter_by(answer_id=answer.id))
    if follow_up is not None and follow_up.resolved_at is None:
        db.session.rollback()
        raise CommentChangeRefused("This comment is already flagged for follow-up")
    if follow_up is None:
        follow_up = FollowUp(answer_id=answer.id)
        db.session.add(follow_up)
    follow_up.flagged_by_id, follow_up.flagged_at, follow_up.note = by.id, utcnow(), note
    follow_up.resolved_by_id = follow_up.resolved_at = None
    audit.record("follow_up_flagged", _subject(answer), actor=by, answer_id=answer.id, run_id=answer.run_id)
    db.session.commit()


def resolve_follow_up(answer: Answer, by: User) -> bool:
    """Mark a comment's follow-up done; returns False when it had no follow-up still to do."""
    begin_write()
    follow_up = db.session.scalar(select(FollowUp).filter_by(answer_id=answer.id, resolved_at=None))
    if follow_up is None:
        db.session.rollback()
        return False
    follow_up.resolved_by_id, follow_up.resolved_at = by.id, utcnow()
    audit.record("follow_up_resolved", _subject(answer), actor=by, answer_id=answer.id, run_id=answer.run_id)
    db.session.commit()
    return True


# --- Redaction --------------------------------------------------------------------


def suggested_redaction(text: str) -> str:
    """The comment with every personal detail found already replaced, for the officer to check and edit."""
    return text_checks.redacted(text, text_checks.personal_details(text))


def redact(answer: Answer, typed: str, by: User) -> None:
    """Overwrite a comment with its redacted text. The original is not kept: not here, not in the audit log."""
    text = (typed or "").replace("\r\n", "\n").strip()
    if not text:
        raise CommentChangeRefused("Enter the comment as it should be kept, with the personal details removed")
    begin_write()
    stored = db.session.get(Answer, answer.id, populate_existing=True)
    if stored is None:
        db.session.rollback()
        raise CommentChangeRefused("This comment has been deleted")
    if text == stored.value.strip():
        db.session.rollback()
        raise CommentChangeRefused("Change the comment to remove the personal details, or go back without redacting")
    stored.value = text
    db.session.add(Redaction(answer_id=stored.id, redacted_by_id=by.id, redacted_at=utcnow()))
    audit.record("redaction", _subject(answer), actor=by, answer_id=stored.id, run_id=stored.run_id)
    db.session.commit()
