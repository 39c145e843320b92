"""Every page works without JavaScript: the forms are plain HTML posts."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .helpers import (
    EHC,
    MY_PLAN,
    PATHWAYS,
    answer_questions,
    answer_until,
    expect_question,
    page_after,
    questionnaire_of,
    send_answers,
    stored_answers,
    submit,
)
from .scenarios import FACES

pytestmark = pytest.mark.browser


@pytest.fixture
def page(new_page):
    page = new_page(java_script_enabled=False)
    page.goto("/")
    # GOV.UK Frontend's inline script adds this class when scripts run.
    expect(page.locator("body.js-enabled")).to_have_count(0)
    return page


def test_answer_a_survey_without_javascript(app, page):
    reference = send_answers(page, EHC, {"plan_reflects_needs": ["disagree"], "needs_missing": ["none"]})
    answers = stored_answers(app, reference, EHC)
    assert answers["plan_reflects_needs"] == ["disagree"]
    assert answers["needs_missing"] == ["none"]


def test_a_grouped_page_keeps_its_answers_when_one_is_missing(page):
    answer_until(page, PATHWAYS, "information_topics")
    topics = questionnaire_of(PATHWAYS).page("information_topics").questions
    answer_questions(page, topics[:2], {"info_sen_support": ["good"], "info_assessment": ["poor"]})
    submit(page)

    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Select how good the information about preparing for adulthood is"
    )
    expect(page.locator("input[name=info_sen_support][value=good]")).to_be_checked()
    expect(page.locator("input[name=info_assessment][value=poor]")).to_be_checked()
    expect(page.locator("input[name=info_adulthood]:checked")).to_have_count(0)

    answer_questions(page, topics[2:], {"info_adulthood": ["very_good"]})
    submit(page)
    expect_question(page, PATHWAYS, page_after(PATHWAYS, "information_topics"))


def test_an_easy_read_page_is_complete_without_javascript(page):
    answer_until(page, MY_PLAN, FACES)
    # Read aloud needs a script, so without one it is not offered.
    expect(page.locator('[data-module="app-read-aloud"]')).to_be_hidden()
    expect(page.get_by_role("button", name="Read aloud")).to_have_count(0)

    faces = page.locator(".govuk-radios.app-radios--images")
    options = questionnaire_of(MY_PLAN).question(FACES).scale_options
    for option in options:
        choice = faces.locator(".govuk-radios__item", has=page.locator(f"input[value={option.value}]"))
        image = choice.get_by_alt_text(option.image_alt, exact=True)
        expect(image).to_be_visible()
        assert image.evaluate("image => image.complete && image.naturalWidth > 0"), f"{option.image} did not load"
        expect(choice.locator("label")).to_contain_text(option.label)

    # A face is chosen by its picture or by its word.
    first, last = options[0], options[-1]
    faces.get_by_alt_text(last.image_alt, exact=True).click()
    expect(page.locator(f"input[name={FACES}][value={last.value}]")).to_be_checked()
    faces.get_by_text(first.label, exact=True).click()
    chosen = page.locator(f"input[name={FACES}][value={first.value}]")
    expect(chosen).to_be_checked()
    expect(page.locator(f"input[name={FACES}]:checked")).to_have_count(1)
    submit(page)

    expect_question(page, MY_PLAN, page_after(MY_PLAN, FACES))
    with page.expect_navigation():
        page.get_by_role("link", name="Back").click()
    expect_question(page, MY_PLAN, FACES)
    expect(chosen).to_be_checked()
