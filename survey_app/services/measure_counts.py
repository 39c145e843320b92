"""The database as the counts that ``analysis`` works on: positives and bases per measure, run and month.

Everything is counted with SQL GROUP BY in the database; only the counts
come back, a few rows per run, month and answer, so the number of responses
never changes how much is held in memory. Most measures share one query: the
answers to every measured question, counted by run, month, question and
answer. A measure that needs whole responses (a composite, a question with
several answers, a filter on a context answer) has a query of its own.

Runs whose responses have been deleted at the end of their retention period
are counted from ``retained_count``: the answer counts it keeps serve the
simple measures and single filters, and the counts it keeps per measure
(question key ``@`` and the measure's key) serve the rest.

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
from sqlalchemy import and_, case, distinct, exists, func, or_, select
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
from questionnaires import Questionnaire, QuestionType

from ..extensions import db
from ..models import Access, Answer, Invitation, QuestionnaireVersion, Response, RetainedCount, SurveyRun, Wave
from .uk_time import end_of_uk_day, month_start, uk_date, uk_month

# The question key under which retention keeps a measure's own counts.
MEASURE_PREFIX = "@"
POSITIVE, BASE = "positive", "base"
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
    """Whether a measure cannot be worked out again from answer counts once the responses are deleted."""
    source = measure.source
    return isinstance(source, CompositeSource) or bool(source.filters) or _has_several_answers(source, library)


def _has_several_answers(source: SurveySource, library: dict[str, Questionnaire]) -> bool:
    for key in source.questionnaires:
        questionnaire = library.get(key)
        question = questionnaire.question(source.question) if questionnaire else None
        if question is not None and question.type is QuestionType.MULTIPLE_CHOICE:
            return True
    return False


def buckets(
    measures: Sequence[Measure],
    runs: dict[int, RunInfo],
    library: dict[str, Questionnaire],
    until: date | None,
    by: str | None = None,
    retained: bool = True,
) -> pd.DataFrame:
    """Positives and bases (BUCKET_COLUMNS) per measure, run, UK month and group, up to the end of ``until``;
    with ``retained``, the counts kept for runs whose responses were deleted too."""
    before = end_of_uk_day(until) if until is not None else None
    frames = []
    shared = [
        measure
        for measure in measures
        if isinstance(measure.source, SurveySource)
        and not measure.source.filters
        and not _has_several_answers(measure.source, library)
    ]
    frames.append(_shared_buckets(shared, runs, before, by))
    for measure in measures:
        if measure in shared:
            continue
        run_ids = _runs_of(measure, runs)
        if not run_ids:
            continue
        if isinstance(measure.source, CompositeSource):
            frames.append(_composite_buckets(measure, run_ids, before, by))
        else:
            several = _has_several_answers(measure.source, library)
            frames.append(_response_buckets(measure, run_ids, before, by, several))
    if retained:
        frames.append(_retained_buckets(measures, runs, by))
    frames = [frame for frame in frames if not frame.empty]
    if not frames:
        return pd.DataFrame(columns=BUCKET_COLUMNS)
    combined = pd.concat(frames, ignore_index=True)
    return combined.groupby(["measure", "run_id", "month", "group"], as_index=False)[["positives", "n"]].sum()


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


def _shared_buckets(measures: list[Measure], runs: dict[int, RunInfo], before, by: str | None) -> pd.DataFrame:
    """One GROUP BY for every measure that counts one answer of one question: by run, month, question and answer."""
    # Each set of runs with only the questions measured in it: a question of
    # the same key in a questionnaire that does not measure it is not read.
    questions_by_runs: dict[frozenset[int], set[str]] = defaultdict(set)
    for measure in measures:
        run_ids = frozenset(_runs_of(measure, runs))
        if run_ids:
            questions_by_runs[run_ids].add(measure.source.question)
    if not questions_by_runs:
        return pd.DataFrame(columns=BUCKET_COLUMNS)
    wanted = or_(
        *(
            and_(Answer.run_id.in_(sorted(run_ids)), Answer.question_key.in_(sorted(questions)))
            for run_ids, questions in questions_by_runs.items()
        )
    )
    month = uk_month(Answer.submitted_at)
    query = select(Answer.run_id, month.label("month"), Answer.question_key, Answer.value, func.count().label("count"))
    query, group = _group_join(query, Answer.response_id, by)
    query = query.where(wanted, *_sent_before(Answer, before)).group_by(
        Answer.run_id, month, Answer.question_key, Answer.value, *([group] if group is not None else [])
    )
    counted = _frame(query, group, ["run_id", "month", "question_key", "value", "count"])
    return _answer_counts_to_buckets(measures, runs, counted)


def _answer_counts_to_buckets(measures: list[Measure], runs: dict[int, RunInfo], counted: pd.DataFrame) -> pd.DataFrame:
    """Positives and bases of each measure from counts of single answers (run, month, question, value, count,
    group)."""
    if counted.empty:
        return pd.DataFrame(columns=BUCKET_COLUMNS)
    counted = counted.assign(group=counted["group"].where(counted["group"] != DONT_KNOW, NOT_STATED))
    frames = []
    for measure in measures:
        source = measure.source
        mine = counted[counted["run_id"].isin(_runs_of(measure, runs)) & (counted["question_key"] == source.question)]
        if mine.empty:
            continue
        mine = mine.assign(
            positives=mine["count"].where(mine["value"].isin(source.positive), 0),
            n=mine["count"].where(~mine["value"].isin(source.left_out), 0),
        )
        totals = mine.groupby(["run_id", "month", "group"], as_index=False)[["positives", "n"]].sum()
        frames.append(totals.assign(measure=measure.key))
    return pd.concat(frames, ignore_index=True)[BUCKET_COLUMNS] if frames else pd.DataFrame(columns=BUCKET_COLUMNS)


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


def _retained_buckets(measures: Sequence[Measure], runs: dict[int, RunInfo], by: str | None) -> pd.DataFrame:
    """The same counts, for runs whose responses were deleted at the end of their retention period."""
    run_ids = sorted({run_id for measure in measures for run_id in _runs_of(measure, runs)})
    if not run_ids:
        return pd.DataFrame(columns=BUCKET_COLUMNS)
    rows = db.session.execute(
        select(
            RetainedCount.run_id,
            RetainedCount.month,
            RetainedCount.question_key,
            RetainedCount.value,
            RetainedCount.group_key,
            RetainedCount.group_value,
            RetainedCount.count,
        ).where(RetainedCount.run_id.in_(run_ids), RetainedCount.question_key != "")
    ).all()
    if not rows:
        return pd.DataFrame(columns=BUCKET_COLUMNS)
    kept = pd.DataFrame(rows, columns=["run_id", "month", "question_key", "value", "group_key", "group_value", "count"])
    kept["month"] = kept["month"].map(lambda day: f"{day.year}-{day.month:02d}")
    frames = [_retained_measure_counts(measures, runs, kept, by)]
    single = [measure for measure in measures if isinstance(measure.source, SurveySource)]
    for measure in single:
        if (kept["question_key"] == MEASURE_PREFIX + measure.key).any():
            continue
        source = measure.source
        rule = source.filters[0] if len(source.filters) == 1 else None
        if len(source.filters) > 1:
            continue
        wanted_group = rule.question if rule else (by or "")
        mine = kept[
            kept["run_id"].isin(_runs_of(measure, runs))
            & (kept["question_key"] == source.question)
            & (kept["group_key"] == wanted_group)
        ]
        if rule:
            # A filter and a breakdown together need whole responses, which are gone.
            if by is not None:
                continue
            mine = mine[mine["group_value"].isin(rule.any_of)].assign(group_value=EVERYONE)
        frames.append(
            _answer_counts_to_buckets(
                [measure],
                runs,
                mine.rename(columns={"group_value": "group"})[
                    ["run_id", "month", "question_key", "value", "count", "group"]
                ],
            )
        )
    frames = [frame for frame in frames if not frame.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=BUCKET_COLUMNS)


def _retained_measure_counts(
    measures: Sequence[Measure], runs: dict[int, RunInfo], kept: pd.DataFrame, by: str | None
) -> pd.DataFrame:
    keys = {MEASURE_PREFIX + measure.key: measure.key for measure in measures}
    mine = kept[kept["question_key"].isin(keys) & (kept["group_key"] == (by or ""))]
    if mine.empty:
        return pd.DataFrame(columns=BUCKET_COLUMNS)
    wide = (
        mine.pivot_table(
            index=["question_key", "run_id", "month", "group_value"], columns="value", values="count", aggfunc="sum"
        )
        .reindex(columns=[POSITIVE, BASE])
        .fillna(0)
        .reset_index()
    )
    return pd.DataFrame(
        {
            "measure": wide["question_key"].map(keys),
            "run_id": wide["run_id"],
            "month": wide["month"],
            "group": wide["group_value"].where(wide["group_value"] != DONT_KNOW, NOT_STATED),
            "positives": wide[POSITIVE].astype(int),
            "n": wide[BASE].astype(int),
        }
    )


def response_buckets(run_ids: Iterable[int], until: date) -> pd.DataFrame:
    """Responses per run and UK month, those deleted by retention included."""
    run_ids = sorted(run_ids)
    if not run_ids:
        return pd.DataFrame(columns=["run_id", "month", "responses"])
    month = uk_month(Response.submitted_at)
    live = db.session.execute(
        select(Response.run_id, month, func.count())
        .where(Response.run_id.in_(run_ids), Response.submitted_at < end_of_uk_day(until))
        .group_by(Response.run_id, month)
    ).all()
    kept = db.session.execute(
        select(RetainedCount.run_id, RetainedCount.month, func.sum(RetainedCount.count))
        .where(
            RetainedCount.run_id.in_(run_ids),
            RetainedCount.question_key == "",
            RetainedCount.value == "",
            RetainedCount.group_key == "",
        )
        .group_by(RetainedCount.run_id, RetainedCount.month)
    ).all()
    rows = [*live, *((run_id, f"{day.year}-{day.month:02d}", count) for run_id, day, count in kept)]
    frame = pd.DataFrame(rows, columns=["run_id", "month", "responses"])
    return frame.groupby(["run_id", "month"], as_index=False)["responses"].sum()


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
    baselines."""
    chosen = survey_measures(measures)
    runs = runs_for(key for measure in chosen for key in measure.source.questionnaires)
    counted = buckets(chosen, runs, library, as_of, by)
    responses = response_buckets(list(runs), as_of)
    counts = to_periods(counted, responses, runs, kind, chosen)
    # The baseline is always the whole first wave, whatever the breakdown.
    everyone = counted if by is None else buckets(chosen, runs, library, as_of)
    return MeasureCounts(counts, first_wave_baselines(everyone, runs, chosen))
