"""The audit log, for admins. There is no way to change or delete an entry from the app."""

from __future__ import annotations

from flask import render_template, request, url_for

from ..access import requires
from ..models import Role
from ..services import audit
from . import bp
from .paging import page_number, pagination

PER_PAGE = 50


@bp.get("/audit-log")
@requires(Role.ADMIN)
def audit_log():
    action = request.args.get("action") or None
    if action not in audit.ACTIONS:
        action = None
    page = page_number()
    entries, total = audit.entries(page, PER_PAGE, action)
    return render_template(
        "officer/audit_log.html",
        entries=entries,
        total=total,
        pagination=pagination(page, total, PER_PAGE, lambda number: url_for(".audit_log", page=number, action=action)),
        action=action,
        actions=audit.ACTIONS,
    )
