"""Plain-English error pages. No stack trace ever reaches a respondent."""

from __future__ import annotations

from flask import render_template, request
from flask_wtf.csrf import CSRFError

from . import bp


@bp.app_errorhandler(400)
def bad_request(error):
    return render_template("errors/400.html"), 400


@bp.app_errorhandler(403)
def forbidden(error):
    return render_template("errors/403.html"), 403


@bp.app_errorhandler(404)
def not_found(error):
    return render_template("errors/404.html"), 404


@bp.app_errorhandler(405)
def method_not_allowed(error):
    return render_template("errors/405.html"), 405


@bp.app_errorhandler(413)
def too_large(error):
    return render_template("errors/413.html"), 413


@bp.app_errorhandler(CSRFError)
def form_expired(error):
    # Only what was on this one page is lost; saved answers are untouched.
    return render_template("errors/csrf.html", return_url=request.path), 400


@bp.app_errorhandler(500)
def server_error(error):
    return render_template("errors/500.html"), 500
