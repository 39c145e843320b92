"""Board measures: their definitions, figures recorded from elsewhere, and the report.

The definitions are read from the measures file (``MEASURES_FILE``) and
checked against the questionnaire library. Survey measures are counted from
the responses (``measure_counts``); recorded measures from the figures
officers record here or import from the case management system. The
``analysis`` package works out what the counts mean, and disclosure control
(``DISCLOSURE_THRESHOLD``, ``DISCLOSURE_MINIMUM_BASE``) is applied to
everything that leaves the officer area.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
from flask import current_app
from sqlalchemy import select

from analysis import breakdowns, disclosure, periods, recorded
from analysis.measures import MeasureSet, PeriodKind, RecordedKind
from analysis.measures_file import load_measures
from analysis.report import Report, measure_report, publish

from ..database import begin_write
from ..extensions import db
from ..models import RecordedFigure, utcnow
from . import audit, csv_files
from .csv_files import CsvFileRefused, column_letter
from .measure_counts import EVERYONE, measure_counts
from .questionnaires import library
from .uk_time import uk_date

ACTOR = "the command line"
FIGURE_COLUMNS = ("measure", "period", "numerator", "denominator", "value")
MAX_FIGURE_ROWS = 10_000
BREAKDOWN_DERIVED = ["percent", "ci_low", "ci_high"]
GROUP_TEST_WITHHELD = "Not tested: the test would let a withheld count be worked out."
NOT_STATED_LABEL = "Not stated"
# A breakdown's period, as the report names and dates it.
PERIOD_COLUMNS = ("measure", "period", "period_label", "period_start", "period_end")


class FigureRefused(ValueError):
    """A recorded figure that does not fit its measure: which part (``field``), and why in plain English."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


def measures_file() -> Path:
    return Path(current_app.config["MEASURES_FILE"])


def measure_set() -> MeasureSet:
    """The measures file, checked against the questionnaire library (``MeasuresFileError`` if it has problems)."""
    return load_measures(measures_file(), library().questionnaires)


def disclosure_rules() -> disclosure.DisclosureRules:
    return disclosure.DisclosureRules(
        threshold=current_app.config["DISCLOSURE_THRESHOLD"],
        minimum_base=current_app.config["DISCLOSURE_MINIMUM_BASE"],
    )


# Recorded figures -----------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    measure: str
    period: periods.Period
    numerator: int | None
    denominator: int | None
    value: float | None


def check_figure(
    measures: MeasureSet,
    key: str,
    period: str,
    numerator: str | int | None = None,
    denominator: str | int | None = None,
    value: str | float | None = None,
    *,
    today: date | None = None,
) -> Figure:
    """A figure for a recorded measure, or ``FigureRefused`` saying what is wrong with it.

    A period that has not ended (by ``today``, the UK date unless given) is
    refused: its figure would be a part-period figure reported as the whole,
    and one for a period still ahead would be left out of every report until
    then, with nothing to say so.
    """
    measure = measures.measure(key)
    if measure is None:
        recorded_keys = ", ".join(m.key for m in measures.measures if m.is_recorded) or "none"
        raise FigureRefused("measure", f"There is no measure '{key}'. The recorded measures are: {recorded_keys}.")
    if not measure.is_recorded:
        raise FigureRefused(
            "measure", f"'{key}' is counted from survey responses; only recorded measures take figures."
        )
    try:
        found = periods.parse_period(period)
    except ValueError as refused:
        raise FigureRefused("period", str(refused)) from None
    frequency = measure.source.frequency
    if found.kind is not frequency:
        example = periods.period_of(date.today(), frequency).key
        raise FigureRefused(
            "period",
            f"'{key}' is recorded by {frequency.value}, so its period is written like {example}, not '{period}'.",
        )
    today = today or uk_date(utcnow())
    if found.end >= today:
        raise FigureRefused(
            "period",
            f"{found.key} has not ended yet (it ends on {_written(found.end)}): record its figure after then.",
        )
    if measure.source.kind is RecordedKind.PROPORTION:
        if value not in (None, ""):
            raise FigureRefused("value", f"'{key}' is a percentage: give a numerator and a denominator, not a value.")
        top = _whole(numerator, "numerator", key)
        bottom = _whole(denominator, "denominator", key)
        if bottom == 0:
            raise FigureRefused(
                "denominator", "The denominator is 0, so there is no percentage: leave this period out."
            )
        if top > bottom:
            raise FigureRefused("numerator", f"The numerator ({top}) cannot be more than the denominator ({bottom}).")
        return Figure(key, found, top, bottom, None)
    if numerator not in (None, "") or denominator not in (None, ""):
        raise FigureRefused(
            "numerator" if numerator not in (None, "") else "denominator",
            f"'{key}' is a count: give a value, not a numerator and denominator.",
        )
    return Figure(key, found, None, None, float(_whole(value, "value", key)))


def _written(day: date) -> str:
    """31 December 2026."""
    return f"{day.day} {day:%B %Y}"


def _whole(given: str | int | float | None, name: str, key: str) -> int:
    if given is None or (isinstance(given, str) and not given.strip()):
        raise FigureRefused(name, f"Give the {name} for '{key}'.")
    try:
        number = float(str(given).replace(",", "").strip())
    except ValueError:
        raise FigureRefused(name, f"The {name} must be a whole number, like 19, not '{given}'.") from None
    if not math.isfinite(number) or not number.is_integer():
        raise FigureRefused(name, f"The {name} must be a whole number, like 19, not '{given}'.")
    if number < 0:
        raise FigureRefused(name, f"The {name} cannot be negative ({given}).")
    return int(number)


def save_figures(figures: list[Figure], by: str = ACTOR) -> tuple[int, int]:
    """Add or replace each figure, in one transaction; returns (added, replaced)."""
    begin_write()
    existing = {
        (row.measure_key, row.period): row
        for row in db.session.scalars(
            select(RecordedFigure).where(RecordedFigure.measure_key.in_({figure.measure for figure in figures}))
        )
    }
    added = replaced = 0
    for figure in figures:
        row = existing.get((figure.measure, figure.period.key))
        if row is None:
            row = RecordedFigure(measure_key=figure.measure, period=figure.period.key)
            db.session.add(row)
            existing[(figure.measure, figure.period.key)] = row
            added += 1
        else:
            replaced += 1
        row.period_start = figure.period.start
        row.numerator, row.denominator, row.value = figure.numerator, figure.denominator, figure.value
        row.recorded_at, row.recorded_by = utcnow(), by
    if len(figures) == 1:
        figure = figures[0]
        audit.record(
            "figure_recorded",
            f"{figure.measure} {figure.period.key}",
            by=by,
            measure=figure.measure,
            period=figure.period.key,
            replaced=bool(replaced),
        )
    else:
        audit.record("figures_imported", f"{len(figures)} figures", by=by, added=added, replaced=replaced)
    db.session.commit()
    return added, replaced


def read_figures(data: bytes, measures: MeasureSet) -> list[Figure]:
    """The figures in a CSV file, or ``CsvFileRefused`` naming the row and column of every problem."""
    text = csv_files.decode(data, "The file is empty. It needs a header row naming the columns, then one row a figure.")
    rows = list(csv_files.records(text))
    names = [cell.strip().lower() for cell in rows[0][1]]
    problems = []
    for position, name in enumerate(names):
        if name and name not in FIGURE_COLUMNS:
            problems.append(
                f"Row 1, column {column_letter(position)}: “{rows[0][1][position].strip()[:50]}” is not a column "
                f"this file can have. The columns are {', '.join(FIGURE_COLUMNS)}."
            )
        elif name and names.index(name) != position:
            problems.append(f"Row 1, column {column_letter(position)}: the column {name} appears more than once.")
    for needed in ("measure", "period"):
        if needed not in names:
            problems.append(f"Row 1: there is no column headed “{needed}”.")
    if problems:
        raise CsvFileRefused(problems)
    data_rows = [(number, cells) for number, cells in rows[1:] if any(cell.strip() for cell in cells)]
    if not data_rows:
        raise CsvFileRefused(["The file has a header row but no figures under it."])
    if len(data_rows) > MAX_FIGURE_ROWS:
        raise CsvFileRefused([f"The file has {len(data_rows):,} figures: split it into files of {MAX_FIGURE_ROWS:,}."])
    figures: list[Figure] = []
    first_row_of: dict[tuple[str, str], int] = {}
    for number, cells in data_rows:
        problems += csv_files.unnamed_cells(number, cells, names, "measure, period, numerator, denominator or value")
        values = {name: cell.strip() for name, cell in zip(names, cells, strict=False) if name}
        try:
            figure = check_figure(
                measures,
                values.get("measure", ""),
                values.get("period", ""),
                values.get("numerator"),
                values.get("denominator"),
                values.get("value"),
            )
        except FigureRefused as refused:
            problems.append(f"Row {number}, {_column_of(refused.field, names)}: {refused}")
            continue
        key = (figure.measure, figure.period.key)
        if key in first_row_of:
            problems.append(f"Row {number}: {figure.measure} {figure.period.key} is also in row {first_row_of[key]}.")
        first_row_of.setdefault(key, number)
        figures.append(figure)
    if problems:
        raise CsvFileRefused(problems)
    return figures


def _column_of(field: str, names: list[str]) -> str:
    """Where a refused part is in the file, as "column C (numerator)"."""
    if field in names:
        return f"column {column_letter(names.index(field))} ({field})"
    return f"column {field} (there is no such column: add it)"


def recorded_frame(until: date | None = None) -> pd.DataFrame:
    query = select(
        RecordedFigure.measure_key,
        RecordedFigure.period,
        RecordedFigure.numerator,
        RecordedFigure.denominator,
        RecordedFigure.value,
    )
    if until is not None:
        query = query.where(RecordedFigure.period_start <= until)
    return pd.DataFrame(db.session.execute(query).all(), columns=list(recorded.FIGURE_COLUMNS))


# The report -----------------------------------------------------------------


def report(measures: MeasureSet, kind: PeriodKind, as_of: date) -> Report:
    """Every measure in every period of ``kind`` up to ``as_of``, before disclosure control."""
    survey = measure_counts(measures, library().questionnaires, kind, as_of)
    everyone = survey.counts[survey.counts["group"] == EVERYONE].drop(columns="group")
    counted = recorded.recorded_counts(recorded_frame(as_of), measures, kind)
    frames = [frame for frame in (everyone, counted) if not frame.empty]
    counts = pd.concat(frames, ignore_index=True) if frames else everyone
    return measure_report(counts, measures, as_of=as_of, baselines=survey.baselines)


def published_report(measures: MeasureSet, kind: PeriodKind, as_of: date) -> Report:
    return publish(report(measures, kind, as_of), disclosure_rules())


def breakdown(measures: MeasureSet, kind: PeriodKind, as_of: date, by: str, *, exact: bool = False) -> pd.DataFrame:
    """Each survey measure's groups by the context question ``by`` in every period, with disclosure control
    (``exact``: without it, for officers only, never to be published).

    Measures are in the measures file's order, periods in date order (a wave
    by when it ran, not by its name), and groups in the order the question
    offers its answers, with people who did not say last. ``group`` is the
    answer's code, stable for other systems; ``group_label`` is its words.
    """
    survey = measure_counts(measures, library().questionnaires, kind, as_of, by=by)
    counts = survey.counts[survey.counts["period_start"] <= as_of]
    labels = group_labels(by)
    order = {code: position for position, code in enumerate(labels)}
    measure_order = {measure.key: position for position, measure in enumerate(measures.measures)}
    counts = counts.assign(
        _measure=counts["measure"].map(measure_order),
        _group=counts["group"].map(
            lambda code: len(order) + 1 if code == breakdowns.NOT_STATED else order.get(code, len(order))
        ),
    ).sort_values(["_measure", "period_start", "period_end", "period", "_group", "group"], kind="stable")
    counts = counts.drop(columns=["_measure", "_group"])
    table = breakdowns.breakdown(counts, by=[*PERIOD_COLUMNS], group="group")
    table.insert(
        table.columns.get_loc("group") + 1, "group_label", table["group"].map(lambda code: _label(labels, code))
    )
    if exact:
        return table
    published = disclosure.suppress(
        table, disclosure_rules(), tables=["measure", "period"], group="group", derived=BREAKDOWN_DERIVED
    )
    return _withhold_group_tests(published)


def group_labels(question: str) -> dict[str, str]:
    """The answers of the context question ``question``, code to words, in the order the questionnaires offer
    them (the first wording found, where questionnaires differ)."""
    labels: dict[str, str] = {}
    for questionnaire in library().questionnaires.values():
        asked = questionnaire.question(question)
        if asked is not None:
            for option in asked.options:
                labels.setdefault(option.value, option.label)
    return labels


def _label(labels: dict[str, str], code: str) -> str:
    if code == breakdowns.NOT_STATED:
        return NOT_STATED_LABEL
    return labels.get(code, code)


def _withhold_group_tests(table: pd.DataFrame) -> pd.DataFrame:
    """The test of whether the groups differ is worked out from every group's counts (a p-value of 1 between two
    groups of 6 says they are 3 and 3), so it is withheld wherever any count in its table is."""
    if table.empty:
        return table
    hidden = table["positives"].eq(disclosure.SUPPRESSED) | table["n"].eq(disclosure.SUPPRESSED)
    withheld = hidden.groupby([table["measure"], table["period"]]).transform("any") & table["test"].fillna("").ne("")
    table = table.copy()
    for column in ("statistic", "p_value"):
        table[column] = table[column].astype(object)
        table.loc[withheld, column] = disclosure.SUPPRESSED
    table.loc[withheld, "test"] = ""
    table.loc[withheld, "note"] = GROUP_TEST_WITHHELD
    return table
