"""``flask responses import FILE.csv --run RUN``: responses collected in another survey tool.

A good file's responses are stored as the journey stores them and counted by
the measures; a file with any problem is refused whole, each problem named
by its row and column, and nothing is stored.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from analysis.measures import PeriodKind
from survey_app.extensions import db
from survey_app.models import Answer, EqualityAnswer, Response, SurveyRun, Wave
from survey_app.services import questionnaires as questionnaire_service
from survey_app.services.measure_counts import measure_counts

from .test_measure_counts import AS_OF, INFORMATION, counted, figures, shipped, survey_run
from .test_measures_cli import refused, succeeds

SLUG = "pathways-baseline-2024"
# Times in the file are UK times: 23:30 on 31 March is the old financial year, 00:30 on 1 April the new one.
AREA_HEADING = ",Which area do you live in?\n"
GOOD_FILE = """submitted_at,pathways_information,knows_sendiass,Which area do you live in?
2024-03-31 23:30,Very good,Yes,North
01/04/2024 00:30,good,no,
2024-04-15,Poor,,south
2024-05-02 10:00,Don't know,yes,Not sure
2024-05-03 10:00,,Yes,
"""


# Helpers ---------------------------------------------------------------------


@pytest.fixture
def run(survey_db) -> SurveyRun:
    """A run of the information survey open from 1 March to 30 June 2024 (UK time): it closes at midnight."""
    return survey_run(INFORMATION, SLUG, datetime(2024, 3, 1), datetime(2024, 6, 30, 23))


def write(tmp_path, text: str, name: str = "responses.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def import_file(app, path: str, *options: str):
    return succeeds(app, "responses", "import", path, "--run", SLUG, *options)


def refused_import(app, path: str, *options: str) -> str:
    return refused(app, "responses", "import", path, *options)


def stored_responses() -> int:
    db.session.rollback()  # see what the command committed
    return db.session.scalar(select(func.count()).select_from(Response))


def stored_answers() -> int:
    return db.session.scalar(select(func.count()).select_from(Answer))


# A good file -------------------------------------------------------------------


def test_a_good_file_is_imported_and_counted_by_the_measures(app, run, tmp_path):
    result = import_file(app, write(tmp_path, GOOD_FILE))
    assert result.stdout.strip() == (f"Imported 5 responses from responses.csv into '{run.title}' (/surveys/{SLUG}).")
    assert stored_responses() == 5
    rows = db.session.execute(
        select(Response.submitted_at, Answer.question_key, Answer.value)
        .join(Answer, Answer.response_id == Response.id)
        .order_by(Response.submitted_at, Answer.question_key)
    ).all()
    assert rows[:3] == [
        # 23:30 BST on 31 March is 22:30 UTC.
        (datetime(2024, 3, 31, 22, 30), "knows_sendiass", "yes"),
        (datetime(2024, 3, 31, 22, 30), "locality", "north"),
        (datetime(2024, 3, 31, 22, 30), "pathways_information", "very_good"),
    ]
    assert (datetime(2024, 3, 31, 23, 30), "pathways_information", "good") in rows
    # A date without a time is taken as midday, UK time.
    assert (datetime(2024, 4, 15, 11, 0), "locality", "south") in rows
    assert (datetime(2024, 5, 2, 9, 0), "locality", "dont_know") in rows

    counts = counted(shipped("pathways_information_good", "knows_independent_advice"))
    assert figures(counts, "pathways_information_good") == {"2023-24 Q4": (1, 1), "2024-25 Q1": (1, 2)}
    assert figures(counts, "knows_independent_advice") == {"2023-24 Q4": (1, 1), "2024-25 Q1": (2, 3)}
    assert counts[counts["period"] == "2024-25 Q1"]["responses"].tolist() == [4, 4]


def test_the_same_file_cannot_be_imported_twice(app, run, tmp_path):
    path = write(tmp_path, GOOD_FILE)
    import_file(app, path)
    errors = refused_import(app, path, "--run", SLUG)
    assert f"This file's 5 responses are already imported to '{run.title}'. Nothing was imported." in errors
    assert stored_responses() == 5


def test_a_mapping_file_names_another_tool_s_columns_and_answers(app, run, tmp_path):
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "columns:\n"
        '  "Q4. How would you rate the information?": pathways_information\n'
        "answers:\n"
        "  pathways_information:\n"
        '    "Excellent": very_good\n'
        'ignore: ["Respondent ID"]\n',
        encoding="utf-8",
    )
    text = (
        "Respondent ID,submitted_at,Q4. How would you rate the information?\n"
        "1,2024-04-02,Excellent\n"
        "2,2024-04-03,Poor\n"
    )
    import_file(app, write(tmp_path, text), "--mapping", str(mapping))
    assert figures(counted(shipped("pathways_information_good")), "pathways_information_good") == {"2024-25 Q1": (1, 2)}


def test_equality_monitoring_answers_are_kept_apart_from_the_response(app, run, tmp_path):
    text = "submitted_at,pathways_information,respondent_sex\n2024-04-02,good,female\n"
    import_file(app, write(tmp_path, text))
    assert stored_responses() == 1
    assert db.session.scalars(select(Answer.question_key)).all() == ["pathways_information"]
    assert db.session.scalars(select(EqualityAnswer.value)).all() == ["female"]


def test_a_new_run_in_a_baseline_wave_is_made_for_the_file(app, survey_db, tmp_path):
    result = succeeds(
        app,
        "responses",
        "import",
        write(tmp_path, GOOD_FILE),
        "--new-run",
        "Pathways baseline 2024",
        "--questionnaire",
        INFORMATION,
        "--wave",
        "Baseline spring 2024",
        "--baseline-wave",
    )
    assert "into 'Pathways baseline 2024' (/surveys/pathways-baseline-2024)" in result.stdout
    db.session.rollback()
    made = db.session.scalar(select(SurveyRun).where(SurveyRun.slug == "pathways-baseline-2024"))
    # Open from the start of the first UK day to the end of the last (00:00 BST is 23:00 UTC the day before).
    assert (made.opens_at, made.closes_at) == (datetime(2024, 3, 31, 0, 0), datetime(2024, 5, 3, 23, 0))
    assert made.wave.name == "Baseline spring 2024" and made.wave.is_baseline
    result = measure_counts(
        shipped("pathways_information_good"),
        questionnaire_service.library().questionnaires,
        PeriodKind.WAVE,
        AS_OF,
    )
    assert figures(result.counts, "pathways_information_good") == {"Baseline spring 2024": (2, 3)}
    baseline = result.baselines.set_index("measure").loc["pathways_information_good"]
    assert (baseline["period"], baseline["positives"], baseline["n"]) == ("Baseline spring 2024", 2, 3)
    assert db.session.scalar(select(func.count()).select_from(Wave)) == 1

    # The run is open to the end of the last response's day, and no later.
    later = "submitted_at,pathways_information\n2024-05-03 23:59,good\n2024-05-04 00:01,good\n"
    errors = refused_import(app, write(tmp_path, later, "later.csv"), "--run", "pathways-baseline-2024")
    assert "Row 3, column A: 2024-05-04 is outside the run's dates (2024-03-31 to 2024-05-03)." in errors


# Files that are refused ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        (
            GOOD_FILE.replace(AREA_HEADING, ",locality,Favourite colour\n"),
            [
                "Row 1, column E: “Favourite colour” is not a question of send_pathways_information. Head the "
                "column with a question's key or wording, map it in a mapping file, or list it under ignore."
            ],
        ),
        (
            GOOD_FILE.replace("2024-04-15,Poor", "2024-04-15,Excellent"),
            ["Row 4, column B (pathways_information): “Excellent” is not one of its answers: Very good (very_good);"],
        ),
        (
            GOOD_FILE.replace("Don't know,yes,Not sure", "Don't know,yes,Narnia"),
            ["Row 5, column D (locality): “Narnia” is not one of its answers: North (north);"],
        ),
        (
            GOOD_FILE.replace("submitted_at,", "sent,"),
            ["Row 1, column A: “sent” is not a question of send_pathways_information."],
        ),
        (
            "pathways_information,knows_sendiass\ngood,yes\n",
            ["Row 1: there is no submitted_at column. Add one with the date each response was sent"],
        ),
        (
            GOOD_FILE.replace("2024-04-15,", "31/02/2024,"),
            ["Row 4, column A (submitted_at): “31/02/2024” is not a date: write it like 2021-11-14"],
        ),
        (
            GOOD_FILE.replace("2024-04-15,", "15 April,"),
            ["Row 4, column A (submitted_at): “15 April” is not a date"],
        ),
        (
            GOOD_FILE.replace("2024-04-15,", ","),
            ["Row 4, column A (submitted_at): give the date this response was sent."],
        ),
        (
            GOOD_FILE.replace("2024-04-15,", "2024-07-01,"),
            ["Row 4, column A: 2024-07-01 is outside the run's dates (2024-03-01 to 2024-06-30)."],
        ),
        (
            GOOD_FILE.replace(AREA_HEADING, ",pathways_information\n"),
            ["Row 1, column D: pathways_information is also answered in column B."],
        ),
        (
            GOOD_FILE.replace(AREA_HEADING, ",local_offer_confidence\n").replace(",North\n", ",Agree\n"),
            [
                "Row 2, column D (local_offer_confidence): answered, but this question is only asked when "
                "used_local_offer is yes."
            ],
        ),
        (
            GOOD_FILE.replace("Poor,,south", "Poor,,south,extra"),
            ["Row 4, column E: this column has no heading."],
        ),
        ("", ["The file is empty. It needs a header row, then one row for each response."]),
        ("submitted_at,pathways_information\n", ["The file has a header row but no responses under it."]),
        ('submitted_at,pathways_information\n2024-04-02,"good\n', ["cannot be read as CSV"]),
    ],
)
def test_a_file_with_any_problem_is_refused_whole(app, run, tmp_path, text, problems):
    errors = refused_import(app, write(tmp_path, text), "--run", SLUG)
    for problem in problems:
        assert problem in errors
    assert "responses.csv was not imported" in errors
    assert "Nothing was changed." in errors
    assert stored_responses() == 0
    assert stored_answers() == 0


def test_every_problem_is_listed_and_none_of_the_good_rows_is_stored(app, run, tmp_path):
    text = GOOD_FILE.replace("2024-04-15,Poor", "2024-04-15,Excellent").replace("2024-05-03 10:00", "yesterday")
    errors = refused_import(app, write(tmp_path, text), "--run", SLUG)
    assert "Row 4, column B (pathways_information)" in errors
    assert "Row 6, column A (submitted_at): “yesterday” is not a date" in errors
    assert "responses.csv was not imported: 2 problem(s). Nothing was changed." in errors
    assert stored_responses() == 0


def test_a_mapping_to_a_question_the_questionnaire_does_not_ask_is_refused(app, run, tmp_path):
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        'columns:\n  "Q4": pathway_rating\nanswers:\n  pathways_information:\n    "Excellent": superb\n',
        encoding="utf-8",
    )
    errors = refused_import(app, write(tmp_path, GOOD_FILE), "--run", SLUG, "--mapping", str(mapping))
    assert "columns: “Q4” is mapped to 'pathway_rating', which send_pathways_information does not ask." in errors
    assert "answers: pathways_information: “Excellent” is mapped to 'superb', which is not one of its answers" in errors
    assert "Correct the mapping file: nothing was imported." in errors
    assert stored_responses() == 0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--run", "no-such-run"], "There is no survey run 'no-such-run'."),
        ([], "Give either --run, the run to import into, or --new-run"),
        (["--run", SLUG, "--new-run", "Another"], "Give either --run"),
        (["--run", SLUG, "--wave", "Spring"], "go with --new-run, not --run"),
        (["--new-run", "Another", "--questionnaire", "no_such_questionnaire"], "Give --questionnaire, one of:"),
        (["--new-run", "Another", "--questionnaire", INFORMATION, "--baseline-wave"], "--baseline-wave needs --wave"),
    ],
)
def test_where_to_import_must_be_clear(app, run, tmp_path, options, message):
    errors = refused_import(app, write(tmp_path, GOOD_FILE), *options)
    assert message in errors
    assert stored_responses() == 0


def test_a_new_run_is_made_in_a_fresh_process_too(app, survey_db, tmp_path, monkeypatch):
    """A fresh process has not read the questionnaire yet, so it is read from the database before the import."""
    monkeypatch.setattr(questionnaire_service, "_parsed", {})
    args = ["--new-run", "Pathways 2024", "--questionnaire", INFORMATION, "--expected-eligible", "400"]
    succeeds(app, "responses", "import", write(tmp_path, GOOD_FILE), *args)
    assert stored_responses() == 5
    made = db.session.scalar(select(SurveyRun).where(SurveyRun.slug == "pathways-2024"))
    assert (made.expected_eligible, made.wave_id) == (400, None)
