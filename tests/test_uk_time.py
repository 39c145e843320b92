"""UK months of the naive UTC times the database holds, worked out by the database (SQLite and PostgreSQL alike).

A response belongs to the month, and so the quarter and financial year, in
which it was sent in UK time: 23:30 UTC on 31 March is 00:30 on 1 April in
summer time, so it is April, and Q1 of the new financial year.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from analysis.measures import PeriodKind
from survey_app.database import begin_write
from survey_app.extensions import db
from survey_app.models import Answer, Response
from survey_app.services.uk_time import end_of_uk_day, month_start, uk_date, uk_month

from .test_measure_counts import INFORMATION, add_response, counted, figures, respond, shipped, survey_run

# (naive UTC time, the UK month it falls in)
CASES = [
    # 00:30 BST on 1 April: April, the first month of the new financial year.
    (datetime(2024, 3, 31, 23, 30), "2024-04"),
    # GMT again by the end of October (summer time ended on 27 October 2024).
    (datetime(2024, 10, 31, 23, 30), "2024-10"),
    # 00:30 BST on 1 October.
    (datetime(2024, 9, 30, 23, 30), "2024-10"),
    (datetime(2025, 1, 1, 0, 30), "2025-01"),
    # The last Sunday of March 2025 (30 March): summer time starts at 01:00 UTC.
    (datetime(2025, 3, 30, 0, 59), "2025-03"),
    (datetime(2025, 3, 30, 1, 0), "2025-03"),
    # 00:30 BST on 31 March: still March, one hour on is not a new month.
    (datetime(2025, 3, 30, 23, 30), "2025-03"),
    (datetime(2025, 3, 31, 22, 59), "2025-03"),
    (datetime(2025, 3, 31, 23, 0), "2025-04"),
    # When the last Sunday of March is the 31st (2024), summer time starts on the last day of the month.
    (datetime(2024, 3, 31, 0, 30), "2024-03"),
    (datetime(2024, 3, 31, 1, 30), "2024-03"),
    (datetime(2024, 3, 31, 22, 59, 59), "2024-03"),
    # GMT in winter: the last minutes of the year stay in December.
    (datetime(2024, 12, 31, 23, 30), "2024-12"),
    (datetime(2024, 12, 31, 23, 59, 59), "2024-12"),
    (datetime(2024, 2, 29, 23, 30), "2024-02"),
    # Summer time ends on the last Sunday of October (27 October 2024) at 01:00 UTC.
    (datetime(2024, 10, 27, 0, 30), "2024-10"),
    (datetime(2024, 10, 27, 1, 30), "2024-10"),
    (datetime(2024, 8, 31, 23, 0), "2024-09"),
    (datetime(2024, 8, 31, 22, 59), "2024-08"),
]


def months_in_database(times: list[datetime]) -> list[str]:
    """The database's ``uk_month`` of each time, stored as responses and answers, in the order given."""
    run = survey_run(INFORMATION, "information-times")
    begin_write()
    for moment in times:
        add_response(run, moment, pathways_information="good")
    db.session.commit()
    by_response = dict(
        db.session.execute(
            select(Response.submitted_at, uk_month(Response.submitted_at)).where(Response.run_id == run.id)
        ).all()
    )
    by_answer = dict(
        db.session.execute(
            select(Answer.submitted_at, uk_month(Answer.submitted_at)).where(Answer.run_id == run.id)
        ).all()
    )
    assert by_answer == by_response
    return [by_response[moment] for moment in times]


def test_the_database_puts_each_time_in_its_uk_month(survey_db):
    times = [moment for moment, _ in CASES]
    assert dict(zip(times, months_in_database(times), strict=True)) == dict(CASES)


def test_python_agrees_with_the_cases():
    for moment, month in CASES:
        assert f"{uk_date(moment):%Y-%m}" == month, moment


def test_the_database_agrees_with_python_around_every_month_end_and_clock_change(survey_db):
    """Around every month's end from 2020 to 2030, and every change of the clocks, in both databases."""
    times = []
    for year in range(2020, 2031):
        for month in range(1, 13):
            last = datetime(year, month, calendar.monthrange(year, month)[1])
            times += [last + timedelta(hours=hour, minutes=minute) for hour in (0, 22, 23) for minute in (0, 30, 59)]
            times += [last + timedelta(days=1, microseconds=-1), last + timedelta(days=1, minutes=30)]
        for change_month in (3, 10):
            sunday = max(day for day in range(25, 32) if date(year, change_month, day).weekday() == calendar.SUNDAY)
            start = datetime(year, change_month, sunday)
            times += [start + timedelta(minutes=minutes) for minutes in (30, 59, 60, 61, 90, 23 * 60 + 30)]
    times = sorted(set(times))
    expected = [f"{uk_date(moment):%Y-%m}" for moment in times]
    found = months_in_database(times)
    wrong = [(moment, got, want) for moment, got, want in zip(times, found, expected, strict=True) if got != want]
    assert not wrong


@pytest.mark.parametrize(
    ("moment", "period"),
    [
        (datetime(2024, 3, 31, 22, 30), "2023-24 Q4"),  # 23:30 BST on 31 March
        (datetime(2024, 3, 31, 23, 30), "2024-25 Q1"),  # 00:30 BST on 1 April
        (datetime(2025, 3, 31, 22, 59), "2024-25 Q4"),
        (datetime(2025, 3, 31, 23, 0), "2025-26 Q1"),
        (datetime(2024, 6, 30, 22, 59), "2024-25 Q1"),
        (datetime(2024, 6, 30, 23, 0), "2024-25 Q2"),  # midnight starting 1 July, in summer time
        (datetime(2024, 12, 31, 23, 30), "2024-25 Q3"),  # GMT: still 31 December
        (datetime(2025, 1, 1, 0, 0), "2024-25 Q4"),
    ],
)
def test_quarter_boundaries_follow_the_uk_date(survey_db, moment, period):
    run = survey_run(INFORMATION, "information-quarters", datetime(2023, 4, 1), datetime(2026, 3, 31))
    respond(run, moment, pathways_information="good")
    assert figures(counted(shipped("pathways_information_good")), "pathways_information_good") == {period: (1, 1)}


def test_31_march_is_the_old_financial_year_and_1_april_the_new_one(survey_db):
    """Reported together: the last UK day of one financial year and the first of the next."""
    run = survey_run(INFORMATION, "information-year-end")
    respond(run, datetime(2024, 3, 31, 0, 30), pathways_information="good")  # GMT, 31 March
    respond(run, datetime(2024, 3, 31, 22, 30), pathways_information="poor")  # BST, 23:30 on 31 March
    respond(run, datetime(2024, 3, 31, 23, 30), pathways_information="very_good")  # BST, 00:30 on 1 April
    respond(run, datetime(2024, 4, 1, 12), pathways_information="dont_know")

    measures = shipped("pathways_information_good")
    assert figures(counted(measures), "pathways_information_good") == {"2023-24 Q4": (1, 2), "2024-25 Q1": (1, 1)}
    assert figures(counted(measures, PeriodKind.MONTH), "pathways_information_good") == {
        "2024-03": (1, 2),
        "2024-04": (1, 1),
    }
    # As of 31 March, the response sent at 00:30 on 1 April (UK time) has not been sent yet.
    as_of_year_end = counted(measures, as_of=date(2024, 3, 31))
    assert figures(as_of_year_end, "pathways_information_good") == {"2023-24 Q4": (1, 2)}


def test_the_end_of_a_uk_day_in_utc():
    assert end_of_uk_day(date(2024, 3, 31)) == datetime(2024, 3, 31, 23, 0)  # BST: 00:00 on 1 April
    assert end_of_uk_day(date(2024, 3, 30)) == datetime(2024, 3, 31, 0, 0)  # GMT
    assert end_of_uk_day(date(2024, 10, 26)) == datetime(2024, 10, 26, 23, 0)
    assert end_of_uk_day(date(2024, 10, 27)) == datetime(2024, 10, 28, 0, 0)
    assert uk_date(datetime(2024, 7, 31, 23, 0)) == date(2024, 8, 1)
    assert month_start("2024-04") == date(2024, 4, 1)
