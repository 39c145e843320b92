"""Fixtures shared by the whole suite.

Every test that touches the database runs twice: on SQLite (a file in WAL
mode, as in production) and on PostgreSQL when ``TEST_DATABASE_URL`` is set
(``.ci/run`` sets it, and then a PostgreSQL failure is a failure, not a skip).
The schema is built by the real Alembic migrations, not by ``create_all``.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from survey_app import create_app
from survey_app.database import begin_write
from survey_app.extensions import db
from survey_app.models import Role, utcnow
from survey_app.services import accounts, runs
from survey_app.services import questionnaires as questionnaire_service

from .pages import Browser

TABLES = (
    "comment_tag",
    "follow_up",
    "redaction",
    "answer_count",
    "recorded_figure",
    "equality_answer",
    "equality_monitoring",
    "answer",
    "response",
    "draft",
    "invitation",
    "survey_run",
    "wave",
    "audit_event",
    "sign_in_failure",
    "officer_user",
    "questionnaire_version",
)
# Every test account has this password.
PASSWORD = "violet tractor harbour 42"


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('database') / 'survey.db'}"
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("PostgreSQL tests run when TEST_DATABASE_URL is set (.ci/run sets it)")
    return url


@pytest.fixture(scope="session")
def app(database_url):
    app = create_app({"APP_ENV": "testing", "SECRET_KEY": "test-secret-key", "DATABASE_URL": database_url})
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


def reset_database() -> None:
    """Empty every table, publish the shipped questionnaires and open a run of each."""
    begin_write()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    else:
        for table in TABLES:
            db.session.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - fixed table names
    db.session.commit()
    runs.forget_cached_runs()
    for questionnaire in questionnaire_service.library().questionnaires.values():
        questionnaire_service.publish(questionnaire)
    runs.ensure_demo_runs(questionnaire_service.latest_versions(), days=30)


@pytest.fixture
def survey_db(app):
    """An app context over a freshly reset database."""
    with app.app_context():
        reset_database()
        yield db
        db.session.remove()


@pytest.fixture
def browser(app, survey_db) -> Browser:
    """A test client that checks every page it loads (see tests/pages.py)."""
    return Browser(app.test_client())


@pytest.fixture
def make_run(survey_db):
    """Open a run of a shipped questionnaire between times relative to now."""

    def _make_run(key: str, slug: str, opens_in: timedelta, closes_in: timedelta):
        version = next(v for v in questionnaire_service.latest_versions() if v.key == key)
        now = utcnow()
        return runs.open_run(version, slug, version.title, now + opens_in, now + closes_in)

    return _make_run


@pytest.fixture
def users(survey_db) -> dict[str, object]:
    """One account of each role, by role name: admin@, officer@ and viewer@example.gov.uk."""
    return {role.value: accounts.create_user(f"{role.value}@example.gov.uk", PASSWORD, role) for role in Role}


def sign_in(client, email: str, password: str = PASSWORD):
    """Sign in through the sign-in page, as a person would; returns the response."""
    page = Browser(client).get("/sign-in")
    return client.post(
        "/sign-in", data={**{k: v[0] for k, v in page.form().items()}, "email": email, "password": password}
    )


def sign_out(client):
    """Press "Sign out" in the header of the officer area."""
    page = Browser(client).get("/officer/")
    token = page.soup.select_one("form[action='/sign-out'] input[name=csrf_token]")["value"]
    return client.post("/sign-out", data={"csrf_token": token})


@pytest.fixture
def signed_in(app, users):
    """A Browser signed in with the given role: ``signed_in("officer")``."""

    def _signed_in(role: str) -> Browser:
        client = app.test_client()
        response = sign_in(client, f"{role}@example.gov.uk")
        assert response.status_code == 303, "signing in failed"
        return Browser(client)

    return _signed_in
