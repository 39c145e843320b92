"""Officer accounts: signing in and out, throttling, sessions, passwords, and the users command."""

from __future__ import annotations

import logging
import time

import pytest
from sqlalchemy import func, select

from survey_app import create_app
from survey_app.auth.sessions import SEEN_AT, SIGNED_IN_AT
from survey_app.extensions import db
from survey_app.models import AuditEvent, SignInFailure, User
from survey_app.services import accounts

from .conftest import PASSWORD, sign_in, sign_out
from .pages import Browser, check_page

REFUSED = "Enter a correct email address and password"
THROTTLED = "too many attempts"


def _audit_actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def _error(response) -> str:
    return " ".join(text for text, _ in check_page(response).error_summary)


def test_signing_in_takes_an_officer_to_the_officer_area_and_is_audited(app, users):
    client = app.test_client()
    response = sign_in(client, "Officer@Example.gov.uk ")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/officer/")
    page = Browser(client).get("/officer/")
    assert "officer@example.gov.uk" in page.text
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "sign_in")).one()
    assert event.actor == "officer@example.gov.uk"
    assert users["officer"].last_signed_in_at is not None


def test_a_wrong_password_and_an_unknown_account_get_the_same_answer(app, users):
    client = app.test_client()
    wrong_password = sign_in(client, "officer@example.gov.uk", "not the password at all")
    unknown = sign_in(client, "nobody@example.gov.uk", PASSWORD)
    assert wrong_password.status_code == unknown.status_code == 200
    assert _error(wrong_password) == _error(unknown) == REFUSED
    page = check_page(wrong_password)
    assert page.title.startswith("Error: ")
    assert page.value_of("email") == ["officer@example.gov.uk"], "the email typed is kept"
    assert page.value_of("password") == [""], "the password is never sent back"
    assert _audit_actions().count("sign_in_failed") == 2


def test_an_empty_form_names_each_missing_field(browser, users):
    page = browser.post_page("/sign-in", {"email": "", "password": ""})
    assert [text for text, _ in page.error_summary] == ["Enter your email address", "Enter your password"]


def test_repeated_failures_lock_the_account_whatever_the_password_and_reveal_nothing(app, users):
    limit = app.config["SIGN_IN_ACCOUNT_LIMIT"]
    client = app.test_client()
    for _ in range(limit):
        assert _error(sign_in(client, "officer@example.gov.uk", "wrong password guess")) == REFUSED
        assert _error(sign_in(client, "ghost@example.gov.uk", "wrong password guess")) == REFUSED
    # Now even the right password is refused, with no check of it...
    locked = sign_in(app.test_client(), "officer@example.gov.uk", PASSWORD)
    assert THROTTLED in _error(locked)
    # ...and an account that does not exist is refused in the same words.
    assert _error(sign_in(app.test_client(), "ghost@example.gov.uk", PASSWORD)) == _error(locked)
    # Other accounts are not affected by one account's lock.
    assert sign_in(app.test_client(), "admin@example.gov.uk").status_code == 303
    assert "sign_in_throttled" in _audit_actions()


def test_one_address_trying_many_accounts_is_throttled(app, users):
    limit = app.config["SIGN_IN_ADDRESS_LIMIT"]
    client = app.test_client()
    for number in range(limit):
        sign_in(client, f"guess{number}@example.gov.uk", "wrong password guess")
    assert THROTTLED in _error(sign_in(client, "admin@example.gov.uk"))
    # Someone on another network is not held back.
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.44"
    assert sign_in(other, "admin@example.gov.uk").status_code == 303


def test_failures_are_counted_across_worker_processes(app, users, database_url):
    """Two apps on one database stand for two gunicorn workers: the count is shared."""
    other_worker = create_app({"APP_ENV": "testing", "SECRET_KEY": "test-secret-key", "DATABASE_URL": database_url})
    limit = app.config["SIGN_IN_ACCOUNT_LIMIT"]
    for number in range(limit):
        worker = app if number % 2 else other_worker
        with worker.app_context():
            assert _error(sign_in(worker.test_client(), "viewer@example.gov.uk", "wrong guess here")) == REFUSED
    with other_worker.app_context():
        assert THROTTLED in _error(sign_in(other_worker.test_client(), "viewer@example.gov.uk"))
        db.engine.dispose()


def test_only_keyed_hashes_of_the_email_and_address_are_stored(app, users):
    sign_in(app.test_client(), "officer@example.gov.uk", "wrong password guess")
    stored = list(db.session.scalars(select(SignInFailure.key_hash)))
    assert len(stored) == 2
    assert all(len(value) == 64 and "officer" not in value and "127.0.0.1" not in value for value in stored)


def test_a_successful_sign_in_clears_the_accounts_failures(app, users):
    client = app.test_client()
    for _ in range(app.config["SIGN_IN_ACCOUNT_LIMIT"] - 1):
        sign_in(client, "officer@example.gov.uk", "wrong password guess")
    assert sign_in(app.test_client(), "officer@example.gov.uk").status_code == 303
    assert sign_in(app.test_client(), "officer@example.gov.uk", "wrong password guess").status_code == 200
    assert sign_in(app.test_client(), "officer@example.gov.uk").status_code == 303


def test_signing_in_starts_a_new_session(app, users):
    client = app.test_client()
    with client.session_transaction() as session:
        session["drafts"] = {"1": "someone else's draft token"}
    sign_in(client, "officer@example.gov.uk")
    with client.session_transaction() as session:
        assert "drafts" not in session
        assert session["_user_id"] == f"{users['officer'].id}:{users['officer'].session_version}"
        assert not session.permanent, "the officer's cookie ends with the browser"


def test_signing_out_ends_every_session_of_the_user(app, users):
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, "officer@example.gov.uk")
    sign_in(phone, "officer@example.gov.uk")
    stolen_cookie = laptop.get_cookie("session").value
    assert phone.get("/officer/").status_code == 200

    assert sign_out(laptop).headers["Location"] == "/sign-in"

    assert laptop.get("/officer/").status_code == 302
    assert phone.get("/officer/").status_code == 302, "the other device is signed out too"
    replay = app.test_client()
    replay.set_cookie("session", stolen_cookie)
    assert replay.get("/officer/").status_code == 302, "a copy of the old cookie no longer works"
    assert "sign_out" in _audit_actions()


def test_disabling_a_user_from_the_command_line_ends_their_sessions(app, users):
    client = app.test_client()
    sign_in(client, "viewer@example.gov.uk")
    assert client.get("/officer/").status_code == 200
    result = app.test_cli_runner().invoke(args=["users", "disable", "viewer@example.gov.uk"])
    assert result.exit_code == 0, result.output
    assert client.get("/officer/").status_code == 302
    assert sign_in(app.test_client(), "viewer@example.gov.uk").status_code == 200, "and they cannot sign in"
    assert "user_disabled" in _audit_actions()


@pytest.mark.parametrize("stamp", [SEEN_AT, SIGNED_IN_AT])
def test_a_session_ends_after_inactivity_and_after_its_longest_time(app, users, stamp):
    client = app.test_client()
    sign_in(client, "officer@example.gov.uk")
    limit = app.config["OFFICER_IDLE_MINUTES"] * 60 if stamp == SEEN_AT else app.config["OFFICER_SESSION_HOURS"] * 3600
    with client.session_transaction() as session:
        session[stamp] = int(time.time()) - limit - 5
    response = client.get("/officer/users")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"] and "next=/officer/users" in response.headers["Location"]
    page = Browser(client).get("/sign-in?next=/officer/users")
    assert "You were signed out" in page.text
    assert "session_timed_out" in _audit_actions()


def test_activity_keeps_a_session_going(app, users):
    client = app.test_client()
    sign_in(client, "officer@example.gov.uk")
    idle = app.config["OFFICER_IDLE_MINUTES"] * 60
    with client.session_transaction() as session:
        session[SEEN_AT] = int(time.time()) - idle + 120
    assert client.get("/officer/").status_code == 200
    with client.session_transaction() as session:
        assert session[SEEN_AT] >= int(time.time()) - 5


def test_sign_in_returns_only_to_pages_of_this_service(app, users):
    client = app.test_client()
    page = Browser(client).get("/sign-in?next=https://evil.example/officer")
    response = client.post(
        "/sign-in?next=https://evil.example/officer",
        data={"csrf_token": page.value_of("csrf_token")[0], "email": "admin@example.gov.uk", "password": PASSWORD},
    )
    assert response.headers["Location"] == "/officer/"
    response = sign_in(app.test_client(), "admin@example.gov.uk")
    client = app.test_client()
    page = Browser(client).get("/sign-in?next=/officer/users")
    response = client.post(
        "/sign-in?next=/officer/users",
        data={"csrf_token": page.value_of("csrf_token")[0], "email": "admin@example.gov.uk", "password": PASSWORD},
    )
    assert response.headers["Location"] == "/officer/users"


def test_the_session_cookie_is_http_only_lax_and_secure_outside_development(app, users, database_url):
    response = sign_in(app.test_client(), "admin@example.gov.uk")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie, "plain HTTP works on a developer's machine"
    production = create_app({"APP_ENV": "production", "SECRET_KEY": "x" * 64, "DATABASE_URL": database_url})
    with production.app_context():
        client = production.test_client()
        response = sign_in(client, "admin@example.gov.uk")
        assert "Secure" in response.headers["Set-Cookie"]
        assert "HttpOnly" in response.headers["Set-Cookie"]
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")
        db.engine.dispose()
    assert "Strict-Transport-Security" not in response.headers or production.config["HSTS"]


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short1!", "12 characters or more"),
        ("passwordpassword", "too easy to guess"),
        ("password1234!!", "commonly used"),
        ("qwertyuiop123", "commonly used"),
        ("aaaaaaaaaaaa", "too easy to guess"),
        ("Example Council 1", "too easy to guess"),
    ],
)
def test_weak_passwords_are_refused_with_a_reason(app, survey_db, password, problem):
    with app.test_request_context():
        assert problem in (accounts.password_problem(password, "officer@example.gov.uk") or "")


def test_a_strong_password_is_accepted_and_stored_only_as_a_hash(app, survey_db):
    with app.test_request_context():
        assert accounts.password_problem(PASSWORD, "officer@example.gov.uk") is None
        user = accounts.create_user("new@example.gov.uk", PASSWORD, "officer")
    assert user.password_hash.startswith("scrypt:")
    assert PASSWORD not in user.password_hash


def test_passwords_never_reach_the_logs(app, users, caplog):
    caplog.set_level(logging.DEBUG)
    sign_in(app.test_client(), "officer@example.gov.uk", "a wrong secret guess")
    sign_in(app.test_client(), "officer@example.gov.uk")
    app.test_cli_runner().invoke(
        args=["users", "create", "logged@example.gov.uk", "--role", "viewer", "--password-stdin"],
        input="another secret password 77\n",
    )
    assert "a wrong secret guess" not in caplog.text
    assert PASSWORD not in caplog.text
    assert "another secret password 77" not in caplog.text


def test_changing_password_checks_the_old_one_and_ends_other_sessions(app, users):
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, "officer@example.gov.uk")
    sign_in(phone, "officer@example.gov.uk")
    browser = Browser(laptop)
    page = browser.post_page(
        "/officer/account/password",
        {
            "current_password": "wrong",
            "new_password": "new safe phrase 2026",
            "confirm_password": "new safe phrase 2026",
        },
    )
    assert page.error_summary == [("Your current password is not right", "#current_password")]
    page = browser.post_page(
        "/officer/account/password",
        {"current_password": PASSWORD, "new_password": "short", "confirm_password": "short"},
    )
    assert page.error_summary[0][1] == "#new_password"
    page = browser.post_page(
        "/officer/account/password",
        {"current_password": PASSWORD, "new_password": "new safe phrase 2026", "confirm_password": "other words"},
    )
    assert page.error_summary == [("The passwords you entered do not match", "#confirm_password")]
    location = browser.post_redirect(
        "/officer/account/password",
        {
            "current_password": PASSWORD,
            "new_password": "new safe phrase 2026",
            "confirm_password": "new safe phrase 2026",
        },
    )
    assert location == "/officer/"
    assert laptop.get("/officer/").status_code == 200, "this session carries on"
    assert phone.get("/officer/").status_code == 302, "the other device is signed out"
    assert sign_in(app.test_client(), "officer@example.gov.uk", "new safe phrase 2026").status_code == 303
    assert "password_changed" in _audit_actions()


# The users command


def _cli(app, *args, input=None):
    return app.test_cli_runner().invoke(args=["users", *args], input=input)


def test_users_create_reads_the_password_from_stdin_or_a_prompt(app, survey_db):
    result = _cli(app, "create", "Team.Lead@Example.gov.uk", "--role", "officer", "--password-stdin", input=PASSWORD)
    assert result.exit_code == 0, result.output
    assert "Created team.lead@example.gov.uk (officer)" in result.output
    result = _cli(app, "create", "second@example.gov.uk", "--role", "viewer", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output, "the prompt does not echo the password"
    listed = _cli(app, "list").output
    assert "team.lead@example.gov.uk\tofficer\tactive" in listed
    assert "second@example.gov.uk\tviewer\tactive" in listed
    assert db.session.scalar(select(func.count()).select_from(User)) == 2


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (["create", "not-an-email", "--role", "officer"], PASSWORD, "correct format"),
        (["create", "weak@example.gov.uk", "--role", "officer"], "password1234", "commonly used"),
        (["create", "admin@example.gov.uk", "--role", "admin"], PASSWORD, "already a user"),
    ],
)
def test_users_create_refuses_bad_input_in_plain_english(app, users, args, password, message):
    result = _cli(app, *args, "--password-stdin", input=password)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_users_create_refuses_an_unknown_role(app, survey_db):
    result = _cli(app, "create", "x@example.gov.uk", "--role", "superuser", "--password-stdin", input=PASSWORD)
    assert result.exit_code == 2
    assert "superuser" in result.output


def test_users_disable_names_an_unknown_user(app, survey_db):
    result = _cli(app, "disable", "nobody@example.gov.uk")
    assert result.exit_code == 1
    assert "There is no user with the email address nobody@example.gov.uk" in result.output


# Managing users in the officer area


def test_an_admin_adds_a_user_keeping_what_was_typed_when_something_is_wrong(signed_in):
    admin = signed_in("admin")
    page = admin.post_page(
        "/officer/users/new", {"email": "new.officer@example.gov.uk", "role": "officer", "password": "short"}
    )
    assert page.error_summary[0][1] == "#password"
    assert page.value_of("email") == ["new.officer@example.gov.uk"]
    assert page.value_of("role") == ["officer"]
    page = admin.post_page("/officer/users/new", {"email": "", "password": PASSWORD})
    assert [text for text, _ in page.error_summary] == ["Enter an email address", "Choose a role"]
    location = admin.post_redirect(
        "/officer/users/new", {"email": "new.officer@example.gov.uk", "role": "officer", "password": PASSWORD}
    )
    assert location == "/officer/users"
    assert "new.officer@example.gov.uk" in admin.get("/officer/users").text
    assert "user_created" in _audit_actions()


def test_an_admin_changes_a_role_and_disables_an_account(app, signed_in, users):
    admin = signed_in("admin")
    viewer_client = signed_in("viewer")
    url = f"/officer/users/{users['viewer'].id}"
    admin.post_redirect(url, {"role": "officer"})
    assert db.session.get(User, users["viewer"].id).role == "officer"
    admin.press(url, f"{url}/disable", status=303)
    assert viewer_client.client.get("/officer/").status_code == 302
    assert "Disabled" in admin.get("/officer/users").text
    admin.press(url, f"{url}/enable", status=303)
    assert sign_in(app.test_client(), "viewer@example.gov.uk").status_code == 303
    assert {"user_changed", "user_disabled", "user_enabled"} <= set(_audit_actions())


def test_an_admin_cannot_lock_themselves_out(signed_in, users):
    admin = signed_in("admin")
    url = f"/officer/users/{users['admin'].id}"
    page = admin.post_page(url, {"role": "viewer"})
    assert "You cannot take away your own admin role" in page.error_summary[0][0]
    admin.press(url, f"{url}/disable", status=303)
    assert db.session.get(User, users["admin"].id).active


def test_admins_read_the_audit_log_newest_first_and_filter_it(app, signed_in):
    sign_in(app.test_client(), "officer@example.gov.uk", "not the password at all")
    admin = signed_in("admin")
    page = admin.get("/officer/audit-log")
    rows = [row.get_text(" ", strip=True) for row in page.soup.select("tbody tr")]
    assert rows[0].startswith(tuple("0123456789")) and "admin@example.gov.uk" in rows[0] and "Signed in" in rows[0]
    assert any("Failed sign-in" in row and "officer@example.gov.uk" in row for row in rows)
    filtered = admin.get("/officer/audit-log?action=sign_in_failed")
    assert [row.get_text(" ", strip=True) for row in filtered.soup.select("tbody tr")] == [
        row for row in rows if "Failed sign-in" in row
    ]
    assert "not the password" not in page.text
    # Nothing on the page changes an entry: its only form is the filter, which reads.
    assert all(form.get("method", "get") == "get" for form in page.soup.select("main form"))
