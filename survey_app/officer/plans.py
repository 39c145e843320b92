"""One plan, three views: the family's, the young person's and the setting's responses about one EHC plan.

For quality-assurance audits of EHC plans. Responses carry a plan reference
only in identified runs (or where the respondent gave one), so this is for
officers and admins only, and each plan opened is audited.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import abort, render_template, request, url_for

from ..access import requires
from ..models import Role
from ..services import responses as response_service
from . import bp
from .paging import page_number, pagination

PER_PAGE = 50
REFERENCE_MAX_LENGTH = 100


@bp.get("/plans")
@requires(Role.OFFICER)
def plans():
    search = " ".join(request.args.get("reference", "").split())[:REFERENCE_MAX_LENGTH]
    page = page_number()
    rows, total = response_service.plans(search, page, PER_PAGE)
    base = url_for(".plans")

    def href(number: int) -> str:
        return f"{base}?{urlencode({**({'reference': search} if search else {}), 'page': number})}"

    return render_template(
        "officer/plans.html",
        rows=rows,
        total=total,
        search=search,
        audiences=response_service.AUDIENCE_ORDER,
        audience_names=response_service.AUDIENCE_NAMES,
        pagination=pagination(page, total, PER_PAGE, href),
    )


@bp.get("/plans/<path:reference>")
@requires(Role.OFFICER)
def plan(reference: str):
    view = response_service.plan(reference) or abort(404)
    response_service.record_plan_view(reference, len(view.columns))
    return render_template("officer/plan.html", view=view)
