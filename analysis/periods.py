"""Reporting periods: financial-year quarters, months, calendar years and survey waves.

Councils report quarterly on the financial year: Q1 is April to June, Q2 July
to September, Q3 October to December and Q4 January to March, which belongs
to the financial year that began the April before (31 March 2024 is in
2023-24 Q4; 1 April 2024 starts 2024-25 Q1). Survey waves are not calendar
periods: a wave runs from its first run's opening to its last run's closing.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from .measures import PeriodKind

MONTHS = tuple(calendar.month_name)[1:]


@dataclass(frozen=True)
class Period:
    kind: PeriodKind
    key: str  # stable and sortable within a kind: "2024-25 Q1", "2024-04", "2024", or a wave's name
    start: date
    end: date  # the last day in the period
    label: str  # how a board paper names it: "2024-25 Q1 (April to June 2024)", "April 2024"

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


def financial_year_start(day: date) -> date:
    """1 April of the financial year ``day`` falls in."""
    return date(day.year if day.month >= 4 else day.year - 1, 4, 1)


def financial_quarter(day: date) -> tuple[int, int]:
    """(the year the financial year began, the quarter 1 to 4) of ``day``."""
    return financial_year_start(day).year, (day.month - 4) % 12 // 3 + 1


def _last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def quarter(year: int, number: int) -> Period:
    """Quarter ``number`` of the financial year beginning in April ``year``."""
    if number not in (1, 2, 3, 4):
        raise ValueError(f"A financial year has quarters 1 to 4, not {number}.")
    first_month = (3 + 3 * (number - 1)) % 12 + 1
    start_year = year if number < 4 else year + 1
    start = date(start_year, first_month, 1)
    end = _last_day(start_year, first_month + 2)
    months = f"{MONTHS[first_month - 1]} to {MONTHS[first_month + 1]} {start_year}"
    key = f"{year}-{(year + 1) % 100:02d} Q{number}"
    return Period(PeriodKind.QUARTER, key, start, end, f"{key} ({months})")


def month(year: int, number: int) -> Period:
    if not 1 <= number <= 12:
        raise ValueError(f"A month is numbered 1 to 12, not {number}.")
    return Period(
        PeriodKind.MONTH,
        f"{year}-{number:02d}",
        date(year, number, 1),
        _last_day(year, number),
        f"{MONTHS[number - 1]} {year}",
    )


def year(number: int) -> Period:
    return Period(PeriodKind.YEAR, str(number), date(number, 1, 1), date(number, 12, 31), str(number))


def wave(name: str, start: date, end: date) -> Period:
    if end < start:
        raise ValueError(f"The wave '{name}' ends ({end}) before it starts ({start}).")
    return Period(PeriodKind.WAVE, name, start, end, name)


def period_of(day: date, kind: PeriodKind | str) -> Period:
    """The calendar period of ``kind`` that ``day`` falls in (waves are not calendar periods)."""
    match PeriodKind(kind):
        case PeriodKind.QUARTER:
            return quarter(*financial_quarter(day))
        case PeriodKind.MONTH:
            return month(day.year, day.month)
        case PeriodKind.YEAR:
            return year(day.year)
    raise ValueError("A wave is not a calendar period: a day belongs to a wave through the survey run it was in.")


_QUARTER = re.compile(r"^(\d{4})[-/](\d{2}|\d{4})\s*Q([1-4])$|^Q([1-4])\s+(\d{4})[-/](\d{2}|\d{4})$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_YEAR = re.compile(r"^(\d{4})$")


def parse_period(text: str) -> Period:
    """A period written as "2024-25 Q1" (or "2024/25 Q1", "Q1 2024-25"), "2024-04", or "2024"."""
    written = " ".join(str(text).split())
    if found := _QUARTER.match(written):
        first, second, number = (
            (found.group(1), found.group(2), found.group(3))
            if found.group(1)
            else (found.group(5), found.group(6), found.group(4))
        )
        start_year = int(first)
        if int(second[-2:]) != (start_year + 1) % 100:
            raise ValueError(
                f"'{text}' is not a financial year: it runs from April of one year to March of the next, "
                f"like {start_year}-{(start_year + 1) % 100:02d}."
            )
        return quarter(start_year, int(number))
    if found := _MONTH.match(written):
        return month(int(found.group(1)), int(found.group(2)))
    if found := _YEAR.match(written):
        return year(int(found.group(1)))
    raise ValueError(
        f"'{text}' is not a period: write a financial-year quarter like 2024-25 Q1, a month like 2024-04, "
        "or a calendar year like 2024."
    )


def coarser(first: PeriodKind, second: PeriodKind) -> PeriodKind:
    """The longer of two calendar period kinds: a figure recorded quarterly cannot be split into months."""
    order = [PeriodKind.MONTH, PeriodKind.QUARTER, PeriodKind.YEAR]
    return max(PeriodKind(first), PeriodKind(second), key=order.index)
