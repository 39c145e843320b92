"""Pages every visitor can reach: accessibility, privacy, cookies, health check, errors."""

from flask import Blueprint

bp = Blueprint("site", __name__)

from . import errors, views  # noqa: E402,F401  (registers the routes and handlers)
