"""The footer's pages and the health check."""

from __future__ import annotations

from flask import current_app, jsonify, render_template

from ..services import health
from . import bp


@bp.get("/accessibility")
def accessibility():
    return render_template("site/accessibility.html")


@bp.get("/privacy")
def privacy():
    return render_template("site/privacy.html")


@bp.get("/cookies")
def cookies():
    return render_template("site/cookies.html", session_hours=current_app.config["DRAFT_LIFETIME_HOURS"])


@bp.get("/healthz")
def healthz():
    report = health.check()
    return jsonify(report.as_dict()), 200 if report.healthy else 503
