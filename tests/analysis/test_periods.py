"""Reporting periods: financial-year quarters, months, calendar years and waves."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from analysis import periods
from analysis.measures import PeriodKind


@pytest.mark.parametrize(
    ("day", "key", "start", "end"),
    [
        (date(2024, 3, 31), "2023-24 Q4", date(2024, 1, 1), date(2024, 3, 31)),
        (date(2024, 4, 1), "2024-25 Q1", date(2024, 4, 1), date(2024, 6, 30)),
        (date(2024, 6, 30), "2024-25 Q1", date(2024, 4, 1), date(2024, 6, 30)),
        (date(2024, 7, 1), "2024-25 Q2", date(2024, 7, 1), date(2024, 9, 30)),
        (date(2024, 12, 31), "2024-25 Q3", date(2024, 10, 1), date(2024, 12, 31)),
        (date(2025, 1, 1), "2024-25 Q4", date(2025, 1, 1), date(2025, 3, 31)),
        (date(2018, 9, 28), "2018-19 Q2", date(2018, 7, 1), date(2018, 9, 30)),
        (date(1999, 12, 31), "1999-00 Q3", date(1999, 10, 1), date(1999, 12, 31)),
    ],
)
def test_quarter_boundaries(day, key, start, end):
    quarter = periods.period_of(day, PeriodKind.QUARTER)
    assert (quarter.key, quarter.start, quarter.end) == (key, start, end)
    assert quarter.contains(day)


def test_the_quarter_formula_holds_for_every_day_of_a_leap_year_and_its_neighbours():
    day = date(2023, 1, 1)
    while day < date(2025, 12, 31):
        year, number = periods.financial_quarter(day)
        assert number == ((day.month - 4) % 12) // 3 + 1
        assert year == (day.year if day.month >= 4 else day.year - 1)
        quarter = periods.period_of(day, "quarter")
        assert quarter.contains(day)
        day += timedelta(days=1)


def test_quarters_tile_the_financial_year_without_gaps():
    quarters = [periods.quarter(2023, number) for number in (1, 2, 3, 4)]
    assert quarters[0].start == date(2023, 4, 1)
    assert quarters[-1].end == date(2024, 3, 31)
    for earlier, later in zip(quarters, quarters[1:], strict=False):
        assert later.start == earlier.end + timedelta(days=1)
    assert quarters[3].label == "2023-24 Q4 (January to March 2024)"
    assert quarters[0].label == "2023-24 Q1 (April to June 2023)"


def test_months_and_years():
    february = periods.period_of(date(2024, 2, 10), PeriodKind.MONTH)
    assert (february.key, february.end, february.label) == ("2024-02", date(2024, 2, 29), "February 2024")
    year = periods.period_of(date(2024, 2, 10), PeriodKind.YEAR)
    assert (year.key, year.start, year.end) == ("2024", date(2024, 1, 1), date(2024, 12, 31))


def test_a_wave_is_not_a_calendar_period():
    with pytest.raises(ValueError, match="not a calendar period"):
        periods.period_of(date(2024, 1, 1), PeriodKind.WAVE)
    wave = periods.wave("Baseline November 2021", date(2021, 11, 14), date(2021, 12, 18))
    assert wave.key == wave.label == "Baseline November 2021"
    with pytest.raises(ValueError, match="ends .* before it starts"):
        periods.wave("Backwards", date(2021, 12, 18), date(2021, 11, 14))


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("2024-25 Q1", "2024-25 Q1"),
        ("2024/25 q3", "2024-25 Q3"),
        ("Q4 2023-24", "2023-24 Q4"),
        ("2023-2024 Q4", "2023-24 Q4"),
        ("  2024-04 ", "2024-04"),
        ("2024-4", "2024-04"),
        ("2024", "2024"),
    ],
)
def test_parse_period(text, key):
    assert periods.parse_period(text).key == key


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2024-26 Q1", "not a financial year"),
        ("2024-13", "numbered 1 to 12"),
        ("Q5 2024-25", "is not a period"),
        ("last quarter", "is not a period"),
        ("", "is not a period"),
    ],
)
def test_parse_period_refuses_what_is_not_a_period(text, message):
    with pytest.raises(ValueError, match=message):
        periods.parse_period(text)


def test_coarser():
    assert periods.coarser(PeriodKind.MONTH, PeriodKind.QUARTER) is PeriodKind.QUARTER
    assert periods.coarser(PeriodKind.YEAR, PeriodKind.QUARTER) is PeriodKind.YEAR
    assert periods.coarser(PeriodKind.MONTH, PeriodKind.MONTH) is PeriodKind.MONTH
