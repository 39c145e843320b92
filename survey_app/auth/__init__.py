"""Signing in and out of the officer area, and changing one's password."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import sessions, views  # noqa: E402,F401  (registers the routes and hooks)
