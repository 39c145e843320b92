"""Opening a personal invitation link.

The token travels in the query string, which the access log leaves out. The
browser keeps only the token's hash, in the signed session, and is sent on
to the start page so that the link is no longer in the address bar.
"""

from __future__ import annotations

from flask import redirect, render_template, request, url_for

from ..access import public
from ..services import invitations, journey
from . import bp
from .views import (
    DRAFTS,
    INVITATIONS,
    RETURN_LINKS,
    SUBMITTED,
    already_answered_page,
    run_for_answering,
    session_entry,
    set_session_entry,
)


@bp.get("/surveys/<slug>/invitation")
@public
def invitation(slug: str):
    run, _questionnaire = run_for_answering(slug)
    found = invitations.pass_for_code(run.id, request.args.get("code", ""))
    if found is None:
        return render_template("respondent/invitation_not_working.html", run=run), 404
    if found.used:
        return already_answered_page(run)
    progress = journey.load_progress(run, session_entry(DRAFTS, run))
    if progress.invitation_id not in (None, found.id):
        # Answers begun in this browser through another link (one family,
        # two children): this link's answers must not be sent as that one's,
        # so it starts afresh. The other answers can still be opened with
        # their return link, if one was saved.
        set_session_entry(DRAFTS, run, None)
        set_session_entry(RETURN_LINKS, run, None)
    if session_entry(INVITATIONS, run) != found.token_hash:
        set_session_entry(SUBMITTED, run, None)
    set_session_entry(INVITATIONS, run, found.token_hash)
    return redirect(url_for(".start", slug=run.slug), code=303)
