"""The command line: ``questionnaires check``, ``questionnaires load`` and ``demo``."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

from sqlalchemy import select

from questionnaires.loader import DIRECTORY
from survey_app.extensions import db
from survey_app.models import QuestionnaireVersion, SurveyRun, Wave, utcnow
from survey_app.services import questionnaires as questionnaire_service

from .test_loader import VALID, write

PROBLEM_LINE = re.compile(r"^[^:\s]+\.yaml:\d+: .+$")


def test_check_passes_the_shipped_questionnaires(app):
    result = app.test_cli_runner().invoke(args=["questionnaires", "check"])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "no problems" in result.stderr


def test_check_lists_one_problem_per_line_and_fails(app, tmp_path):
    good = write(tmp_path, VALID, "good.yaml")
    bad = write(
        tmp_path, VALID.replace("scale: agree5", "scale: agree7").replace("type: yes_no", "type: yesno"), "bad.yaml"
    )
    result = app.test_cli_runner().invoke(args=["questionnaires", "check", str(good), str(bad)])
    assert result.exit_code == 1
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2
    assert all(PROBLEM_LINE.match(line) and "bad.yaml" in line for line in lines)
    assert any(": rating.scale: unknown scale 'agree7'" in line for line in lines)
    assert any(": visited.type: unknown question type 'yesno'" in line for line in lines)


def test_check_accepts_a_valid_file(app, tmp_path):
    result = app.test_cli_runner().invoke(args=["questionnaires", "check", str(write(tmp_path, VALID))])
    assert result.exit_code == 0, result.output


def test_the_command_works_from_a_shell(tmp_path):
    bad = write(tmp_path, VALID.replace("title: A sample", "titel: A sample"), "bad.yaml")
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "questionnaires", "check", str(bad)],
        capture_output=True,
        text=True,
        env={"APP_ENV": "development", "SECRET_KEY": "k", "PATH": "/usr/bin:/bin"},
        cwd=DIRECTORY.parent,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert f"{bad}:3: titel: unknown field 'titel'; did you mean 'title'?" in result.stdout


def test_load_publishes_new_versions_and_refuses_an_edit_in_place(app, survey_db, tmp_path):
    directory = tmp_path / "questionnaires"
    shutil.copytree(DIRECTORY, directory, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    app.config["QUESTIONNAIRE_DIR"] = str(directory)
    try:
        runner = app.test_cli_runner()
        result = runner.invoke(args=["questionnaires", "load"])
        assert result.exit_code == 0, result.output
        assert "ehc_plan_feedback version 3: already published, unchanged" in result.stdout

        plan = directory / "ehc_plan_feedback.yaml"
        plan.write_text(plan.read_text().replace("Communication with the SEND team was good", "Communication was good"))
        result = runner.invoke(args=["questionnaires", "load"])
        assert result.exit_code == 1
        assert "already published with different content" in result.stderr
        assert "give the changed questionnaire version 4" in result.stderr

        plan.write_text(plan.read_text().replace("version: 3", "version: 4"))
        result = runner.invoke(args=["questionnaires", "load"])
        assert result.exit_code == 0, result.output
        assert "ehc_plan_feedback version 4: published" in result.stdout
        db.session.rollback()
        versions = db.session.scalars(select(QuestionnaireVersion.version).filter_by(key="ehc_plan_feedback"))
        assert sorted(versions) == [3, 4]

        (directory / "broken.yaml").write_text("key: broken\n")
        result = runner.invoke(args=["questionnaires", "load"])
        assert result.exit_code == 1
        assert "broken.yaml:1: title: 'title' is required" in result.stdout
        assert "Nothing was published" in result.stderr
    finally:
        app.config["QUESTIONNAIRE_DIR"] = str(DIRECTORY)


def test_demo_opens_one_run_per_questionnaire_once(app, survey_db):
    db.session.execute(SurveyRun.__table__.delete())
    db.session.execute(Wave.__table__.delete())
    db.session.commit()
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0
    assert "/surveys/ehc-plan-feedback" in first.stdout and "/surveys/send-pathways-information" in first.stdout
    assert "earlier waves of the demo surveys" in first.stdout
    second = runner.invoke(args=["demo"])
    assert "already has a survey open" in second.stdout
    assert "earlier waves" not in second.stdout and "invented figures" not in second.stdout
    db.session.rollback()
    runs = db.session.scalars(select(SurveyRun)).all()
    versions = len(questionnaire_service.latest_versions())
    # One open run of each questionnaire, and a closed run of it in each earlier wave.
    assert len([run for run in runs if run.wave is None]) == versions
    assert len([run for run in runs if run.wave is not None]) == 2 * versions
    assert all(run.closes_at < utcnow() for run in runs if run.wave is not None)
    assert [run.wave.is_baseline for run in runs if run.wave is not None].count(True) == versions
