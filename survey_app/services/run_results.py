"""A survey run's results: its answers to each closed question, as counted in ``answer_count``.

The counts come from the table of answer counts that every response adds to
as it is stored (``services.answer_counts``): a few rows per question, answer
and UK month, so the results page reads as many rows for a million responses
as for forty. Those rows hold the responses still held and, marked
``retained``, the counts retention kept when it deleted a run's responses,
so a run past its retention period still has its results. Free text is never
counted there, and equality monitoring answers, counted apart, are not read
here.

One thing the table does not hold is how many people answered a question
with several answers (each answer is counted, not the people): that is
counted from the index on a run's answers by question, answer and response
(``ix_answer_run_question_value``), for the responses still held; for those
retention deleted it is not known.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from flask import current_app
from sqlalchemy import distinct, func, select

from analysis.results import COUNT_COLUMNS
from questionnaires import Question, QuestionType

from ..extensions import db
from ..models import Answer, AnswerCount, Invitation, SurveyRun, indexed_answer, utcnow
from .answer_counts import EVERYONE


@dataclass(frozen=True)
class AnswerCounts:
    counts: pd.DataFrame  # analysis.results.COUNT_COLUMNS: question, value, count
    # For each multiple-choice question, the responses that answered it; None where that cannot be
    # known because retention kept only each answer's total.
    respondents: dict[str, int | None]


def answer_counts(run: SurveyRun, questions: list[Question], retained: int) -> AnswerCounts:
    """How often each answer was given to each of ``questions`` in the run, held and retained.

    ``retained`` is the number of responses retention deleted (``responses``).
    """
    keys = [question.key for question in questions]
    several = [question.key for question in questions if question.type is QuestionType.MULTIPLE_CHOICE]
    rows: list[tuple[str, str, int]] = []
    if keys:
        counted = (
            select(AnswerCount.question_key, AnswerCount.value, func.sum(AnswerCount.count))
            .where(
                # Both kinds of row, so that the table's key (retained, run, group, question...) is used.
                AnswerCount.retained.in_([False, True]),
                AnswerCount.run_id == run.id,
                AnswerCount.group_key == EVERYONE,
                AnswerCount.question_key.in_(keys),
                AnswerCount.group_value == "",
            )
            .group_by(AnswerCount.question_key, AnswerCount.value)
        )
        rows = [(key, value, int(count or 0)) for key, value, count in db.session.execute(counted)]
    respondents: dict[str, int | None] = {}
    if several and retained:
        respondents = {key: None for key in several}
    elif several:
        answered = (
            select(Answer.question_key, func.count(distinct(Answer.response_id)))
            .where(Answer.run_id == run.id, Answer.question_key.in_(several), indexed_answer())
            .group_by(Answer.question_key)
        )
        respondents = {key: 0 for key in several} | {key: int(count) for key, count in db.session.execute(answered)}
    counts = pd.DataFrame(rows, columns=COUNT_COLUMNS).astype({"count": "int64"})
    return AnswerCounts(counts, respondents)


@dataclass(frozen=True)
class Responses:
    total: int  # every response, held or deleted by retention
    retained: int  # deleted at the end of their retention period, their counts kept
    invitations: int


def responses(run: SurveyRun) -> Responses:
    """A run's responses, as ``answer_count`` counts them (question "", one row a month), and its invitations."""
    kept = db.session.execute(
        select(AnswerCount.retained, func.sum(AnswerCount.count))
        .where(
            AnswerCount.retained.in_([False, True]),
            AnswerCount.run_id == run.id,
            AnswerCount.group_key == EVERYONE,
            AnswerCount.question_key == "",
            AnswerCount.value == "",
            AnswerCount.group_value == "",
        )
        .group_by(AnswerCount.retained)
    ).all()
    counts = {bool(retained): int(count or 0) for retained, count in kept}
    invited = db.session.scalar(select(func.count()).select_from(Invitation).where(Invitation.run_id == run.id))
    return Responses(counts.get(False, 0) + counts.get(True, 0), counts.get(True, 0), int(invited or 0))


def answers_released(run: SurveyRun, at: datetime | None = None) -> bool:
    """Whether a run's answers may be shown to viewers: once it has closed and nobody can still be answering.

    While a run is open, its figures change with each response, and comparing
    them before and after one would show that person's answers, whatever is
    hidden as a small count. Once it has closed, and the grace period for
    people part-way through has passed, they no longer change.
    """
    at = at or utcnow()
    grace = timedelta(minutes=current_app.config["CLOSING_GRACE_MINUTES"])
    return at >= run.closes_at + grace
