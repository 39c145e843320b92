"""The officer area's home page: every survey run, by status, with its responses and response rate.

Viewers see it too: it shows counts, never answers.
"""

from __future__ import annotations

from flask import render_template

from ..access import requires
from ..models import Role
from ..services import runs
from . import bp

STATUS_HEADINGS = {
    runs.OPEN: "Open now",
    runs.PAUSED: "Paused",
    runs.SCHEDULED: "Scheduled",
    runs.CLOSED: "Closed",
}


@bp.get("/")
@requires(Role.VIEWER)
def dashboard():
    summaries = runs.summaries()
    groups = [
        (status, STATUS_HEADINGS[status], [summary for summary in summaries if summary.status == status])
        for status in runs.STATUSES
    ]
    return render_template("officer/dashboard.html", groups=groups, any_runs=bool(summaries))
