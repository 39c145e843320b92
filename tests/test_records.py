"""Requests about data: finding a response by its reference, a copy for a subject access request, erasure."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Answer, Response
from survey_app.services import records

from .pages import Browser, check_page, complete, path_of
from .test_exports import PLAN_SLUG, audit_entries, csrf_token, plan_choices, questionnaire

REFERENCE = re.compile(r"\b[2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}\b")


@pytest.fixture
def reference(browser) -> str:
    """A response sent through the journey, and the reference its confirmation page gave."""
    complete(browser, questionnaire(), PLAN_SLUG, plan_choices)
    assert browser.post_redirect(f"/surveys/{PLAN_SLUG}/check-answers", {}) == f"/surveys/{PLAN_SLUG}/confirmation"
    return REFERENCE.search(browser.get(f"/surveys/{PLAN_SLUG}/confirmation").text).group()


def find(browser: Browser, typed: str):
    return browser.post("/officer/records", {"reference": typed})


def post_form(browser: Browser, page_url: str, action: str, data: dict | None = None):
    """Post the form on ``page_url`` whose action is ``action``, as the browser would."""
    page = browser.get(page_url)
    form = next(index for index, form in enumerate(page.soup.find_all("form")) if form.get("action") == action)
    return browser.client.post(action, data={**page.form(form), **(data or {})})


def stored(reference: str) -> Response | None:
    db.session.rollback()  # see what the requests committed
    return db.session.scalar(select(Response).where(Response.reference == reference))


def test_a_response_is_found_by_its_reference_however_it_is_typed(signed_in, reference):
    admin = signed_in("admin")
    typed = f"  {reference.replace('-', ' ').lower()} "
    response = find(admin, typed)
    assert response.status_code == 303
    assert path_of(response.headers["Location"]) == f"/officer/records/{reference}"
    page = admin.get(f"/officer/records/{reference}")
    assert page.h1 == f"Response {reference}"
    assert stored(reference).run.title in page.text
    assert "Equality monitoring answers are not linked to this response" in page.text
    assert "Communication and interaction" in page.text
    assert records.normalise("7kq4mx2rtd") == "7KQ4M-X2RTD"


def test_an_unknown_reference_is_an_error_on_the_field_keeping_what_was_typed(signed_in, reference):
    admin = signed_in("admin")
    page = check_page(find(admin, "ZZZZZ-ZZZZZ"))
    assert page.title.startswith("Error: ")
    assert page.error_summary[0][1] == "#reference"
    assert page.field_errors[0].startswith("No response has this reference")
    assert page.value_of("reference") == ["ZZZZZ-ZZZZZ"]
    empty = check_page(find(admin, ""))
    assert empty.field_errors == ["Enter the reference the person gave you"]
    admin.get("/officer/records/ZZZZZ-ZZZZZ", status=404)


def test_the_page_explains_that_equality_answers_cannot_be_found(signed_in):
    page = signed_in("admin").get("/officer/records")
    assert page.h1 == "Requests about data"
    assert "Equality monitoring answers" in page.text and "cannot be found by reference" in page.text
    assert page.soup.select_one(".govuk-service-navigation__item--active").get_text(strip=True) == (
        "Requests about data"
    )


def test_a_subject_access_export_gives_the_wording_and_labels_and_is_audited(signed_in, reference):
    admin = signed_in("admin")
    url = f"/officer/records/{reference}"
    response = post_form(admin, url, f"{url}/export")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert f'filename="response-{reference}.csv"' in response.headers["Content-Disposition"]
    lines = dict(row for row in csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline="")) if row)
    definition = questionnaire()
    run_title = stored(reference).run.title
    assert lines["Survey"] == run_title
    assert lines["Reference"] == reference
    assert lines[definition.question("plan_reflects_needs").label] == "Strongly disagree"
    assert lines[definition.question("needs_missing").label] == "Communication and interaction; Health needs"
    assert lines[definition.question("plan_received").label] == "14 November 2025"
    # Free text cannot run as a formula when the copy is opened in a spreadsheet.
    assert lines[definition.question("worked_well").label].startswith("'=")
    assert "Equality monitoring" in lines
    assert definition.question("respondent_sex").label not in lines

    [entry] = audit_entries("subject_access_export")
    assert entry.actor == "admin@example.gov.uk"
    assert entry.details["run_id"] == stored(reference).run_id
    assert entry.details["reference"] == reference


def test_erasing_asks_for_the_reference_again_then_deletes_the_response(signed_in, reference):
    admin = signed_in("admin")
    response = stored(reference)
    run_id, response_id = response.run_id, response.id
    url = f"/officer/records/{reference}/erase"
    page = admin.get(url)
    assert page.h1 == f"Erase response {reference}"

    wrong = check_page(admin.post(url, {"reference": "ABCDE-FGHJK"}, status=200))
    assert wrong.field_errors == [f"The reference you typed is not {reference}: type it again"]
    assert wrong.value_of("reference") == ["ABCDE-FGHJK"]
    assert stored(reference) is not None

    assert path_of(admin.post(url, {"reference": reference.lower()}, status=303).headers["Location"]) == (
        "/officer/records"
    )
    assert f"Response {reference} has been erased" in admin.get("/officer/records").text
    assert stored(reference) is None
    assert db.session.scalar(select(func.count()).select_from(Answer).where(Answer.response_id == response_id)) == 0

    [entry] = audit_entries("response_erased")
    assert entry.actor == "admin@example.gov.uk"
    assert entry.details["run_id"] == run_id
    assert entry.details["answers"] > 0
    # The reference now finds nothing.
    assert check_page(find(admin, reference)).field_errors[0].startswith("No response has this reference")
    admin.get(f"/officer/records/{reference}", status=404)


@pytest.mark.parametrize("role", ["officer", "viewer"])
def test_only_admins_can_find_export_or_erase_responses(signed_in, reference, role):
    browser = signed_in(role)
    browser.get("/officer/records", status=403)
    browser.get(f"/officer/records/{reference}", status=403)
    browser.get(f"/officer/records/{reference}/erase", status=403)
    token = csrf_token(browser)
    assert browser.client.post(f"/officer/records/{reference}/export", data={"csrf_token": token}).status_code == 403
    posted = {"csrf_token": token, "reference": reference}
    assert browser.client.post(f"/officer/records/{reference}/erase", data=posted).status_code == 403
    assert "Requests about data" not in browser.get("/officer/").text
    assert stored(reference) is not None
    assert not audit_entries("subject_access_export") and not audit_entries("response_erased")
