"""The audit log: who did what, and when.

``record`` adds an entry to the current transaction, so an entry is written
exactly when the change it describes is: a change that fails leaves no entry,
and no change is made without one. Entries hold identifiers and counts; never
answers, free text or passwords.
"""

from __future__ import annotations

from typing import Any

from flask_login import current_user
from sqlalchemy import func, select

from ..database import begin_write
from ..extensions import db
from ..models import AuditEvent, User, utcnow

# Every action the log records, with how it reads on the audit log page.
ACTIONS = {
    "sign_in": "Signed in",
    "sign_in_failed": "Failed sign-in",
    "sign_in_throttled": "Sign-in refused: too many attempts",
    "sign_out": "Signed out",
    "session_timed_out": "Signed out after inactivity",
    "password_changed": "Changed password",
    "user_created": "Created a user",
    "user_changed": "Changed a user",
    "user_disabled": "Disabled a user",
    "user_enabled": "Enabled a user",
    "run_created": "Opened a survey run",
    "run_changed": "Changed a survey run",
    "run_paused": "Paused a survey run",
    "run_resumed": "Resumed a survey run",
    "run_closed": "Closed a survey run early",
    "invitations_created": "Created invitation links",
    "invitations_downloaded": "Downloaded invitation links",
    "invitations_emailed": "Emailed invitation links",
    "reminders_sent": "Sent reminders",
    "export": "Exported responses",
    "comment_tagged": "Tagged a comment",
    "comment_untagged": "Removed a comment's tag",
    "follow_up_flagged": "Flagged a comment for follow-up",
    "follow_up_resolved": "Marked a follow-up done",
    "redaction": "Redacted a comment",
    "plan_viewed": "Viewed one plan's responses",
    "response_erased": "Erased a response on request",
    "subject_access_export": "Exported a response for a subject access request",
    "retention_applied": "Deleted responses past their retention period",
    "figure_recorded": "Recorded a measure's figure",
    "figures_imported": "Imported measures' figures",
    "responses_imported": "Imported responses collected elsewhere",
    "responses_import_started": "Started importing responses collected elsewhere",
    "responses_import_undone": "Removed the responses of an import that did not finish",
}


def record(action: str, subject: str = "", actor: User | None = None, **details: Any) -> None:
    """Add an entry for ``action`` to the transaction in progress (the caller commits).

    ``actor`` defaults to whoever is signed in; with nobody signed in (a
    command run by an operator, a failed sign-in) the entry says so.
    """
    if action not in ACTIONS:
        raise ValueError(f"Unknown audit action {action!r}")
    if actor is None and current_user and current_user.is_authenticated:
        actor = current_user
    nobody = details.pop("by", "nobody signed in")
    begin_write()
    db.session.add(
        AuditEvent(
            at=utcnow(),
            user_id=actor.id if actor is not None else None,
            actor=actor.email if actor is not None else nobody,
            action=action,
            subject=subject[:200],
            details=details,
        )
    )


def entries(page: int = 1, per_page: int = 50, action: str | None = None) -> tuple[list[AuditEvent], int]:
    """One page of entries, newest first, and the number of entries in all."""
    query = select(AuditEvent)
    count = select(func.count()).select_from(AuditEvent)
    if action:
        query = query.where(AuditEvent.action == action)
        count = count.where(AuditEvent.action == action)
    rows = db.session.scalars(
        query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(per_page).offset((page - 1) * per_page)
    )
    return list(rows), db.session.scalar(count)
