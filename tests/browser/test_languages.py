"""Choosing another language part way through a survey.

On a question page the language choices are buttons that send the page's
form, so an answer given but not yet sent survives the change.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .helpers import PATHWAYS, expect_question, first_page, page_after, question_path

pytestmark = pytest.mark.browser


def test_choosing_welsh_keeps_an_answer_not_yet_sent(page):
    key = first_page(PATHWAYS)
    page.goto(question_path(PATHWAYS, key))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    answer = page.locator(f"input[name={key}][value=yes]")
    answer.check()

    with page.expect_navigation():
        page.locator(".app-language-switcher").get_by_role("button", name="Cymraeg").click()

    expect(page.locator("html")).to_have_attribute("lang", "cy")
    expect_question(page, PATHWAYS, key, "cy")
    expect(answer).to_be_checked()
    expect(page.locator(".app-language-switcher__current")).to_have_text("Cymraeg")

    # The kept answer is sent as it stands, and the survey carries on in Welsh.
    with page.expect_navigation():
        page.locator("#page-form .govuk-button-group button").first.click()
    expect(page.locator("html")).to_have_attribute("lang", "cy")
    expect_question(page, PATHWAYS, page_after(PATHWAYS, key), "cy")
