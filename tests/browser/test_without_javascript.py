"""Every page works without JavaScript: the forms are plain HTML posts."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .helpers import (
    EHC,
    PATHWAYS,
    answer_questions,
    answer_until,
    questionnaire_of,
    send_answers,
    stored_answers,
    submit,
)

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
    expect(page.locator("h1")).to_contain_text("Do you know where to get free, independent advice")
