"""The respondent journey: open surveys, question pages, check answers, confirmation."""

from flask import Blueprint

bp = Blueprint("respondent", __name__)

from . import views  # noqa: E402,F401  (registers the routes)
