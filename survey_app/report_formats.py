"""The measures report as a board reads it: a table for the terminal, CSV for a spreadsheet, JSON for other systems.

Proportions are held from 0 to 1; here they become percentages. CSV and
JSON give them to one decimal place (52.6); the table gives whole
percentages, as board papers do (10 of 19 is "53%"), rounding halves up
rather than to even. "c" marks a figure withheld by disclosure control.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

from analysis.disclosure import SUPPRESSED
from analysis.report import PROPORTION_COLUMNS, Report
from analysis.status import NOT_YET_CLEAR

FORMATS = ("table", "csv", "json")
P_VALUE_COLUMNS = ("change_since_previous_p", "change_since_baseline_p", "p_value")


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT


def _plain(column: str, value, *, is_count: bool = False):
    """A cell as CSV and JSON carry it: proportions as percentages, except in the row of a count measure,
    whose changes, baseline, trajectory and target are counts too."""
    if _missing(value):
        return None
    if value == SUPPRESSED:
        return SUPPRESSED
    if isinstance(value, date):
        return value.isoformat()
    proportion = column in PROPORTION_COLUMNS or column in (
        "share",
        "population_share",
        "difference",
        "benchmark_value",
    )
    if proportion and not is_count:
        return round(float(value) * 100, 1)
    if column in P_VALUE_COLUMNS:
        return float(f"{float(value):.4g}")
    if hasattr(value, "item"):  # numpy numbers
        value = value.item()
    # Counts arrive as floats wherever a column also holds gaps; 33 people, not 33.0.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def records(frame: pd.DataFrame) -> list[dict]:
    return [
        {column: _plain(column, value, is_count=not _missing(row.get("value"))) for column, value in row.items()}
        for row in frame.to_dict("records")
    ]


def to_csv(frame: pd.DataFrame) -> str:
    output = io.StringIO()
    writer = csv.DictWriter(output, fieldnames=list(frame.columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows({key: "" if value is None else value for key, value in row.items()} for row in records(frame))
    return output.getvalue()


def to_json(report: Report, settings: dict) -> str:
    return json.dumps(
        {
            **settings,
            "percentages": "0 to 100, to one decimal place; differences in percentage points",
            "rows": records(report.rows),
            "benchmarks": records(report.benchmarks),
            "measures_without_data": list(report.without_data),
        },
        indent=2,
        ensure_ascii=False,
    )


def whole_percent(value) -> str:
    """A proportion as a board paper prints it: 0.5263 is "53%"."""
    if _missing(value):
        return ""
    if value == SUPPRESSED:
        return SUPPRESSED
    return f"{Decimal(str(float(value) * 100)).quantize(Decimal('1'), rounding=ROUND_HALF_UP)}%"


def points(value) -> str:
    """A difference of proportions in percentage points: "+12 pts"."""
    if _missing(value):
        return ""
    if value == SUPPRESSED:
        return SUPPRESSED
    rounded = Decimal(str(abs(float(value)) * 100)).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    sign = "+" if value > 0 and rounded else "-" if value < 0 and rounded else ""
    return f"{sign}{rounded} pts"


def p_value(value) -> str:
    if _missing(value) or value == SUPPRESSED:
        return ""
    return "p<0.001" if value < 0.001 else f"p={value:.3f}"


def _count(value) -> str:
    if _missing(value):
        return ""
    if value == SUPPRESSED:
        return SUPPRESSED
    return f"{float(value):,.0f}"


def _estimate(row: dict) -> str:
    if not _missing(row["value"]):
        return _count(row["value"])
    return f"{whole_percent(row['percent'])} ({_count(row['positives'])} of {_count(row['n'])})"


def _interval(row: dict) -> str:
    if _missing(row["ci_low"]):
        return ""
    if row["ci_low"] == SUPPRESSED:
        return SUPPRESSED
    return f"{whole_percent(row['ci_low'])} to {whole_percent(row['ci_high'])}"


def _change(row: dict, prefix: str, verdict: str, is_count: bool) -> str:
    change = row[prefix]
    if _missing(change):
        return ""
    if change == SUPPRESSED:
        return SUPPRESSED
    shown = f"{change:+,.0f}" if is_count else points(change)
    # Name the period compared with: it may not be the one just before (a
    # gap between waves, or the same quarter last year for a cumulative figure).
    if prefix == "change_since_previous" and row.get("previous_period"):
        shown += f" on {row['previous_period']}"
    tested = p_value(row.get(f"{prefix}_p"))
    return ", ".join(part for part in (shown, row[verdict] or "", tested) if part)


def _trajectory(row: dict, is_count: bool) -> str:
    if _missing(row["trajectory"]):
        return ""
    if row["trajectory"] == SUPPRESSED:
        return SUPPRESSED
    expected = f"{row['trajectory']:,.0f}" if is_count else whole_percent(row["trajectory"])
    gap = row["gap_to_trajectory"]
    if gap == SUPPRESSED:
        return f"{expected} (gap c)"
    return f"{expected} (gap {f'{gap:+,.0f}' if is_count else points(gap)})"


def _target(row: dict, is_count: bool) -> str:
    if _missing(row["target"]):
        return ""
    value = f"{row['target']:,.0f}" if is_count else whole_percent(row["target"])
    text = f"{value} by {row['target_date']:%d %b %Y}: {row['target_assurance']}"
    needed = row["responses_needed"]
    # How many a period would need is counted in the measure's own unit: responses, plans, annual reviews.
    if not _missing(needed) and needed != SUPPRESSED and row["target_assurance"] == NOT_YET_CLEAR:
        text += f" (about {_count(needed)} {row.get('unit') or 'responses'} would tell)"
    return text


def _spc(row: dict) -> str:
    if _missing(row["spc_chart"]):
        return ""
    if row["spc_signal"] == SUPPRESSED:
        return SUPPRESSED
    rules = f" ({row['spc_rules']})" if row["spc_rules"] else ""
    return f"{row['spc_signal']}{rules}"


def _response_rate(row: dict) -> str:
    if _missing(row["responses"]):
        return ""
    if _missing(row["response_rate"]) or row["response_rate"] == SUPPRESSED:
        return _count(row["responses"])
    return f"{_count(row['responses'])} of {_count(row['eligible'])} ({whole_percent(row['response_rate'])})"


TABLE_HEADINGS = (
    "Period",
    "Result",
    "95% interval",
    "Responses",
    "Since previous",
    "Since baseline",
    "Trajectory",
    "Status",
    "Target",
    "Benchmarks",
    "SPC",
)


def _table_row(row: dict) -> list[str]:
    is_count = not _missing(row["value"])
    return [
        row["period_label"],
        _estimate(row),
        _interval(row),
        _response_rate(row),
        _change(row, "change_since_previous", "direction_of_travel", is_count),
        _change(row, "change_since_baseline", "since_baseline", is_count),
        _trajectory(row, is_count),
        row["status"] or "",
        _target(row, is_count),
        row["benchmarks"] or "",
        _spc(row),
    ]


def grid(headings: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell, the empty ones left out."""
    keep = [index for index in range(len(headings)) if any(row[index] for row in rows)]
    cells = [[headings[index] for index in keep], *([row[index] for index in keep] for row in rows)]
    widths = [max(len(str(line[index])) for line in cells) for index in range(len(keep))]
    return "\n".join(
        "  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip() for line in cells
    )


def to_table(report: Report, measures, legend: str) -> str:
    """One section per measure: its definition, baseline and targets, then a line per period."""
    sections = []
    rows = report.rows.to_dict("records")
    for measure in measures.measures:
        mine = [row for row in rows if row["measure"] == measure.key]
        if not mine:
            continue
        reference = f"{measure.reference}  " if measure.reference else ""
        lines = [f"{reference}{measure.title} [{measure.key}]", f"  {measure.definition.strip()}"]
        lines.append(f"  {_plan_line(mine[-1], measure)}")
        lines.append(grid(TABLE_HEADINGS, [_table_row(row) for row in mine]))
        sections.append("\n".join(lines))
    if report.without_data:
        sections.append("No figures yet: " + ", ".join(report.without_data))
    return "\n\n".join([*sections, legend]) + "\n"


def _plan_line(row: dict, measure) -> str:
    is_count = measure.is_count
    if measure.is_rated:
        parts = [f"{'Higher' if measure.polarity.sign > 0 else 'Lower'} is better."]
    else:
        parts = ["For information: neither a rise nor a fall is better in itself, so it is not rated."]
    baseline = row["baseline"]
    if baseline == SUPPRESSED:
        reason = row.get("baseline_suppression") or "to protect a small count"
        where = f" ({row['baseline_period']})" if row.get("baseline_period") else ""
        parts.append(f"Baseline{where} withheld: {reason}.")
    elif not _missing(baseline):
        value = f"{baseline:,.0f}" if is_count else whole_percent(baseline)
        where = row["baseline_period"] or f"{row['baseline_date']:%d %b %Y}"
        parts.append(f"Baseline: {value} ({where}).")
    elif measure.baseline is not None and measure.baseline.first_wave:
        parts.append("Baseline: the first wave, not yet surveyed.")
    if measure.targets:
        targets = ", then ".join(
            f"{f'{target.value:,.0f}' if is_count else whole_percent(target.value)} by {target.by:%d %b %Y}"
            for target in measure.targets
        )
        parts.append(f"Targets: {targets}.")
    return " ".join(parts)


BREAKDOWN_HEADINGS = ("Period", "Group", "Result", "95% interval", "Groups differ?")


def _group_test(row: dict) -> str:
    if not row["test"]:
        return row["note"] or ""
    verdict = "yes" if row["p_value"] < 0.05 else "no significant difference"
    caution = f"; {row['note']}" if row["note"] else ""
    return f"{verdict} ({row['test']}, {p_value(row['p_value'])}){caution}"


def breakdown_table(table: pd.DataFrame, measures, question: str, legend: str) -> str:
    """One section per measure, a line per period and group, in the order the table gives them (periods by date);
    each group by its words, and the test shown on each period's first line."""
    rows = table.to_dict("records")
    sections = [f"By: {question}"]
    for measure in measures.measures:
        mine = [row for row in rows if row["measure"] == measure.key]
        if not mine:
            continue
        lines, shown_test = [], set()
        for row in mine:
            first = row["period"] not in shown_test
            shown_test.add(row["period"])
            lines.append(
                [
                    (row.get("period_label") or row["period"]) if first else "",
                    row.get("group_label") or row["group"] or "Not stated",
                    f"{whole_percent(row['percent'])} ({_count(row['positives'])} of {_count(row['n'])})",
                    _interval(row),
                    _group_test(row) if first else "",
                ]
            )
        sections.append(f"{measure.title} [{measure.key}]\n{grid(BREAKDOWN_HEADINGS, lines)}")
    if len(sections) == 1:
        sections.append("No survey measure has responses in these periods yet.")
    return "\n\n".join([*sections, legend]) + "\n"


RATE_HEADINGS = ("", "Name", "Questionnaire", "Responses", "Eligible", "Response rate", "95% interval")
CHECK_HEADINGS = ("Group", "Responses", "Share", "95% interval", "Population share", "Representation")


def _questionnaires(keys: str) -> str:
    """A wave of many questionnaires is summed up, so the table stays readable."""
    count = len(keys.split(", "))
    return keys if count <= 2 else f"{count} questionnaires"


def rates_table(rates: pd.DataFrame, checks, legend: str) -> str:
    lines = [
        [
            row["level"].capitalize(),
            row["name"],
            _questionnaires(row["questionnaire"]),
            _count(row["responses"]),
            _count(row["eligible"]) or "not known",
            whole_percent(row["rate"]),
            _interval(row),
        ]
        for row in rates.to_dict("records")
    ]
    sections = ["Response rates\n" + grid(RATE_HEADINGS, lines) if lines else "No survey runs yet."]
    for check in checks:
        result = check.result
        tested = (
            f"{result.test}: {p_value(result.p_value)}" + (f"; {result.note}" if result.note else "")
            if result.test
            else result.note
        )
        rows = [
            [
                row["group"] or "Not stated",
                _count(row["responses"]),
                whole_percent(row["share"]),
                _interval(row),
                whole_percent(row["population_share"]),
                row["representation"] if row["share"] != SUPPRESSED else SUPPRESSED,
            ]
            for row in check.table.to_dict("records")
        ]
        sections.append(
            f"{check.population.title}: {check.level} {check.name}\n"
            f"  Population figures: {check.population.source.rstrip('. ')}. {tested}\n{grid(CHECK_HEADINGS, rows)}"
        )
    return "\n\n".join([*sections, legend]) + "\n"
