"""Counts of answers kept up to date as answers are stored and removed, so that nothing counts them again.

``answer_count`` holds what a ``GROUP BY`` of the answers gives, by run, UK
month of submission, question, answer and group (see ``models.AnswerCount``).
Every path that adds or removes answers changes it in the same transaction,
with one statement (a multi-row ``INSERT ... ON CONFLICT DO UPDATE SET count =
count + excluded.count``, rows in key order so that concurrent PostgreSQL
transactions lock them in the same order):

- the journey (``journey._store_response``) and the demo add a response's
  counts; ``responses import`` adds each batch's, and takes them away again
  when it removes what it stored;
- erasure (``records.erase``) takes one response's away; a row that comes to
  0 is deleted;
- retention marks a run's rows ``retained`` when it deletes the run's
  responses: they are the history it keeps, and are never counted again.

What one response adds (``Tally.response``): 1 to the responses of its
month; 1 to each answer to a choice question, for everyone and in each
group of each context choice question (the context answer, or "" where it
was not answered); for each measure counted per response (see below), its
outcome; and, apart, 1 to each equality monitoring answer, for everyone only
(they are never counted beside a response's other answers). Free text is
never counted.

**Measures that need whole responses** (a composite, a question with several
answers, a filter on a context answer) cannot be worked out from answer
counts, so each response's outcome is counted too, under the question key
``@`` and the measure's key: ``positive``, ``base`` (1 each when it is), and
``responses`` (1 for every response the measure reads: one that answered its
question and passed its filters, even if left out of its base). Which
measures, and by which definition, is stored with the counts
(``counted_measure``), not read from the measures file at each submission:
so the counts of a measure never mix two definitions. After the measures
file changes, ``stale`` names the measures whose counts no longer match it
(the report counts those from the answers until then, which is slower), and
``flask measures rebuild-counts`` (``rebuild``) counts the responses still
held again by the file's definitions. Counts retention kept cannot be
counted again: the responses are gone.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, delete, func, insert, literal, select, true
from sqlalchemy import false as sql_false

from analysis.measures import CompositeSource, Measure, MeasureSet, SurveySource
from questionnaires import Questionnaire, QuestionType
from questionnaires.schema import Section

from ..models import Answer as AnswerRow
from ..models import (
    AnswerCount,
    CountedMeasure,
    EqualityAnswer,
    EqualityMonitoring,
    QuestionnaireVersion,
    Response,
    SurveyRun,
    utcnow,
)
from .uk_time import uk_date

# The question key under which a measure's own per-response counts are kept, before the measure's key.
MEASURE_PREFIX = "@"
POSITIVE, BASE, RESPONSES = "positive", "base", "responses"
# The group of everyone, and the group value of people who did not answer a context question.
EVERYONE = ""
NOT_ANSWERED = ""
# Rows per INSERT statement: well under SQLite's 32,766 and PostgreSQL's 65,535 parameters.
ROWS_PER_STATEMENT = 1000
# Responses read at a time when counting again.
RESPONSES_PER_READ = 2000
# Counts held in memory before they are added to the table, when counting again.
HELD_COUNTS = 200_000

TABLE = AnswerCount.__table__
KEY_COLUMNS = ("run_id", "group_key", "question_key", "value", "group_value", "month")
# (run id, group key, question key, value, group value, first day of the UK month): a live count.
Key = tuple[int, str, str, str, str, date]
Answers = Mapping[str, Sequence[str]]


def month_of(moment: datetime) -> date:
    """The first day of the UK month of a naive UTC time, as ``uk_time.uk_month`` works it out in SQL."""
    return uk_date(moment).replace(day=1)


# What a questionnaire's responses add -------------------------------------------------


@dataclass(frozen=True)
class Counting:
    """Which of a questionnaire's questions are counted, and by which groups."""

    questionnaire_key: str
    counted: frozenset[str]  # choice questions, equality monitoring apart
    groups: tuple[str, ...]  # context choice questions
    equality: frozenset[str]


_countings: dict[int, tuple[Questionnaire, Counting]] = {}


def counting_of(questionnaire: Questionnaire) -> Counting:
    """What a questionnaire's responses add to the counts (kept per questionnaire object, which are cached)."""
    known = _countings.get(id(questionnaire))
    if known is not None and known[0] is questionnaire:
        return known[1]
    questions = questionnaire.questions
    counting = Counting(
        questionnaire_key=questionnaire.key,
        counted=frozenset(
            question.key
            for question in questions
            if question.type.is_choice and question.section is not Section.EQUALITY
        ),
        groups=tuple(
            question.key for question in questions if question.section is Section.CONTEXT and question.type.is_choice
        ),
        equality=frozenset(question.key for question in questions if question.section is Section.EQUALITY),
    )
    _countings[id(questionnaire)] = (questionnaire, counting)
    return counting


# Measures counted per response -----------------------------------------------------------


@dataclass(frozen=True)
class ResponseMeasure:
    """A measure whose outcome is counted per response, by the definition stored with the counts."""

    key: str
    definition_hash: str
    composite: bool
    questionnaires: frozenset[str]
    audience: str | None
    questions: tuple[str, ...]  # the one question, or a composite's
    positive: frozenset[str]
    left_out: frozenset[str]
    filters: tuple[tuple[str, frozenset[str]], ...]
    several: bool = False  # a question with several answers: each response counted once
    at_least: float = 0.0
    minimum_applicable: int = 1

    @property
    def question_key(self) -> str:
        return MEASURE_PREFIX + self.key

    @classmethod
    def from_definition(cls, key: str, definition: dict) -> ResponseMeasure:
        composite = definition["kind"] == "composite"
        return cls(
            key=key,
            definition_hash=definition_hash(definition),
            composite=composite,
            questionnaires=frozenset(definition["questionnaires"]),
            audience=definition["audience"],
            questions=tuple(definition["questions"] if composite else [definition["question"]]),
            positive=frozenset(definition["positive"]),
            left_out=frozenset(definition["left_out"]),
            filters=tuple((question, frozenset(any_of)) for question, any_of in definition["filters"]),
            several=bool(definition.get("several", False)),
            at_least=float(definition.get("at_least", 0.0)),
            minimum_applicable=int(definition.get("minimum_applicable", 1)),
        )

    def applies(self, questionnaire_key: str, audience: str) -> bool:
        return questionnaire_key in self.questionnaires and (self.audience is None or audience == self.audience)

    def outcome(self, answers: Answers) -> tuple[int, int] | None:
        """(positive, base) for one response, or None when the measure does not read it at all.

        As the measure's GROUP BY counts: a response with no answer to the
        question(s), or failing a filter, is not read; a composite is positive
        when at least its share of the applicable answers is; a question with
        several answers counts each response once.
        """
        for question, any_of in self.filters:
            if not any(value in any_of for value in answers.get(question, ())):
                return None
        if self.composite:
            given = [value for question in self.questions for value in answers.get(question, ())]
            if not given:
                return None
            positive = sum(value in self.positive for value in given)
            applicable = sum(value not in self.left_out for value in given)
            counted = applicable >= self.minimum_applicable
            return int(counted and positive >= self.at_least * applicable), int(counted)
        given = answers.get(self.questions[0], ())
        if not given:
            return None
        if self.several:
            return int(any(value in self.positive for value in given)), int(
                any(value not in self.left_out for value in given)
            )
        return sum(value in self.positive for value in given), sum(value not in self.left_out for value in given)


def needs_whole_responses(measure: Measure, library: Mapping[str, Questionnaire]) -> bool:
    """Whether a survey measure cannot be worked out from answer counts: it is counted per response."""
    source = measure.source
    if isinstance(source, CompositeSource):
        return True
    return isinstance(source, SurveySource) and (bool(source.filters) or several_answers(source, library))


def several_answers(source: SurveySource, library: Mapping[str, Questionnaire]) -> bool:
    for key in source.questionnaires:
        questionnaire = library.get(key)
        question = questionnaire.question(source.question) if questionnaire else None
        if question is not None and question.type is QuestionType.MULTIPLE_CHOICE:
            return True
    return False


def definition(measure: Measure, library: Mapping[str, Questionnaire]) -> dict:
    """What decides a measure's per-response outcome, as stored with its counts."""
    source = measure.source
    common = {
        "questionnaires": list(source.questionnaires),
        "audience": source.audience,
        "positive": sorted(source.positive),
        "left_out": sorted(source.left_out),
        "filters": [[rule.question, sorted(rule.any_of)] for rule in source.filters],
    }
    if isinstance(source, CompositeSource):
        return {
            "kind": "composite",
            "questions": list(source.questions),
            "at_least": source.at_least,
            "minimum_applicable": source.minimum_applicable,
            **common,
        }
    return {"kind": "survey", "question": source.question, "several": several_answers(source, library), **common}


def definition_hash(definition: dict) -> str:
    canonical = json.dumps(definition, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def whole_response_measures(measures: MeasureSet, library: Mapping[str, Questionnaire]) -> list[ResponseMeasure]:
    """The measures of a measures file that are counted per response, by the file's definitions."""
    return [
        ResponseMeasure.from_definition(measure.key, definition(measure, library))
        for measure in measures.measures
        if isinstance(measure.source, SurveySource | CompositeSource) and needs_whole_responses(measure, library)
    ]


_parsed_measures: dict[tuple[str, str], ResponseMeasure] = {}


def lock(connection: Connection) -> None:
    """Before a write of counts: on PostgreSQL, a lock that ``rebuild`` waits for and that waits for ``rebuild``,
    so that no response is counted by one definition while the counts are made again by another. Writes of counts
    do not wait for each other. (On SQLite, writes take turns anyway.)"""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("LOCK TABLE counted_measure IN ROW SHARE MODE")


def counted_measures(connection: Connection, for_writing: bool = True) -> list[ResponseMeasure]:
    """The measures counted per response, by their stored definitions, in key order (after ``lock``, for a
    write of counts)."""
    if for_writing:
        lock(connection)
    stored = connection.execute(
        select(CountedMeasure.measure_key, CountedMeasure.definition_hash).order_by(CountedMeasure.measure_key)
    ).all()
    missing = [key for key, digest in stored if (key, digest) not in _parsed_measures]
    if missing:
        for key, stored_definition in connection.execute(
            select(CountedMeasure.measure_key, CountedMeasure.definition).where(CountedMeasure.measure_key.in_(missing))
        ):
            parsed = ResponseMeasure.from_definition(key, stored_definition)
            _parsed_measures[(key, parsed.definition_hash)] = parsed
    return [_parsed_measures[(key, digest)] for key, digest in stored if (key, digest) in _parsed_measures]


def stored_hashes(connection: Connection) -> dict[str, str]:
    """Each measure counted per response, with the hash of the definition its counts were made by."""
    return dict(connection.execute(select(CountedMeasure.measure_key, CountedMeasure.definition_hash)).all())


@dataclass(frozen=True)
class Staleness:
    """How the counts per response stand against the measures file."""

    changed: list[str]  # measures whose counts were made by another definition, or not made at all
    dropped: list[str]  # measures counted that the file no longer has (or no longer counts per response)

    @property
    def current(self) -> bool:
        return not self.changed and not self.dropped

    def message(self) -> str:
        """What is wrong, and what to run, in plain English ("" when the counts are current)."""
        if self.current:
            return ""
        lines = []
        if self.changed:
            lines.append(
                f"The per-response counts of {len(self.changed)} measure{'s' if len(self.changed) != 1 else ''} "
                f"were made by another definition, or not yet made: {', '.join(self.changed)}. Until the counts are "
                "made again, the report counts these measures from the answers, which is slower."
            )
        if self.dropped:
            lines.append(
                f"Responses are still counted for measures the file no longer counts per response: "
                f"{', '.join(self.dropped)}."
            )
        lines.append(
            "Run: flask --app wsgi measures rebuild-counts. It counts the responses still held again; the counts "
            "kept from responses deleted at the end of their retention period cannot be counted again and stay as "
            "they were made."
        )
        return "\n".join(lines)


def stale(connection: Connection, measures: MeasureSet, library: Mapping[str, Questionnaire]) -> Staleness:
    stored = stored_hashes(connection)
    wanted = {measure.key: measure.definition_hash for measure in whole_response_measures(measures, library)}
    return Staleness(
        changed=sorted(key for key, digest in wanted.items() if stored.get(key) != digest),
        dropped=sorted(key for key in stored if key not in wanted),
    )


# Adding up -------------------------------------------------------------------------


class Tally:
    """Counts to add to (or, with a negative sign, take from) ``answer_count``, written by ``write``."""

    def __init__(self) -> None:
        self.counts: Counter[Key] = Counter()

    def response(
        self,
        counting: Counting,
        run_id: int,
        audience: str,
        submitted_at: datetime,
        answers: Answers,
        measures: Sequence[ResponseMeasure],
        sign: int = 1,
        measures_only: bool = False,
    ) -> None:
        """One response's counts: ``answers`` maps each question answered (equality monitoring apart) to its values,
        as stored (one per option chosen)."""
        counts = self.counts
        month = month_of(submitted_at)
        groups = [(group, answers.get(group) or (NOT_ANSWERED,)) for group in counting.groups]
        if not measures_only:
            counts[(run_id, EVERYONE, "", "", "", month)] += sign
            for group, values in groups:
                for value in dict.fromkeys(values):
                    counts[(run_id, group, "", "", value, month)] += sign
            counted = counting.counted
            for question, values in answers.items():
                if question not in counted:
                    continue
                for value in values:
                    counts[(run_id, EVERYONE, question, value, "", month)] += sign
                    for group, group_values in groups:
                        for group_value in group_values:
                            counts[(run_id, group, question, value, group_value, month)] += sign
        for measure in measures:
            if not measure.applies(counting.questionnaire_key, audience):
                continue
            outcome = measure.outcome(answers)
            if outcome is None:
                continue
            positive, base = outcome
            key = measure.question_key
            for group, values in [(EVERYONE, (NOT_ANSWERED,)), *groups]:
                distinct = tuple(dict.fromkeys(values))
                for value in distinct if measure.several else values:
                    if positive:
                        counts[(run_id, group, key, POSITIVE, value, month)] += sign * positive
                    if base:
                        counts[(run_id, group, key, BASE, value, month)] += sign * base
                for value in distinct:
                    counts[(run_id, group, key, RESPONSES, value, month)] += sign

    def equality(self, run_id: int, month: date, answers: Iterable[tuple[str, str]], sign: int = 1) -> None:
        """One equality monitoring record's answers, (question, value) pairs: for everyone only."""
        for question, value in answers:
            self.counts[(run_id, EVERYONE, question, value, "", month)] += sign

    def write(self, connection: Connection) -> None:
        """Add the counts to the table, then forget them; rows that come to 0 are deleted."""
        postgresql = connection.dialect.name == "postgresql"
        taken = sorted({key[0] for key, count in self.counts.items() if count < 0})
        for statement, parameters in upserts(self.counts, postgresql):
            connection.exec_driver_sql(statement, parameters)
        self.counts.clear()
        if taken:
            connection.execute(
                delete(TABLE).where(TABLE.c.retained == sql_false(), TABLE.c.run_id.in_(taken), TABLE.c.count <= 0)
            )


def upserts(counts: Mapping[Key, int], postgresql: bool) -> Iterable[tuple[str, tuple]]:
    """The statements that add ``counts`` to the table (driver SQL and parameters): a thousand rows each, in key
    order, so that concurrent transactions lock rows in the same order."""
    rows = sorted((key, count) for key, count in counts.items() if count)
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        chunk = rows[start : start + ROWS_PER_STATEMENT]
        parameters: list = []
        for (run_id, group_key, question_key, value, group_value, month), count in chunk:
            parameters += (
                False,
                run_id,
                group_key,
                question_key,
                value,
                group_value,
                month if postgresql else month.isoformat(),
                count,
            )
        yield _upsert_sql(len(chunk), postgresql), tuple(parameters)


_upserts: dict[tuple[int, bool], str] = {}


def _upsert_sql(rows: int, postgresql: bool) -> str:
    """INSERT of ``rows`` rows that adds each count to the row with its key, if there is one (driver SQL)."""
    known = _upserts.get((rows, postgresql))
    if known is None:
        marker = "%s" if postgresql else "?"
        row = f"({', '.join([marker] * 8)})"
        keys = ", ".join(("retained", *KEY_COLUMNS))
        # Fixed column names and placeholders only.
        values = ", ".join([row] * rows)
        known = f"INSERT INTO answer_count ({keys}, count) VALUES {values} "  # noqa: S608
        known += f"ON CONFLICT ({keys}) DO UPDATE SET count = answer_count.count + excluded.count"
        _upserts[(rows, postgresql)] = known
    return known


# Reading responses back --------------------------------------------------------------------


class _Versions:
    """Each questionnaire version's counting, read through one connection (the migration has no session)."""

    def __init__(self, connection: Connection):
        self.connection = connection
        self.known: dict[int, Counting] = {}

    def counting(self, version_id: int) -> Counting:
        if version_id not in self.known:
            stored = self.connection.execute(
                select(QuestionnaireVersion.definition).where(QuestionnaireVersion.id == version_id)
            ).scalar_one()
            self.known[version_id] = counting_of(Questionnaire.from_dict(stored))
        return self.known[version_id]


def tally_responses(
    connection: Connection,
    tally: Tally,
    where: list,
    measures: Sequence[ResponseMeasure],
    sign: int = 1,
    measures_only: bool = False,
    questions: Iterable[str] | None = None,
    versions: _Versions | None = None,
    flush_at: int | None = None,
    progress=None,
) -> int:
    """Add to ``tally`` the counts of the stored responses matching ``where``, read a few thousand at a time;
    with ``questions``, only their answers are read. With ``flush_at``, the tally is written whenever it holds that
    many counts; ``progress`` is called with the responses read so far. Returns how many responses were read."""
    versions = versions or _Versions(connection)
    wanted = sorted(set(questions)) if questions is not None else None
    after, read = 0, 0
    while True:
        responses = connection.execute(
            select(
                Response.id,
                Response.run_id,
                Response.questionnaire_version_id,
                Response.audience,
                Response.submitted_at,
            )
            .where(*where, Response.id > after)
            .order_by(Response.id)
            .limit(RESPONSES_PER_READ)
        ).all()
        if not responses:
            return read
        answer_filter = [AnswerRow.response_id.in_([row[0] for row in responses])]
        if wanted is not None:
            answer_filter.append(AnswerRow.question_key.in_(wanted))
        given: dict[int, dict[str, list[str]]] = {}
        for response_id, question_key, value in connection.execute(
            select(AnswerRow.response_id, AnswerRow.question_key, AnswerRow.value)
            .where(*answer_filter)
            .order_by(AnswerRow.response_id, AnswerRow.id)
        ):
            given.setdefault(response_id, {}).setdefault(question_key, []).append(value)
        for response_id, run_id, version_id, audience, submitted_at in responses:
            answers = given.get(response_id, {})
            counting = versions.counting(version_id)
            if counting.equality:
                answers = {key: values for key, values in answers.items() if key not in counting.equality}
            tally.response(counting, run_id, audience, submitted_at, answers, measures, sign, measures_only)
        read += len(responses)
        after = responses[-1][0]
        if progress is not None:
            progress(read)
        if flush_at is not None and len(tally.counts) >= flush_at:
            tally.write(connection)


# Every path that adds or removes answers ---------------------------------------------------------


def add_response(
    connection: Connection,
    questionnaire: Questionnaire,
    run_id: int,
    audience: str,
    submitted_at: datetime,
    answers: Mapping[str, str | Sequence[str]],
    equality: Iterable[tuple[str, str]] = (),
) -> None:
    """Add one response's counts, and its equality monitoring answers', in the write transaction begun: one
    statement (on PostgreSQL, after the lock ``counted_measures`` takes)."""
    counting = counting_of(questionnaire)
    tally = Tally()
    tally.response(
        counting, run_id, audience, submitted_at, _lists(answers, counting.equality), counted_measures(connection)
    )
    tally.equality(run_id, month_of(submitted_at), equality)
    tally.write(connection)


def add_equality(connection: Connection, run_id: int, month: date, answers: Iterable[tuple[str, str]]) -> None:
    """Add one equality monitoring record's answers, (question, value) pairs, to the counts of everyone."""
    lock(connection)
    tally = Tally()
    tally.equality(run_id, month, answers)
    tally.write(connection)


def _lists(answers: Mapping[str, str | Sequence[str]], equality: frozenset[str]) -> dict[str, list[str]]:
    return {
        key: [given] if isinstance(given, str) else list(given)
        for key, given in answers.items()
        if given is not None and key not in equality
    }


def remove_responses(connection: Connection, response_ids: Sequence[int]) -> None:
    """Take away the counts of these stored responses (before they are deleted): erasure, an import undone."""
    if not response_ids:
        return
    tally = Tally()
    tally_responses(connection, tally, [Response.id.in_(sorted(response_ids))], counted_measures(connection), sign=-1)
    tally.write(connection)


def remove_equality(connection: Connection, monitoring_ids: Sequence[str]) -> None:
    """Take away the counts of these equality monitoring records' answers (before they are deleted)."""
    if not monitoring_ids:
        return
    tally = Tally()
    rows = connection.execute(
        select(
            EqualityMonitoring.run_id,
            EqualityMonitoring.submitted_month,
            EqualityAnswer.question_key,
            EqualityAnswer.value,
        )
        .join(EqualityAnswer, EqualityAnswer.monitoring_id == EqualityMonitoring.id)
        .where(EqualityMonitoring.id.in_(sorted(monitoring_ids)))
    )
    for run_id, month, question, value in rows:
        tally.equality(run_id, month, [(question, value)], sign=-1)
    tally.write(connection)


def retain_run(connection: Connection, run_id: int, measures: Sequence[ResponseMeasure] = ()) -> int:
    """Keep a run's counts as retained, before its responses are deleted; returns how many rows it kept.

    ``measures`` are counted again first, from the responses still held, by
    these definitions (the measures file's, where the stored counts were made
    by another), so that the history kept is by the file's definitions.
    Counts retained earlier (responses imported after a first retention)
    are added to.
    """
    lock(connection)
    if measures:
        connection.execute(
            delete(TABLE).where(
                TABLE.c.retained == sql_false(),
                TABLE.c.run_id == run_id,
                TABLE.c.question_key.in_([measure.question_key for measure in measures]),
            )
        )
        tally = Tally()
        tally_responses(
            connection,
            tally,
            [Response.run_id == run_id],
            measures,
            measures_only=True,
            questions=_questions_of(measures, connection, [run_id]),
        )
        tally.write(connection)
    columns = [TABLE.c[name] for name in KEY_COLUMNS]
    live = select(true(), *columns, TABLE.c.count).where(TABLE.c.retained == sql_false(), TABLE.c.run_id == run_id)
    kept = connection.execute(select(func.count()).select_from(live.subquery())).scalar_one()
    upsert = _dialect_insert(connection)(TABLE).from_select(["retained", *KEY_COLUMNS, "count"], live)
    upsert = upsert.on_conflict_do_update(
        index_elements=["retained", *KEY_COLUMNS], set_={"count": TABLE.c.count + upsert.excluded.count}
    )
    connection.execute(upsert)
    connection.execute(delete(TABLE).where(TABLE.c.retained == sql_false(), TABLE.c.run_id == run_id))
    return kept


def _dialect_insert(connection: Connection):
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert


def _questions_of(measures: Sequence[ResponseMeasure], connection: Connection, run_ids: list[int] | None) -> set[str]:
    """The answers a measure's outcome and groups read: its questions, its filters', and the context questions."""
    wanted = {question for measure in measures for question in measure.questions}
    wanted |= {question for measure in measures for question, _ in measure.filters}
    versions = _Versions(connection)
    query = select(SurveyRun.questionnaire_version_id).distinct()
    if run_ids is not None:
        query = query.where(SurveyRun.id.in_(run_ids))
    for (version_id,) in connection.execute(query):
        wanted |= set(versions.counting(version_id).groups)
    return wanted


# Counting again -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Rebuilt:
    responses: int  # responses read
    measures: list[str]  # the measures now counted per response
    everything: bool


def rebuild(
    connection: Connection,
    measures: MeasureSet | None,
    library: Mapping[str, Questionnaire],
    everything: bool = False,
    progress=None,
) -> Rebuilt:
    """Count the responses still held again, in the transaction begun, by the measures file's definitions.

    Without ``everything`` only the per-measure counts are made again (what a
    change to the measures file changes); with it, every count of the
    responses and equality monitoring answers still held (the migration that
    made the table does this). ``measures`` None (a measures file with
    problems) counts no measure per response. Counts retention kept are left
    as they are: their responses are gone. ``progress`` is called with the
    responses read so far.
    """
    if connection.dialect.name == "postgresql":
        # Waits for writes of counts in progress, and holds new ones until this commits.
        connection.exec_driver_sql("LOCK TABLE counted_measure IN EXCLUSIVE MODE")
    wanted = whole_response_measures(measures, library) if measures is not None else []
    connection.execute(delete(CountedMeasure.__table__))
    if wanted:
        now = utcnow()
        connection.execute(
            insert(CountedMeasure.__table__),
            [
                {
                    "measure_key": measure.key,
                    "definition_hash": measure.definition_hash,
                    "definition": _stored_definition(measure, measures, library),
                    "counted_at": now,
                }
                for measure in wanted
            ],
        )
    live = TABLE.c.retained == sql_false()
    if everything:
        connection.execute(delete(TABLE).where(live))
        connection.execute(
            insert(TABLE).from_select(
                ["retained", *KEY_COLUMNS, "count"],
                select(
                    sql_false(),
                    EqualityMonitoring.run_id,
                    literal(EVERYONE),
                    EqualityAnswer.question_key,
                    EqualityAnswer.value,
                    literal(""),
                    EqualityMonitoring.submitted_month,
                    func.count(),
                )
                .join(EqualityAnswer, EqualityAnswer.monitoring_id == EqualityMonitoring.id)
                .group_by(
                    EqualityMonitoring.run_id,
                    EqualityAnswer.question_key,
                    EqualityAnswer.value,
                    EqualityMonitoring.submitted_month,
                ),
            )
        )
    else:
        connection.execute(delete(TABLE).where(live, TABLE.c.question_key.startswith(MEASURE_PREFIX, autoescape=True)))
    read = 0
    if everything or wanted:
        tally = Tally()
        where = [] if everything else [_runs_of_any(wanted)]
        questions = None if everything else _questions_of(wanted, connection, None)
        read = tally_responses(
            connection,
            tally,
            where,
            wanted,
            measures_only=not everything,
            questions=questions,
            flush_at=HELD_COUNTS,
            progress=progress,
        )
        tally.write(connection)
    return Rebuilt(read, [measure.key for measure in wanted], everything)


def _runs_of_any(measures: Sequence[ResponseMeasure]):
    """The responses to any questionnaire these measures count."""
    keys = sorted({key for measure in measures for key in measure.questionnaires})
    return Response.questionnaire_version_id.in_(
        select(QuestionnaireVersion.id).where(QuestionnaireVersion.key.in_(keys))
    )


def _stored_definition(measure: ResponseMeasure, measures: MeasureSet, library) -> dict:
    found = next(item for item in measures.measures if item.key == measure.key)
    return definition(found, library)


# For the app and its commands ----------------------------------------------------------------


def staleness(measures: MeasureSet) -> Staleness:
    """How the stored per-response counts stand against these measures (the measures file's)."""
    from ..extensions import db
    from .questionnaires import library

    return stale(db.session.connection(), measures, library().questionnaires)


def rebuild_held(measures: MeasureSet, everything: bool = False, progress=None) -> Rebuilt:
    """``rebuild`` in a write transaction of its own, committed."""
    from ..database import begin_write
    from ..extensions import db
    from .questionnaires import library

    begin_write()
    try:
        rebuilt = rebuild(db.session.connection(), measures, library().questionnaires, everything, progress)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return rebuilt


def warn_if_stale(app) -> None:
    """At start-up: log a warning when the per-response counts were made by other definitions than the measures
    file's, saying what to run. Says nothing when that cannot be known (no database yet, a measures file with
    problems, which ``measures check`` reports)."""
    import logging

    from ..extensions import db
    from .measures import measure_set
    from .questionnaires import library

    with app.app_context():
        try:
            measures = measure_set()
            with db.engine.connect() as connection:
                found = stale(connection, measures, library().questionnaires)
        except Exception:  # noqa: BLE001 - a warning at start-up must never stop the app starting
            return
    if not found.current:
        logging.getLogger(__name__).warning("%s", found.message())
