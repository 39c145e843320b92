"""Reading individual responses: a run's table of responses, one response, and one plan's responses.

Responses are read against the questionnaire version they answered. Equality
monitoring answers are kept in other tables and never read here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import CompoundSelect, Select, case, func, intersect, select
from sqlalchemy.orm import aliased, joinedload

from questionnaires import Answers, AnswerValue, Questionnaire
from questionnaires.schema import LANGUAGES, Audience, Question, Section

from ..database import begin_write
from ..extensions import db
from ..formatting import UK
from ..models import Access, Answer, Response, SurveyRun, indexed_answer
from . import audit
from . import questionnaires as questionnaire_service

# At most this many context answers are shown in each row of the table.
TABLE_CONTEXT_COLUMNS = 3
# The key a plan's reference had when old versions asked for it: never a filter or a shared row.
PLAN_REFERENCE = "plan_reference"
# The order of a plan's columns: the family first, then the setting, then other professionals.
# Young people are not among them: their answers are never linked to a plan.
AUDIENCE_ORDER = (Audience.PARENT_CARER, Audience.SETTING, Audience.PRACTITIONER)
AUDIENCE_NAMES = {
    Audience.PARENT_CARER: "Parent or carer",
    Audience.YOUNG_PERSON: "Young person",
    Audience.SETTING: "Setting",
    Audience.PRACTITIONER: "Professional",
}


def language_name(code: str) -> str:
    return LANGUAGES.get(code, (code, code))[1]


def shows_plan_reference(run: SurveyRun, questionnaire: Questionnaire) -> bool:
    """Whether a run's responses carry a plan reference: only by identified invitation, never a young person's.

    The reference is the invitation's; nobody types one, and nothing may link
    an anonymous run's answers to a family.
    """
    return run.access == Access.IDENTIFIED_INVITATIONS and questionnaire.audience is not Audience.YOUNG_PERSON


def _from_invitations():
    """Responses whose plan reference came from an identified invitation: the only ones a plan joins."""
    return [
        Response.plan_reference.is_not(None),
        Response.invitation_id.is_not(None),
        Response.audience != Audience.YOUNG_PERSON.value,
    ]


def uk_midnight(day: date) -> datetime:
    """The start of a day in the UK, as the naive UTC time that times are stored in."""
    return datetime.combine(day, time(), tzinfo=UK).astimezone(UTC).replace(tzinfo=None)


def answers_by_response(response_ids: list[int], keys: list[str] | None = None) -> dict[int, Answers]:
    """Each response's answers as the journey holds them: a code, several codes, or text."""
    if not response_ids:
        return {}
    query = select(Answer.response_id, Answer.question_key, Answer.value).where(Answer.response_id.in_(response_ids))
    if keys is not None:
        query = query.where(Answer.question_key.in_(keys))
    grouped: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for response_id, key, value in db.session.execute(query.order_by(Answer.id)):
        grouped[response_id][key].append(value)
    return {response_id: _as_answers(values) for response_id, values in grouped.items()}


def _as_answers(values: dict[str, list[str]]) -> Answers:
    return {key: given if len(given) > 1 else given[0] for key, given in values.items()}


def labels(question: Question, value: AnswerValue | None) -> str:
    """A choice answer in words: "Primary school (Reception to Year 6)", or "" when not answered."""
    if value in (None, "", []):
        return ""
    codes = value if isinstance(value, list) else [value]
    return ", ".join(option.label if (option := question.option(code)) else code for code in codes)


# --- A run's table of responses -------------------------------------------------


def filter_questions(questionnaire: Questionnaire) -> list[Question]:
    """The context questions a table of responses can be filtered by, in the questionnaire's order."""
    return [q for q in questionnaire.questions if q.section is Section.CONTEXT and q.type.is_choice]


def table_questions(questionnaire: Questionnaire) -> list[Question]:
    """The context answers shown in each row of the table."""
    return filter_questions(questionnaire)[:TABLE_CONTEXT_COLUMNS]


@dataclass(frozen=True)
class ResponseFilters:
    submitted_from: date | None = None
    submitted_to: date | None = None
    # A context question's key, and the option chosen.
    answers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ResponseRow:
    reference: str
    submitted_at: datetime
    language: str
    plan_reference: str | None
    # Each shown context question's key, and the answer in words.
    context: dict[str, str]


def responses_page(
    run: SurveyRun, questionnaire: Questionnaire, filters: ResponseFilters, page: int, per_page: int
) -> tuple[list[ResponseRow], int]:
    """One page of a run's responses matching ``filters``, newest first, and how many match in all.

    Answer filters are read from the index on answers (run, question, answer,
    response), never answer by answer: the matching responses are counted
    there first. A page of them is then found among their ids when there are
    few, or else by reading the run's responses newest first (the index on run
    and time) and keeping those with the answers, which fills a page soon.
    """
    conditions = _conditions(run, filters)
    if filters.answers:
        answered = _answered(run.id, filters.answers)
        matching = _sent_within_dates(answered, filters)
        total = db.session.scalar(select(func.count()).select_from(matching.subquery()))
        if total <= FEW_MATCHES:
            conditions.append(Response.id.in_(db.session.scalars(matching).all() if total else []))
        else:
            conditions += _with_answers(run.id, filters.answers, answered)
    else:
        total = db.session.scalar(select(func.count()).select_from(Response).where(*conditions))
    found = (
        db.session.execute(
            select(Response.id, Response.reference, Response.submitted_at, Response.language, Response.plan_reference)
            .where(*conditions)
            .order_by(Response.submitted_at.desc(), Response.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        ).all()
        if total
        else []
    )
    shown = table_questions(questionnaire)
    answers = answers_by_response([row.id for row in found], [q.key for q in shown])
    rows = [
        ResponseRow(
            reference=row.reference,
            submitted_at=row.submitted_at,
            language=language_name(row.language),
            plan_reference=row.plan_reference,
            context={q.key: labels(q, answers.get(row.id, {}).get(q.key)) for q in shown},
        )
        for row in found
    ]
    return rows, total


# When the answer filters match at most this many responses, their ids are read and the page found among
# them; above it, the run's responses are read newest first until the page is full, which then comes soon.
FEW_MATCHES = 5000


def _conditions(run: SurveyRun, filters: ResponseFilters) -> list:
    """The run and the dates, on responses: the index on run and time finds them."""
    return [Response.run_id == run.id, *_date_conditions(filters)]


def _date_conditions(filters: ResponseFilters) -> list:
    conditions = []
    if filters.submitted_from:
        conditions.append(Response.submitted_at >= uk_midnight(filters.submitted_from))
    if filters.submitted_to:
        conditions.append(Response.submitted_at < uk_midnight(filters.submitted_to + timedelta(days=1)))
    return conditions


def _answer_range(run_id: int, key: str, value: str, answer=Answer) -> list:
    """The conditions of one answer's range of the index on answers.

    The condition on the answer's length is the index's own
    (``models.indexed_answer``), written in the query so that the database
    knows the index holds every answer asked for: a filter is an answer code,
    never long text.
    """
    return [answer.run_id == run_id, answer.question_key == key, answer.value == value, indexed_answer(answer)]


def _answered(run_id: int, answers: dict[str, str]) -> Select | CompoundSelect:
    """The ids of the run's responses with every one of these answers, each once, in order.

    Each answer's responses are one range of the index on answers, in order
    of response, and with several answers the ranges are merged, the way each
    database does it best: SQLite by INTERSECT (in order, so it merges rather
    than building a table of one), PostgreSQL by a join (which it merges; its
    INTERSECT hashes them).
    """
    (key, value), *others = answers.items()
    first = select(Answer.response_id).where(*_answer_range(run_id, key, value))
    if not others:
        return first.distinct()
    if db.session.get_bind().dialect.name == "sqlite":
        ranges = intersect(
            first, *(select(Answer.response_id).where(*_answer_range(run_id, *other)) for other in others)
        )
        return ranges.order_by(ranges.selected_columns[0])
    for other_key, other_value in others:
        other = aliased(Answer)
        first = first.where(
            select(other.response_id)
            .where(*_answer_range(run_id, other_key, other_value, other), other.response_id == Answer.response_id)
            .exists()
        )
    return first.distinct()


def _with_answers(run_id: int, answers: dict[str, str], answered: Select | CompoundSelect) -> list:
    """Conditions keeping the responses with every one of these answers, as the run is read newest first.

    SQLite makes the list of them once and looks each response up in it;
    PostgreSQL is asked response by response (EXISTS), each a step in the
    index on answers, as it would otherwise join the whole list before
    reading the first response.
    """
    if db.session.get_bind().dialect.name == "sqlite":
        return [Response.id.in_(answered)]
    conditions = []
    for key, value in answers.items():
        answer = aliased(Answer)
        conditions.append(
            select(answer.response_id)
            .where(*_answer_range(run_id, key, value, answer), answer.response_id == Response.id)
            .exists()
        )
    return conditions


def _sent_within_dates(answered: Select | CompoundSelect, filters: ResponseFilters) -> Select:
    """The ids of ``answered`` whose response was sent within the filters' dates."""
    found = answered.subquery()
    query = select(found.c.response_id)
    dates = _date_conditions(filters)
    if dates:
        query = query.where(select(Response.id).where(Response.id == found.c.response_id, *dates).exists())
    return query


# --- One response ---------------------------------------------------------------


@dataclass(frozen=True)
class AnsweredQuestion:
    question: Question
    # What the person answered, or None; ``asked`` is False where the routing skipped the question.
    value: AnswerValue | None
    asked: bool


@dataclass(frozen=True)
class ResponseView:
    response: Response
    questionnaire: Questionnaire
    answers: Answers
    items: list[AnsweredQuestion]

    @property
    def language(self) -> str:
        return language_name(self.response.language)


def response_by_reference(reference: str) -> ResponseView | None:
    """A response with every question of its version but the equality ones, in order."""
    response = db.session.scalar(
        select(Response)
        .options(joinedload(Response.run), joinedload(Response.questionnaire_version))
        .where(Response.reference == reference)
    )
    if response is None:
        return None
    return _view(response, answers_by_response([response.id]).get(response.id, {}))


def _view(response: Response, answers: Answers) -> ResponseView:
    questionnaire = questionnaire_service.questionnaire_of(response.questionnaire_version)
    items = [
        AnsweredQuestion(question, answers.get(question.key), question.is_shown(answers))
        for question in questionnaire.questions
        if question.section is not Section.EQUALITY
    ]
    return ResponseView(response, questionnaire, answers, items)


# --- One plan, three views --------------------------------------------------------


@dataclass(frozen=True)
class PlanSummary:
    reference: str
    counts: dict[str, int]
    latest: datetime


def plans(search: str, page: int, per_page: int) -> tuple[list[PlanSummary], int]:
    """Plan references with responses, the most recently answered first, and how many there are."""
    conditions = _from_invitations()
    if search:
        pattern = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(Response.plan_reference.ilike(f"%{pattern}%", escape="\\"))
    total = db.session.scalar(select(func.count(func.distinct(Response.plan_reference))).where(*conditions))
    per_audience = [
        func.sum(case((Response.audience == audience.value, 1), else_=0)).label(audience.value)
        for audience in AUDIENCE_ORDER
    ]
    latest = func.max(Response.submitted_at)
    rows = db.session.execute(
        select(Response.plan_reference, latest.label("latest"), *per_audience)
        .where(*conditions)
        .group_by(Response.plan_reference)
        .order_by(latest.desc(), Response.plan_reference)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return [
        PlanSummary(
            reference=row.plan_reference,
            counts={audience.value: getattr(row, audience.value) or 0 for audience in AUDIENCE_ORDER},
            latest=row.latest,
        )
        for row in rows
    ], total


@dataclass(frozen=True)
class PlanRow:
    key: str
    label: str
    # One entry per column: the question as that column's version asked it, and the answer.
    cells: list[AnsweredQuestion | None]


@dataclass(frozen=True)
class PlanView:
    reference: str
    columns: list[ResponseView]
    shared: list[PlanRow]
    # For each column, the answers to questions no other column was asked.
    others: list[list[AnsweredQuestion]]

    def audience_name(self, column: ResponseView) -> str:
        return AUDIENCE_NAMES.get(Audience(column.response.audience), column.response.audience)


def plan(reference: str) -> PlanView | None:
    """Every response to an identified invitation with this plan reference, side by side: family, setting."""
    found = db.session.scalars(
        select(Response)
        .options(joinedload(Response.run), joinedload(Response.questionnaire_version))
        .where(Response.plan_reference == reference, *_from_invitations())
    ).all()
    if not found:
        return None
    audience_rank = {audience.value: rank for rank, audience in enumerate(AUDIENCE_ORDER)}
    found = sorted(found, key=lambda r: (audience_rank.get(r.audience, len(AUDIENCE_ORDER)), r.submitted_at))
    answers = answers_by_response([response.id for response in found])
    columns = [_view(response, answers.get(response.id, {})) for response in found]
    shared_keys = _shared_keys(columns)
    shared = [_plan_row(key, columns) for key in shared_keys]
    others = [[item for item in column.items if item.question.key not in shared_keys] for column in columns]
    return PlanView(reference, columns, shared, others)


def _shared_keys(columns: list[ResponseView]) -> list[str]:
    """Keys asked by more than one column's version, in the order the first of them asks them.

    The plan reference itself is left out: it is the same in every column.
    """
    seen: dict[str, int] = defaultdict(int)
    order: list[str] = []
    for column in columns:
        for item in column.items:
            if item.question.key == PLAN_REFERENCE:
                continue
            if item.question.key not in seen:
                order.append(item.question.key)
            seen[item.question.key] += 1
    return [key for key in order if seen[key] > 1] if len(columns) > 1 else []


def _plan_row(key: str, columns: list[ResponseView]) -> PlanRow:
    cells = [next((item for item in column.items if item.question.key == key), None) for column in columns]
    label = next(cell.question.label for cell in cells if cell is not None)
    return PlanRow(key, label, cells)


def record_plan_view(reference: str, responses: int) -> None:
    """Audit that someone read one plan's responses (which plan, and how many responses; no answers)."""
    begin_write()
    audit.record("plan_viewed", f"Plan {reference}", responses=responses)
    db.session.commit()
