"""UK dates of the naive UTC times the database holds, worked out by the database itself.

Measures are counted by the month a response was sent in, in UK time: a
response sent at 23:30 UTC on 31 March (00:30 on 1 April in summer time)
belongs to April, and so to the next financial year. ``uk_month`` gives
"YYYY-MM" in SQL, so responses are grouped by month in the database and never
loaded one by one.

PostgreSQL converts with its time zone database. SQLite has none, so the
rule is written out: a month changes in the last hour of a UTC month only
when that hour is in British Summer Time, which it always is at the end of
March to September (summer time starts on the last Sunday of March, at 01:00
UTC, and ends on the last Sunday of October), and never at the end of
October to February. Only rows in a 23:00 hour of those months pay for the
date arithmetic.

UK days are counted the other way round: ``uk_days`` gives each day's start
and end as naive UTC times (from the time zone database, in Python), and the
database counts the times in each range. With an index on the time, that
reads no row at all, where grouping by a day worked out for every row would
read them all.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

UK = ZoneInfo("Europe/London")


class uk_month(FunctionElement):  # noqa: N801 - an SQL function, named as SQL names them
    """The "YYYY-MM" of a naive UTC timestamp column, in UK time."""

    type = String()
    inherit_cache = True
    name = "uk_month"


@compiles(uk_month, "sqlite")
def _uk_month_sqlite(element, compiler, **kw) -> str:
    column = compiler.process(next(iter(element.clauses)), **kw)
    return (
        f"CASE WHEN substr({column}, 12, 2) = '23' AND substr({column}, 6, 2) BETWEEN '03' AND '09' "
        f"THEN strftime('%Y-%m', {column}, '+1 hour') ELSE substr({column}, 1, 7) END"
    )


@compiles(uk_month, "postgresql")
def _uk_month_postgresql(element, compiler, **kw) -> str:
    column = compiler.process(next(iter(element.clauses)), **kw)
    return f"to_char(({column} AT TIME ZONE 'UTC') AT TIME ZONE 'Europe/London', 'YYYY-MM')"


def month_start(year_month: str) -> date:
    """The first day of a "YYYY-MM" month."""
    return date(int(year_month[:4]), int(year_month[5:7]), 1)


def uk_date(moment: datetime) -> date:
    """The UK date of a naive UTC time."""
    return moment.replace(tzinfo=UTC).astimezone(UK).date()


def end_of_uk_day(day: date) -> datetime:
    """The naive UTC time at which the UK day ``day`` ends (midnight starting the next day)."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=UK).astimezone(UTC).replace(tzinfo=None)


def start_of_uk_day(day: date) -> datetime:
    """The naive UTC time at which the UK day ``day`` starts (its midnight)."""
    return end_of_uk_day(day - timedelta(days=1))


def uk_days(first: datetime, last: datetime) -> list[tuple[date, datetime, datetime]]:
    """Every UK day from the one naive UTC time ``first`` falls in to the one ``last`` falls in, in order.

    Each with the naive UTC times it starts and ends at, so that the database
    can count what falls in each day as a range of the times it holds
    (``start <= t < end``), which an index on the time answers without
    reading a row: 23 or 25 hours apart on the days the clocks change.
    """
    day, final = uk_date(first), uk_date(last)
    days = []
    starts = start_of_uk_day(day)
    while day <= final:
        ends = end_of_uk_day(day)
        days.append((day, starts, ends))
        day, starts = day + timedelta(days=1), ends
    return days
