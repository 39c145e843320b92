"""The database as the counts that ``analysis`` works on: positives and bases per measure, run and month.

Everything is read from ``answer_count`` (``services.answer_counts``), which
holds what a GROUP BY of the answers would give and is kept up to date with
every response stored or removed: by run, UK month, question, answer and
context group, and, for a measure that needs whole responses (a composite, a
question with several answers, a filter on a context answer), the outcome of
each response. So the report reads a few rows per run, month, question and
answer, and neither its time nor its memory grows with the number of
responses. The counts retention kept, for runs whose responses it deleted,
are rows of the same table.

Two cases read the responses themselves, each bounded by one month:

- a report as of a day before the end of its month: the table counts whole
  months, so the responses of the rest of that month (none, as of today)
  are counted again and taken away;
- a measure whose per-response counts were made by another definition than
  the measures file's, or never made (``answer_counts.stale``; ``flask
  measures rebuild-counts`` makes them again): it is counted by GROUP BY over
  the answers still held, as before there was a table, and from the counts
  retention kept for the rest.

The counts are then put into reporting periods: financial-year quarters,
months or calendar years by the UK month each response was sent in, or
waves by the run it answered.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import and_, case, distinct, exists, false, func, select, true
from sqlalchemy.orm import aliased

from analysis import periods
from analysis.breakdowns import NOT_STATED
from analysis.measures import (
    DONT_KNOW,
    CompositeSource,
    Filter,
    Measure,
    MeasureSet,
    PeriodKind,
    SurveySource,
)
from questionnaires import Questionnaire

from ..extensions import db
from ..models import Access, Answer, AnswerCount, Invitation, QuestionnaireVersion, Response, SurveyRun, Wave
from . import answer_counts
from .answer_counts import BASE, MEASURE_PREFIX, POSITIVE
from .uk_time import end_of_uk_day, month_start, uk_date, uk_month

EVERYONE = ""
BUCKET_COLUMNS = ["measure", "run_id", "month", "group", "positives", "n"]
COUNT_COLUMNS = [
    "measure",
    "period",
    "period_label",
    "period_start",
    "period_end",
    "group",
    "positives",
    "n",
    "responses",
    "eligible",
]
BASELINE_COLUMNS = ["measure", "period", "period_end", "positives", "n"]
# The counts read from answer_count: "month" as "YYYY-MM".
ROW_COLUMNS = ["retained", "run_id", "group_key", "question_key", "value", "group_value", "month", "count"]


@dataclass(frozen=True)
class RunInfo:
    id: int
    title: str
    questionnaire: str
    audience: str
    wave: str | None
    wave_is_baseline: bool
    opens_on: date
    closes_on: date
    # Invitations sent for an invitation-only run, or the expected number eligible for an open one.
    eligible: int | None


@dataclass(frozen=True)
class MeasureCounts:
    counts: pd.DataFrame  # COUNT_COLUMNS
    baselines: pd.DataFrame  # BASELINE_COLUMNS: the first wave of measures whose baseline is it


def survey_measures(measures: MeasureSet) -> list[Measure]:
    return [measure for measure in measures.measures if isinstance(measure.source, SurveySource | CompositeSource)]


def runs_for(questionnaire_keys: Iterable[str]) -> dict[int, RunInfo]:
    """Every run of these questionnaires (by key, so every version), with its wave and eligible number."""
    keys = sorted(set(questionnaire_keys))
    if not keys:
        return {}
    invitations = dict(db.session.execute(select(Invitation.run_id, func.count()).group_by(Invitation.run_id)).all())
    rows = db.session.execute(
        select(SurveyRun, QuestionnaireVersion.key, QuestionnaireVersion.audience, Wave.name, Wave.is_baseline)
        .join(QuestionnaireVersion, SurveyRun.questionnaire_version_id == QuestionnaireVersion.id)
        .outerjoin(Wave, SurveyRun.wave_id == Wave.id)
        .where(QuestionnaireVersion.key.in_(keys))
    ).all()
    runs = {}
    for run, key, audience, wave_name, is_baseline in rows:
        invited = invitations.get(run.id, 0)
        eligible = (invited or None) if Access(run.access).by_invitation else run.expected_eligible
        runs[run.id] = RunInfo(
            id=run.id,
            title=run.title,
            questionnaire=key,
            audience=audience,
            wave=wave_name,
            wave_is_baseline=bool(is_baseline),
            opens_on=uk_date(run.opens_at),
            # The last UK day it was open: a run closing at midnight is not open on the day that starts.
            closes_on=uk_date(run.closes_at - timedelta(microseconds=1)),
            eligible=eligible,
        )
    return runs


def _runs_of(measure: Measure, runs: dict[int, RunInfo]) -> list[int]:
    source = measure.source
    return sorted(
        run.id
        for run in runs.values()
        if run.questionnaire in source.questionnaires and (source.audience is None or run.audience == source.audience)
    )


def needs_whole_responses(measure: Measure, library: dict[str, Questionnaire]) -> bool:
    """Whether a measure cannot be worked out from answer counts, and so is counted per response."""
    return answer_counts.needs_whole_responses(measure, library)


# Reading the counts ------------------------------------------------------------------------


def read_counts(
    run_ids: Iterable[int], question_keys: Iterable[str], group_keys: Iterable[str], until: date | None
) -> pd.DataFrame:
    """The rows of ``answer_count`` (ROW_COLUMNS) for these runs, questions and groups, held and retained, up to
    the end of the UK day ``until``.

    The table counts whole months: the responses sent after ``until`` in its
    month, if any, are counted again from the answers and taken away (none,
    for a report as of today or the end of a month).
    """
    run_ids, question_keys, group_keys = sorted(set(run_ids)), sorted(set(question_keys)), sorted(set(group_keys))
    if not run_ids or not question_keys or not group_keys:
        return pd.DataFrame(columns=ROW_COLUMNS)
    query = select(
        AnswerCount.retained,
        AnswerCount.run_id,
        AnswerCount.group_key,
        AnswerCount.question_key,
        AnswerCount.value,
        AnswerCount.group_value,
        AnswerCount.month,
        AnswerCount.count,
    ).where(
        # Every column of the key's start named, so that both databases read the key's index in ranges.
        AnswerCount.retained.in_([false(), true()]),
        AnswerCount.run_id.in_(run_ids),
        AnswerCount.group_key.in_(group_keys),
        AnswerCount.question_key.in_(question_keys),
    )
    if until is not None:
        query = query.where(AnswerCount.month <= until.replace(day=1))
    frame = pd.DataFrame(db.session.execute(query).all(), columns=ROW_COLUMNS)
    later = _sent_later_in_month(run_ids, until)
    if not later.empty:
        later = later[later["question_key"].isin(question_keys) & later["group_key"].isin(group_keys)]
        frame = pd.concat([frame, later], ignore_index=True)
        keys = [column for column in ROW_COLUMNS if column != "count"]
        frame = frame.groupby(keys, as_index=False)["count"].sum()
        frame = frame[frame["count"] != 0]
    if frame.empty:
        return pd.DataFrame(columns=ROW_COLUMNS)
    frame["retained"] = frame["retained"].astype(bool)
    names = {day: f"{day.year}-{day.month:02d}" for day in frame["month"].unique()}
    frame["month"] = frame["month"].map(names)
    return frame.reset_index(drop=True)


def _sent_later_in_month(run_ids: list[int], until: date | None) -> pd.DataFrame:
    """The counts, negative, of the responses sent after the UK day ``until`` and before its month ends."""
    if until is None:
        return pd.DataFrame(columns=ROW_COLUMNS)
    next_month = (until.replace(day=28) + timedelta(days=4)).replace(day=1)
    starts, ends = end_of_uk_day(until), end_of_uk_day(next_month - timedelta(days=1))
    if starts >= ends:
        return pd.DataFrame(columns=ROW_COLUMNS)
    connection = db.session.connection()
    tally = answer_counts.Tally()
    answer_counts.tally_responses(
        connection,
        tally,
        [Response.run_id.in_(run_ids), Response.submitted_at >= starts, Response.submitted_at < ends],
        answer_counts.counted_measures(connection, for_writing=False),
        sign=-1,
    )
    rows = [(False, *key, count) for key, count in tally.counts.items()]
    return pd.DataFrame(rows, columns=ROW_COLUMNS)


def _in_groups(rows: pd.DataFrame, by: str | None) -> pd.DataFrame:
    """The rows of one grouping, with a ``group`` column: everyone (""), or the answers to ``by``.

    A run whose questionnaire does not ask ``by`` has no rows for it: its
    responses are all people who did not say. "Don't know" ("Prefer not to
    say", "Not sure") is not stated too.
    """
    if by is None:
        everyone = rows[rows["group_key"] == EVERYONE]
        return everyone.assign(group=EVERYONE)
    grouped = rows[rows["group_key"] == by]
    asked = set(grouped["run_id"].unique())
    unasked = rows[(rows["group_key"] == EVERYONE) & ~rows["run_id"].isin(asked)]
    grouped = grouped.assign(group=grouped["group_value"].where(grouped["group_value"] != DONT_KNOW, NOT_STATED))
    return pd.concat([grouped, unasked.assign(group=NOT_STATED)], ignore_index=True)


def _answer_counts_to_buckets(measure: Measure, runs: dict[int, RunInfo], rows: pd.DataFrame) -> pd.DataFrame:
    """Positives and bases of a measure of one answer of one question, from its answers' counts."""
    source: SurveySource = measure.source
    mine = rows[rows["run_id"].isin(_runs_of(measure, runs)) & (rows["question_key"] == source.question)]
    if mine.empty:
        return pd.DataFrame(columns=BUCKET_COLUMNS)
    mine = mine.assign(
        positives=mine["count"].where(mine["value"].isin(source.positive), 0),
        n=mine["count"].where(~mine["value"].isin(source.left_out), 0),
    )
    totals = mine.groupby(["run_id", "month", "group"], as_index=False)[["positives", "n"]].sum()
    return totals.assign(measure=measure.key)[BUCKET_COLUMNS]


def _outcome_counts_to_buckets(measure: Measure, runs: dict[int, RunInfo], rows: pd.DataFrame) -> pd.DataFrame:
    """Positives and bases of a measure counted per response: each month and group it read a response in."""
    mine = rows[rows["run_id"].isin(_runs_of(measure, runs)) & (rows["question_key"] == MEASURE_PREFIX + measure.key)]
    if mine.empty:
        return pd.DataFrame(columns=BUCKET_COLUMNS)
    mine = mine.assign(
        positives=mine["count"].where(mine["value"] == POSITIVE, 0),
        n=mine["count"].where(mine["value"] == BASE, 0),
    )
    totals = mine.groupby(["run_id", "month", "group"], as_index=False)[["positives", "n"]].sum()
    return totals.assign(measure=measure.key)[BUCKET_COLUMNS]


@dataclass(frozen=True)
class _Plan:
    """How each measure is counted: from answer counts, from its per-response counts, or from the answers."""

    simple: list[Measure]
    counted: list[Measure]
    from_answers: list[Measure]

    def question_keys(self) -> set[str]:
        keys = {measure.source.question for measure in self.simple}
        return keys | {MEASURE_PREFIX + measure.key for measure in [*self.counted, *self.from_answers]}


def _plan(measures: Sequence[Measure], library: dict[str, Questionnaire]) -> _Plan:
    stored = answer_counts.stored_hashes(db.session.connection())
    simple, counted, from_answers = [], [], []
    for measure in measures:
        if not needs_whole_responses(measure, library):
            simple.append(measure)
            continue
        digest = answer_counts.definition_hash(answer_counts.definition(measure, library))
        (counted if stored.get(measure.key) == digest else from_answers).append(measure)
    return _Plan(simple, counted, from_answers)


def _buckets(
    plan: _Plan,
    runs: dict[int, RunInfo],
    library: dict[str, Questionnaire],
    rows: pd.DataFrame,
    until: date | None,
    by: str | None,
) -> pd.DataFrame:
    grouped = _in_groups(rows, by)
    frames = [_answer_counts_to_buckets(measure, runs, grouped) for measure in plan.simple]
    frames += [_outcome_counts_to_buckets(measure, runs, grouped) for measure in plan.counted]
    if plan.from_answers:
        before = end_of_uk_day(until) if until is not None else None
        kept = grouped[grouped["retained"]]
        for measure in plan.from_answers:
            run_ids = _runs_of(measure, runs)
            if not run_ids:
                continue
            if isinstance(measure.source, CompositeSource):
                frames.append(_composite_buckets(measure, run_ids, before, by))
            else:
                several = answer_counts.several_answers(measure.source, library)
                frames.append(_response_buckets(measure, run_ids, before, by, several))
            frames.append(_outcome_counts_to_buckets(measure, runs, kept))
    frames = [frame for frame in frames if not frame.empty]
    if not frames:
        return pd.DataFrame(columns=BUCKET_COLUMNS)
    combined = pd.concat(frames, ignore_index=True)
    summed = combined.groupby(["measure", "run_id", "month", "group"], as_index=False)[["positives", "n"]].sum()
    return summed.astype({"positives": "int64", "n": "int64"})


def buckets(
    measures: Sequence[Measure],
    runs: dict[int, RunInfo],
    library: dict[str, Questionnaire],
    until: date | None,
    by: str | None = None,
) -> pd.DataFrame:
    """Positives and bases (BUCKET_COLUMNS) per measure, run, UK month and group, up to the end of ``until``,
    responses deleted by retention included."""
    plan = _plan(measures, library)
    run_ids = {run_id for measure in measures for run_id in _runs_of(measure, runs)}
    rows = read_counts(run_ids, plan.question_keys(), {EVERYONE, by or EVERYONE}, until)
    return _buckets(plan, runs, library, rows, until, by)


# Counted from the answers: a measure whose per-response counts are not current -------------------


def _group_join(query, response_id, by: str | None):
    """Add the breakdown's group to a query: the context answer of the response, or "" when not given.

    Returns the query and the group expression to GROUP BY (None without a breakdown: then every count is
    for everyone).
    """
    if by is None:
        return query, None
    given = aliased(Answer)
    query = query.outerjoin(given, and_(given.response_id == response_id, given.question_key == by))
    group = func.coalesce(given.value, NOT_STATED)
    return query.add_columns(group.label("group")), group


def _frame(query, group, columns: list[str]) -> pd.DataFrame:
    """The rows of a counting query, with the group column "" (everyone) when it has no breakdown."""
    rows = db.session.execute(query).all()
    if group is None:
        return pd.DataFrame(rows, columns=columns).assign(group=EVERYONE)
    return pd.DataFrame(rows, columns=[*columns, "group"])


def _sent_before(answer, before) -> list:
    return [] if before is None else [answer.submitted_at < before]


def _filters(answer, filters: Sequence[Filter]) -> list:
    given = aliased(Answer)
    return [
        exists(
            select(given.id).where(
                given.response_id == answer.response_id,
                given.question_key == rule.question,
                given.value.in_(rule.any_of),
            )
        )
        for rule in filters
    ]


def _response_buckets(measure: Measure, run_ids: list[int], before, by: str | None, several: bool) -> pd.DataFrame:
    """A measure on one question, counting responses: filtered by context answers, or with several answers each."""
    source: SurveySource = measure.source
    answer = aliased(Answer)
    positive = answer.value.in_(source.positive)
    counted = answer.value.not_in(source.left_out)
    if several:
        # One response may choose several positive options: count each response once.
        positives = func.count(distinct(case((positive, answer.response_id))))
        n = func.count(distinct(case((counted, answer.response_id))))
    else:
        positives = func.coalesce(func.sum(case((positive, 1), else_=0)), 0)
        n = func.coalesce(func.sum(case((counted, 1), else_=0)), 0)
    month = uk_month(answer.submitted_at)
    query = select(answer.run_id, month.label("month"), positives.label("positives"), n.label("n"))
    query, group = _group_join(query, answer.response_id, by)
    query = query.where(
        answer.run_id.in_(run_ids),
        answer.question_key == source.question,
        *_sent_before(answer, before),
        *_filters(answer, source.filters),
    ).group_by(answer.run_id, month, *([group] if group is not None else []))
    return _tidy(_frame(query, group, ["run_id", "month", "positives", "n"]), measure)


def _composite_buckets(measure: Measure, run_ids: list[int], before, by: str | None) -> pd.DataFrame:
    """Each response's positive and applicable questions counted in the database, then the responses reaching the
    share."""
    source: CompositeSource = measure.source
    answer = aliased(Answer)
    per_response = (
        select(
            answer.response_id,
            answer.run_id,
            func.min(answer.submitted_at).label("submitted_at"),
            func.sum(case((answer.value.in_(source.positive), 1), else_=0)).label("positive"),
            func.sum(case((answer.value.not_in(source.left_out), 1), else_=0)).label("applicable"),
        )
        .where(
            answer.run_id.in_(run_ids),
            answer.question_key.in_(source.questions),
            *_sent_before(answer, before),
            *_filters(answer, source.filters),
        )
        .group_by(answer.response_id, answer.run_id)
        .subquery()
    )
    counted = per_response.c.applicable >= source.minimum_applicable
    reached = and_(counted, per_response.c.positive >= source.at_least * per_response.c.applicable)
    month = uk_month(per_response.c.submitted_at)
    query = select(
        per_response.c.run_id,
        month.label("month"),
        func.sum(case((reached, 1), else_=0)).label("positives"),
        func.sum(case((counted, 1), else_=0)).label("n"),
    )
    query, group = _group_join(query, per_response.c.response_id, by)
    query = query.group_by(per_response.c.run_id, month, *([group] if group is not None else []))
    return _tidy(_frame(query, group, ["run_id", "month", "positives", "n"]), measure)


def _tidy(frame: pd.DataFrame, measure: Measure) -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame(columns=BUCKET_COLUMNS)
    frame = frame.assign(
        measure=measure.key,
        group=frame["group"].where(frame["group"] != DONT_KNOW, NOT_STATED),
        positives=frame["positives"].astype(int),
        n=frame["n"].astype(int),
    )
    return frame[BUCKET_COLUMNS]


# Responses --------------------------------------------------------------------------------


def _responses_of(rows: pd.DataFrame) -> pd.DataFrame:
    """Responses per run and UK month, from the responses' own counts among ``rows``."""
    mine = rows[(rows["question_key"] == "") & (rows["value"] == "") & (rows["group_key"] == EVERYONE)]
    if mine.empty:
        return pd.DataFrame(columns=["run_id", "month", "responses"])
    summed = mine.groupby(["run_id", "month"], as_index=False)["count"].sum()
    return summed.rename(columns={"count": "responses"})


def response_buckets(run_ids: Iterable[int], until: date) -> pd.DataFrame:
    """Responses per run and UK month, those deleted by retention included."""
    return _responses_of(read_counts(run_ids, [""], [EVERYONE], until))


def wave_periods(runs: dict[int, RunInfo]) -> dict[int, periods.Period]:
    """Each run's wave as a period, from its first run's opening to its last run's closing; a run in no wave is a
    period of its own."""
    members: dict[str, list[RunInfo]] = defaultdict(list)
    for run in runs.values():
        members[run.wave or f"{run.title} (in no wave)"].append(run)
    by_run = {}
    for name, wave_runs in members.items():
        period = periods.wave(name, min(run.opens_on for run in wave_runs), max(run.closes_on for run in wave_runs))
        for run in wave_runs:
            by_run[run.id] = period
    return by_run


def to_periods(
    counted: pd.DataFrame,
    responses: pd.DataFrame,
    runs: dict[int, RunInfo],
    kind: PeriodKind,
    measures: Sequence[Measure],
) -> pd.DataFrame:
    """Buckets summed into reporting periods (COUNT_COLUMNS), with each period's responses and eligible number."""
    if counted.empty:
        return pd.DataFrame(columns=COUNT_COLUMNS)
    kind = PeriodKind(kind)
    waves = wave_periods(runs) if kind is PeriodKind.WAVE else {}
    month_periods: dict[str, periods.Period] = {}

    def period_of(run_id: int, month: str) -> periods.Period:
        if kind is PeriodKind.WAVE:
            return waves[run_id]
        if month not in month_periods:
            month_periods[month] = periods.period_of(month_start(month), kind)
        return month_periods[month]

    located = [period_of(run_id, month) for run_id, month in zip(counted["run_id"], counted["month"], strict=True)]
    counted = counted.assign(period=[period.key for period in located])
    summed = counted.groupby(["measure", "period", "group"], as_index=False)[["positives", "n"]].sum()
    known = {period.key: period for period in located}
    summed["period_label"] = summed["period"].map(lambda key: known[key].label)
    summed["period_start"] = summed["period"].map(lambda key: known[key].start)
    summed["period_end"] = summed["period"].map(lambda key: known[key].end)
    responded = _period_responses(responses, runs, measures, period_of, kind)
    summed = summed.merge(responded, on=["measure", "period"], how="left")
    return summed[COUNT_COLUMNS]


def _period_responses(responses: pd.DataFrame, runs, measures: Sequence[Measure], period_of, kind) -> pd.DataFrame:
    """Responses to each measure's questionnaires per period; the eligible number only for waves, whose runs each
    know theirs (a calendar period can hold part of a run)."""
    rows = []
    for measure in measures:
        mine = set(_runs_of(measure, runs))
        totals: dict[str, int] = defaultdict(int)
        members: dict[str, set[int]] = defaultdict(set)
        for run_id, month, count in responses.itertuples(index=False):
            if run_id in mine:
                key = period_of(run_id, month).key
                totals[key] += int(count)
                members[key].add(run_id)
        for key, total in totals.items():
            eligible = None
            if kind is PeriodKind.WAVE:
                wave_runs = [run_id for run_id in mine if period_of(run_id, "").key == key]
                known = [runs[run_id].eligible for run_id in wave_runs]
                eligible = sum(known) if known and all(value for value in known) else None
            rows.append({"measure": measure.key, "period": key, "responses": total, "eligible": eligible})
    return pd.DataFrame(rows, columns=["measure", "period", "responses", "eligible"])


def first_wave_baselines(counted: pd.DataFrame, runs: dict[int, RunInfo], measures: Sequence[Measure]) -> pd.DataFrame:
    """For measures whose baseline is the first wave: the wave marked as the baseline, or else the earliest wave
    with responses to the measure."""
    if counted.empty:
        return pd.DataFrame(columns=BASELINE_COLUMNS)
    waves = wave_periods(runs)
    everyone = counted[counted["group"] == EVERYONE]
    rows = []
    for measure in measures:
        if measure.baseline is None or not measure.baseline.first_wave:
            continue
        mine = everyone[(everyone["measure"] == measure.key) & (everyone["n"] > 0)]
        in_waves = [run_id for run_id in mine["run_id"].unique() if runs[run_id].wave is not None]
        if not in_waves:
            continue
        marked = [run_id for run_id in in_waves if runs[run_id].wave_is_baseline]
        chosen = min((waves[run_id] for run_id in marked or in_waves), key=lambda period: (period.start, period.key))
        wave_rows = mine[[waves[run_id].key == chosen.key for run_id in mine["run_id"]]]
        rows.append(
            {
                "measure": measure.key,
                "period": chosen.key,
                "period_end": chosen.end,
                "positives": int(wave_rows["positives"].sum()),
                "n": int(wave_rows["n"].sum()),
            }
        )
    return pd.DataFrame(rows, columns=BASELINE_COLUMNS)


def measure_counts(
    measures: MeasureSet,
    library: dict[str, Questionnaire],
    kind: PeriodKind,
    as_of: date,
    by: str | None = None,
) -> MeasureCounts:
    """The survey measures' counts per reporting period (and group, with ``by``), and their first-wave
    baselines: one read of ``answer_count``."""
    chosen = survey_measures(measures)
    runs = runs_for(key for measure in chosen for key in measure.source.questionnaires)
    plan = _plan(chosen, library)
    run_ids = {run_id for measure in chosen for run_id in _runs_of(measure, runs)} | set(runs)
    rows = read_counts(run_ids, plan.question_keys() | {""}, {EVERYONE, by or EVERYONE}, as_of)
    counted = _buckets(plan, runs, library, rows, as_of, by)
    counts = to_periods(counted, _responses_of(rows), runs, kind, chosen)
    # The baseline is always the whole first wave, whatever the breakdown.
    everyone = counted if by is None else _buckets(plan, runs, library, rows, as_of, None)
    return MeasureCounts(counts, first_wave_baselines(everyone, runs, chosen))
