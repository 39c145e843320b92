"""A survey run's results: how the answers to each closed question divide, fit to publish or exact.

The service layer counts a run's answers in the database (question, answer,
count) and hands them here with the questionnaire's questions; this module
turns them into one ``Distribution`` per question, in the questionnaire's
order, with each question's answers in the order it offers them (a likert
scale from its first point to its last).

**Percentages.** A question with one answer per person is divided among the
answers on its scale: "Don't know" and "Not applicable" (and any other
answer shown apart from the scale) are counted and shown apart, and left out
of the base, as the measures leave them out; so are the people who were not
asked the question or did not answer it. A multiple-choice question gives
each answer's share of the people who answered it, "None of these"
included, since it is an answer (nothing applies); those shares add up to
more than 100%.

**Disclosure control** (``rules`` given) follows ``analysis.disclosure``'s
rules, applied to a question's answers as one table whose cells add up:

1. a count from 1 to the threshold is hidden ("c"); 0 is shown;
2. the answers on the scale add up to the base n, and n, the answers apart
   from it and the people who gave no answer add up to the run's responses,
   which are published. When exactly one cell of a sum is hidden, the
   smallest other cell that is not 0 is hidden too (a base, then a 0 only as
   a last resort), until no hidden count can be worked out by subtraction;
3. for several answers, each answer and the people who did not choose it
   add up to those who answered, so a small number not choosing an answer
   hides the number choosing it, as ``disclosure`` does with a row's
   complement;
4. a percentage is withheld when its count or its base is hidden, or when
   the base is under the minimum (10).

Without ``rules`` every count is exact: for officers only, and marked "not
for publication" wherever it is shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

import pandas as pd

from questionnaires.schema import (
    NONE_OF_THESE,
    PIPE_PATTERN,
    Question,
    Questionnaire,
    QuestionType,
    Section,
)

from .disclosure import SUPPRESSED, DisclosureRules

COUNT_COLUMNS = ["question", "value", "count"]
# The code of the row for people who did not answer: never an answer code (codes are keys).
NO_ANSWER = ""
# A single-answer question with more answers than this is drawn as a bar for each answer: one bar
# divided six ways is the most that can be read, and the palette has six colours.
MOST_SEGMENTS = 6
ORDERED_TYPES = frozenset({QuestionType.LIKERT, QuestionType.YES_NO})


class ChartKind(StrEnum):
    STACKED = "stacked"  # one bar, divided among the answers on the scale, in its order
    BARS = "bars"  # a bar for each answer: several answers, or too many for one bar


@dataclass(frozen=True)
class AnswerRow:
    """One answer's count and percentage; None where it is withheld (shown as "c")."""

    value: str  # the answer's code; NO_ANSWER for the people who gave none
    label: str
    count: int | None
    percent: float | None  # of the question's base, to one decimal place; None when withheld or not in it
    in_base: bool  # counted in the base of the percentages
    apart: bool  # shown apart from the scale: Don't know, Not applicable, None of these, no answer

    @property
    def hidden(self) -> bool:
        return self.count is None

    @property
    def percent_withheld(self) -> bool:
        return self.in_base and self.percent is None


@dataclass(frozen=True)
class Distribution:
    """How the answers to one closed question divide."""

    key: str
    label: str  # the question's wording, with the fallback of anything it pipes in
    type: QuestionType
    kind: ChartKind
    ordered: bool  # a scale (likert, yes or no), whose answers run from one end to the other
    several: bool  # several answers each (multiple choice): the percentages add up to more than 100
    rows: tuple[AnswerRow, ...]  # the answers in the question's order, those apart after, no answer last
    n: int | None  # the base of the percentages; None when withheld or not known
    base_known: bool  # False when it cannot be known (several answers counted only as totals by retention)
    exact: bool  # no disclosure control: not for publication

    @property
    def on_scale(self) -> tuple[AnswerRow, ...]:
        return tuple(row for row in self.rows if not row.apart)

    @property
    def shown_apart(self) -> tuple[AnswerRow, ...]:
        return tuple(row for row in self.rows if row.apart)

    @property
    def withheld(self) -> bool:
        """Whether anything about this question is withheld."""
        return any(row.hidden or row.percent_withheld for row in self.rows) or (self.base_known and self.n is None)

    @property
    def answered(self) -> bool:
        """Whether anyone answered it (as far as is shown)."""
        return any(row.count != 0 for row in self.rows if row.value != NO_ANSWER)


@dataclass(frozen=True)
class DayCount:
    day: date
    count: int | None  # None when withheld


# Which questions -------------------------------------------------------------


def charted_questions(questionnaire: Questionnaire) -> list[Question]:
    """The closed questions whose answers a run's results show, in the questionnaire's order.

    Equality monitoring is left out: its answers are kept apart from the
    responses and are never shown beside them. Free text is never shown.
    """
    return [
        question
        for question in questionnaire.questions
        if question.type.is_choice and question.section is not Section.EQUALITY
    ]


def wording(question: Question) -> str:
    """A question's wording with anything it pipes in replaced by its fallback ("your setting")."""
    return PIPE_PATTERN.sub(lambda match: match.group(2) or match.group(1), question.label)


def kind_of(question: Question) -> ChartKind:
    if question.type is QuestionType.MULTIPLE_CHOICE:
        return ChartKind.BARS
    return ChartKind.STACKED if len(question.scale_options) <= MOST_SEGMENTS else ChartKind.BARS


def no_answer_label(question: Question) -> str:
    return "Not asked or not answered" if question.show_if else "Not answered"


# Distributions ---------------------------------------------------------------


def distributions(
    questions: Sequence[Question],
    counts: pd.DataFrame,
    responses: int,
    respondents: dict[str, int | None],
    rules: DisclosureRules | None,
) -> list[Distribution]:
    """Each question's distribution, from ``counts`` (COUNT_COLUMNS: answers per question and answer code).

    ``responses`` is every response to the run (published beside these
    figures); ``respondents`` gives, for each multiple-choice question, how
    many responses answered it (None when not known: retention keeps only
    each answer's total). ``rules`` None gives exact counts.
    """
    missing = [column for column in COUNT_COLUMNS if column not in counts.columns]
    if missing:
        raise ValueError(f"The counts need the columns {', '.join(missing)}.")
    if responses < 0:
        raise ValueError("The number of responses cannot be negative.")
    per_question: dict[str, dict[str, int]] = {}
    for question_key, value, count in counts[COUNT_COLUMNS].itertuples(index=False):
        if count < 0:
            raise ValueError(f"A count of {question_key} = {value} is negative.")
        answers = per_question.setdefault(question_key, {})
        answers[value] = answers.get(value, 0) + int(count)
    return [
        distribution(question, per_question.get(question.key, {}), responses, respondents.get(question.key), rules)
        for question in questions
    ]


def distribution(
    question: Question,
    counts: dict[str, int],
    responses: int,
    respondents: int | None,
    rules: DisclosureRules | None,
) -> Distribution:
    """One question's distribution from its answers' counts by code (see ``distributions``)."""
    if not question.type.is_choice:
        raise ValueError(f"{question.key} is not a closed question: its answers are not counted.")
    several = question.type is QuestionType.MULTIPLE_CHOICE
    # Answers in the question's order; a code the version does not offer (which the journey and the
    # import never store) is still counted, apart, under its code, so that the sums hold.
    options = [
        (option.value, option.label, option.apart or option.value == NONE_OF_THESE) for option in question.options
    ]
    known = {value for value, _, _ in options}
    options += [(value, f"Other answer ({value})", True) for value in sorted(counts) if value not in known]
    values = [counts.get(value, 0) for value, _, _ in options]
    if several:
        layout = _several(options, values, responses, respondents)
    else:
        layout = _one_each(options, values, responses)
    hidden = _protect(layout, rules.threshold) if rules is not None else [False] * len(layout.cells)

    base = layout.cells[layout.base] if layout.base is not None else None
    base_shown = layout.base is not None and not hidden[layout.base]
    percent_allowed = base_shown and base > 0 and (rules is None or base >= rules.minimum_base)
    rows = []
    for position, (value, label, apart) in enumerate(options):
        count = values[position]
        shown = not hidden[position]
        in_base = several or not apart
        percent = round(100 * count / base, 1) if in_base and shown and percent_allowed else None
        rows.append(AnswerRow(value, label, count if shown else None, percent, in_base, apart))
    if layout.no_answer is not None:
        missing = layout.cells[layout.no_answer]
        shown = not hidden[layout.no_answer]
        rows.append(AnswerRow(NO_ANSWER, no_answer_label(question), missing if shown else None, None, False, True))
    return Distribution(
        key=question.key,
        label=wording(question),
        type=question.type,
        kind=kind_of(question),
        ordered=question.type in ORDERED_TYPES,
        several=several,
        rows=tuple(rows),
        n=base if base_shown else None,
        base_known=layout.base is not None,
        exact=rules is None,
    )


@dataclass(frozen=True)
class _Layout:
    """A question's counts as cells, and the sums they make (each: the parts and the whole)."""

    cells: list[int]
    sums: list[tuple[list[int], int]]
    can_hide: list[bool]
    base: int | None  # the cell holding the base of the percentages
    no_answer: int | None  # the cell holding the people who gave no answer


def _one_each(options: list[tuple[str, str, bool]], values: list[int], responses: int) -> _Layout:
    """One answer each: the scale's answers add up to n; n, those apart and no answer add up to the responses."""
    scale = [position for position, (_, _, apart) in enumerate(options) if not apart]
    others = [position for position, (_, _, apart) in enumerate(options) if apart]
    n = sum(values[position] for position in scale)
    answered = sum(values)
    no_answer = responses - answered
    if no_answer < 0:
        raise ValueError(f"{answered} answers to a question with one answer each, from {responses} responses.")
    cells = [*values, no_answer, n, responses]
    no_answer_cell, base_cell, total_cell = len(values), len(values) + 1, len(values) + 2
    sums = [(scale, base_cell), ([base_cell, *others, no_answer_cell], total_cell)]
    can_hide = [True] * len(cells)
    can_hide[total_cell] = False  # the responses are published with the results
    return _Layout(cells, sums, can_hide, base_cell, no_answer_cell)


def _several(
    options: list[tuple[str, str, bool]], values: list[int], responses: int, respondents: int | None
) -> _Layout:
    """Several answers each: each answer and those who did not choose it add up to those who answered."""
    if respondents is None:
        # Retention keeps each answer's total but not how many people answered: no sums to protect
        # beyond the small counts themselves, and no base for percentages.
        return _Layout(list(values), [], [True] * len(values), None, None)
    if any(count > respondents for count in values):
        raise ValueError(f"An answer chosen more often than the {respondents} people who answered.")
    if respondents > responses:
        raise ValueError(f"{respondents} people answered, from {responses} responses.")
    k = len(values)
    complements = [respondents - count for count in values]
    cells = [*values, *complements, respondents, responses - respondents, responses]
    base_cell, no_answer_cell, total_cell = 2 * k, 2 * k + 1, 2 * k + 2
    sums = [([position, k + position], base_cell) for position in range(k)]
    sums.append(([base_cell, no_answer_cell], total_cell))
    can_hide = [True] * len(cells)
    can_hide[total_cell] = False
    return _Layout(cells, sums, can_hide, base_cell, no_answer_cell)


def _protect(layout: _Layout, threshold: int) -> list[bool]:
    """Which cells are hidden: small counts, then whatever would let one be worked out by subtraction.

    The same rules as ``disclosure.suppress``: counts from 1 to the threshold
    are hidden; where one cell of a sum is hidden, the smallest shown part
    that is not 0 is hidden too, then the whole, and a 0 only as a last
    resort; repeated until every sum has no hidden cell or at least two.
    """
    cells, can_hide = layout.cells, layout.can_hide
    hidden = [can_hide[i] and 1 <= cells[i] <= threshold for i in range(len(cells))]
    changed = True
    while changed:
        changed = False
        for parts, whole in layout.sums:
            if sum(hidden[cell] for cell in [*parts, whole]) != 1:
                continue
            shown = [cell for cell in parts if not hidden[cell] and can_hide[cell]]
            not_zero = [cell for cell in shown if cells[cell] > 0]
            if not_zero:
                choice = min(not_zero, key=lambda cell: (cells[cell], cell))
            elif can_hide[whole] and not hidden[whole]:
                choice = whole
            elif shown:
                choice = shown[0]
            else:
                continue
            hidden[choice] = True
            changed = True
    return hidden


# Responses -------------------------------------------------------------------


def responses_published(responses: int, rules: DisclosureRules | None) -> int | None:
    """A run's number of responses as published: None (shown as "c") from 1 to the threshold."""
    if rules is not None and 1 <= responses <= rules.threshold:
        return None
    return responses


def daily_counts(days: Iterable[tuple[date, int]], rules: DisclosureRules | None) -> list[DayCount]:
    """Responses per UK day, with a day's count from 1 to the threshold withheld.

    The days add up to the responses held, which are published, so where one
    day is withheld the next smallest is withheld with it.
    """
    days = list(days)
    if rules is None:
        return [DayCount(day, count) for day, count in days]
    counts = [count for _, count in days]
    total = sum(counts)
    layout = _Layout(
        [*counts, total],
        [(list(range(len(counts))), len(counts))],
        [True] * len(counts) + [False],
        None,
        None,
    )
    hidden = _protect(layout, rules.threshold)
    return [DayCount(day, None if hidden[position] else count) for position, (day, count) in enumerate(days)]


@dataclass(frozen=True)
class ResponseRate:
    responses: int | None  # None when withheld
    denominator: int | None  # invitations or the expected number eligible; None when not known
    basis: str | None  # "invitations", "expected eligible", or None
    percent: float | None  # None when not known or withheld


def response_rate(
    responses: int, denominator: int | None, basis: str | None, rules: DisclosureRules | None
) -> ResponseRate:
    """Responses over invitations or the number expected to be eligible, withheld with a small count or base."""
    shown = responses_published(responses, rules)
    percent = None
    if denominator and shown is not None and (rules is None or denominator >= rules.minimum_base):
        percent = round(100 * responses / denominator, 1)
    return ResponseRate(shown, denominator or None, basis if denominator else None, percent)


def figure(value: int | float | None, suffix: str = "") -> str:
    """A count or percentage as a table shows it: 1,234 or 41.5%, or "c" when withheld."""
    if value is None:
        return SUPPRESSED
    if isinstance(value, float):
        return f"{value:,.1f}{suffix}"
    return f"{value:,}{suffix}"
