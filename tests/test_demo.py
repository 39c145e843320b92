"""`flask demo`: demo surveys, invented responses and demo accounts for `make run`."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Response, User

from .conftest import sign_in


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
