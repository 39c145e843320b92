"""Recorded figures (from the case management system and elsewhere) as counts per reporting period.

Figures are recorded at a measure's own frequency. Reported by a longer
period, they add up as the measure says: figures for their own period are
summed; "cumulative over the year" figures are summed from 1 April to the end
of each period; snapshots take the period's last figure. A figure recorded
quarterly cannot be split into months, so a measure is never reported by a
shorter period than it is recorded in; and recorded figures have no survey
waves, so by wave they are reported at their own frequency.
"""

from __future__ import annotations

import pandas as pd

from .measures import Accumulation, Measure, MeasureSet, PeriodKind, RecordedKind, RecordedSource
from .periods import Period, coarser, financial_year_start, parse_period, period_of

FIGURE_COLUMNS = ["measure", "period", "numerator", "denominator", "value"]
COUNT_COLUMNS = ["measure", "period", "period_label", "period_start", "period_end", "positives", "n", "value"]


def reporting_kind(measure: Measure, kind: PeriodKind) -> PeriodKind:
    frequency = measure.source.frequency
    return frequency if PeriodKind(kind) is PeriodKind.WAVE else coarser(kind, frequency)


def recorded_counts(figures: pd.DataFrame, measures: MeasureSet, kind: PeriodKind | str) -> pd.DataFrame:
    """Counts (COUNT_COLUMNS) per recorded measure and reporting period of ``kind``."""
    missing = [column for column in FIGURE_COLUMNS if column not in figures.columns]
    if missing:
        raise ValueError(f"The recorded figures table has no column {', '.join(repr(name) for name in missing)}.")
    rows: list[dict] = []
    for measure in measures.measures:
        if not isinstance(measure.source, RecordedSource):
            continue
        own = figures[figures["measure"] == measure.key]
        if own.empty:
            continue
        recorded = [(parse_period(record["period"]), record) for record in own.to_dict("records")]
        for period, _ in recorded:
            if period.kind is not measure.source.frequency:
                raise ValueError(
                    f"'{measure.key}' is recorded by {measure.source.frequency.value}, "
                    f"but a figure is for the {period.kind.value} {period.key}."
                )
        recorded.sort(key=lambda item: item[0].start)
        rows.extend(_aggregate(measure, recorded, reporting_kind(measure, PeriodKind(kind))))
    return pd.DataFrame(rows, columns=COUNT_COLUMNS)


def _aggregate(measure: Measure, recorded: list[tuple[Period, dict]], kind: PeriodKind) -> list[dict]:
    source: RecordedSource = measure.source
    reporting: dict[str, Period] = {}
    for period, _ in recorded:
        reported = period_of(period.start, kind)
        reporting.setdefault(reported.key, reported)
    rows = []
    for reported in reporting.values():
        if source.accumulation is Accumulation.CUMULATIVE_YEAR:
            year_start = financial_year_start(reported.end)
            included = [
                record for period, record in recorded if year_start <= period.start and period.end <= reported.end
            ]
        else:
            included = [record for period, record in recorded if reported.contains(period.start)]
        if source.accumulation is Accumulation.SNAPSHOT:
            included = included[-1:]
        row = {
            "measure": measure.key,
            "period": reported.key,
            "period_label": reported.label,
            "period_start": reported.start,
            "period_end": reported.end,
            "positives": None,
            "n": None,
            "value": None,
        }
        if source.kind is RecordedKind.PROPORTION:
            row["positives"] = int(sum(record["numerator"] for record in included))
            row["n"] = int(sum(record["denominator"] for record in included))
        else:
            row["value"] = float(sum(record["value"] for record in included))
        rows.append(row)
    return rows
