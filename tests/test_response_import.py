"""``flask responses import FILE.csv --run RUN``: responses collected in another survey tool.

A good file's responses are stored as the journey stores them and counted by
the measures; a file with any problem is refused whole, each problem named
by its row and column, and nothing is stored. A good file is stored in
batches, each its own transaction, so that respondents get through between
them; an import stopped part-way leaves nothing behind.
"""

from __future__ import annotations

import os
import signal
import tracemalloc
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import event, func, insert, select

from analysis.measures import PeriodKind
from survey_app import cli_measures
from survey_app.database import begin_write
from survey_app.extensions import db
from survey_app.models import (
    Answer,
    AuditEvent,
    EqualityAnswer,
    EqualityMonitoring,
    Response,
    SurveyRun,
    Wave,
    utcnow,
)
from survey_app.services import questionnaires as questionnaire_service
from survey_app.services import response_import
from survey_app.services.measure_counts import measure_counts

from .stored import add_response
from .test_measure_counts import AS_OF, INFORMATION, counted, figures, shipped, survey_run
from .test_measures_cli import refused, run_command, succeeds

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

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


def stored_rows() -> dict[str, int]:
    """How many rows each table an import writes to holds."""
    db.session.rollback()
    tables = (Response, Answer, EqualityMonitoring, EqualityAnswer)
    return {table.__tablename__: db.session.scalar(select(func.count()).select_from(table)) for table in tables}


NOTHING = {"response": 0, "answer": 0, "equality_monitoring": 0, "equality_answer": 0}


def audited() -> list[str]:
    """The import's entries in the audit log, oldest first."""
    actions = (response_import.STARTED, response_import.FINISHED, response_import.UNDONE, "run_created")
    return list(
        db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.in_(actions)).order_by(AuditEvent.id))
    )


def import_directly(run: SurveyRun, path: str, progress=None, batch_size: int | None = None) -> int:
    """The service without the command: check the file, then store it, with a hook called after every batch."""
    questionnaire = questionnaire_service.questionnaire_of(run.questionnaire_version)
    checked = response_import.check_file(Path(path), run, questionnaire)
    return response_import.store(run, questionnaire, checked, "a test", progress, batch_size)


# Seven responses to the information survey, each with an equality monitoring answer.
SEVEN = "submitted_at,pathways_information,respondent_sex\n" + "".join(
    f"2024-04-{day:02d} 10:00,good,female\n" for day in range(1, 8)
)


# A good file -------------------------------------------------------------------


def test_a_good_file_is_imported_and_counted_by_the_measures(app, run, tmp_path):
    result = import_file(app, write(tmp_path, GOOD_FILE))
    assert result.stdout.strip() == (f"Imported 5 responses from responses.csv into '{run.title}' (/surveys/{SLUG}).")
    assert result.stderr == ""  # no progress lines for a small file, when not at a terminal
    assert stored_responses() == 5
    assert db.session.scalars(select(Response.plan_reference).distinct()).all() == [None]
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


def test_several_answers_to_a_multiple_choice_question_share_a_cell(app, survey_db, tmp_path):
    survey_run("ehc_plan_feedback", "plan-feedback-2024", datetime(2024, 3, 1), datetime(2024, 6, 30, 23))
    text = (
        "submitted_at,plan_reflects_needs,needs_missing\n"
        "2024-04-02,Disagree,Learning; Health needs\n"
        "2024-04-03,disagree,cognition_learning|social_care\n"
    )
    succeeds(app, "responses", "import", write(tmp_path, text), "--run", "plan-feedback-2024")
    chosen = select(Answer.value).where(Answer.question_key == "needs_missing").order_by(Answer.id)
    assert db.session.scalars(chosen).all() == ["cognition_learning", "health", "cognition_learning", "social_care"]

    # "None of these" goes alone.
    alone = "submitted_at,plan_reflects_needs,needs_missing\n2024-04-04,Disagree,Learning; none\n"
    errors = refused(app, "responses", "import", write(tmp_path, alone, "alone.csv"), "--run", "plan-feedback-2024")
    assert "Row 2, column C (needs_missing): “Learning; none” combines “None of these” with other answers." in errors


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
        (
            GOOD_FILE.replace(AREA_HEADING, ",locality,plan_reference\n"),
            [
                "Row 1, column E: “plan_reference” is a column of plan references: plan references come only "
                "from identified invitations and cannot be imported. Delete the column and import the file again."
            ],
        ),
        (
            GOOD_FILE.replace("submitted_at,", "Plan Reference,submitted_at,"),
            ["Row 1, column A: “Plan Reference” is a column of plan references"],
        ),
        (
            GOOD_FILE.replace("2024-04-15,", "2024-07-01T00:30:00+01:00,"),
            ["Row 4, column A: 2024-07-01 is outside the run's dates (2024-03-01 to 2024-06-30)."],
        ),
        (
            GOOD_FILE.replace("2024-04-15,", "04/15/2024,"),
            ["Row 4, column A (submitted_at): “04/15/2024” is not a date"],
        ),
        ("", ["The file is empty. It needs a header row, then one row for each response."]),
        ("\n\n  \n", ["The file is empty. It needs a header row, then one row for each response."]),
        ("submitted_at\x00,pathways_information\n", ["The file is not a CSV file."]),
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


def test_a_plan_reference_cannot_be_mapped_to_a_column(app, run, tmp_path):
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text('columns:\n  "EHCP number": plan_reference\n', encoding="utf-8")
    errors = refused_import(app, write(tmp_path, GOOD_FILE), "--run", SLUG, "--mapping", str(mapping))
    assert (
        "columns: “EHCP number” is mapped to plan_reference: plan references come only from identified "
        "invitations and cannot be imported." in errors
    )
    assert stored_responses() == 0


# The date column, and the documentation -------------------------------------------------------------


def test_a_mapping_names_the_date_column(app, run, tmp_path):
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text('columns:\n  "Date submitted": submitted_at\n', encoding="utf-8")
    text = (
        "Date submitted,pathways_information\n"
        "2024-03-31 23:30,good\n"  # UK time: 22:30 UTC, in summer time
        "2024-04-01T00:30:00+01:00,good\n"  # an offset: 23:30 UTC
        "2024-04-02T09:00:00Z,poor\n"
    )
    import_file(app, write(tmp_path, text), "--mapping", str(mapping))
    assert db.session.scalars(select(Response.submitted_at).order_by(Response.submitted_at)).all() == [
        datetime(2024, 3, 31, 22, 30),
        datetime(2024, 3, 31, 23, 30),
        datetime(2024, 4, 2, 9, 0),
    ]

    # Two columns giving the date are one too many.
    twice = "submitted_at,Date submitted,pathways_information\n2024-04-03,2024-04-03,good\n"
    errors = refused_import(app, write(tmp_path, twice, "twice.csv"), "--run", SLUG, "--mapping", str(mapping))
    assert "Row 1, column B: column A already gives the date each response was sent (submitted_at)." in errors


def test_the_help_gives_the_file_s_columns_and_the_mapping_s_format(app):
    result = run_command(app, "responses", "import", "--help")
    assert result.exit_code == 0
    help_text = " ".join(result.output.split())
    for essential in (
        "submitted_at when the response was sent, in UK time (GMT or BST, as the clocks showed)",
        "2021-11-14, 14/11/2021 or 14/11/21",
        "Or ISO 8601 with an offset: 2021-11-14T09:30:00Z",
        "a question headed by its key (pathways_information) or its English wording",
        "Several answers in one cell: separated by ; or |",
        "plan_reference refused: plan references come only from identified invitations",
        '"Date submitted": submitted_at',
        'answers: # per question, answer as written: code pathways_information: "Excellent": very_good',
        'ignore: ["Respondent ID", "IP Address"]',
        "examples/responses.csv",
        "examples/other-tool.csv with --mapping examples/other-tool-mapping.yaml",
    ):
        assert essential in help_text, essential


def test_the_example_files_import(app, survey_db):
    """The files the README and --help point to import as they are."""
    succeeds(
        app,
        "responses",
        "import",
        str(EXAMPLES / "responses.csv"),
        "--new-run",
        "Pathways baseline 2021",
        "--questionnaire",
        INFORMATION,
        "--wave",
        "Autumn 2021",
        "--baseline-wave",
    )
    result = succeeds(
        app,
        "responses",
        "import",
        str(EXAMPLES / "other-tool.csv"),
        "--mapping",
        str(EXAMPLES / "other-tool-mapping.yaml"),
        "--new-run",
        "Pathways survey spring 2022",
        "--questionnaire",
        INFORMATION,
    )
    assert "Imported 4 responses from other-tool.csv into 'Pathways survey spring 2022'" in result.stdout
    db.session.rollback()
    answered = select(SurveyRun.slug, Answer.value).join(SurveyRun, SurveyRun.id == Answer.run_id)
    ratings = db.session.execute(answered.where(Answer.question_key == "pathways_information")).all()
    assert sorted(ratings) == sorted(
        [("pathways-baseline-2021", value) for value in ("good", "very_poor", "neither", "very_good", "dont_know")]
        + [("pathways-baseline-2021", "very_good")]
        + [("pathways-survey-spring-2022", value) for value in ("very_good", "neither", "poor", "good")]
    )
    assert db.session.scalar(select(func.count()).select_from(Response)) == 10
    assert sorted(db.session.scalars(select(EqualityAnswer.value))) == [
        "british",
        "dont_know",
        "female",
        "male",
        "white",
    ]


# Batches, and all or nothing ------------------------------------------------------------------------


def test_each_batch_is_committed_on_its_own_so_respondents_get_through(app, run, tmp_path):
    """Between batches another connection sees what is stored so far, and can write: the lock is free."""
    run_id = run.id
    seen, written = [], []

    def between_batches(stage, done, total):
        if stage != response_import.STORED:
            return
        with db.engine.connect() as other:
            if other.dialect.name == "sqlite":
                other.exec_driver_sql("PRAGMA busy_timeout = 0")
                other.exec_driver_sql("BEGIN IMMEDIATE")  # fails at once while another holds the write lock
            visible = select(func.count()).select_from(Response).where(Response.run_id == run_id)
            seen.append(other.scalar(visible))
            other.execute(insert(Wave).values(name=f"Written between batches {done}", created_at=utcnow()))
            other.commit()
            written.append(done)

    assert import_directly(run, write(tmp_path, GOOD_FILE), between_batches, batch_size=2) == 5
    assert seen == [2, 4, 5]
    assert written == [2, 4, 5]
    assert stored_rows()["response"] == 5


def test_the_command_stores_in_batches_of_its_own_transactions(app, run, tmp_path, monkeypatch):
    commits = []
    monkeypatch.setattr(response_import, "BATCH_SIZE", 2)
    with app.app_context():
        engine = db.engine

    def listener(connection):
        commits.append(1)

    event.listen(engine, "commit", listener)
    try:
        import_file(app, write(tmp_path, GOOD_FILE))
    finally:
        event.remove(engine, "commit", listener)
    assert stored_responses() == 5
    assert len(commits) >= 3  # a commit per batch of two


def test_an_import_stopped_part_way_leaves_nothing(app, run, tmp_path):
    path = write(tmp_path, SEVEN)

    def stop_after_two_batches(stage, done, total):
        if stage == response_import.STORED and done == 4:
            raise KeyboardInterrupt  # as Ctrl+C (or SIGTERM, which the command turns into it) would

    with pytest.raises(KeyboardInterrupt):
        import_directly(run, path, stop_after_two_batches, batch_size=2)
    assert stored_rows() == NOTHING
    assert audited() == [response_import.STARTED, response_import.UNDONE]

    # Nothing of it is left to refuse the file as imported: it imports whole.
    assert import_directly(run, path) == 7
    assert stored_rows() == {"response": 7, "answer": 7, "equality_monitoring": 7, "equality_answer": 7}


def test_a_new_run_and_wave_are_removed_when_the_import_is_stopped_part_way(app, survey_db, tmp_path, monkeypatch):
    """SIGTERM (as from systemd or kill) after the first batch: the command stops at the next, and removes all."""
    monkeypatch.setattr(response_import, "BATCH_SIZE", 2)
    progress = cli_measures._ImportProgress.__call__

    def terminated_after_first_batch(self, stage, done, total):
        if stage == response_import.STORED and done == 2:
            os.kill(os.getpid(), signal.SIGTERM)
        progress(self, stage, done, total)

    monkeypatch.setattr(cli_measures._ImportProgress, "__call__", terminated_after_first_batch)
    args = ["--new-run", "Pathways 2024", "--questionnaire", INFORMATION, "--wave", "Spring 2024", "--baseline-wave"]
    errors = refused_import(app, write(tmp_path, SEVEN), *args)
    assert "Stopping after the batch being stored; anything stored so far will be removed." in errors
    assert "The import of responses.csv was stopped. Nothing was imported." in errors
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # as it was before the command
    assert stored_rows() == NOTHING
    assert db.session.scalar(select(SurveyRun).where(SurveyRun.slug == "pathways-2024")) is None
    assert db.session.scalar(select(Wave).where(Wave.name == "Spring 2024")) is None
    assert audited() == ["run_created", response_import.STARTED, response_import.UNDONE]


def test_a_row_that_cannot_be_stored_undoes_the_batches_before_it(app, run, tmp_path):
    """Row 6 is stored by someone else between batches (another import of the same file): the import fails at
    its third batch, removes its own two, and leaves the other's row alone."""
    path = write(tmp_path, SEVEN)
    questionnaire = questionnaire_service.questionnaire_of(run.questionnaire_version)
    checked = response_import.check_file(Path(path), run, questionnaire)

    def someone_else_stores_row_6(stage, done, total):
        if stage == response_import.STORED and done == 2:
            begin_write()
            other = add_response(run, {"pathways_information": "poor"}, datetime(2024, 4, 20))
            other.submission_key = response_import._submission_key(run.slug, checked.fingerprint, 6)
            db.session.commit()

    with pytest.raises(response_import.AlreadyImported, match="Another import of this file"):
        response_import.store(run, questionnaire, checked, "a test", someone_else_stores_row_6, batch_size=2)
    assert stored_rows() == {"response": 1, "answer": 1, "equality_monitoring": 0, "equality_answer": 0}
    assert db.session.scalar(select(Answer.value)) == "poor"


def test_a_file_changed_between_the_check_and_the_storing_leaves_nothing(app, run, tmp_path):
    path = write(tmp_path, SEVEN)

    def change_the_file(stage, done, total):
        if stage == response_import.STORED and done == 2:
            with open(path, "a", encoding="utf-8") as file:
                file.write("2024-04-09,poor,male\n")

    with pytest.raises(response_import.CsvFileRefused) as refused:
        import_directly(run, path, change_the_file, batch_size=2)
    assert refused.value.problems == ["The file changed while it was being imported. Import it again."]
    assert stored_rows() == NOTHING


def test_what_a_killed_import_left_is_removed_when_the_file_is_imported_again(app, run, tmp_path, monkeypatch):
    """kill -9 or a power cut leaves the batches stored so far; the audit log shows the import never finished."""
    path = write(tmp_path, SEVEN)
    with monkeypatch.context() as killed:
        killed.setattr(response_import._Writer, "undo", lambda writer: None)  # it dies before it can remove them

        def die(stage, done, total):
            if stage == response_import.STORED and done == 4:
                raise SystemExit(137)

        with pytest.raises(SystemExit):
            import_directly(run, path, die, batch_size=2)
    assert stored_rows() == {"response": 4, "answer": 4, "equality_monitoring": 4, "equality_answer": 4}

    result = import_file(app, path)
    assert "Removed 4 of 4 responses left by an earlier import of this file that did not finish" in result.stderr
    assert "Imported 7 responses" in result.stdout
    assert stored_rows() == {"response": 7, "answer": 7, "equality_monitoring": 7, "equality_answer": 7}
    assert audited() == [
        response_import.STARTED,
        response_import.UNDONE,
        response_import.STARTED,
        response_import.FINISHED,
    ]


def killed(stage, done, total):
    if stage == response_import.STORED:
        raise SystemExit(137)


def test_a_new_run_a_killed_import_left_is_removed_when_the_file_is_imported_again(
    app, survey_db, tmp_path, monkeypatch
):
    path = write(tmp_path, SEVEN)
    version = next(v for v in questionnaire_service.latest_versions() if v.key == INFORMATION)
    made = response_import.new_run("Pathways 2024", version, "Spring 2024", True, None)
    with monkeypatch.context() as dying:
        dying.setattr(response_import._Writer, "undo", lambda writer: None)  # it dies before it can remove them
        with pytest.raises(SystemExit):
            import_directly(made, path, killed, batch_size=2)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(SurveyRun).where(SurveyRun.title == "Pathways 2024")) == 1

    args = ["--new-run", "Pathways 2024", "--questionnaire", INFORMATION, "--wave", "Spring 2024", "--baseline-wave"]
    result = succeeds(app, "responses", "import", path, *args)
    assert "into 'Pathways 2024' (/surveys/pathways-2024)" in result.stdout
    db.session.rollback()
    assert db.session.scalars(select(SurveyRun.slug).where(SurveyRun.title == "Pathways 2024")).all() == [
        "pathways-2024"
    ]
    assert db.session.scalars(select(Wave.name)).all() == ["Spring 2024"]
    assert stored_rows()["response"] == 7


def test_responses_erased_since_a_finished_import_are_not_imported_again(app, run, tmp_path):
    path = write(tmp_path, GOOD_FILE)
    import_file(app, path)
    begin_write()
    erased = db.session.scalar(select(Response).limit(1))
    db.session.delete(erased)
    db.session.commit()
    errors = refused_import(app, path, "--run", SLUG)
    assert "4 of this file's 5 responses are already imported" in errors
    assert stored_responses() == 4


def test_progress_is_shown_for_a_large_file_and_never_an_answer(app, run, tmp_path, monkeypatch):
    monkeypatch.setattr(response_import, "PROGRESS_EVERY", 2)
    monkeypatch.setattr(response_import, "BATCH_SIZE", 2)
    monkeypatch.setattr(cli_measures._ImportProgress, "EVERY", 2)
    result = import_file(app, write(tmp_path, GOOD_FILE))
    assert result.stderr.splitlines() == [
        "Checked 2 rows…",
        "Checked 4 rows…",
        "Checked 5 rows",
        "Stored 2 of 5 responses",
        "Stored 4 of 5 responses",
        "Stored 5 of 5 responses",
    ]


def test_memory_does_not_grow_with_the_file(app, run, tmp_path):
    """The Python heap's peak while importing 3,000 rows is about that of 500: a batch, not the file."""
    row = "2024-04-{:02d} 10:00,Good,Yes,North,female,The information about short breaks was clear.\n"
    heading = "submitted_at,pathways_information,knows_sendiass,locality,respondent_sex,worked_well\n"
    peaks = []
    for rows in (500, 3000):
        path = write(tmp_path, heading + "".join(row.format(1 + n % 28) for n in range(rows)), f"{rows}.csv")
        tracemalloc.start()
        try:
            import_directly(run, path, batch_size=250)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    assert stored_rows()["response"] == 3500
    assert peaks[1] < peaks[0] * 1.5, peaks
