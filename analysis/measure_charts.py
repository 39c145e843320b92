"""The measures' charts and the figures beside them, built from the rows of a measures report.

Everything the measures pages draw is made here, from ``report.Report``
rows (published, or exact for officers) and breakdown tables, using the
foundation in ``charts``: its palette, escaping, ``Chart`` and ``Table``.

- ``measure_chart``: the value over time with its 95% interval as error
  bars, the baseline, the trajectory through each target, the targets, and
  each benchmark as a line.
- ``spc_chart``: the p-chart or XmR chart with its centre line and limits,
  each point coloured and shaped by its signal (improvement, concern,
  special cause, common cause).
- ``breakdown_chart``: one period's groups as bars with their intervals.
- ``overview``: one line per measure for the overview, with a sparkline
  drawn as a few SVG points (the template draws them with no script).

A figure withheld by disclosure control ("c" in a published report) is a
gap in every chart and "c" in every table: its value is never in the
figure's JSON. Free text (a wave's name, a group's words, a benchmark's
source) reaches plotly only through ``charts.text``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from . import charts, spc, status
from .charts import Chart
from .disclosure import SUPPRESSED
from .measures import Accumulation, Benchmark, Measure, PeriodKind

WITHHELD = SUPPRESSED
# Under the plot, below the axis's labels: placed against the figure's bottom edge, so plotly makes room for it.
LEGEND = {"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom", "xanchor": "left", "x": 0}
# How many periods make an SPC chart (fewer give limits too unsteady to judge by).
SPC_MINIMUM = spc.MINIMUM_POINTS
PERIOD_WORDS = {
    PeriodKind.QUARTER: ("quarter", "quarters"),
    PeriodKind.MONTH: ("month", "months"),
    PeriodKind.YEAR: ("year", "years"),
    PeriodKind.WAVE: ("wave", "waves"),
}
ARROWS = {"up": "↑", "down": "↓", "level": "→"}


# Reading the report's cells ------------------------------------------------


def missing(value: Any) -> bool:
    """A figure that does not exist: None, NaN or NaT (not one withheld, which is "c")."""
    if value is None or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def withheld(value: Any) -> bool:
    return isinstance(value, str) and value == WITHHELD


def number(value: Any) -> float | None:
    """A figure as a float, or None where it does not exist or is withheld."""
    if missing(value) or withheld(value) or isinstance(value, str):
        return None
    return float(value)


def is_count(measure: Measure) -> bool:
    return measure.is_count


def scaled(value: Any, count: bool) -> float | None:
    """A proportion as a percentage to one decimal place (52.6), as the report's CSV and JSON give it; a count as
    it is."""
    found = number(value)
    if found is None:
        return None
    if count:
        return found
    return round(found * 100, 1)


def whole_percent(value: Any) -> str:
    """0.5263 is "53%", rounding halves up as board papers do; "c" stays "c"; nothing is ""."""
    if withheld(value):
        return WITHHELD
    found = number(value)
    if found is None:
        return ""
    return f"{Decimal(str(found * 100)).quantize(Decimal('1'), rounding=ROUND_HALF_UP)}%"


def count_text(value: Any) -> str:
    if withheld(value):
        return WITHHELD
    found = number(value)
    return "" if found is None else f"{found:,.0f}"


def figure_text(value: Any, count: bool) -> str:
    """A value as a board reads it: "53%" or "2,995"."""
    return count_text(value) if count else whole_percent(value)


def cell(value: Any, count: bool) -> str:
    """A table cell: one decimal place for a percentage (52.6), a whole number with commas for a count, "c" where
    withheld and empty where there is nothing."""
    if withheld(value):
        return WITHHELD
    found = scaled(value, count)
    if found is None:
        return ""
    return f"{found:,.0f}" if count else f"{found:.1f}"


def limit_cell(value: Any, count: bool) -> str:
    """An SPC mean or limit: one decimal place, for a count too (2,788.5 plans is a mean, not a count)."""
    found = scaled(value, count)
    return "" if found is None else f"{found:,.1f}"


def p_value_text(value: Any) -> str:
    found = number(value)
    if found is None:
        return ""
    return "p<0.001" if found < 0.001 else f"p={found:.3f}"


def short_period(row: dict) -> str:
    """A period as a sentence names it: "2026-27 Q3" for a quarter (its label adds the months), otherwise its
    label ("November 2026", "Autumn 2025")."""
    key, label = str(row["period"]), str(row.get("period_label") or row["period"])
    return key if label.startswith(f"{key} (") else label


def month_year(day: date) -> str:
    return f"{day:%B %Y}"


def long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def short_date(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def day_of(value: Any) -> date | None:
    if missing(value) or withheld(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    return value if isinstance(value, date) else None


def records(rows: pd.DataFrame) -> list[dict]:
    return rows.to_dict("records") if rows is not None and not rows.empty else []


# Words beside the figures ------------------------------------------------------


@dataclass(frozen=True)
class Direction:
    arrow: str  # ↑ ↓ →, shown beside the words and hidden from screen readers
    words: str  # "Improving", "No significant change", "Withheld", "No earlier period"


def direction(row: dict) -> Direction:
    """The direction of travel since the previous period, in words and as an arrow for the way the value went.

    The arrow shows which way the figure moved (up, down, level); the words say
    whether that is an improvement, a decline, or no significant change, so a
    fall in a measure where lower is better is "↓ Improving".
    """
    words = row.get("direction_of_travel")
    change = row.get("change_since_previous")
    if withheld(words) or withheld(change):
        return Direction("", "Withheld")
    if missing(words) or not words:
        return Direction("", "No earlier period to compare with")
    moved = number(change) or 0.0
    if words in (status.NO_SIGNIFICANT_CHANGE, status.NO_CHANGE) or moved == 0:
        arrow = ARROWS["level"]
    else:
        arrow = ARROWS["up"] if moved > 0 else ARROWS["down"]
    if words == status.NOT_RATED:
        went = "Rose" if moved > 0 else "Fell" if moved < 0 else "No change"
        return Direction(arrow, f"{went} (not rated: for information)")
    return Direction(arrow, str(words)[:1].upper() + str(words)[1:])


def status_text(row: dict) -> str:
    value = row.get("status")
    if withheld(value):
        return "Withheld"
    return "" if missing(value) else str(value)


def target_text(row: dict, count: bool, *, short: bool = False) -> str:
    """The target due next and where the measure stands against it: "85% by 31 December 2027: not due yet" (or
    "by December 2027", ``short``)."""
    target = row.get("target")
    if missing(target):
        return ""
    by = day_of(row.get("target_date"))
    assurance = row.get("target_assurance")
    when = (f"{by:%b %Y}" if short else long_date(by)) if by else ""
    shown = f"{figure_text(target, count)} by {when}" if by else figure_text(target, count)
    if withheld(assurance):
        return f"{shown} (withheld)" if short else f"{shown}: withheld"
    if missing(assurance) or not assurance:
        return shown
    text = f"{shown} ({assurance})" if short else f"{shown}: {assurance}"
    needed = row.get("responses_needed")
    if assurance == status.NOT_YET_CLEAR and number(needed) is not None and not short:
        text += f" (about {count_text(needed)} {row.get('unit') or 'responses'} would tell)"
    return text


def spc_text(row: dict, *, signal_only: bool = False) -> str:
    """The period's SPC signal with its rules, and the chart's assurance against the target (or the signal
    alone)."""
    if missing(row.get("spc_chart")):
        return ""
    signal = row.get("spc_signal")
    if withheld(signal):
        return "Withheld"
    if missing(signal) or not signal:
        return ""
    text = str(signal)[:1].upper() + str(signal)[1:]
    if signal_only:
        return text
    if row.get("spc_rules") and not withheld(row["spc_rules"]):
        text += f" ({row['spc_rules']})"
    assurance = row.get("spc_assurance")
    if isinstance(assurance, str) and assurance and not withheld(assurance):
        text += f"; against the target: {assurance}"
    return text


def result_text(row: dict, count: bool) -> str:
    """The value with its base: "56% (154 of 276)" or "2,995"."""
    if count:
        return count_text(row.get("value"))
    return f"{whole_percent(row.get('percent'))} ({count_text(row.get('positives'))} of {count_text(row.get('n'))})"


def interval_text(row: dict) -> str:
    low, high = row.get("ci_low"), row.get("ci_high")
    if withheld(low) or withheld(high):
        return WITHHELD
    if number(low) is None:
        return ""
    return f"{whole_percent(low)} to {whole_percent(high)}"


def withheld_reason(row: dict) -> str:
    reason = row.get("suppression")
    return reason if isinstance(reason, str) else ""


# The overview ----------------------------------------------------------------------


@dataclass(frozen=True)
class Sparkline:
    """A tiny line of the measure's values, for the overview: SVG points in a box of ``width`` by ``height``.

    Drawn by the template as an inline SVG with presentation attributes (no
    style, no script), hidden from screen readers: ``described`` says the
    same in words. A withheld period breaks the line.
    """

    width: int
    height: int
    lines: tuple[str, ...]  # each a polyline's points, "x,y x,y"
    dots: tuple[tuple[float, float], ...]  # single points with no neighbour, and the last point
    described: str
    colour: str = charts.BLUE


SPARK_WIDTH, SPARK_HEIGHT, SPARK_PAD = 96, 28, 3


def sparkline(measure: Measure, rows: list[dict], kind: PeriodKind = PeriodKind.QUARTER) -> Sparkline | None:
    """The measure's values as a sparkline: percentages on a fixed 0 to 100 scale (so measures compare), counts
    between their own lowest and highest."""
    count = is_count(measure)
    values = [scaled(row.get("value") if count else row.get("percent"), count) for row in rows]
    known = [value for value in values if value is not None]
    if len(rows) < 2 or not known:
        return None
    low, high = (min(known), max(known)) if count else (0.0, 100.0)
    if high == low:
        low, high = low - 1, high + 1
    step = (SPARK_WIDTH - 2 * SPARK_PAD) / (len(values) - 1)

    def at(i: int, value: float) -> tuple[float, float]:
        y = SPARK_HEIGHT - SPARK_PAD - (value - low) / (high - low) * (SPARK_HEIGHT - 2 * SPARK_PAD)
        return round(SPARK_PAD + i * step, 1), round(y, 1)

    lines, dots, run = [], [], []
    for i, value in enumerate([*values, None]):
        if value is not None:
            run.append(at(i, value))
            continue
        if len(run) > 1:
            lines.append(" ".join(f"{x},{y}" for x, y in run))
        elif run:
            dots.append(run[0])
        run = []
    last = next(((i, value) for i, value in reversed(list(enumerate(values))) if value is not None), None)
    if last is not None and at(*last) not in dots:
        dots.append(at(*last))
    first_row = next(row for row, value in zip(rows, values, strict=True) if value is not None)
    last_row = next(row for row, value in zip(reversed(rows), reversed(values), strict=True) if value is not None)
    first_value = figure_text(first_row.get("value") if count else first_row.get("percent"), count)
    last_value = figure_text(last_row.get("value") if count else last_row.get("percent"), count)
    described = (
        f"{first_value} in {short_period(first_row)}, {last_value} in {short_period(last_row)}"
        if first_row is not last_row
        else f"{last_value} in {short_period(last_row)}"
    )
    return Sparkline(
        SPARK_WIDTH, SPARK_HEIGHT, tuple(lines), tuple(dots), f"Over {len(rows)} {_periods(kind, 2)}: {described}"
    )


@dataclass(frozen=True)
class Latest:
    """One measure on the overview: its latest period's figures, in words."""

    measure: Measure
    has_data: bool
    period: str = ""
    result: str = ""  # "56% (154 of 276)"
    value: str = ""  # "56%"
    base: str = ""  # "154 of 276", or "" for a count
    interval: str = ""
    expected: str = ""
    status: str = ""
    direction: Direction = Direction("", "")
    target: str = ""  # "85% by 31 December 2027: not due yet"
    target_short: str = ""  # "85% by December 2027: not due yet"
    spc: str = ""  # the signal with its rules and the assurance
    spc_signal: str = ""  # the signal alone: "Common cause"
    compared_with: str = ""  # the period the direction of travel compares with: the one before, or a year before
    reason: str = ""
    sparkline: Sparkline | None = None
    periods: int = 0


def overview(measures: Sequence[Measure], rows: pd.DataFrame, kind: PeriodKind = PeriodKind.QUARTER) -> list[Latest]:
    """Each measure's latest period from the report ``rows`` (published or exact), in the order given."""
    by_measure: dict[str, list[dict]] = {}
    for row in records(rows):
        by_measure.setdefault(row["measure"], []).append(row)
    lines = []
    for measure in measures:
        mine = by_measure.get(measure.key, [])
        if not mine:
            lines.append(Latest(measure, False))
            continue
        row, count = mine[-1], is_count(measure)
        trajectory = row.get("trajectory")
        lines.append(
            Latest(
                measure,
                True,
                period=short_period(row),
                result=result_text(row, count),
                value=figure_text(row.get("value") if count else row.get("percent"), count),
                base="" if count else f"{count_text(row.get('positives'))} of {count_text(row.get('n'))}",
                interval=interval_text(row),
                expected=figure_text(trajectory, count) if not missing(trajectory) else "",
                status=status_text(row),
                direction=direction(row),
                target=target_text(row, count),
                target_short=target_text(row, count, short=True),
                spc=spc_text(row),
                spc_signal=spc_text(row, signal_only=True),
                compared_with=row["previous_period"] if isinstance(row.get("previous_period"), str) else "",
                reason=withheld_reason(row),
                sparkline=sparkline(measure, mine, kind),
                periods=len(mine),
            )
        )
    return lines


# The measure over time ---------------------------------------------------------------


def benchmark_at(benchmarks: Iterable[Benchmark], day: date) -> dict[str, Benchmark]:
    """Each benchmark's latest figure dated on or before ``day`` (its earliest if none is), as the report compares
    each period with."""
    latest: dict[str, Benchmark] = {}
    for benchmark in sorted(benchmarks, key=lambda benchmark: benchmark.date):
        if benchmark.name not in latest or benchmark.date <= day:
            latest[benchmark.name] = benchmark
    return latest


def _hover(*lines: str) -> str:
    """Hover text from lines already escaped with ``charts.text``."""
    return "<br>".join(line for line in lines if line)


def _unit(measure: Measure) -> str:
    return measure.unit_name


def _baseline(rows: list[dict]) -> tuple[date, float, str] | None:
    """The baseline's date, value and period (a first wave), where the report gives it and does not withhold it."""
    for row in rows:
        value, day = row.get("baseline"), day_of(row.get("baseline_date"))
        if number(value) is not None and day is not None:
            period = row.get("baseline_period")
            return day, float(value), period if isinstance(period, str) and not withheld(period) else ""
    return None


def _baseline_withheld(rows: list[dict]) -> str | None:
    """Why the baseline is withheld, or None when it is not."""
    for row in rows:
        if withheld(row.get("baseline")):
            return row.get("baseline_suppression") or "to protect a small count"
    return None


def plan_line(measure: Measure, rows: list[dict]) -> str:
    """Which way is better, the baseline and the targets, in a sentence or three."""
    count = is_count(measure)
    if measure.is_rated:
        parts = [f"{'Higher' if measure.polarity.sign > 0 else 'Lower'} is better."]
    else:
        parts = ["For information: neither a rise nor a fall is better in itself, so it is not rated."]
    baseline = _baseline(rows)
    reason = _baseline_withheld(rows)
    if reason:
        period = next((row.get("baseline_period") for row in rows if row.get("baseline_period")), "")
        parts.append(f"Baseline{f' ({period})' if period else ''} withheld: {reason}.")
    elif baseline is not None:
        day, value, period = baseline
        parts.append(f"Baseline: {figure_text(value, count)} ({period or long_date(day)}).")
    elif measure.baseline is not None and measure.baseline.first_wave:
        parts.append("Baseline: the first wave, not yet surveyed.")
    elif measure.baseline is not None and measure.baseline.value is not None:
        parts.append(f"Baseline: {figure_text(measure.baseline.value, count)} ({long_date(measure.baseline.date)}).")
    if measure.targets:
        targets = ", then ".join(f"{figure_text(t.value, count)} by {long_date(t.by)}" for t in measure.targets)
        parts.append(f"Target{'s' if len(measure.targets) > 1 else ''}: {targets}.")
    return " ".join(parts)


def _next_target(measure: Measure, day: date):
    return next((target for target in measure.targets if target.by >= day), measure.final_target)


def over_time_summary(measure: Measure, rows: list[dict], kind: PeriodKind) -> str:
    """What the chart shows in a sentence: "Rose from 41% in 2025-26 Q3 to 61% in 2026-27 Q3; the target is 85% by
    December 2027"."""
    count = is_count(measure)
    column = "value" if count else "percent"
    shown = [row for row in rows if number(row.get(column)) is not None]
    parts = []
    if not rows:
        return "There are no figures for this measure yet."
    if not shown:
        parts.append(
            f"Every period's figure is withheld to protect small counts ({len(rows)} {_periods(kind, len(rows))})."
        )
    elif len(shown) == 1:
        only = shown[0]
        parts.append(f"{figure_text(only[column], count)} in {short_period(only)}")
    else:
        first, last = shown[0], shown[-1]
        a, b = figure_text(first[column], count), figure_text(last[column], count)
        went = "Rose" if scaled(last[column], count) > scaled(first[column], count) else "Fell"
        if a == b:
            parts.append(f"{b} in {short_period(last)}, the same as in {short_period(first)}")
        else:
            parts.append(f"{went} from {a} in {short_period(first)} to {b} in {short_period(last)}")
        hidden = len(rows) - len(shown)
        if hidden:
            parts[-1] += f" ({hidden} {_periods(kind, hidden)} withheld)"
    last_row = rows[-1]
    trajectory = last_row.get("trajectory")
    if number(trajectory) is not None:
        parts.append(f"the trajectory expects {figure_text(trajectory, count)} by then")
    if measure.targets:
        target = _next_target(measure, day_of(last_row["period_end"]))
        parts.append(f"the target is {figure_text(target.value, count)} by {month_year(target.by)}")
    return "; ".join(parts) + "."


def _periods(kind: PeriodKind, how_many: int) -> str:
    one, many = PERIOD_WORDS.get(PeriodKind(kind), ("period", "periods"))
    return one if how_many == 1 else many


def measure_chart(measure: Measure, rows: pd.DataFrame, kind: PeriodKind, *, chart_id: str = "over-time") -> Chart:
    """The measure over time: its value and 95% interval each period, the baseline, the trajectory through each
    target, the targets, and its benchmarks, from the report ``rows`` of this one measure."""
    mine = records(rows)
    count = is_count(measure)
    column = "value" if count else "percent"
    unit = "" if count else "%"
    caption = f"{measure.title}: each {_periods(kind, 1)}"
    summary = over_time_summary(measure, mine, kind)
    benchmark_names = list(dict.fromkeys(benchmark.name for benchmark in measure.benchmarks))
    result_column = "Result" if count else "Result (%)"
    trajectory_column = "Trajectory" + ("" if count else " (%)")
    benchmark_columns = {name: f"{name}{'' if count else ' (%)'}" for name in benchmark_names}
    columns = [
        "Period",
        "Ends",
        result_column,
        *([] if count else ["Lower 95% limit (%)", "Upper 95% limit (%)", "Positives", "Base"]),
        trajectory_column,
        *benchmark_columns.values(),
        "Status",
    ]
    numeric = {column_name for column_name in columns if column_name not in ("Period", "Ends", "Status")}

    x, y, low, high, hover = [], [], [], [], []
    table_rows: list[dict[str, str]] = []
    trajectory_points: dict[date, float] = {}
    for row in mine:
        end = day_of(row["period_end"])
        value = scaled(row.get(column), count)
        lower = None if count else scaled(row.get("ci_low"), count)
        upper = None if count else scaled(row.get("ci_high"), count)
        x.append(end.isoformat())
        y.append(value)
        low.append(None if value is None or lower is None else round(value - lower, 1))
        high.append(None if value is None or upper is None else round(upper - value, 1))
        lines = [charts.text(row.get("period_label") or row["period"])]
        if value is None:
            lines.append("Withheld to protect a small count" if withheld(row.get(column)) else "No figure")
        elif count:
            lines.append(f"{cell(row.get(column), count)} {charts.text(_unit(measure))}")
        else:
            lines.append(f"{value:.1f}% ({count_text(row.get('positives'))} of {count_text(row.get('n'))})")
            if lower is not None:
                lines.append(f"95% interval {lower:.1f}% to {upper:.1f}%")
        hover.append(_hover(*lines))
        expected = scaled(row.get("trajectory"), count)
        if expected is not None:
            trajectory_points[end] = expected
        compared = benchmark_at(measure.benchmarks, end)
        table_rows.append(
            {
                "Period": short_period(row),
                "Ends": short_date(end),
                result_column: cell(row.get(column), count),
                "Lower 95% limit (%)": cell(row.get("ci_low"), count),
                "Upper 95% limit (%)": cell(row.get("ci_high"), count),
                "Positives": count_text(row.get("positives")),
                "Base": count_text(row.get("n")),
                trajectory_column: cell(row.get("trajectory"), count),
                **{
                    benchmark_columns[name]: cell(compared[name].value, count)
                    for name in benchmark_names
                    if name in compared
                },
                "Status": status_text(row),
            }
        )

    traces: list[go.BaseTraceType] = []
    baseline = _baseline(mine)
    if baseline is not None:
        day, value, period = baseline
        shown = scaled(value, count)
        traces.append(
            go.Scatter(
                x=[day.isoformat()],
                y=[shown],
                name=f"Baseline: {figure_text(value, count)}",
                mode="markers",
                marker={"symbol": "square", "size": 11, "color": charts.BLACK},
                hovertext=[_hover("Baseline", charts.text(period) or long_date(day), f"{cell(value, count)}{unit}")],
                hoverinfo="text",
            )
        )
        table_rows.append(
            {
                "Period": f"Baseline{f' ({period})' if period else ''}",
                "Ends": short_date(day),
                result_column: cell(value, count),
            }
        )
        trajectory_points[day] = shown
    if measure.targets:
        if baseline is not None:
            for target in measure.targets:
                trajectory_points[target.by] = scaled(target.value, count)
            ordered = sorted(trajectory_points.items())
            traces.append(
                go.Scatter(
                    x=[day.isoformat() for day, _ in ordered],
                    y=[value for _, value in ordered],
                    name="Trajectory to the targets",
                    mode="lines",
                    line={"color": charts.GREEN, "dash": "dash", "width": 2},
                    hovertext=[_hover("Trajectory", long_date(day), f"{value:,.1f}{unit}") for day, value in ordered],
                    hoverinfo="text",
                )
            )
        traces.append(
            go.Scatter(
                x=[target.by.isoformat() for target in measure.targets],
                y=[scaled(target.value, count) for target in measure.targets],
                name="Target" if len(measure.targets) == 1 else "Targets",
                mode="markers",
                marker={
                    "symbol": "star",
                    "size": 14,
                    "color": charts.GREEN,
                    "line": {"color": charts.BLACK, "width": 1},
                },
                hovertext=[
                    _hover("Target", f"{figure_text(target.value, count)} by {long_date(target.by)}")
                    for target in measure.targets
                ],
                hoverinfo="text",
            )
        )
        for target in measure.targets:
            table_rows.append(
                {"Period": "Target", "Ends": short_date(target.by), trajectory_column: cell(target.value, count)}
            )
    benchmark_colours = (charts.PURPLE, charts.BROWN, charts.VERMILION)
    dashes = ("dot", "dashdot", "longdash")
    for number_of, name in enumerate(benchmark_names):
        bx, by_, bhover = [], [], []
        for row in mine:
            end = day_of(row["period_end"])
            compared = benchmark_at(measure.benchmarks, end).get(name)
            if compared is None:
                continue
            bx.append(end.isoformat())
            by_.append(scaled(compared.value, count))
            bhover.append(
                _hover(
                    charts.text(name),
                    f"{cell(compared.value, count)}{unit} ({compared.date.year})",
                    charts.text(compared.source),
                )
            )
        traces.append(
            go.Scatter(
                x=bx,
                y=by_,
                name=charts.text(f"{name} benchmark"),
                mode="lines",
                line={
                    "color": benchmark_colours[number_of % 3],
                    "dash": dashes[number_of % 3],
                    "width": 2,
                    "shape": "hv",
                },
                hovertext=bhover,
                hoverinfo="text",
            )
        )
    traces.append(
        go.Scatter(
            x=x,
            y=y,
            name="Result" if count else "Result, with its 95% interval",
            mode="lines+markers",
            line={"color": charts.BLUE, "width": 3},
            marker={"symbol": "circle", "size": 9, "color": charts.BLUE},
            error_y=None
            if count
            else {
                "type": "data",
                "symmetric": False,
                "array": high,
                "arrayminus": low,
                "color": charts.BLUE,
                "thickness": 1.5,
                "width": 6,
            },
            connectgaps=False,
            hovertext=hover,
            hoverinfo="text",
        )
    )
    yaxis: dict[str, Any] = {"title": {"text": "" if count else "Percentage"}, "rangemode": "tozero"}
    if not count:
        yaxis.update(range=[0, 100], ticksuffix="%", nticks=6)
    else:
        yaxis.update(tickformat=",d", title={"text": charts.text(_unit(measure).capitalize())})
    figure = charts.new_figure(
        traces,
        xaxis={"type": "date", "title": {"text": ""}},
        yaxis=yaxis,
        hovermode="closest",
        margin={"l": 56, "r": 16, "t": 16, "b": 40},
        legend=LEGEND,
    )
    return charts.Chart(
        chart_id,
        caption,
        summary,
        figure,
        charts.Table(
            tuple(columns),
            tuple(tuple(row.get(name, "") for name in columns) for row in table_rows),
            frozenset(numeric),
        ),
        empty=None if mine else "There are no figures for this measure yet.",
    )


def benchmark_sources(measure: Measure) -> list[str]:
    """Each benchmark's figures and where they come from, for the words under the chart."""
    count = is_count(measure)
    found = []
    for benchmark in sorted(measure.benchmarks, key=lambda benchmark: (benchmark.name, benchmark.date)):
        found.append(
            f"{benchmark.name}: {figure_text(benchmark.value, count)} ({long_date(benchmark.date)}), "
            f"from {benchmark.source}"
        )
    return found


# Statistical process control -------------------------------------------------------------

SIGNAL_ORDER = (spc.IMPROVEMENT, spc.CONCERN, spc.SPECIAL_CAUSE, spc.COMMON_CAUSE)


def spc_points(rows: list[dict]) -> list[dict]:
    """The report's periods that are on its SPC chart: those with a signal, not withheld."""
    return [
        row
        for row in rows
        if not missing(row.get("spc_chart"))
        and isinstance(row.get("spc_signal"), str)
        and row["spc_signal"]
        and not withheld(row["spc_signal"])
    ]


def spc_note(measure: Measure, rows: pd.DataFrame, kind: PeriodKind) -> str:
    """Why a measure has no SPC chart, in a sentence."""
    if measure.is_recorded and measure.source.accumulation is Accumulation.CUMULATIVE_YEAR:
        return (
            f"A figure cumulative over the year has no SPC chart: its {_periods(kind, 2)} share cases, so they are not "
            "the independent periods the limits assume."
        )
    mine = records(rows)
    column = "value" if is_count(measure) else "percent"
    shown = sum(number(row.get(column)) is not None for row in mine)
    return (
        f"An SPC chart needs {SPC_MINIMUM} or more {_periods(kind, 2)} with a published figure; "
        f"this measure has {shown}."
    )


def spc_chart(measure: Measure, rows: pd.DataFrame, kind: PeriodKind, *, chart_id: str = "spc") -> Chart | None:
    """The measure's SPC chart (p-chart or XmR) from the report's periods on it, or None with fewer than 12."""
    mine = records(rows)
    points = spc_points(mine)
    if len(points) < SPC_MINIMUM:
        return None
    count = is_count(measure)
    column = "value" if count else "percent"
    unit = "" if count else "%"
    kind_of_chart = str(points[0]["spc_chart"])
    x = [day_of(row["period_end"]).isoformat() for row in points]
    values = [scaled(row[column], count) for row in points]
    centre = scaled(points[0]["spc_centre"], count)
    lower = [scaled(row["spc_lower_limit"], count) for row in points]
    upper = [scaled(row["spc_upper_limit"], count) for row in points]
    traces: list[go.BaseTraceType] = [
        go.Scatter(
            x=x,
            y=upper,
            name="Upper and lower limits",
            legendgroup="limits",
            mode="lines",
            line={"color": charts.GREY, "dash": "dash", "width": 1.5, "shape": "hvh" if not count else "linear"},
            hovertext=[f"Upper limit {value:,.1f}{unit}" for value in upper],
            hoverinfo="text",
        ),
        go.Scatter(
            x=x,
            y=lower,
            name="Lower limit",
            legendgroup="limits",
            showlegend=False,
            mode="lines",
            line={"color": charts.GREY, "dash": "dash", "width": 1.5, "shape": "hvh" if not count else "linear"},
            hovertext=[f"Lower limit {value:,.1f}{unit}" for value in lower],
            hoverinfo="text",
        ),
        go.Scatter(
            x=x,
            y=[centre] * len(x),
            name=f"Mean: {centre:,.1f}{unit}",
            mode="lines",
            line={"color": charts.BLACK, "width": 1.5},
            hoverinfo="skip",
        ),
    ]
    if measure.final_target is not None:
        target = scaled(measure.final_target.value, count)
        traces.append(
            go.Scatter(
                x=x,
                y=[target] * len(x),
                name=f"Target: {figure_text(measure.final_target.value, count)}",
                mode="lines",
                line={"color": charts.GREEN, "dash": "dot", "width": 2},
                hoverinfo="skip",
            )
        )
    traces.append(
        go.Scatter(
            x=x,
            y=values,
            name="Each period",
            mode="lines",
            line={"color": charts.GREY, "width": 1.5},
            hoverinfo="skip",
            showlegend=False,
        )
    )
    for signal in SIGNAL_ORDER:
        chosen = [i for i, row in enumerate(points) if row["spc_signal"] == signal]
        if not chosen:
            continue
        traces.append(
            go.Scatter(
                x=[x[i] for i in chosen],
                y=[values[i] for i in chosen],
                name=signal[:1].upper() + signal[1:],
                mode="markers",
                marker={
                    "symbol": charts.SPC_SYMBOLS[signal],
                    "size": 12 if signal != spc.COMMON_CAUSE else 8,
                    "color": charts.SPC_COLOURS[signal],
                    "line": {"color": "#ffffff", "width": 1},
                },
                hovertext=[
                    _hover(
                        charts.text(points[i].get("period_label") or points[i]["period"]),
                        f"{values[i]:,.1f}{unit}: {signal}",
                        charts.text(points[i].get("spc_rules") or ""),
                    )
                    for i in chosen
                ],
                hoverinfo="text",
            )
        )
    yaxis: dict[str, Any] = {"title": {"text": "" if count else "Percentage"}}
    if not count:
        yaxis.update(ticksuffix="%")
    else:
        yaxis.update(tickformat=",d")
    figure = charts.new_figure(
        traces,
        xaxis={"type": "date"},
        yaxis=yaxis,
        hovermode="closest",
        margin={"l": 56, "r": 16, "t": 16, "b": 40},
        legend=LEGEND,
    )
    suffix = "" if count else " (%)"
    columns = (
        "Period",
        f"Result{suffix}",
        f"Mean{suffix}",
        f"Lower limit{suffix}",
        f"Upper limit{suffix}",
        "Signal",
        "Why",
    )
    table_rows = tuple(
        (
            short_period(row),
            cell(row[column], count),
            limit_cell(row["spc_centre"], count),
            limit_cell(row["spc_lower_limit"], count),
            limit_cell(row["spc_upper_limit"], count),
            str(row["spc_signal"]),
            str(row.get("spc_rules") or ""),
        )
        for row in points
    )
    caption = f"{measure.title}: statistical process control ({'XmR chart' if kind_of_chart == spc.XMR else 'p-chart'})"
    return charts.Chart(
        chart_id,
        caption,
        spc_summary(measure, points, kind, kind_of_chart, centre, unit, len(mine)),
        figure,
        charts.Table(columns, table_rows, frozenset(columns[1:5])),
    )


def spc_summary(
    measure: Measure, points: list[dict], kind: PeriodKind, kind_of_chart: str, centre: float, unit: str, total: int
) -> str:
    count = is_count(measure)
    special = [row for row in points if row["spc_signal"] != spc.COMMON_CAUSE]
    chart_name = "An XmR chart" if kind_of_chart == spc.XMR else "A p-chart"
    parts = [f"{chart_name} of {len(points)} {_periods(kind, len(points))}, with a mean of {centre:,.1f}{unit}"]
    if total > len(points):
        parts[-1] += f" ({total - len(points)} withheld {_periods(kind, total - len(points))} left out)"
    if not special:
        parts.append("every period is common cause variation, with no signal")
    elif len(special) == len(points):
        signals = {row["spc_signal"] for row in special}
        parts.append(
            f"every period shows {', '.join(sorted(signals)) if len(signals) > 1 else special[0]['spc_signal']}"
        )
    else:
        kinds: dict[str, int] = {}
        for row in special:
            kinds[row["spc_signal"]] = kinds.get(row["spc_signal"], 0) + 1
        said = " and ".join(f"{found} {signal}" for signal, found in kinds.items())
        parts.append(f"{len(special)} show special cause ({said}), the rest common cause")
    latest = points[-1]
    if special and len(special) < len(points):
        parts.append(f"the latest, {short_period(latest)}, is {latest['spc_signal']}")
    assurance = latest.get("spc_assurance")
    if isinstance(assurance, str) and assurance and not withheld(assurance) and measure.final_target is not None:
        parts.append(f"against the target of {figure_text(measure.final_target.value, count)} it {assurance}")
    return "; ".join(parts) + "."


# Breakdowns ----------------------------------------------------------------------------------------


def group_test_text(row: dict) -> str:
    """Whether the groups differ, in words: the test and its p-value, or why there is no test."""
    test = row.get("test")
    note = row.get("note") if isinstance(row.get("note"), str) else ""
    if not test:
        return note or "Not tested."
    p = number(row.get("p_value"))
    if p is None:
        return note or "Not tested."
    verdict = "The groups differ significantly" if p < 0.05 else "No significant difference between the groups"
    caution = f" {note}" if note else ""
    return f"{verdict} ({test}, {p_value_text(p)}).{caution}"


AXIS_LABEL_LINE = 16


def _axis_labels(labels: list[str]) -> list[str]:
    """Group names on at most two short lines, so that the bars keep room on a phone ("Post-16 (sixth<br>form,
    college or…"); the hover text and the table give them whole. Names that would be cut to the same stay whole."""
    wrapped = [_two_lines(label) for label in labels]
    return [label if wrapped.count(short) > 1 else short for label, short in zip(labels, wrapped, strict=True)]


def _axis_text(label: str) -> str:
    """An axis label's lines, each escaped, joined with plotly's line break."""
    return "<br>".join(charts.text(line) for line in label.split("\n"))


def _two_lines(label: str) -> str:
    lines, line = [], ""
    for word in label.split():
        if line and len(line) + 1 + len(word) > AXIS_LABEL_LINE:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    if len(lines) > 2:
        lines = [lines[0], " ".join(lines[1:])]
    if len(lines[-1]) > AXIS_LABEL_LINE:
        lines[-1] = lines[-1][: AXIS_LABEL_LINE - 1].rstrip() + "…"
    return "\n".join(lines)


def breakdown_chart(
    measure: Measure,
    table: pd.DataFrame,
    question: str,
    period: dict,
    everyone: dict | None = None,
    *,
    chart_id: str = "by-group",
) -> Chart:
    """One period of a breakdown (``table``: the rows of this measure and period) as horizontal bars, each with
    its 95% interval, in the order the question offers its answers; ``everyone`` is the report's row for the
    period, drawn as a line where its value is shown."""
    groups = records(table)
    labels = [str(row.get("group_label") or row.get("group") or "Not stated") for row in groups]
    axis_labels = _axis_labels(labels)
    values = [scaled(row.get("percent"), False) for row in groups]
    lows = [scaled(row.get("ci_low"), False) for row in groups]
    highs = [scaled(row.get("ci_high"), False) for row in groups]
    traces: list[go.BaseTraceType] = [
        go.Bar(
            x=values,
            y=[_axis_text(label) for label in axis_labels],
            orientation="h",
            name="Result, with its 95% interval",
            marker={"color": charts.BLUE},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [
                    None if v is None or h is None else round(h - v, 1) for v, h in zip(values, highs, strict=True)
                ],
                "arrayminus": [
                    None if v is None or lo is None else round(v - lo, 1) for v, lo in zip(values, lows, strict=True)
                ],
                "color": charts.BLACK,
                "thickness": 1.5,
                "width": 6,
            },
            hovertext=[
                _hover(
                    charts.text(label),
                    f"{v:.1f}% ({count_text(row.get('positives'))} of {count_text(row.get('n'))})"
                    if v is not None
                    else "Withheld to protect a small count",
                )
                for label, v, row in zip(labels, values, groups, strict=True)
            ],
            hoverinfo="text",
        )
    ]
    overall = scaled(everyone.get("percent"), False) if everyone else None
    if overall is not None:
        traces.append(
            go.Scatter(
                x=[overall, overall],
                y=[_axis_text(axis_labels[0]), _axis_text(axis_labels[-1])] if labels else [],
                name=f"Everyone: {whole_percent(everyone['percent'])}",
                mode="lines",
                line={"color": charts.VERMILION, "dash": "dash", "width": 2},
                hoverinfo="skip",
            )
        )
    figure = charts.new_figure(
        traces,
        xaxis={"range": [0, 100], "ticksuffix": "%", "nticks": 5, "showgrid": True, "gridcolor": "#e8e8e8"},
        yaxis={
            "autorange": "reversed",
            "automargin": True,
            "gridcolor": "#ffffff",
            "type": "category",
            "tickfont": {"size": 14},
        },
        margin={"l": 16, "r": 32, "t": 16, "b": 40},
        bargap=0.35,
        hovermode="closest",
        legend=LEGEND,
    )
    columns = ("Group", "Result (%)", "Lower 95% limit (%)", "Upper 95% limit (%)", "Positives", "Base")
    table_rows = tuple(
        (
            label,
            cell(row.get("percent"), False),
            cell(row.get("ci_low"), False),
            cell(row.get("ci_high"), False),
            count_text(row.get("positives")),
            count_text(row.get("n")),
        )
        for label, row in zip(labels, groups, strict=True)
    )
    period_name = short_period(period)
    test = group_test_text(groups[0]) if groups else ""
    shown = [(label, v) for label, v in zip(labels, values, strict=True) if v is not None]
    if not groups:
        summary = f"No responses in {period_name} to break down."
    elif not shown:
        summary = f"In {period_name} every group's figure is withheld to protect small counts. {test}"
    else:
        low = min(shown, key=lambda pair: pair[1])
        high = max(shown, key=lambda pair: pair[1])
        hidden = len(groups) - len(shown)
        if low[1] == high[1]:
            spread = f"every group shown is at {whole_percent(high[1] / 100)}"
        else:
            spread = (
                f"the highest is {high[0]} at {whole_percent(high[1] / 100)} "
                f"and the lowest {low[0]} at {whole_percent(low[1] / 100)}"
            )
        withheld_note = f" ({hidden} {'group' if hidden == 1 else 'groups'} withheld)" if hidden else ""
        summary = f"In {period_name}, {spread}{withheld_note}. {test}"
    return charts.Chart(
        chart_id,
        f"{measure.title}: by {question[:1].lower() + question[1:] if question else 'group'}, {period_name}",
        summary.strip(),
        figure,
        charts.Table(columns, table_rows, frozenset(columns[1:])),
        empty=None if groups else summary,
    )


def not_for_publication(table: charts.Table) -> charts.Table:
    """The table with a first column saying, on every row, that its exact counts are not for publication."""
    label = "NOT FOR PUBLICATION: exact counts, without disclosure control"
    return charts.Table(
        ("Not for publication", *table.columns),
        tuple((label, *row) for row in table.rows),
        table.numeric,
    )
