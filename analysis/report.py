"""Every figure a board needs, per measure and period, from a tidy table of counts.

``measure_report`` takes counts (one row per measure and period: ``positives``
and ``n`` for a proportion, ``value`` for a count) and the measure
definitions, and returns one row per measure and period with the estimate
and its interval, the change since the previous period and since the
baseline with their tests, the direction of travel, the trajectory and the
gap to it, the status, target assurance, benchmarks and statistical process
control. ``publish`` then applies disclosure control, for anything that
leaves the officer area.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from . import spc, status
from .disclosure import SUPPRESSED, DisclosureRules, suppress
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
# What a row's own figures give away about its counts: withheld with them.
ESTIMATE_COLUMNS = ["percent", "ci_low", "ci_high", "gap_to_trajectory", "target_assurance", "responses_needed"]
PREVIOUS_COLUMNS = [
    "change_since_previous",
    "change_since_previous_low",
    "change_since_previous_high",
    "change_since_previous_p",
]
BASELINE_CHANGE_COLUMNS = [
    "change_since_baseline",
    "change_since_baseline_low",
    "change_since_baseline_high",
    "change_since_baseline_p",
]
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
    rows: pd.DataFrame  # COLUMNS, one row per measure and period with data
    benchmarks: pd.DataFrame  # BENCHMARK_COLUMNS, one row per measure, period and benchmark
    without_data: tuple[str, ...]  # the keys of measures with no figures in any period


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
    target = target_due(reference_day, measure.targets)
    if target is not None:
        row.update(target=target.value, target_date=target.by)
        row["target_assurance"] = status.target_assurance(estimate, interval, target.value, polarity)
        if not measure.is_count:
            row["responses_needed"] = responses_needed(estimate, target.value, rules.significance, rules.power)
    sufficient = measure.is_count or row["n"] >= rules.minimum_base
    final = measure.final_target
    met_final = sufficient and final is not None and status.at_or_better(estimate, final.value, polarity)
    final_met_run = final_met_run + 1 if met_final else 0
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
    else:
        trajectory = expected_at(reference_day, baseline.value, baseline.date, measure.targets)
        row.update(trajectory=trajectory, gap_to_trajectory=estimate - trajectory)
        if final_met_run >= rules.completed_after:
            row["status"] = status.COMPLETED
        else:
            improved = row["since_baseline"] == status.IMPROVING
            row["status"] = status.rag_status(estimate, interval, trajectory, improved, polarity)
    return final_met_run


def _add_spc(measure: Measure, rows: list[dict]) -> None:
    """XmR for counts, a p-chart for proportions (whose bases change from period to period)."""
    # Points that share their cases (a year's cumulative figures) are not the
    # independent periods the limits assume.
    if len(rows) < spc.MINIMUM_POINTS or _shares_cases(measure, rows):
        return
    target = measure.final_target.value if measure.final_target else None
    frame = pd.DataFrame(rows)
    if measure.is_count:
        chart = spc.xmr_chart(frame, "value", measure.polarity, target)
    else:
        chart = spc.p_chart(frame, "positives", "n", measure.polarity, target)
    for row, point in zip(rows, chart.points.to_dict("records"), strict=True):
        row.update(
            spc_chart=chart.chart,
            spc_centre=point["centre"],
            spc_lower_limit=point["lower_limit"],
            spc_upper_limit=point["upper_limit"],
            spc_rules=point["rules"],
            spc_signal=point["signal"],
            spc_assurance=chart.assurance,
        )


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
    verdict = "better" if status.better(difference, 0, measure.polarity) else "worse"
    return f"significantly {side} ({verdict})" if significant else f"{side} ({verdict})"


def _benchmark_summary(comparison: dict) -> str:
    return f"{comparison['benchmark']} {comparison['benchmark_date'].year}: {comparison['comparison']}"


def publish(report: Report, rules: DisclosureRules) -> Report:
    """The report with disclosure control applied, fit to leave the officer area.

    Counts from 1 to the threshold are shown as "c", with the cells that
    would let them be worked out; a percentage is withheld on a base under
    the minimum or when its counts are hidden; a change is withheld when
    either side of it is, and so are benchmark comparisons of a withheld
    figure. A baseline from the first wave is this area's own count, so it
    is withheld on the same terms; a baseline from a published paper is not.
    """
    rows = report.rows
    is_count = rows["value"].notna()
    published = pd.concat(
        [
            suppress(rows[~is_count], rules, tables=["measure", "period"], derived=ESTIMATE_COLUMNS),
            _suppress_counts(rows[is_count], rules),
        ]
    ).loc[rows.index]
    withheld = published["percent"].eq(SUPPRESSED) | published["value"].eq(SUPPRESSED)
    lookup = dict(zip(zip(published["measure"], published["period"], strict=True), withheld, strict=True))
    previous_withheld = np.array(
        [
            bool(lookup.get((measure, previous), False))
            for measure, previous in zip(published["measure"], published["previous_period"], strict=True)
        ]
    )
    _withhold(published, PREVIOUS_COLUMNS, withheld | previous_withheld)
    baseline_withheld = np.array([_small_baseline(row, rules) for row in published.to_dict("records")], dtype=bool)
    _withhold(published, ["baseline"], pd.Series(baseline_withheld, index=published.index))
    _withhold(published, BASELINE_CHANGE_COLUMNS, withheld | baseline_withheld)
    published.loc[withheld & published["benchmarks"].fillna("").ne(""), "benchmarks"] = SUPPRESSED
    # A figure that does not exist (no trajectory, no target) is left empty, not shown as withheld.
    for column in ESTIMATE_COLUMNS:
        published.loc[rows[column].isna(), column] = None
    benchmarks = report.benchmarks
    if not benchmarks.empty:
        hidden = set(zip(published.loc[withheld, "measure"], published.loc[withheld, "period"], strict=True))
        benchmarks = benchmarks[
            [
                (measure, period) not in hidden
                for measure, period in zip(benchmarks["measure"], benchmarks["period"], strict=True)
            ]
        ]
    return Report(published, benchmarks, report.without_data)


def _withhold(published: pd.DataFrame, columns: list[str], rows: pd.Series) -> None:
    """Show "c" for the figures of ``rows``; a figure that does not exist (no previous period) stays empty."""
    for column in columns:
        published[column] = published[column].astype(object)
        published.loc[np.asarray(rows, dtype=bool) & published[column].notna().to_numpy(), column] = SUPPRESSED


def _suppress_counts(counts: pd.DataFrame, rules: DisclosureRules) -> pd.DataFrame:
    """A recorded count (open plans, tribunal cases) from 1 to the threshold is hidden, with what gives it away."""
    published = counts.copy()
    small = counts["value"].between(1, rules.threshold)
    _withhold(published, ["value", "gap_to_trajectory"], small)
    published["suppression"] = ""
    published.loc[small, "suppression"] = "small count"
    return published


def _small_baseline(row: dict, rules: DisclosureRules) -> bool:
    if not isinstance(row["baseline_period"], str) or row["baseline_n"] is None or pd.isna(row["baseline_n"]):
        return False
    n = int(row["baseline_n"])
    positives = round(row["baseline"] * n)
    return n < rules.minimum_base or any(1 <= cell <= rules.threshold for cell in (positives, n - positives))
