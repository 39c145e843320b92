"""The officer area: survey runs, responses, comments, exports and records.

Every view here declares the role it needs with ``access.requires``.
"""

from flask import Blueprint

bp = Blueprint("officer", __name__, url_prefix="/officer")

from . import (  # noqa: E402,F401  (registers the routes)
    audit_log,
    comments,
    dashboard,
    exports,
    invitations,
    measures,
    plans,
    records,
    responses,
    results,
    runs,
    users,
)
