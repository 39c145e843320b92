"""Officer sessions: loading the user from the cookie, and ending idle sessions.

The session cookie names the user and their session version. Signing out,
changing password and being disabled raise the version, so every copy of an
old cookie, on any device and any worker, stops working at once.
"""

from __future__ import annotations

import time

from flask import current_app, flash, g, redirect, request, session, url_for
from flask_login import LoginManager, current_user, logout_user

from .. import languages
from ..extensions import db
from ..services import accounts, audit
from . import bp

login_manager = LoginManager()
login_manager.login_view = "auth.sign_in"
login_manager.login_message = "Sign in to see that page."
login_manager.session_protection = None  # the session version does this job, across devices too

SIGNED_IN_AT = "officer_signed_in_at"
SEEN_AT = "officer_seen_at"


@login_manager.user_loader
def _load_user(session_id: str):
    return accounts.load_session_user(session_id)


def start(now: float | None = None) -> None:
    """Mark the moment of signing in (after ``login_user``)."""
    now = now or time.time()
    session[SIGNED_IN_AT] = session[SEEN_AT] = int(now)
    session.permanent = False  # the cookie goes when the browser closes


@bp.before_app_request
def _end_idle_session():
    # Flask-Login and Flask-WTF keep the user and the CSRF token on ``g``,
    # which an application context can share between requests (the tests
    # keep one open): start every request from its own cookie.
    g.pop("_login_user", None)
    g.pop(current_app.config["WTF_CSRF_FIELD_NAME"], None)
    if request.blueprint in ("auth", "officer"):
        # The officer area is in English, signed in or not (its titles and
        # header too, whatever language a respondent chose in this browser).
        languages.use_for_page(("en",))
    if "_user_id" not in session:
        return None  # respondents: nothing to load
    if not current_user.is_authenticated:
        return None
    config = current_app.config
    now = int(time.time())
    idle = now - session.get(SEEN_AT, 0) > config["OFFICER_IDLE_MINUTES"] * 60
    too_long = now - session.get(SIGNED_IN_AT, 0) > config["OFFICER_SESSION_HOURS"] * 3600
    if idle or too_long:
        audit.record("session_timed_out", current_user.email, actor=current_user._get_current_object())
        db.session.commit()
        logout_user()
        session.clear()
        reason = (
            f"You were signed out because you had not used the service for {config['OFFICER_IDLE_MINUTES']} minutes."
            if idle
            else f"You were signed out after {config['OFFICER_SESSION_HOURS']} hours."
        )
        flash(reason + " Sign in again to carry on.", "signed_out")
        if request.method == "GET" and request.blueprint == "officer":
            return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
        return redirect(url_for("auth.sign_in"))
    # Written back at most once a minute, so the cookie is not sent on every page.
    if now - session.get(SEEN_AT, 0) >= 60:
        session[SEEN_AT] = now
    return None
