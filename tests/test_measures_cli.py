"""The measures command line: ``flask measures record``, ``import``, ``report`` and ``breakdown``, as an officer
runs them. Every refusal is in plain English, on standard error, with a failing exit code and nothing saved."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

import pytest
from sqlalchemy import select

from analysis.report import COLUMNS
from survey_app.extensions import db
from survey_app.models import RecordedFigure

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
    assert any(line.split("  ")[0] == "2024-25 Q1" for line in lines)
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
