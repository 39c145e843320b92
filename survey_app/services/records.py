"""Requests about data: finding one response by its reference, giving a copy of it, erasing it.

A respondent is told to keep the reference on their confirmation page; it
is the only way to find their response, because no name or contact detail
is stored with it. Equality monitoring answers carry no reference and no
link to the response, so they can be neither found nor given back.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import selectinload

from questionnaires import Question, QuestionType

from ..database import begin_write
from ..extensions import db
from ..formatting import long_date, time_and_date
from ..models import Answer, Response, User
from . import answer_counts, audit
from .exports import (
    JOIN,
    Download,
    answer_text,
    exported_questions,
    language_name,
    neutralise,
    wording,
)
from .questionnaires import questionnaire_of

# A reference as the journey gives it: ten letters and digits, shown as two groups of five.
REFERENCE_LENGTH = 10


class ReferenceNotFound(Exception):
    """The text typed is not the reference of any response."""


@dataclass(frozen=True)
class AnsweredQuestion:
    wording: str
    answer: str


@dataclass(frozen=True)
class Record:
    """One response as a person asking about their data would recognise it."""

    reference: str
    run_id: int
    run_title: str
    submitted_at: datetime
    language: str
    plan_reference: str | None
    answers: list[AnsweredQuestion]


def normalise(typed: str) -> str:
    """The reference in its stored form, however it was typed ("7kq4m x2rtd" is 7KQ4M-X2RTD)."""
    characters = re.sub(r"[^0-9A-Za-z]", "", typed).upper()
    if len(characters) == REFERENCE_LENGTH:
        return f"{characters[:5]}-{characters[5:]}"
    return characters


def find(typed: str) -> Response | None:
    return db.session.scalar(
        select(Response).options(selectinload(Response.run)).where(Response.reference == normalise(typed))
    )


def record(response: Response) -> Record:
    """The response with each answer as its question's wording and the answer's labels, in questionnaire order."""
    questionnaire = questionnaire_of(response.questionnaire_version)
    given: dict[str, list[str]] = {}
    for key, value in db.session.execute(
        select(Answer.question_key, Answer.value).where(Answer.response_id == response.id).order_by(Answer.id)
    ):
        given.setdefault(key, []).append(value)
    answers = [
        AnsweredQuestion(wording(question), _readable(question, given[question.key]))
        for question in exported_questions(questionnaire)
        if question.key in given
    ]
    return Record(
        reference=response.reference,
        run_id=response.run_id,
        run_title=response.run.title,
        submitted_at=response.submitted_at,
        language=response.language,
        plan_reference=response.plan_reference,
        answers=answers,
    )


def subject_access_export(response: Response, by: User) -> Download:
    """A readable copy of one response (CSV: it opens in any spreadsheet), recorded in the audit log."""
    begin_write()
    copy = record(response)
    audit.record(
        "subject_access_export",
        copy.run_title,
        actor=by,
        run_id=copy.run_id,
        reference=copy.reference,
        answers=len(copy.answers),
    )
    db.session.commit()
    return Download(
        filename=f"response-{copy.reference}.csv",
        mimetype="text/csv; charset=utf-8",
        chunks=iter([_subject_access_csv(copy).encode("utf-8-sig")]),
    )


def erase(response: Response, by: User) -> None:
    """Delete a response and its answers (with their tags, follow-ups and redaction records), on request."""
    begin_write()
    run_id, run_title = response.run_id, response.run.title
    answers = db.session.scalar(select(func.count()).select_from(Answer).where(Answer.response_id == response.id))
    # Its counts go with it (the measures and run results read them), in the same transaction.
    answer_counts.remove_responses(db.session.connection(), [response.id])
    deleted = db.session.execute(
        delete(Response).where(Response.id == response.id).execution_options(synchronize_session=False)
    )
    # Another admin may have erased it since the page was shown: then nothing is recorded.
    if deleted.rowcount == 0:
        db.session.rollback()
        raise ReferenceNotFound(response.reference)
    audit.record("response_erased", run_title, actor=by, run_id=run_id, reference=response.reference, answers=answers)
    db.session.commit()


def _readable(question: Question, values: list[str]) -> str:
    """An answer as the person saw it: labels, text as typed, and dates written out (14 November 2025)."""
    if question.type is QuestionType.DATE:
        return JOIN.join(long_date(date.fromisoformat(value)) for value in values)
    if question.type is QuestionType.NUMBER and question.suffix:
        return JOIN.join(f"{value} {question.suffix}" for value in values)
    return answer_text(question, values)


def _subject_access_csv(copy: Record) -> str:
    output = io.StringIO()
    writer = csv.writer(output)
    rows = [
        ("Question", "Answer"),
        ("Survey", copy.run_title),
        ("Reference", copy.reference),
        ("Sent", time_and_date(copy.submitted_at)),
        ("Language", language_name(copy.language)),
    ]
    if copy.plan_reference:
        rows.append(("Plan reference", copy.plan_reference))
    rows.extend((answer.wording, answer.answer) for answer in copy.answers)
    rows.append(
        (
            "Equality monitoring",
            "Any equality monitoring answers were stored apart from this response, with no reference "
            "and no link to it, so they cannot be found or given back.",
        )
    )
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    return output.getvalue()
