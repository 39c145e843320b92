"""Every figure a board needs, per measure and period, from a tidy table of counts.

``measure_report`` takes counts (one row per measure and period: ``positives``
and ``n`` for a proportion, ``value`` for a count) and the measure
definitions, and returns one row per measure and period with the estimate
and its interval, the change since the previous period and since the
baseline with their tests, the direction of travel, the trajectory and the
gap to it, the status, target assurance, benchmarks and statistical process
control. ``publish`` then applies disclosure control, for anything that
leaves the officer area: every figure worked out from a withheld one is
withheld with it, and the published report says which figures it withheld
(``Report.withheld``), not only by showing them as "c".
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from . import spc, status
from .disclosure import SMALL_COUNT, SUPPRESSED, DisclosureRules, suppress
from .measures import Accumulation, Measure, MeasureSet, StatusRules
from .periods import financial_year_start
from .proportions import Comparison, Interval, against_value, compare, responses_needed, wilson_interval
from .trajectory import expected_at, target_due

COUNT_COLUMNS = ["measure", "period", "period_start", "period_end"]
BASELINE_COLUMNS = ["measure", "period", "period_end", "positives", "n"]

# Every column of the report, in order.
COLUMNS = [
    "measure",
    "reference",
    "title",
    "polarity",
    "unit",
    "period",
    "period_label",
    "period_start",
    "period_end",
    "n",
    "positives",
    "value",
    "percent",
    "ci_low",
    "ci_high",
    "responses",
    "eligible",
    "response_rate",
    "previous_period",
    "change_since_previous",
    "change_since_previous_low",
    "change_since_previous_high",
    "change_since_previous_p",
    "change_since_previous_test",
    "direction_of_travel",
    "baseline",
    "baseline_period",
    "baseline_date",
    "baseline_n",
    "change_since_baseline",
    "change_since_baseline_low",
    "change_since_baseline_high",
    "change_since_baseline_p",
    "change_since_baseline_test",
    "since_baseline",
    "trajectory",
    "gap_to_trajectory",
    "status",
    "target",
    "target_date",
    "target_assurance",
    "responses_needed",
    "benchmarks",
    "spc_chart",
    "spc_centre",
    "spc_lower_limit",
    "spc_upper_limit",
    "spc_rules",
    "spc_signal",
    "spc_assurance",
]
# Figures that are proportions (0 to 1) or differences of proportions.
PROPORTION_COLUMNS = [
    "percent",
    "ci_low",
    "ci_high",
    "response_rate",
    "change_since_previous",
    "change_since_previous_low",
    "change_since_previous_high",
    "baseline",
    "change_since_baseline",
    "change_since_baseline_low",
    "change_since_baseline_high",
    "trajectory",
    "gap_to_trajectory",
    "target",
    "spc_centre",
    "spc_lower_limit",
    "spc_upper_limit",
]
# What is worked out from a row's own estimate: withheld with it.
ESTIMATE_COLUMNS = ["percent", "ci_low", "ci_high", "target_assurance", "responses_needed", "benchmarks"]
# What is worked out from the row's estimate and the previous period's: withheld when either is.
PREVIOUS_COLUMNS = [
    "change_since_previous",
    "change_since_previous_low",
    "change_since_previous_high",
    "change_since_previous_p",
    "change_since_previous_test",
    "direction_of_travel",
]
# What is worked out from the baseline alone: withheld when the baseline is.
FROM_THE_BASELINE = ["baseline", "trajectory"]
# What is worked out from the row's estimate and the baseline: withheld when either is.
BASELINE_CHANGE_COLUMNS = [
    "change_since_baseline",
    "change_since_baseline_low",
    "change_since_baseline_high",
    "change_since_baseline_p",
    "change_since_baseline_test",
    "since_baseline",
    "gap_to_trajectory",
]
# A period's point on the SPC chart; the chart's centre and assurance are the whole chart's.
SPC_POINT_COLUMNS = ["spc_lower_limit", "spc_upper_limit", "spc_rules", "spc_signal"]
SPC_CHART_COLUMNS = ["spc_centre", "spc_assurance"]
# Counts of people or cases, published as whole numbers.
WHOLE_NUMBER_COLUMNS = ["n", "positives", "responses", "eligible", "baseline_n", "responses_needed"]
# Why a published row's counts, and its baseline, are withheld ("" when they are not).
REASON_COLUMNS = ["suppression", "baseline_suppression"]
RESPONSES_WITHHELD = "responses withheld so that a small number left out of the base cannot be worked out"
BENCHMARK_COLUMNS = [
    "measure",
    "period",
    "benchmark",
    "benchmark_value",
    "benchmark_date",
    "source",
    "difference",
    "p_value",
    "comparison",
]


@dataclass(frozen=True)
class Report:
    rows: pd.DataFrame  # COLUMNS, one row per measure and period with data (published: and REASON_COLUMNS)
    benchmarks: pd.DataFrame  # BENCHMARK_COLUMNS, one row per measure, period and benchmark
    without_data: tuple[str, ...]  # the keys of measures with no figures in any period
    # Published only: True where a figure exists but is withheld by disclosure
    # control (shown as "c" in ``rows``), with the index and columns of ``rows``.
    # A figure that does not exist (no previous period) is None in ``rows`` and
    # False here. Empty before disclosure control.
    withheld: pd.DataFrame = field(default_factory=pd.DataFrame)
    # The definitions and rules the report was worked out with; disclosure
    # control works some figures out again from the published ones alone.
    measures: MeasureSet | None = None
    rules: StatusRules | None = None


@dataclass(frozen=True)
class _Baseline:
    value: float
    date: date
    n: int | None
    positives: int | None
    period: str


def _require(data: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [column for column in columns if column not in data.columns]
    if missing:
        raise ValueError(f"The {what} table has no column {', '.join(repr(name) for name in missing)}.")


def _day(value) -> date:
    return value.date() if isinstance(value, pd.Timestamp) else value


def measure_report(
    counts: pd.DataFrame,
    measures: MeasureSet,
    *,
    as_of: date,
    baselines: pd.DataFrame | None = None,
    rules: StatusRules | None = None,
) -> Report:
    """One row per measure and period of ``counts``, in period order, with every figure worked out.

    ``counts`` has the columns measure, period, period_start and period_end,
    with positives and n for proportions or value for counts, and optionally
    period_label, responses and eligible (for the response rate). Periods
    starting after ``as_of`` are left out; the period it falls in is
    reported as it stands so far. ``baselines`` gives, for measures
    whose baseline is the first wave, that wave's counts (measure, period,
    period_end, positives, n).
    """
    rules = rules or measures.rules
    _require(counts, COUNT_COLUMNS, "counts")
    known = {measure.key: measure for measure in measures.measures}
    unknown = sorted(set(counts["measure"]) - set(known))
    if unknown:
        raise ValueError(f"The counts name measures that are not defined: {', '.join(unknown)}.")
    first_waves = _first_wave_baselines(baselines)
    rows: list[dict] = []
    benchmark_rows: list[dict] = []
    with_data = set()
    for measure in measures.measures:
        series = counts[(counts["measure"] == measure.key) & (counts["period_start"].map(_day) <= as_of)]
        if series.empty:
            continue
        series = series.sort_values(["period_end", "period_start"])
        baseline = _baseline(measure, first_waves.get(measure.key))
        measure_rows = _measure_rows(measure, series, baseline, rules)
        if not measure_rows:
            continue
        with_data.add(measure.key)
        _add_spc(measure, measure_rows)
        for row in measure_rows:
            comparisons = _benchmark_comparisons(measure, row, rules)
            benchmark_rows.extend(comparisons)
            row["benchmarks"] = "; ".join(_benchmark_summary(comparison) for comparison in comparisons)
        rows.extend(measure_rows)
    return Report(
        rows=pd.DataFrame(rows, columns=COLUMNS),
        benchmarks=pd.DataFrame(benchmark_rows, columns=BENCHMARK_COLUMNS),
        without_data=tuple(measure.key for measure in measures.measures if measure.key not in with_data),
        measures=measures,
        rules=rules,
    )


def _first_wave_baselines(baselines: pd.DataFrame | None) -> dict[str, dict]:
    if baselines is None or baselines.empty:
        return {}
    _require(baselines, BASELINE_COLUMNS, "baselines")
    return {row["measure"]: row for row in baselines.to_dict("records")}


def _baseline(measure: Measure, first_wave: dict | None) -> _Baseline | None:
    if measure.baseline is None:
        return None
    if measure.baseline.first_wave:
        if first_wave is None or not first_wave["n"]:
            return None
        n, positives = int(first_wave["n"]), int(first_wave["positives"])
        return _Baseline(positives / n, _day(first_wave["period_end"]), n, positives, str(first_wave["period"]))
    given = measure.baseline
    # A known base gives the baseline its own uncertainty; the count is the
    # nearest whole number of responses to the published percentage.
    positives = round(given.value * given.n) if given.n and not measure.is_count else None
    return _Baseline(given.value, given.date, given.n, positives, "")


def _measure_rows(measure: Measure, series: pd.DataFrame, baseline: _Baseline | None, rules: StatusRules) -> list[dict]:
    rows: list[dict] = []
    final_met_run = 0
    for record in series.to_dict("records"):
        row = _estimate(measure, record)
        if row is None:
            continue
        _since_previous(measure, row, _previous(measure, row, rows), rules)
        _since_baseline(measure, row, baseline, rules)
        final_met_run = _status(measure, row, baseline, rules, final_met_run)
        rows.append(row)
    return rows


def _is_cumulative(measure: Measure) -> bool:
    return measure.is_recorded and measure.source.accumulation is Accumulation.CUMULATIVE_YEAR


def _previous(measure: Measure, row: dict, earlier: list[dict]) -> dict | None:
    """The period the row is compared with: the one before, or for a figure
    cumulative over the year, the same period a year before.

    From 1 April to the end of September includes 1 April to the end of
    June, so two periods of one year share their cases, and testing one
    against the other as if they were independent samples would overstate
    any change. The same point in the year before shares none.
    """
    if not earlier:
        return None
    if not _is_cumulative(measure):
        return earlier[-1]
    a_year_before = _a_year_before(row["period_start"])
    return next((other for other in reversed(earlier) if other["period_start"] == a_year_before), None)


def _a_year_before(day: date) -> date:
    return day.replace(year=day.year - 1, day=min(day.day, 28)) if day.month == 2 else day.replace(year=day.year - 1)


def _is_baseline_period(row: dict, baseline: _Baseline) -> bool:
    """The baseline's own period: the wave itself, or the period the baseline date falls in."""
    return row["period"] == baseline.period or row["period_start"] <= baseline.date <= row["period_end"]


def _estimate(measure: Measure, record: dict) -> dict | None:
    row = {column: None for column in COLUMNS}
    row.update(
        measure=measure.key,
        reference=measure.reference,
        title=measure.title,
        polarity=measure.polarity.value,
        unit=measure.unit_name,
        period=record["period"],
        period_label=record.get("period_label") or record["period"],
        period_start=_day(record["period_start"]),
        period_end=_day(record["period_end"]),
    )
    responses, eligible = record.get("responses"), record.get("eligible")
    if responses is not None and not pd.isna(responses):
        row["responses"] = int(responses)
        if eligible is not None and not pd.isna(eligible) and eligible > 0:
            row["eligible"] = int(eligible)
            row["response_rate"] = responses / eligible
    if measure.is_count:
        value = record.get("value")
        if value is None or pd.isna(value):
            return None
        row["value"] = float(value)
        return row
    n = record.get("n")
    if n is None or pd.isna(n) or n == 0:
        return None
    positives = int(record["positives"])
    interval = wilson_interval(positives, int(n))
    row.update(n=int(n), positives=positives, percent=positives / n, ci_low=interval.low, ci_high=interval.high)
    return row


def _estimate_of(row: dict) -> float:
    return row["value"] if row["value"] is not None else row["percent"]


def _interval_of(row: dict) -> Interval | None:
    return None if row["percent"] is None else Interval(row["ci_low"], row["ci_high"])


def _comparison_columns(row: dict, prefix: str, comparison: Comparison) -> None:
    row[prefix] = comparison.difference
    row[f"{prefix}_low"] = comparison.interval.low
    row[f"{prefix}_high"] = comparison.interval.high
    row[f"{prefix}_p"] = comparison.p_value
    row[f"{prefix}_test"] = comparison.test


def _since_previous(measure: Measure, row: dict, previous: dict | None, rules: StatusRules) -> None:
    if previous is None:
        return
    row["previous_period"] = previous["period"]
    if measure.is_count:
        row["change_since_previous"] = row["value"] - previous["value"]
        row["direction_of_travel"] = status.direction_of_travel(row["change_since_previous"], None, measure.polarity)
        return
    comparison = compare(row["positives"], row["n"], previous["positives"], previous["n"])
    _comparison_columns(row, "change_since_previous", comparison)
    row["direction_of_travel"] = status.direction_of_travel(
        comparison.difference, comparison.significant(rules.significance), measure.polarity
    )


def _since_baseline(measure: Measure, row: dict, baseline: _Baseline | None, rules: StatusRules) -> None:
    if baseline is None:
        return
    row.update(baseline=baseline.value, baseline_date=baseline.date, baseline_n=baseline.n)
    row["baseline_period"] = baseline.period or None
    if _is_baseline_period(row, baseline):
        return
    if measure.is_count:
        row["change_since_baseline"] = row["value"] - baseline.value
        row["since_baseline"] = status.direction_of_travel(row["change_since_baseline"], None, measure.polarity)
        return
    if baseline.positives is not None:
        comparison = compare(row["positives"], row["n"], baseline.positives, baseline.n)
    else:
        # With no known base, the baseline is a fixed figure: test against it
        # exactly, and the interval of the change is the estimate's own.
        tested = against_value(row["positives"], row["n"], baseline.value)
        comparison = Comparison(
            tested.difference,
            Interval(row["ci_low"] - baseline.value, row["ci_high"] - baseline.value),
            tested.p_value,
            tested.test,
        )
    _comparison_columns(row, "change_since_baseline", comparison)
    row["since_baseline"] = status.direction_of_travel(
        comparison.difference, comparison.significant(rules.significance), measure.polarity
    )


def _status(measure: Measure, row: dict, baseline: _Baseline | None, rules: StatusRules, final_met_run: int) -> int:
    """Set the row's status, trajectory and target figures; return how many periods in a row have met the final
    target."""
    polarity, estimate, interval = measure.polarity, _estimate_of(row), _interval_of(row)
    reference_day = row["period_end"]
    if not measure.is_rated:
        # For information only: no better direction, so nothing to rate it against (and no targets).
        row["status"] = status.FOR_INFORMATION
        return 0
    target = target_due(reference_day, measure.targets)
    if target is not None:
        row.update(target=target.value, target_date=target.by)
        row["target_assurance"] = status.target_assurance(
            estimate, interval, target.value, polarity, due=reference_day >= target.by
        )
        # A count has no sampling error: more cases would not make it any clearer.
        if not measure.is_count:
            row["responses_needed"] = responses_needed(estimate, target.value, rules.significance, rules.power)
    sufficient = measure.is_count or row["n"] >= rules.minimum_base
    final = measure.final_target
    met_final = sufficient and final is not None and status.at_or_better(estimate, final.value, polarity)
    final_met_run = final_met_run + 1 if met_final else 0
    after_baseline = baseline is not None and not _is_baseline_period(row, baseline) and reference_day > baseline.date
    if after_baseline and final is not None:
        # What the plan expects by the period's end, whatever the base: a chart draws it for every period.
        trajectory = expected_at(reference_day, baseline.value, baseline.date, measure.targets)
        row.update(trajectory=trajectory, gap_to_trajectory=estimate - trajectory)
    if not sufficient:
        row["status"] = status.INSUFFICIENT_DATA
    elif baseline is None:
        if measure.baseline is not None:
            row["status"] = status.NO_BASELINE
        else:
            row["status"] = status.NO_TARGET if final is None else status.NO_BASELINE_SET
    elif _is_baseline_period(row, baseline) or reference_day <= baseline.date:
        row["status"] = status.BASELINE
    elif final is None:
        row["status"] = status.NO_TARGET
    elif final_met_run >= rules.completed_after:
        row["status"] = status.COMPLETED
    else:
        improved = row["since_baseline"] == status.IMPROVING
        row["status"] = status.rag_status(estimate, interval, row["trajectory"], improved, polarity)
    return final_met_run


def _add_spc(measure: Measure, rows: list[dict]) -> None:
    """XmR for counts, a p-chart for proportions (whose bases change from period to period)."""
    # Points that share their cases (a year's cumulative figures) are not the
    # independent periods the limits assume.
    if len(rows) < spc.MINIMUM_POINTS or _shares_cases(measure, rows):
        return
    chart = _chart(measure, pd.DataFrame(rows))
    for row, point in zip(rows, chart.points.to_dict("records"), strict=True):
        row.update(spc_chart=chart.chart, **_spc_point(chart, point))


def _chart(measure: Measure, frame: pd.DataFrame) -> spc.SpcChart:
    target = measure.final_target.value if measure.final_target else None
    if measure.is_count:
        return spc.xmr_chart(frame, "value", measure.polarity, target)
    return spc.p_chart(frame, "positives", "n", measure.polarity, target)


def _spc_point(chart: spc.SpcChart, point: dict) -> dict:
    return {
        "spc_centre": point["centre"],
        "spc_lower_limit": point["lower_limit"],
        "spc_upper_limit": point["upper_limit"],
        "spc_rules": point["rules"],
        "spc_signal": point["signal"],
        "spc_assurance": chart.assurance,
    }


def _shares_cases(measure: Measure, rows: list[dict]) -> bool:
    if not _is_cumulative(measure):
        return False
    years = [financial_year_start(row["period_end"]) for row in rows]
    return len(set(years)) < len(years)


def _benchmark_comparisons(measure: Measure, row: dict, rules: StatusRules) -> list[dict]:
    """Each benchmark's latest figure dated on or before the period's end (its earliest if none is)."""
    latest: dict[str, object] = {}
    for benchmark in sorted(measure.benchmarks, key=lambda benchmark: benchmark.date):
        if benchmark.name not in latest or benchmark.date <= row["period_end"]:
            latest[benchmark.name] = benchmark
    comparisons = []
    for benchmark in latest.values():
        comparison = {
            "measure": measure.key,
            "period": row["period"],
            "benchmark": benchmark.name,
            "benchmark_value": benchmark.value,
            "benchmark_date": benchmark.date,
            "source": benchmark.source,
        }
        if measure.is_count:
            difference = row["value"] - benchmark.value
            comparison.update(difference=difference, p_value=math.nan, comparison=_compared(difference, None, measure))
        else:
            tested = against_value(row["positives"], row["n"], benchmark.value)
            comparison.update(
                difference=tested.difference,
                p_value=tested.p_value,
                comparison=_compared(tested.difference, tested.significant(rules.significance), measure),
            )
        comparisons.append(comparison)
    return comparisons


def _compared(difference: float, significant: bool | None, measure: Measure) -> str:
    if significant is False or difference == 0:
        return "no significant difference" if significant is False else "the same"
    side = "higher" if difference > 0 else "lower"
    if not measure.is_rated:
        return f"significantly {side}" if significant else side
    verdict = "better" if status.better(difference, 0, measure.polarity) else "worse"
    return f"significantly {side} ({verdict})" if significant else f"{side} ({verdict})"


def _benchmark_summary(comparison: dict) -> str:
    return f"{comparison['benchmark']} {comparison['benchmark_date'].year}: {comparison['comparison']}"


def publish(report: Report, rules: DisclosureRules) -> Report:
    """The report with disclosure control applied, fit to leave the officer area.

    The rule is that nothing published may depend on a withheld figure: for
    any hidden count consistent with what is shown, the published report
    would be the same. So:

    - A row's counts go through ``disclosure.suppress``: counts from 1 to the
      threshold are "c", with the cells that would let them be worked out; a
      recorded count from 1 to the threshold is "c". The row's estimate is
      then withheld when any of its counts is hidden or its base is under
      the minimum, and with it everything worked out from it: the interval,
      target assurance (unless the target is not due yet, which the
      estimate does not decide), the responses needed and the benchmark
      comparisons.
    - A change is withheld when either side of it is, and with it its
      interval, p-value, the name of its test (which the counts choose) and
      the direction of travel.
    - A baseline from the first wave is this area's own count, withheld on
      the same terms as a row; its base is hidden when it is a small count.
      The trajectory is drawn from the baseline, so it is withheld with it,
      and so are the change since the baseline and the gap to the
      trajectory. A baseline from a published paper is not withheld.
    - A status worked out from the estimate (Green, Light green, Amber, Red,
      Completed) is withheld with the estimate or the baseline; Completed
      needs the final target met in consecutive periods, so when one of
      those is withheld the published status is the one against the
      trajectory instead. Insufficient data, Baseline and the other
      statuses that do not rest on the estimate are shown, unless the base
      is hidden and the status would narrow it down.
    - The SPC chart is drawn again from the published periods alone, and a
      withheld period is not on it: its limits, rules and signal are
      withheld. With fewer than 12 published periods there is no chart.
    - Responses (everyone who answered the questionnaires, "Don't know" and
      unanswered included) and the response rate are withheld when the
      responses left out of the base (responses minus n) number from 1 to
      the threshold, or when responses are themselves from 1 to the
      threshold; and then in every row of the period whose questionnaires
      overlap, which share the same figure.

    ``Report.withheld`` says which figures were withheld, for anything that
    draws the report (a figure that does not exist is None and not withheld).
    """
    rows = report.rows
    index = rows.index
    is_count = rows["value"].notna()
    published = pd.concat(
        [
            suppress(rows[~is_count], rules, tables=["measure", "period"]),
            _suppress_counts(rows[is_count], rules),
        ]
    ).loc[index]
    for column in COLUMNS:
        published[column] = published[column].astype(object)
    published["baseline_suppression"] = ""
    withheld = pd.DataFrame(False, index=index, columns=[*COLUMNS, *REASON_COLUMNS])
    for column in ("positives", "n", "value"):
        withheld[column] = published[column].eq(SUPPRESSED)
    hidden_base = withheld["n"].to_numpy()
    small_base = (~is_count & (rows["n"].fillna(0) < rules.minimum_base)).to_numpy()
    estimate = withheld[["positives", "n", "value"]].any(axis=1).to_numpy() | small_base
    published.loc[small_base & ~withheld[["positives", "n"]].any(axis=1).to_numpy(), "suppression"] = (
        f"base under {rules.minimum_base}"
    )

    lookup = dict(zip(zip(rows["measure"], rows["period"], strict=True), estimate, strict=True))
    previous = np.array(
        [
            bool(lookup.get((measure, other), False))
            for measure, other in zip(rows["measure"], rows["previous_period"], strict=True)
        ],
        dtype=bool,
    )
    baseline, baseline_base = _baseline_withheld(rows, rules)
    published.loc[baseline, "baseline_suppression"] = [
        _baseline_reason(row, rules) for row in rows[baseline].to_dict("records")
    ]
    not_due = rows["target_assurance"].eq(status.NOT_DUE_YET).to_numpy()

    # How many responses would tell the target from the estimate does not exist when the two are equal: whether it
    # exists is withheld with it.
    with_target = (rows["target"].notna() & ~is_count).to_numpy()
    _withhold(published, withheld, ["percent", "ci_low", "ci_high", "benchmarks"], estimate)
    _withhold(published, withheld, ["responses_needed"], estimate, exists=with_target)
    _withhold(published, withheld, ["target_assurance"], estimate & ~not_due)
    _withhold(published, withheld, PREVIOUS_COLUMNS, estimate | previous)
    _withhold(published, withheld, FROM_THE_BASELINE, baseline)
    _withhold(published, withheld, ["baseline_n"], baseline_base)
    _withhold(published, withheld, BASELINE_CHANGE_COLUMNS, estimate | baseline)
    responses = _responses_withheld(rows, report.measures, rules, hidden_base)
    _withhold(published, withheld, ["responses", "response_rate"], responses)
    published.loc[responses & published["suppression"].eq("").to_numpy(), "suppression"] = RESPONSES_WITHHELD
    _publish_statuses(rows, published, withheld, report, rules, estimate, baseline, hidden_base)
    _publish_spc(rows, published, withheld, report.measures, estimate)

    benchmarks = report.benchmarks
    if not benchmarks.empty:
        hidden = set(zip(rows.loc[estimate, "measure"], rows.loc[estimate, "period"], strict=True))
        benchmarks = benchmarks[
            [
                (measure, period) not in hidden
                for measure, period in zip(benchmarks["measure"], benchmarks["period"], strict=True)
            ]
        ]
    _whole_numbers(published, WHOLE_NUMBER_COLUMNS)
    return Report(
        published[[*COLUMNS, *REASON_COLUMNS]],
        benchmarks,
        report.without_data,
        withheld=withheld,
        measures=report.measures,
        rules=report.rules,
    )


def _whole_numbers(published: pd.DataFrame, columns: list[str]) -> None:
    """Counts as whole numbers: a column holding a gap somewhere arrives as floats, and 15.0 beside another
    report's 15 would say where the gaps are."""
    for column in columns:
        published[column] = pd.Series(
            [_whole(value) for value in published[column]], index=published.index, dtype=object
        )


def _whole(value):
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return int(value)
    return value


def _withhold(published: pd.DataFrame, withheld: pd.DataFrame, columns: list[str], rows, exists=None) -> None:
    """Show "c" for the figures of ``rows`` and mark them withheld; a figure that does not exist stays empty.

    Whether a figure exists must not depend on what is withheld: ``exists``
    says where it would exist, for a figure that may not (None: where it does).
    """
    rows = np.asarray(rows, dtype=bool)
    for column in columns:
        if exists is None:
            present = published[column].notna().to_numpy().copy()
            if column == "benchmarks":  # "" when the measure has none
                present &= (published[column] != "").to_numpy()
        else:
            present = np.asarray(exists, dtype=bool)
        mask = rows & present
        published.loc[mask, column] = SUPPRESSED
        withheld.loc[mask, column] = True


def _suppress_counts(counts: pd.DataFrame, rules: DisclosureRules) -> pd.DataFrame:
    """A recorded count (open plans, tribunal cases) from 1 to the threshold is hidden."""
    published = counts.copy()
    small = counts["value"].between(1, rules.threshold)
    published["value"] = published["value"].astype(object)
    published.loc[small, "value"] = SUPPRESSED
    published["suppression"] = ""
    published.loc[small, "suppression"] = SMALL_COUNT
    return published


def _first_wave_baseline(row: dict) -> bool:
    """Whether the row's baseline is a first wave of this area's own surveys (a period), not a published figure."""
    return isinstance(row["baseline_period"], str) and row["baseline_n"] is not None and not pd.isna(row["baseline_n"])


def _baseline_counts(row: dict) -> tuple[int, int]:
    n = int(row["baseline_n"])
    return round(row["baseline"] * n), n


def _baseline_withheld(rows: pd.DataFrame, rules: DisclosureRules) -> tuple[np.ndarray, np.ndarray]:
    """For each row: whether its baseline is withheld, and whether the baseline's base is hidden.

    A first wave's counts are suppressed as a row of their own would be."""
    records = rows.to_dict("records")
    waves = [(i, *_baseline_counts(row)) for i, row in enumerate(records) if _first_wave_baseline(row)]
    value = np.zeros(len(rows), dtype=bool)
    base = np.zeros(len(rows), dtype=bool)
    if not waves:
        return value, base
    frame = pd.DataFrame(waves, columns=["row", "positives", "n"])
    hidden = suppress(frame, rules, tables=["row"])
    for position, n, shown_positives, shown_n in zip(
        frame["row"], frame["n"], hidden["positives"], hidden["n"], strict=True
    ):
        value[position] = SUPPRESSED in (shown_positives, shown_n) or n < rules.minimum_base
        base[position] = shown_n == SUPPRESSED
    return value, base


def _baseline_reason(row: dict, rules: DisclosureRules) -> str:
    _, n = _baseline_counts(row)
    if n < rules.minimum_base:
        return f"fewer than {rules.minimum_base} responses"
    return "to protect a small count"


def _responses_withheld(
    rows: pd.DataFrame, measures: MeasureSet | None, rules: DisclosureRules, hidden_base: np.ndarray
) -> np.ndarray:
    """Which rows' responses (and response rate) are withheld.

    Responses are n plus those left out of it ("Don't know", "Not
    applicable", unanswered). When those left out number from 1 to the
    threshold, showing responses beside n would give them away, as 38 of 40
    would give away the 2 who did not. n is the base of every figure in the
    row, and the breakdowns of it add up to it, so it stays, and responses
    are withheld instead. Responses from 1 to the threshold are a small
    count of their own (and beside a hidden base, they would narrow it).

    Every measure counting the same questionnaire in a period shows the
    same responses (or, over several questionnaires, a sum that includes
    them), so a period's responses are withheld in every row whose
    questionnaires overlap with a withheld one.
    """
    withheld = np.zeros(len(rows), dtype=bool)
    if rows.empty:
        return withheld
    responses = pd.to_numeric(rows["responses"], errors="coerce").to_numpy(dtype=float)
    bases = pd.to_numeric(rows["n"], errors="coerce").to_numpy(dtype=float)
    known = ~np.isnan(responses)
    left_out = responses - bases
    small_left_out = known & ~np.isnan(bases) & ~hidden_base & (left_out >= 1) & (left_out <= rules.threshold)
    small_responses = known & (responses >= 1) & (responses <= rules.threshold)
    withheld = small_left_out | small_responses
    # Rows that share a figure: the same period, overlapping questionnaires.
    asked = [_questionnaires(measures, key) for key in rows["measure"]]
    periods = rows["period"].to_numpy()
    changed = bool(withheld.any())
    while changed:
        changed = False
        for i in np.flatnonzero(withheld):
            for j in np.flatnonzero(known & ~withheld & (periods == periods[i])):
                if asked[i] is None or asked[j] is None or asked[i] & asked[j]:
                    withheld[j] = True
                    changed = True
    return withheld


def _questionnaires(measures: MeasureSet | None, key: str) -> frozenset[str] | None:
    """The questionnaires whose responses a measure's row counts (None when not known: then it may share any)."""
    measure = measures.measure(key) if measures is not None else None
    if measure is None or measure.is_recorded:
        return None
    return frozenset(measure.source.questionnaires)


def _publish_statuses(
    rows: pd.DataFrame,
    published: pd.DataFrame,
    withheld: pd.DataFrame,
    report: Report,
    rules: DisclosureRules,
    estimate: np.ndarray,
    baseline: np.ndarray,
    hidden_base: np.ndarray,
) -> None:
    """Each row's status as the published figures alone give it (see ``publish``)."""
    status_rules = report.rules or StatusRules()
    completed_after = status_rules.completed_after
    # A hidden base is at most the threshold: below the minimum base for a status, it is insufficient whatever it is.
    always_insufficient = rules.threshold < status_rules.minimum_base
    positions = {key: i for i, key in enumerate(zip(rows["measure"], rows["period"], strict=True))}
    records = rows.to_dict("records")
    shown: list = []
    for i, row in enumerate(records):
        given = row["status"]
        result = given
        if given is None:
            result = None
        elif hidden_base[i]:
            result = status.INSUFFICIENT_DATA if always_insufficient else SUPPRESSED
        elif given in status.NOT_FROM_THE_ESTIMATE:
            result = given
        elif estimate[i] or baseline[i]:
            result = SUPPRESSED
        elif given == status.COMPLETED:
            run = _same_measure_before(records, i, completed_after)
            if len(run) < completed_after or any(estimate[positions[key]] for key in run):
                result = _against_trajectory(row, report.measures)
        shown.append(result)
    mask = np.array([value == SUPPRESSED for value in shown], dtype=bool)
    published["status"] = pd.Series(shown, index=rows.index, dtype=object)
    withheld["status"] = mask


def _same_measure_before(records: list[dict], i: int, count: int) -> list[tuple[str, str]]:
    """The (measure, period) of row ``i`` and the rows just before it of the same measure, ``count`` in all."""
    found = []
    for row in reversed(records[: i + 1]):
        if row["measure"] != records[i]["measure"] or len(found) == count:
            break
        found.append((row["measure"], row["period"]))
    return found


def _against_trajectory(row: dict, measures: MeasureSet | None) -> str:
    """The status against the trajectory alone (Green to Red), for a Completed that rests on a withheld period."""
    measure = measures.measure(row["measure"]) if measures is not None else None
    if measure is None or row["trajectory"] is None or pd.isna(row["trajectory"]):
        return SUPPRESSED
    interval = None if row["value"] is not None and not pd.isna(row["value"]) else _interval_of(row)
    improved = row["since_baseline"] == status.IMPROVING
    return status.rag_status(_estimate_of(row), interval, row["trajectory"], improved, measure.polarity)


def _publish_spc(
    rows: pd.DataFrame,
    published: pd.DataFrame,
    withheld: pd.DataFrame,
    measures: MeasureSet | None,
    estimate: np.ndarray,
) -> None:
    """Each measure's SPC chart drawn again from its published periods; a withheld period is not on it."""
    charted = rows["spc_chart"].notna().to_numpy()
    for key in rows.loc[charted, "measure"].unique():
        mine = np.flatnonzero((rows["measure"] == key).to_numpy() & charted)
        hidden = estimate[mine]
        if not hidden.any():
            continue
        shown = mine[~hidden]
        measure = measures.measure(key) if measures is not None else None
        if measure is None or len(shown) < spc.MINIMUM_POINTS:
            # Too few published periods for a chart: none is drawn from the withheld ones either.
            _withhold(
                published, withheld, [*SPC_CHART_COLUMNS, *SPC_POINT_COLUMNS], np.isin(np.arange(len(rows)), mine)
            )
            continue
        chart = _chart(measure, rows.iloc[shown].reset_index(drop=True))
        for position, point in zip(shown, chart.points.to_dict("records"), strict=True):
            for column, value in _spc_point(chart, point).items():
                published.iat[position, published.columns.get_loc(column)] = value
        for position in mine[hidden]:
            published.iat[position, published.columns.get_loc("spc_centre")] = chart.centre
            published.iat[position, published.columns.get_loc("spc_assurance")] = chart.assurance
        _withhold(published, withheld, SPC_POINT_COLUMNS, np.isin(np.arange(len(rows)), mine[hidden]))
