"""The officer area's home page: the survey runs."""

from __future__ import annotations

from flask import render_template

from ..access import requires
from ..models import Role
from ..services import runs
from . import bp


@bp.get("/")
@requires(Role.VIEWER)
def dashboard():
    return render_template("officer/dashboard.html", runs=runs.open_runs())
