"""The officer area in Chromium: opening a run and downloading its export, and axe-core on its pages."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Response, SurveyRun, utcnow
from survey_app.services import demo

from ..conftest import PASSWORD
from .helpers import axe_violations
from .officer_pages import every_officer_page

pytestmark = pytest.mark.browser


def sign_in(page: Page, role: str = "officer", goto: str = "/officer/") -> None:
    page.goto(goto)
    expect(page.locator("h1")).to_have_text("Sign in")
    page.get_by_label("Email address").fill(f"{role}@example.gov.uk")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_an_officer_opens_a_run_and_downloads_its_export(page, users):
    sign_in(page)
    expect(page.locator("h1")).to_have_text("Surveys")
    page.get_by_role("button", name="Open a survey run").click()

    opens, closes = utcnow() + timedelta(hours=1), utcnow() + timedelta(days=30)
    page.get_by_label("Information about SEND support and the Local Offer").first.check()
    page.get_by_label("Title").fill("Pathways survey, winter wave")
    page.get_by_label("Or start a new wave: its name").fill("Wave 3 winter 2026")
    for prefix, moment, at in (("opens", opens, "9am"), ("closes", closes, "5pm")):
        page.locator(f"#{prefix}_on-day").fill(str(moment.day))
        page.locator(f"#{prefix}_on-month").fill(str(moment.month))
        page.locator(f"#{prefix}_on-year").fill(str(moment.year))
        page.locator(f"#{prefix}_time").fill(at)
    page.get_by_label("Anyone with the link").check()
    page.get_by_role("button", name="Open the survey run").click()

    expect(page.locator("h1")).to_contain_text("Pathways survey, winter wave")
    survey_run = db.session.scalars(select(SurveyRun).where(SurveyRun.title == "Pathways survey, winter wave")).one()
    assert survey_run.wave.name == "Wave 3 winter 2026"
    assert page.locator("img[src$='qr-code.svg']").count() == 1

    demo.add_demo_responses([survey_run.slug], per_run=3)
    page.get_by_role("link", name="Export").first.click()
    page.get_by_label("CSV").check()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download responses").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    rows = list(csv.reader(io.StringIO(open(download.path(), encoding="utf-8-sig").read())))
    references = set(db.session.scalars(select(Response.reference).where(Response.run_id == survey_run.id)))
    assert len(rows) == 1 + len(references) == 4
    assert {row[0] for row in rows[1:]} == references


def test_a_viewer_sees_the_runs_but_no_responses(page, users):
    sign_in(page, "viewer")
    expect(page.locator("h1")).to_have_text("Surveys")
    assert page.get_by_role("button", name="Open a survey run").count() == 0
    response = page.goto("/officer/users")
    assert response.status == 403
    expect(page.locator("h1")).to_have_text("You cannot see this page")


def test_no_axe_violations_in_the_officer_area(new_page, users):
    # Every type of officer page (tests/browser/officer_pages.py), as an admin.
    pages = every_officer_page(users)
    page = new_page(bypass_csp=True)
    page.goto("/sign-in")
    page.get_by_role("button", name="Sign in").click()  # the page with errors
    assert not (violations := axe_violations(page)), f"axe found problems on the sign-in errors:\n{violations}"
    sign_in(page, "admin")
    problems = []
    for path in pages.values():
        reply = page.goto(path)
        assert reply.status == 200, f"{path}: {reply.status}"
        if violations := axe_violations(page):
            problems.append(f"{path}:\n{violations}")
    # A comment's own page with an error: a tag sent empty.
    page.goto(pages["officer.comment"])
    page.get_by_role("button", name="Add tag").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    if violations := axe_violations(page):
        problems.append(f"comment with errors:\n{violations}")
    # A form with errors: the new run form sent empty.
    page.goto("/officer/runs/new")
    page.get_by_role("button", name="Open the survey run").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    if violations := axe_violations(page):
        problems.append(f"new run with errors:\n{violations}")
    assert not problems, "\n".join(problems)
