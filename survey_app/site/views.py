"""The footer's pages and the health check."""

from __future__ import annotations

from flask import current_app, jsonify, redirect, render_template, request

from .. import languages
from ..access import public
from ..services import health
from . import bp


@bp.get("/change-language")
@public
def change_language():
    """Keep the chosen language, then go back to the page the person was on.

    A link rather than a form so that it works from every page; it changes
    nothing but the language, so it needs no CSRF token.
    """
    languages.choose(request.args.get("to", ""))
    return redirect(languages.safe_next(request.args.get("next")), code=303)


@bp.get("/accessibility")
@public
def accessibility():
    return render_template("site/accessibility.html")


@bp.get("/privacy")
@public
def privacy():
    return render_template("site/privacy.html")


@bp.get("/cookies")
@public
def cookies():
    return render_template("site/cookies.html", session_hours=current_app.config["DRAFT_LIFETIME_HOURS"])


@bp.get("/healthz")
@public
def healthz():
    report = health.check()
    return jsonify(report.as_dict()), 200 if report.healthy else 503
