"""The audit log, for admins. There is no way to change or delete an entry from the app."""

from __future__ import annotations

from flask import render_template, request

from ..access import requires
from ..models import Role
from ..services import audit
from . import bp

PER_PAGE = 50


@bp.get("/audit-log")
@requires(Role.ADMIN)
def audit_log():
    action = request.args.get("action") or None
    if action not in audit.ACTIONS:
        action = None
    page = request.args.get("page", "1")
    page = int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1
    entries, total = audit.entries(page, PER_PAGE, action)
    pages = max(1, -(-total // PER_PAGE))
    return render_template(
        "officer/audit_log.html",
        entries=entries,
        total=total,
        page=page,
        pages=pages,
        action=action,
        actions=audit.ACTIONS,
    )
