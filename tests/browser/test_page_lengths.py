"""Long pages stay a sensible length on a desktop screen.

The pixel bounds are loose on purpose (fonts differ from one machine to
another): each is well under what the page measured before it was fixed, and
well over what it measures now. The structure behind them (one summary list
per section, no forms on the comments page) is tested through the test client
in test_journey and test_comments.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from survey_app.database import begin_write
from survey_app.extensions import db
from survey_app.models import SurveyRun, utcnow
from survey_app.officer.comments import PER_PAGE

from ..stored import add_response
from .helpers import CHECK_ANSWERS, EHC, answer_until
from .test_officer import sign_in

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 800}


def test_check_answers_for_a_long_questionnaire_on_a_desktop(new_page):
    """20 answers: one summary list per section, no question wrapped to four lines, and under 3,000 pixels.

    Before: a summary list and a wide gap for every question, the questions
    in a column 30% of two-thirds wide: 4,000 pixels, questions on four lines.
    """
    page = new_page(viewport=DESKTOP, bypass_csp=True)
    answer_until(page, EHC, CHECK_ANSWERS)
    expect(page.locator("h1")).to_have_text("Check your answers before sending them")
    rows = page.locator(".govuk-summary-list__row").count()
    assert rows >= 18
    # The questions asked one to a page, "About your child", "Your other answers", equality monitoring.
    assert page.locator(".govuk-summary-list").count() == 4
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 3000, f"check your answers is {height} pixels tall for {rows} answers"
    lines = page.evaluate(
        """() => [...document.querySelectorAll(".govuk-summary-list__key")].map((key) => {
          const style = getComputedStyle(key);
          const text = key.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
          return [key.textContent.trim(), text / parseFloat(style.lineHeight)];
        })"""
    )
    wrapped = [(text, round(count, 1)) for text, count in lines if count > 3.5]
    assert not wrapped, f"questions on four lines or more: {wrapped}"


def test_a_page_of_comments_on_a_desktop(new_page, users):
    """50 comments: a page of them, no form but the filters, and under 10,000 pixels.

    Before: every comment on one page, each with a tag form and a follow-up
    form: 33,000 pixels and 121 forms for about 50 comments.
    """
    run = db.session.query(SurveyRun).filter_by(slug="ehc-plan-feedback").one()
    text = (
        "It took months to get a reply to my emails. When the caseworker did call, she was very helpful, "
        "but nobody told us what would happen after the assessment."
    )
    begin_write()
    now = utcnow()
    for number in range(50):
        add_response(run, {"worked_well": f"{text} ({number})"}, now - timedelta(minutes=number))
    db.session.commit()

    page = new_page(viewport=DESKTOP, bypass_csp=True)
    sign_in(page, "officer", goto=f"/officer/runs/{run.id}/comments")
    expect(page.locator("h1")).to_have_text("Comments")
    assert page.locator(".govuk-summary-card").count() == PER_PAGE
    assert page.locator("main form").count() == 1, "only the filters"
    expect(page.locator(".govuk-pagination")).to_be_visible()
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 10_000, f"a page of comments is {height} pixels tall"
