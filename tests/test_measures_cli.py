"""The measures command line: ``flask measures record``, ``import``, ``report`` and ``breakdown``, as an officer
runs them. Every refusal is in plain English, on standard error, with a failing exit code and nothing saved."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime

import pytest
from sqlalchemy import select

from analysis import periods
from analysis.measures import PeriodKind
from analysis.measures_file import DEFAULT_FILE, load_measures
from analysis.report import COLUMNS
from survey_app.extensions import db
from survey_app.models import RecordedFigure, utcnow
from survey_app.services import measures as measure_service
from survey_app.services.uk_time import uk_date

from .test_measure_counts import INFORMATION, make_wave, respond, survey_run

TIMELINESS = "plans_issued_within_20_weeks"
OPEN_PLANS = "open_ehc_plans"
REVIEWS = "annual_reviews_in_timescale"
INFORMATION_GOOD = "pathways_information_good"


# Helpers ---------------------------------------------------------------------


def run_command(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def succeeds(app, *args: str):
    result = run_command(app, *args)
    assert result.exit_code == 0, result.output
    return result


def refused(app, *args: str) -> str:
    """Run a command that must fail; returns what it wrote on standard error."""
    result = run_command(app, *args)
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result.stderr


def record(app, key: str, period: str, *options: str):
    return succeeds(app, "measures", "record", key, period, *options)


def report_json(app, *options: str) -> dict:
    return json.loads(succeeds(app, "measures", "report", "--format", "json", *options).stdout)


def rows_of(report: dict, measure: str) -> dict[str, dict]:
    """A JSON report's rows for one measure, by period."""
    return {row["period"]: row for row in report["rows"] if row["measure"] == measure}


def report_csv(app, *options: str) -> list[dict]:
    text = succeeds(app, "measures", "report", "--format", "csv", *options).stdout
    return list(csv.DictReader(io.StringIO(text)))


def figures_saved() -> list[tuple]:
    db.session.rollback()  # see what the command committed
    return sorted(
        db.session.execute(
            select(
                RecordedFigure.measure_key,
                RecordedFigure.period,
                RecordedFigure.numerator,
                RecordedFigure.denominator,
                RecordedFigure.value,
            )
        ).all()
    )


def write_csv(tmp_path, text: str, name: str = "figures.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


# Recording a figure ------------------------------------------------------------


def test_a_recorded_percentage_is_reported_to_one_decimal_place_in_json_and_as_a_whole_percent_in_the_table(
    app, survey_db
):
    result = record(app, REVIEWS, "2024-25 Q1", "--numerator", "10", "--denominator", "19")
    assert result.stdout.strip() == (f"Recorded {REVIEWS} for 2024-25 Q1 (April to June 2024): 10 of 19 (53%).")
    row = rows_of(report_json(app, "--as-of", "2024-06-30", "--measure", REVIEWS), REVIEWS)["2024-25 Q1"]
    assert (row["percent"], row["positives"], row["n"]) == (52.6, 10, 19)

    table = succeeds(app, "measures", "report", "--as-of", "2024-06-30", "--measure", REVIEWS).stdout
    assert "Measures as of 30 June 2024, by quarter" in table
    line = next(line for line in table.splitlines() if line.startswith("2024-25 Q1 (April to June 2024)"))
    assert "53% (10 of 19)" in line


def test_recording_a_period_again_replaces_its_figure(app, survey_db):
    record(app, REVIEWS, "2024-25 Q1", "--numerator", "10", "--denominator", "19")
    result = record(app, REVIEWS, "2024/25 Q1", "--numerator", "12", "--denominator", "20")
    assert result.stdout.startswith(f"Replaced {REVIEWS} for 2024-25 Q1")
    assert figures_saved() == [(REVIEWS, "2024-25 Q1", 12, 20, None)]


def test_a_figure_cumulative_over_the_year_adds_up_from_april(app, survey_db):
    """3 of 10 in Q1 and 7 of 9 in Q2: Q1 alone is a small count, withheld; to the end of Q2 it is 10 of 19."""
    record(app, TIMELINESS, "2024-25 Q1", "--numerator", "3", "--denominator", "10")
    record(app, TIMELINESS, "2024-25 Q2", "--numerator", "7", "--denominator", "9")

    rows = rows_of(report_json(app, "--as-of", "2024-09-30", "--measure", TIMELINESS), TIMELINESS)
    assert rows["2024-25 Q1"]["positives"] == "c"
    assert rows["2024-25 Q1"]["percent"] == "c"
    assert rows["2024-25 Q1"]["suppression"] == "small count"
    assert 3 not in rows["2024-25 Q1"].values()
    assert (rows["2024-25 Q2"]["positives"], rows["2024-25 Q2"]["n"], rows["2024-25 Q2"]["percent"]) == (10, 19, 52.6)

    table = succeeds(app, "measures", "report", "--as-of", "2024-09-30", "--measure", TIMELINESS).stdout
    lines = {line.split("  ")[0]: line for line in table.splitlines() if line.startswith("2024-25 Q")}
    assert "c (c of 10)" in lines["2024-25 Q1 (April to June 2024)"]
    assert "53% (10 of 19)" in lines["2024-25 Q2 (July to September 2024)"]

    # A new financial year starts again from April.
    record(app, TIMELINESS, "2025-26 Q1", "--numerator", "8", "--denominator", "15")
    rows = rows_of(report_json(app, "--as-of", "2025-06-30", "--measure", TIMELINESS), TIMELINESS)
    assert (rows["2025-26 Q1"]["positives"], rows["2025-26 Q1"]["n"]) == (8, 15)


def test_a_count_measure_takes_a_value(app, survey_db):
    result = record(app, OPEN_PLANS, "2024-25 Q1", "--value", "2039")
    assert result.stdout.strip() == f"Recorded {OPEN_PLANS} for 2024-25 Q1 (April to June 2024): 2,039."
    record(app, OPEN_PLANS, "2024-25 Q2", "--value", "2,101")
    rows = rows_of(report_json(app, "--as-of", "2024-09-30", "--measure", OPEN_PLANS), OPEN_PLANS)
    assert rows["2024-25 Q1"]["value"] == 2039
    assert rows["2024-25 Q2"]["value"] == 2101
    table = succeeds(app, "measures", "report", "--as-of", "2024-09-30", "--measure", OPEN_PLANS).stdout
    assert "+62 on 2024-25 Q1" in table
    # A snapshot reported by year is the year's last figure, not the sum.
    by_year = rows_of(
        report_json(app, "--as-of", "2024-12-31", "--measure", OPEN_PLANS, "--period", "year"), OPEN_PLANS
    )
    assert by_year["2024"]["value"] == 2101


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no_such_measure", "2024-25 Q1", "--value", "5"], "There is no measure 'no_such_measure'"),
        ([INFORMATION_GOOD, "2024-25 Q1", "--numerator", "5", "--denominator", "9"], "counted from survey responses"),
        (
            [TIMELINESS, "2024-25 Q1", "--numerator", "20", "--denominator", "19"],
            "The numerator (20) cannot be more than the denominator (19).",
        ),
        ([TIMELINESS, "2024 Q1", "--numerator", "1", "--denominator", "2"], "'2024 Q1' is not a period"),
        ([TIMELINESS, "2024-26 Q1", "--numerator", "1", "--denominator", "2"], "'2024-26 Q1' is not a financial year"),
        ([TIMELINESS, "2024-04", "--numerator", "1", "--denominator", "2"], "is recorded by quarter"),
        ([TIMELINESS, "2024-25 Q1", "--value", "7"], "is a percentage: give a numerator and a denominator"),
        ([OPEN_PLANS, "2024-25 Q1", "--numerator", "1", "--denominator", "2"], "is a count: give a value"),
        ([TIMELINESS, "2024-25 Q1", "--numerator=-1", "--denominator", "19"], "The numerator cannot be negative"),
        ([TIMELINESS, "2024-25 Q1", "--numerator", "1", "--denominator=-19"], "The denominator cannot be negative"),
        ([OPEN_PLANS, "2024-25 Q1", "--value=-2039"], "The value cannot be negative"),
        ([TIMELINESS, "2024-25 Q1", "--numerator", "1.5", "--denominator", "19"], "must be a whole number"),
        ([TIMELINESS, "2024-25 Q1", "--numerator", "ten", "--denominator", "19"], "must be a whole number"),
        ([TIMELINESS, "2024-25 Q1", "--numerator", "0", "--denominator", "0"], "The denominator is 0"),
        ([TIMELINESS, "2024-25 Q1", "--numerator", "3"], "Give the denominator"),
        ([OPEN_PLANS, "2024-25 Q1"], "Give the value"),
    ],
)
def test_a_figure_that_does_not_fit_its_measure_is_refused_in_plain_english(app, survey_db, args, message):
    errors = refused(app, "measures", "record", *args)
    assert errors.startswith("Not recorded: ")
    assert message in errors
    assert figures_saved() == []


# Importing figures -------------------------------------------------------------


GOOD_FILE = f"""measure,period,numerator,denominator,value
{TIMELINESS},2024-25 Q1,12,19,
{TIMELINESS},2024-25 Q2,8,11,
{OPEN_PLANS},2024-25 Q1,,,"2,039"
{REVIEWS},Q2 2024-25,150,200,
"""


def test_a_good_file_of_figures_is_imported(app, survey_db, tmp_path):
    result = succeeds(app, "measures", "import", write_csv(tmp_path, GOOD_FILE))
    assert result.stdout.strip() == "Imported 4 figures from figures.csv: 4 new, 0 replacing earlier ones."
    assert figures_saved() == [
        (REVIEWS, "2024-25 Q2", 150, 200, None),
        (OPEN_PLANS, "2024-25 Q1", None, None, 2039.0),
        (TIMELINESS, "2024-25 Q1", 12, 19, None),
        (TIMELINESS, "2024-25 Q2", 8, 11, None),
    ]
    rows = rows_of(report_json(app, "--as-of", "2024-09-30"), TIMELINESS)
    assert (rows["2024-25 Q2"]["positives"], rows["2024-25 Q2"]["n"]) == (20, 30)

    again = succeeds(app, "measures", "import", write_csv(tmp_path, GOOD_FILE))
    assert "0 new, 4 replacing earlier ones" in again.stdout


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        (
            GOOD_FILE + f"{TIMELINESS},2024-25 Q3,20,19,\n",
            ["Row 6, column C (numerator): The numerator (20) cannot be more than the denominator (19)."],
        ),
        (
            GOOD_FILE.replace(f"{OPEN_PLANS},2024-25 Q1,", f"{OPEN_PLANS},2024-04,"),
            ["Row 4, column B (period): 'open_ehc_plans' is recorded by quarter"],
        ),
        (
            GOOD_FILE.replace("2024-25 Q2,8,11", "2024-25 Q2,-8,11"),
            ["Row 3, column C (numerator): The numerator cannot be negative (-8)."],
        ),
        (
            GOOD_FILE.replace(f"{REVIEWS},", "reviews,"),
            ["Row 5, column A (measure): There is no measure 'reviews'."],
        ),
        (
            GOOD_FILE.replace(',"2,039"', ",lots"),
            ["Row 4, column E (value): The value must be a whole number, like 19, not 'lots'."],
        ),
        (
            GOOD_FILE + f"{TIMELINESS},2024/25 Q1,1,2,\n",
            [f"Row 6: {TIMELINESS} 2024-25 Q1 is also in row 2."],
        ),
        (
            GOOD_FILE.replace("value\n", "value,colour\n"),
            ["Row 1, column F: “colour” is not a column this file can have."],
        ),
        (
            GOOD_FILE.replace("measure,period,", "measure,when,"),
            ["Row 1, column B: “when” is not a column", "Row 1: there is no column headed “period”."],
        ),
        (
            GOOD_FILE.replace(',"2,039"', ',"2,039",extra'),
            ["Row 4, column F: this column has no heading."],
        ),
        ("measure,period,numerator,denominator,value\n", ["The file has a header row but no figures under it."]),
        ("", ["The file is empty."]),
        ('measure,period\n"unclosed,2024-25 Q1\n', ["cannot be read as CSV"]),
    ],
)
def test_a_file_with_any_bad_row_is_refused_whole_naming_the_row_and_column(app, survey_db, tmp_path, text, problems):
    errors = refused(app, "measures", "import", write_csv(tmp_path, text))
    for problem in problems:
        assert problem in errors
    assert "figures.csv was not imported" in errors
    assert "Nothing was changed." in errors
    assert figures_saved() == []


def test_a_refused_file_leaves_earlier_figures_as_they_were(app, survey_db, tmp_path):
    record(app, TIMELINESS, "2024-25 Q1", "--numerator", "3", "--denominator", "10")
    bad = GOOD_FILE + f"{TIMELINESS},2024-25 Q3,20,19,\n"
    refused(app, "measures", "import", write_csv(tmp_path, bad))
    assert figures_saved() == [(TIMELINESS, "2024-25 Q1", 3, 10, None)]


# The report ----------------------------------------------------------------------


def test_the_report_as_of_a_day_leaves_out_later_periods(app, survey_db):
    record(app, REVIEWS, "2024-25 Q1", "--numerator", "100", "--denominator", "150")
    record(app, REVIEWS, "2024-25 Q2", "--numerator", "110", "--denominator", "150")
    run = survey_run(INFORMATION, "information-as-of")
    for number in range(12):
        respond(run, datetime(2024, 6, 1 + number, 9), pathways_information="good" if number < 8 else "poor")
        respond(run, datetime(2024, 7, 1 + number, 9), pathways_information="good")

    early = report_json(app, "--as-of", "2024-06-30")
    assert early["as_of"] == "2024-06-30"
    assert set(rows_of(early, REVIEWS)) == {"2024-25 Q1"}
    assert set(rows_of(early, INFORMATION_GOOD)) == {"2024-25 Q1"}
    assert rows_of(early, INFORMATION_GOOD)["2024-25 Q1"]["responses"] == 12

    later = report_json(app, "--as-of", "2024-09-30")
    assert set(rows_of(later, REVIEWS)) == {"2024-25 Q1", "2024-25 Q2"}
    assert (
        rows_of(later, INFORMATION_GOOD)["2024-25 Q2"]["positives"],
        rows_of(later, INFORMATION_GOOD)["2024-25 Q2"]["n"],
    ) == (12, 12)

    table = succeeds(app, "measures", "report", "--as-of", "2024-06-30").stdout
    assert "July to September 2024" not in table


def test_a_date_not_written_as_a_date_is_refused(app, survey_db):
    errors = refused(app, "measures", "report", "--as-of", "30/06/2024")
    assert "'30/06/2024' is not a date: write it as YYYY-MM-DD" in errors


def test_an_unknown_measure_in_the_report_is_refused(app, survey_db):
    errors = refused(app, "measures", "report", "--measure", "no_such_measure")
    assert "There is no measure no_such_measure." in errors


def spring_wave() -> None:
    """A wave of the information survey across April and May 2024: 16 responses, 10 rating the information good."""
    wave = make_wave("Spring 2024", baseline=True)
    run = survey_run(INFORMATION, "information-spring", datetime(2024, 4, 1), datetime(2024, 5, 31), wave)
    for number in range(16):
        month = 4 if number < 8 else 5
        respond(run, datetime(2024, month, 1 + number, 9), pathways_information="good" if number < 10 else "poor")


@pytest.mark.parametrize(
    ("kind", "survey_periods", "recorded_periods"),
    [
        ("month", {"2024-04", "2024-05"}, {"2024-25 Q1"}),
        ("quarter", {"2024-25 Q1"}, {"2024-25 Q1"}),
        ("year", {"2024"}, {"2024"}),
        ("wave", {"Spring 2024"}, {"2024-25 Q1"}),
    ],
)
def test_the_report_by_each_kind_of_period(app, survey_db, kind, survey_periods, recorded_periods):
    """A quarterly figure is never split into months, and has no waves: it keeps its own quarters."""
    spring_wave()
    record(app, REVIEWS, "2024-25 Q1", "--numerator", "100", "--denominator", "150")
    report = report_json(app, "--as-of", "2024-12-31", "--period", kind)
    assert report["period"] == kind
    assert set(rows_of(report, INFORMATION_GOOD)) == survey_periods
    assert set(rows_of(report, REVIEWS)) == recorded_periods
    table = succeeds(app, "measures", "report", "--as-of", "2024-12-31", "--period", kind).stdout
    assert f"Measures as of 31 December 2024, by {kind}" in table
    for row in report_csv(app, "--as-of", "2024-12-31", "--period", kind):
        assert row["period"] in survey_periods | recorded_periods


def test_by_wave_the_first_wave_is_the_baseline(app, survey_db):
    spring_wave()
    row = rows_of(report_json(app, "--as-of", "2024-12-31", "--period", "wave"), INFORMATION_GOOD)["Spring 2024"]
    assert (row["positives"], row["n"], row["percent"]) == (10, 16, 62.5)
    assert (row["baseline"], row["baseline_period"], row["status"]) == (62.5, "Spring 2024", "Baseline")


def test_the_csv_report_has_every_column(app, survey_db):
    spring_wave()
    record(app, OPEN_PLANS, "2024-25 Q1", "--value", "2039")
    text = succeeds(app, "measures", "report", "--as-of", "2024-12-31", "--format", "csv").stdout
    header = next(csv.reader(io.StringIO(text)))
    assert set(COLUMNS) <= set(header)
    assert header[: len(COLUMNS)] == COLUMNS
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {row["measure"] for row in rows} == {INFORMATION_GOOD, OPEN_PLANS}
    assert all(len(row) == len(header) for row in rows)


def test_a_survey_period_with_a_small_count_is_withheld_and_never_shows_it(app, survey_db):
    """3 of 12 rated the information good: the 3 is a small count, so it and what gives it away are "c"."""
    run = survey_run(INFORMATION, "information-small")
    for number in range(12):
        respond(run, datetime(2024, 5, 1 + number, 9), pathways_information="good" if number < 3 else "poor")

    row = rows_of(report_json(app, "--as-of", "2024-06-30"), INFORMATION_GOOD)["2024-25 Q1"]
    assert row["positives"] == "c"
    assert row["percent"] == "c" and row["ci_low"] == "c" and row["ci_high"] == "c"
    assert 3 not in row.values() and 25.0 not in row.values()

    csv_row = next(row for row in report_csv(app, "--as-of", "2024-06-30") if row["measure"] == INFORMATION_GOOD)
    assert csv_row["positives"] == "c" and csv_row["percent"] == "c"
    assert "3" not in csv_row.values() and "25.0" not in csv_row.values()

    table = succeeds(app, "measures", "report", "--as-of", "2024-06-30", "--measure", INFORMATION_GOOD).stdout
    line = next(line for line in table.splitlines() if line.startswith("2024-25 Q1"))
    assert "c (c of 12)" in line
    assert "25%" not in line and " 3 " not in line


def test_a_change_in_a_count_is_written_as_a_count_in_json_and_csv(app, survey_db):
    record(app, OPEN_PLANS, "2024-25 Q1", "--value", "2039")
    record(app, OPEN_PLANS, "2024-25 Q2", "--value", "2101")
    row = rows_of(report_json(app, "--as-of", "2024-09-30", "--measure", OPEN_PLANS), OPEN_PLANS)["2024-25 Q2"]
    csv_row = next(
        row
        for row in report_csv(app, "--as-of", "2024-09-30", "--measure", OPEN_PLANS)
        if row["period"] == "2024-25 Q2"
    )
    assert (row["change_since_previous"], csv_row["change_since_previous"]) == (62, "62")


def test_the_breakdown_by_a_context_question_names_each_group_and_not_stated(app, survey_db):
    """Not stated is unanswered or "Not sure"; small groups are withheld, and so is the test between them."""
    run = survey_run(INFORMATION, "information-areas")
    for number in range(24):
        locality = ("north", "south", "dont_know", None)[number % 4]
        answers = {"pathways_information": "good" if number < 12 else "poor"}
        if locality:
            answers["locality"] = locality
        respond(run, datetime(2024, 5, 1, 9), **answers)

    result = succeeds(app, "measures", "breakdown", "--by", "locality", "--as-of", "2024-06-30", "--period", "quarter")
    assert result.stdout.startswith("By: Which area do you live in?")
    lines = result.stdout.splitlines()
    assert any(line.split("  ")[0] == "2024-25 Q1 (April to June 2024)" for line in lines)
    assert any("Not stated" in line for line in lines)
    # North and south are 3 of 6 each, withheld. A test saying they do not differ at all (p=1) would give them away.
    assert "p=" not in result.stdout
    assert "Not tested: the test would let a withheld count be worked out." in result.stdout

    text = succeeds(app, "measures", "breakdown", "--by", "locality", "--as-of", "2024-06-30", "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    groups = {row["group"]: row for row in rows if row["measure"] == INFORMATION_GOOD}
    assert set(groups) == {"north", "south", ""}
    assert groups[""]["n"] == "12"
    assert {row["p_value"] for row in groups.values()} == {"c"}
    assert {row["statistic"] for row in groups.values()} == {"c"}

    errors = refused(app, "measures", "breakdown", "--by", "pathways_information")
    assert "'pathways_information' is not a context question." in errors


# A figure for a period that has not ended ------------------------------------------


def test_a_figure_for_a_quarter_still_in_progress_is_refused_with_the_day_it_ends():
    measures = load_measures(DEFAULT_FILE)
    with pytest.raises(measure_service.FigureRefused) as raised:
        measure_service.check_figure(measures, OPEN_PLANS, "2026-27 Q3", value="2710", today=date(2026, 12, 4))
    assert str(raised.value) == (
        "2026-27 Q3 has not ended yet (it ends on 31 December 2026): record its figure after then."
    )
    assert raised.value.field == "period"
    # On the last day it has not ended either; the day after, it has.
    with pytest.raises(measure_service.FigureRefused):
        measure_service.check_figure(measures, OPEN_PLANS, "2026-27 Q3", value="2710", today=date(2026, 12, 31))
    figure = measure_service.check_figure(measures, OPEN_PLANS, "2026-27 Q3", value="2710", today=date(2027, 1, 1))
    assert figure.value == 2710


def test_recording_or_importing_a_period_that_has_not_ended_is_refused(app, survey_db, tmp_path):
    current = periods.period_of(uk_date(utcnow()), PeriodKind.QUARTER)
    errors = refused(app, "measures", "record", REVIEWS, current.key, "--numerator", "5", "--denominator", "9")
    assert errors.startswith(f"Not recorded: {current.key} has not ended yet (it ends on {current.end.day} ")
    errors = refused(app, "measures", "record", OPEN_PLANS, "2099-00 Q1", "--value", "2039")
    assert "2099-00 Q1 has not ended yet (it ends on 30 June 2099): record its figure after then." in errors
    errors = refused(app, "measures", "import", write_csv(tmp_path, GOOD_FILE + f"{REVIEWS},{current.key},150,200,\n"))
    assert f"Row 6, column B (period): {current.key} has not ended yet" in errors
    assert figures_saved() == []


# What a withheld figure would give away ------------------------------------------------


def test_a_withheld_change_shows_no_direction_or_test_in_any_format(app, survey_db):
    """4 of 9 annual reviews in time: the change to and from it, its direction and its test are all withheld."""
    record(app, REVIEWS, "2024-25 Q1", "--numerator", "50", "--denominator", "100")
    record(app, REVIEWS, "2024-25 Q2", "--numerator", "4", "--denominator", "9")
    record(app, REVIEWS, "2024-25 Q3", "--numerator", "60", "--denominator", "100")
    options = ("--as-of", "2025-01-31", "--measure", REVIEWS)
    rows = rows_of(report_json(app, *options), REVIEWS)
    csv_rows = {row["period"]: row for row in report_csv(app, *options)}
    for period in ("2024-25 Q2", "2024-25 Q3"):
        for column in ("change_since_previous", "change_since_previous_p", "change_since_previous_test"):
            assert rows[period][column] == "c" and csv_rows[period][column] == "c", (period, column)
        assert rows[period]["direction_of_travel"] == csv_rows[period]["direction_of_travel"] == "c"
    assert rows["2024-25 Q2"]["spc_signal"] is None  # fewer than 12 periods: no chart at all
    table = succeeds(app, "measures", "report", *options).stdout
    lines = [line for line in table.splitlines() if line.startswith(("2024-25 Q2", "2024-25 Q3"))]
    assert len(lines) == 2
    for line in lines:
        for word in ("improving", "declining", "no significant change", "p="):
            assert word not in line, (word, line)


def test_responses_are_withheld_where_they_would_give_away_a_small_dont_know(app, survey_db):
    """22 responses and n of 20 would say 2 answered "Don't know": responses are withheld, in every measure of the
    same questionnaire, which all show the same 22."""
    run = survey_run(INFORMATION, "information-dont-know")
    for number in range(22):
        rating = "dont_know" if number >= 20 else "good" if number < 12 else "poor"
        respond(
            run,
            datetime(2024, 5, 1 + number, 9),
            pathways_information=rating,
            understand_support_arranged="strongly_agree" if number % 2 else "disagree",
        )
    report = report_json(app, "--as-of", "2024-06-30")
    information = rows_of(report, INFORMATION_GOOD)["2024-25 Q1"]
    understand = rows_of(report, "understand_support_arranged")["2024-25 Q1"]
    assert (information["positives"], information["n"], information["responses"]) == (12, 20, "c")
    assert (understand["positives"], understand["n"], understand["responses"]) == (11, 22, "c")
    assert 22 not in information.values() and 22 not in [information["responses"], understand["responses"]]
    table = succeeds(app, "measures", "report", "--as-of", "2024-06-30", "--measure", INFORMATION_GOOD).stdout
    line = next(line for line in table.splitlines() if line.startswith("2024-25 Q1"))
    assert "60% (12 of 20)" in line and " 22 " not in line and line.split("  ")[-1] != "22"


# Measures for information only, targets not yet due, units, withheld baselines ------------


def test_open_plans_are_for_information_only(app, survey_db):
    for period, value in (("2024-25 Q1", "2039"), ("2024-25 Q2", "2101"), ("2024-25 Q3", "2160")):
        record(app, OPEN_PLANS, period, "--value", value)
    rows = rows_of(report_json(app, "--as-of", "2025-01-31", "--measure", OPEN_PLANS), OPEN_PLANS)
    q3 = rows["2024-25 Q3"]
    assert (q3["polarity"], q3["unit"]) == ("none", "plans")
    assert (q3["change_since_previous"], q3["direction_of_travel"], q3["status"]) == (
        59,
        "not rated: for information",
        "For information",
    )
    table = succeeds(app, "measures", "report", "--as-of", "2025-01-31", "--measure", OPEN_PLANS).stdout
    assert "For information: neither a rise nor a fall is better in itself, so it is not rated." in table
    assert "declining" not in table and "concern" not in table and "Lower is better" not in table


def test_a_target_still_ahead_is_not_due_yet(app, survey_db):
    record(app, TIMELINESS, "2024-25 Q1", "--numerator", "12", "--denominator", "19")
    row = rows_of(report_json(app, "--as-of", "2024-12-31", "--measure", TIMELINESS), TIMELINESS)["2024-25 Q1"]
    assert (row["target"], row["target_date"], row["target_assurance"]) == (75.0, "2028-03-31", "not due yet")
    assert row["unit"] == "plans"
    table = succeeds(app, "measures", "report", "--as-of", "2024-12-31", "--measure", TIMELINESS).stdout
    assert "75% by 31 Mar 2028: not due yet" in table
    assert "not met" not in table and "responses would tell" not in table


def test_a_withheld_first_wave_baseline_is_named_as_withheld_and_why(app, survey_db):
    wave = make_wave("Spring 2024", baseline=True)
    run = survey_run(INFORMATION, "information-small-wave", datetime(2024, 4, 1), datetime(2024, 5, 31), wave)
    for number in range(8):
        respond(run, datetime(2024, 4, 1 + number, 9), pathways_information="good" if number < 5 else "poor")
    options = ("--as-of", "2024-12-31", "--period", "wave", "--measure", INFORMATION_GOOD)
    table = succeeds(app, "measures", "report", *options).stdout
    assert "Baseline (Spring 2024) withheld: fewer than 10 responses." in table
    assert "Baseline: c" not in table
    row = rows_of(report_json(app, *options), INFORMATION_GOOD)["Spring 2024"]
    assert (row["baseline"], row["baseline_suppression"]) == ("c", "fewer than 10 responses")


# Breakdowns in date order, by the groups' words ------------------------------------------


def test_a_breakdown_lists_waves_by_date_and_groups_by_their_words(app, survey_db):
    """Autumn comes before Spring in the alphabet, but Spring 2024 ran first."""
    spring = make_wave("Spring 2024", baseline=True)
    autumn = make_wave("Autumn 2024")
    spring_run = survey_run(INFORMATION, "information-spring", datetime(2024, 4, 1), datetime(2024, 5, 31), spring)
    autumn_run = survey_run(INFORMATION, "information-autumn", datetime(2024, 10, 1), datetime(2024, 11, 30), autumn)
    for run, month in ((spring_run, 4), (autumn_run, 10)):
        for number in range(48):
            respond(
                run,
                datetime(2024, month, 1 + number % 28, 9),
                pathways_information="good" if number % 3 else "poor",
                locality="east" if number % 2 else "north",
            )
    options = ("measures", "breakdown", "--by", "locality", "--as-of", "2024-12-31", "--measure", INFORMATION_GOOD)
    table = succeeds(app, *options).stdout
    assert table.index("Spring 2024") < table.index("Autumn 2024")
    lines = [line for line in table.splitlines() if " of 24)" in line]
    groups = [line[len("Spring 2024  ") :].split("  ")[0] for line in lines]
    assert groups == ["North", "East"] * 2
    # North is offered before East, whatever their codes.
    assert table.index("North") < table.index("East")

    rows = list(csv.DictReader(io.StringIO(succeeds(app, *options, "--format", "csv").stdout)))
    assert [row["period"] for row in rows] == ["Spring 2024"] * 2 + ["Autumn 2024"] * 2
    assert [(row["group"], row["group_label"]) for row in rows[:2]] == [("north", "North"), ("east", "East")]
    assert rows[0]["period_label"] == "Spring 2024" and rows[0]["period_start"] == "2024-04-01"
