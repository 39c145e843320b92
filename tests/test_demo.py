"""`flask demo`: demo surveys, invented responses and demo accounts for `make run`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

from analysis import disclosure, periods
from analysis.measures import PeriodKind
from survey_app.database import begin_write
from survey_app.extensions import db
from survey_app.models import Answer, RecordedFigure, Response, SurveyRun, User, Wave, utcnow
from survey_app.services import demo, runs
from survey_app.services import measures as measure_service
from survey_app.services import questionnaires as questionnaire_service
from survey_app.services.uk_time import uk_date

from .conftest import reset_database, sign_in

# The headline measure ("% of parent carers rating information on SEND pathways good"), and other main measures
# of the board report that a breakdown by area or by stage of education is read for.
HEADLINE = "pathways_information_good"
MAIN_MEASURES = (HEADLINE, "plan_felt_fully_involved", "assessment_satisfied")


@pytest.fixture(scope="module")
def built_demo(app, tmp_path_factory):
    """The demo database as `make run` builds it (no run open beforehand), built once for the tests that read it.

    Returns when it was built. The tests using it only read; the one that runs the demo again comes last.
    """
    instance = tmp_path_factory.mktemp("instance")
    with app.app_context():
        reset_database()
        begin_write()
        db.session.execute(SurveyRun.__table__.delete())
        db.session.execute(Wave.__table__.delete())
        db.session.commit()
        runs.forget_cached_runs()
        app.instance_path = str(instance)
        try:
            result = app.test_cli_runner().invoke(args=["demo"])
        finally:
            app.instance_path = str(Path(app.root_path).parent / "instance")
        assert result.exit_code == 0, result.output
        built_at = utcnow()
        db.session.remove()
    return built_at


@pytest.fixture
def demo_db(app, built_demo):
    with app.app_context():
        yield built_demo
        db.session.remove()


def test_every_demo_response_is_sent_while_its_run_is_open(demo_db):
    built_at = demo_db
    demo_runs = db.session.scalars(select(SurveyRun)).all()
    versions = len(questionnaire_service.latest_versions())
    assert len(demo_runs) == 3 * versions, "a current run and two earlier waves of each questionnaire"
    assert all(run.opens_at < built_at for run in demo_runs), "every run has opened"
    sent = {
        run_id: (first, last, count)
        for run_id, first, last, count in db.session.execute(
            select(
                Response.run_id, func.min(Response.submitted_at), func.max(Response.submitted_at), func.count()
            ).group_by(Response.run_id)
        )
    }
    for run in demo_runs:
        first, last, count = sent[run.id]
        assert count > 0
        assert run.opens_at <= first, f"{run.slug}: a response before it opened"
        assert last < run.closes_at and last <= built_at, f"{run.slug}: a response after it closed, or in the future"
        if run.wave is None:  # open now: its responses came over the weeks it has been open
            assert run.opens_at <= built_at - timedelta(days=demo.DEMO_OPEN_DAYS) + timedelta(minutes=1)
            assert last - first > timedelta(days=14)
    # Each answer carries its response's time.
    moved = select(func.count()).select_from(Answer).join(Response).where(Answer.submitted_at != Response.submitted_at)
    assert db.session.scalar(moved) == 0


def test_the_demo_records_figures_only_for_quarters_that_have_ended(demo_db):
    today = uk_date(demo_db)
    recorded = db.session.execute(select(RecordedFigure.measure_key, RecordedFigure.period)).all()
    assert {key for key, _ in recorded} == {
        "plans_issued_within_20_weeks",
        "open_ehc_plans",
        "annual_reviews_in_timescale",
    }
    ends = {periods.parse_period(period).end for _, period in recorded}
    assert max(ends) < today, "no figure for a quarter still in progress"
    # The last full quarter is there, so the report is as up to date as it can be.
    current = periods.period_of(today, periods.PeriodKind.QUARTER)
    assert max(ends) == current.start - timedelta(days=1)


def published_groups(table: pd.DataFrame, measure: str, earlier_waves: set[str]) -> tuple[int, int]:
    """In the current period of a measure's breakdown: (groups anyone is in, groups with a published percentage)."""
    own = table[table["measure"] == measure]
    current = set(own["period"]) - earlier_waves
    assert len(current) == 1, f"{measure}: one current period, not {sorted(current)}"
    rows = own[own["period"] == current.pop()]
    answered = rows[rows["n"].astype(str) != "0"]
    published = answered[answered["percent"].map(lambda value: value != disclosure.SUPPRESSED and pd.notna(value))]
    return len(answered), len(published)


@pytest.mark.parametrize("by", ["locality", "school_phase"])
def test_the_demos_breakdowns_publish_most_groups(demo_db, by):
    table = measure_service.breakdown(measure_service.measure_set(), PeriodKind.WAVE, uk_date(demo_db), by)
    earlier_waves = set(db.session.scalars(select(Wave.name)))
    found = {measure: published_groups(table, measure, earlier_waves) for measure in MAIN_MEASURES}
    assert all(groups >= 5 for groups, _ in found.values()), f"by {by}, every group has answers: {found}"
    groups, published = found[HEADLINE]
    assert published > groups / 2, f"{HEADLINE} by {by}: {published} of {groups} groups have a percentage"
    # The invented answers are random: one small group can hide others with it, so the rest are taken together.
    assert sum(published for _, published in found.values()) > 2 / 3 * sum(groups for groups, _ in found.values())


def test_demo_makes_accounts_responses_and_prints_the_login(app, survey_db, tmp_path):
    app.instance_path = str(tmp_path)
    try:
        result = app.test_cli_runner().invoke(args=["demo"])
        assert result.exit_code == 0, result.output
        login = (Path(tmp_path) / "demo-login.txt").read_text()
        assert "Sign in as admin@example.gov.uk" in login and login.strip() in result.output
        password = login.split("Password for each: ")[1].strip()
        assert sign_in(app.test_client(), "admin@example.gov.uk", password).status_code == 303
        assert {user.role for user in db.session.scalars(select(User))} == {"admin", "officer", "viewer"}
        responses = db.session.scalar(select(func.count()).select_from(Response))
        assert responses > 0

        again = app.test_cli_runner().invoke(args=["demo"])
        assert again.exit_code == 0, again.output
        assert password in again.output, "the same login every time"
        assert db.session.scalar(select(func.count()).select_from(Response)) == responses, "nothing added twice"
    finally:
        app.instance_path = str(Path(app.root_path).parent / "instance")
