"""The respondent journey: open surveys, question pages, check answers, confirmation, save and return."""

from flask import Blueprint

bp = Blueprint("respondent", __name__)

from . import invitations, return_links, views  # noqa: E402,F401  (registers the routes)
