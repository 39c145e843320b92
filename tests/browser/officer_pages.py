"""Every type of page in the officer area, with the data each needs, for tests that open them all.

``every_officer_page`` makes the data and returns a path for each page's
endpoint; ``page_endpoints`` reads the app's URL map, so that a test can check
that no page type has been left out (a new page must be added here).
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from sqlalchemy import select

from survey_app.database import begin_write
from survey_app.extensions import db
from survey_app.models import Access, Answer, Invitation, Response, utcnow
from survey_app.services import demo, invitations, runs
from survey_app.services import questionnaires as questionnaire_service

from ..stored import store_response

# Officer addresses opened with GET that are not pages.
NOT_PAGES = {
    "officer.run_qr_code",  # an SVG image
    "officer.export_codebook",  # a CSV file
    "officer.run_results_csv",  # a CSV file of one chart's figures
    "officer.measures_csv",  # the measures report as CSV
    "officer.measures_json",  # and as JSON
    "officer.measure_chart_csv",  # a chart's figures as CSV
}
# A plan reference as long as a case management system's can be.
PLAN_REFERENCE = "EHC-2024-000042-NORTHAMPTONSHIRE"


def page_endpoints(app) -> set[str]:
    """The endpoint of every page of the officer area (every GET address under /officer that is a page)."""
    return {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/officer") and "GET" in rule.methods and rule.endpoint not in NOT_PAGES
    }


def _identified_run_with_a_plan():
    """A run by identified invitation, with invitations and a response carrying a plan reference."""
    version = next(v for v in questionnaire_service.latest_versions() if v.key == "ehc_plan_feedback")
    now = utcnow()
    run = runs.open_run(
        version,
        "plan-by-invitation",
        "Your views on your child's EHC plan, by invitation",
        now - timedelta(days=1),
        now + timedelta(days=20),
        access=Access.IDENTIFIED_INVITATIONS,
    )
    rows = [
        invitations.InvitationRow(PLAN_REFERENCE, "parent.carer.with.a.long.address@example.org"),
        invitations.InvitationRow("EHC-2024-000043", None),
    ]
    batch, _count = invitations.create(run, rows)
    response = store_response(
        run,
        {"felt_involved": "agree", "worked_well": "The caseworker rang back the same day."},
        plan_reference=PLAN_REFERENCE,
    )
    begin_write()
    invitation = db.session.scalar(select(Invitation).filter_by(run_id=run.id, reference=PLAN_REFERENCE))
    invitation.used = True
    db.session.get(Response, response.id).invitation_id = invitation.id
    db.session.commit()
    return run, batch


def every_officer_page(users) -> dict[str, str]:
    """A path for each type of officer page (by endpoint), over demo responses and an identified run."""
    demo.add_demo_responses(demo.demo_run_slugs(), per_run=4)
    response = db.session.scalars(select(Response).where(Response.audience == "young_person")).first()
    comment = db.session.scalars(
        select(Answer).where(
            Answer.response_id == response.id, Answer.question_key.in_(("could_be_better", "worked_well"))
        )
    ).first()
    identified, batch = _identified_run_with_a_plan()
    run, reference = response.run_id, response.reference
    return {
        "officer.dashboard": "/officer/",
        "officer.run_new": "/officer/runs/new",
        "officer.run": f"/officer/runs/{run}",
        "officer.run_edit": f"/officer/runs/{run}/edit",
        "officer.run_close": f"/officer/runs/{run}/close",
        "officer.run_results_page": f"/officer/runs/{run}/results",
        "officer.responses": f"/officer/runs/{run}/responses",
        "officer.response": f"/officer/responses/{reference}",
        "officer.comments": f"/officer/runs/{run}/comments",
        "officer.comment": f"/officer/comments/{comment.id}",
        "officer.redact": f"/officer/comments/{comment.id}/redact",
        "officer.export": f"/officer/runs/{run}/export",
        "officer.invitations_page": f"/officer/runs/{identified.id}/invitations",
        "officer.invitations_upload": f"/officer/runs/{identified.id}/invitations/upload",
        "officer.invitations_created": f"/officer/runs/{identified.id}/invitations/created?"
        + urlencode({"batch": batch.isoformat()}),
        "officer.plans": "/officer/plans",
        "officer.plan": f"/officer/plans/{PLAN_REFERENCE}",
        "officer.users": "/officer/users",
        "officer.user_new": "/officer/users/new",
        "officer.user": f"/officer/users/{users['viewer'].id}",
        "officer.audit_log": "/officer/audit-log",
        "officer.records": "/officer/records",
        "officer.record": f"/officer/records/{reference}",
        "officer.record_erase": f"/officer/records/{reference}/erase",
        "auth.change_password": "/officer/account/password",
        "officer.measures": "/officer/measures",
        "officer.measure": "/officer/measures/pathways_information_good",
    }
