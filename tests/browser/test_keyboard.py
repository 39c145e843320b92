"""A respondent who uses a keyboard alone can answer a whole survey.

Focus moves with Tab and Shift+Tab, radios are chosen with Space and the arrow
keys, text is typed, and links and buttons are used with Enter or Space. There
is no click and no fill here, and the Content Security Policy is enforced, so
GOV.UK Frontend's scripts (the error summary, character count and skip link)
must run under it.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .helpers import (
    MY_PLAN,
    PATHWAYS,
    REFERENCE,
    expect_question,
    first_page,
    page_after,
    question_path,
    questionnaire_of,
    stored_answers,
)
from .scenarios import FACES

pytestmark = pytest.mark.browser

# Enough presses to pass the header, back link and every Change link on check answers.
TAB_LIMIT = 60


def focused(page: Page) -> str:
    """The focused element, described for a failure message."""
    return page.evaluate("() => document.activeElement?.outerHTML.slice(0, 160) ?? 'nothing'")


def tab_to(page: Page, selector: str) -> None:
    """Press Tab until the element matching ``selector`` has focus."""
    for _ in range(TAB_LIMIT):
        page.keyboard.press("Tab")
        if page.evaluate("selector => document.activeElement?.matches(selector)", selector):
            return
    raise AssertionError(f"Tab did not reach {selector} on {page.url}; the focus is on {focused(page)}")


def press_and_load(page: Page, key: str) -> None:
    """Press a key on the focused link or button, and wait for the page it leads to."""
    with page.expect_navigation():
        page.keyboard.press(key)


def send_form(page: Page, key: str) -> None:
    """Tab to the form's button and press it with ``key``."""
    tab_to(page, "form button")
    press_and_load(page, key)


def test_answer_a_survey_with_the_keyboard_alone(app, page):
    page.goto("/")
    page.keyboard.press("Tab")
    expect(page.locator(".govuk-skip-link")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#main-content")).to_be_focused()
    tab_to(page, f'a[href="/surveys/{PATHWAYS}"]')
    press_and_load(page, "Enter")

    tab_to(page, "a.govuk-button--start")
    press_and_load(page, "Enter")

    expect_question(page, PATHWAYS, "aware_local_offer")
    tab_to(page, "input[name=aware_local_offer]")
    page.keyboard.press("Space")
    expect(page.locator("input[name=aware_local_offer][value=yes]")).to_be_checked()
    send_form(page, "Space")

    # Shown because of the answer "yes".
    expect_question(page, PATHWAYS, "used_local_offer")
    tab_to(page, "input[name=used_local_offer]")
    page.keyboard.press("Space")
    expect(page.locator("input[name=used_local_offer][value=yes]")).to_be_checked()
    send_form(page, "Enter")

    # Shown because of the answer "yes".
    expect_question(page, PATHWAYS, "found_what_needed")
    tab_to(page, "input[name=found_what_needed]")
    page.keyboard.press("ArrowDown")
    expect(page.locator("input[name=found_what_needed][value=some]")).to_be_checked()
    send_form(page, "Enter")

    # Shown because of the answer "some".
    expect_question(page, PATHWAYS, "looking_for")
    tab_to(page, "input#looking_for")
    page.keyboard.type("Short breaks")
    send_form(page, "Enter")

    expect_question(page, PATHWAYS, "local_offer_confidence")
    tab_to(page, "input[name=local_offer_confidence]")
    page.keyboard.press("ArrowDown")
    expect(page.locator("input[name=local_offer_confidence][value=agree]")).to_be_checked()
    send_form(page, "Enter")

    expect_question(page, PATHWAYS, "pathways_information")
    tab_to(page, "input[name=pathways_information]")
    page.keyboard.press("ArrowDown")
    expect(page.locator("input[name=pathways_information][value=good]")).to_be_checked()
    send_form(page, "Enter")

    # Three radio groups: Tab leaves one group for the next.
    expect_question(page, PATHWAYS, "information_topics")
    tab_to(page, "input[name=info_sen_support]")
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    expect(page.locator("input[name=info_assessment]").first).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    expect(page.locator("input[name=info_adulthood]").first).to_be_focused()
    # Up from the first option wraps round to the last, past the "or" divider.
    page.keyboard.press("ArrowUp")
    adulthood_not_looked = page.locator("input[name=info_adulthood][value=not_applicable]")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Continue")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(adulthood_not_looked).to_be_focused()
    expect(adulthood_not_looked).to_be_checked()
    expect(page.locator("input[name=info_sen_support][value=very_good]")).to_be_checked()
    expect(page.locator("input[name=info_assessment][value=neither]")).to_be_checked()
    send_form(page, "Enter")

    expect_question(page, PATHWAYS, "understand_support_arranged")
    tab_to(page, "input[name=understand_support_arranged]")
    page.keyboard.press("Space")
    expect(page.locator("input[name=understand_support_arranged][value=strongly_agree]")).to_be_checked()
    send_form(page, "Enter")

    expect_question(page, PATHWAYS, "knows_sendiass")
    tab_to(page, "input[name=knows_sendiass]")
    page.keyboard.press("ArrowRight")
    expect(page.locator("input[name=knows_sendiass][value=no]")).to_be_checked()
    send_form(page, "Space")

    # Optional questions: Continue without answering them.
    expect_question(page, PATHWAYS, "about_your_child")
    send_form(page, "Enter")

    expect_question(page, PATHWAYS, "worked_well")
    send_form(page, "Enter")

    expect_question(page, PATHWAYS, "could_be_better")
    tab_to(page, "textarea#could_be_better")
    page.keyboard.type("Put the forms in one place.")
    expect(page.locator(".govuk-character-count__status")).to_have_text("You have 1,173 characters remaining")
    send_form(page, "Enter")

    # Equality monitoring is optional: its own button leaves it out.
    expect_question(page, PATHWAYS, "about_you")
    tab_to(page, "form button[name=action][value=skip_section]")
    press_and_load(page, "Enter")

    expect(page.locator("h1")).to_have_text("Check your answers before sending them")
    tab_to(page, "form button.govuk-button")
    expect(page.locator("form button.govuk-button")).to_have_text("Send answers")
    press_and_load(page, "Enter")

    expect(page.locator("h1")).to_have_text("Answers sent")
    reference = page.locator(".govuk-panel__body strong").inner_text()
    assert REFERENCE.match(reference), f"unexpected reference number {reference!r}"
    assert stored_answers(app, reference, PATHWAYS) == {
        "aware_local_offer": ["yes"],
        "used_local_offer": ["yes"],
        "found_what_needed": ["some"],
        "looking_for": ["Short breaks"],
        "local_offer_confidence": ["agree"],
        "pathways_information": ["good"],
        "info_sen_support": ["very_good"],
        "info_assessment": ["neither"],
        "info_adulthood": ["not_applicable"],
        "understand_support_arranged": ["strongly_agree"],
        "knows_sendiass": ["no"],
        "could_be_better": ["Put the forms in one place."],
    }


def test_error_summary_takes_the_focus_and_leads_to_the_question(page):
    key = first_page(PATHWAYS)
    page.goto(question_path(PATHWAYS, key))
    send_form(page, "Enter")

    # GOV.UK Frontend focuses the summary, so a screen reader reads it first.
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    outline = summary.evaluate("element => getComputedStyle(element).outline")
    assert "none" not in outline and not outline.startswith("0px"), f"the focused summary has no outline: {outline}"

    page.keyboard.press("Tab")
    message = questionnaire_of(PATHWAYS).question(key).required_message
    link = summary.get_by_role("link", name=message)
    expect(link).to_be_focused()
    target = page.locator(link.get_attribute("href"))
    page.keyboard.press("Enter")
    expect(target).to_be_focused()
    expect(page.locator("legend")).to_be_in_viewport()

    page.keyboard.press("Space")
    expect(target).to_be_checked()
    send_form(page, "Enter")
    expect_question(page, PATHWAYS, page_after(PATHWAYS, key))


def test_a_young_person_chooses_a_face_with_the_keyboard(app, page):
    page.goto(f"/surveys/{MY_PLAN}")
    tab_to(page, "a.govuk-button--start")
    press_and_load(page, "Enter")

    expect_question(page, MY_PLAN, "completed_with_support")
    tab_to(page, "input[name=completed_with_support]")
    page.keyboard.press("Space")
    expect(page.locator("input[name=completed_with_support][value=alone]")).to_be_checked()
    send_form(page, "Enter")

    expect_question(page, MY_PLAN, FACES)
    faces = page.locator(f".govuk-radios.app-radios--images input[name={FACES}]")
    # The faces are choices like any radios: Tab reaches the group, arrows move within it.
    tab_to(page, f"input[name={FACES}]")
    expect(faces.first).to_be_focused()
    page.keyboard.press("Space")
    expect(page.locator(f"input[name={FACES}][value=happy]")).to_be_checked()
    page.keyboard.press("ArrowDown")
    ok = page.locator(f"input[name={FACES}][value=ok]")
    expect(ok).to_be_focused()
    expect(ok).to_be_checked()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowUp")
    expect(ok).to_be_checked()
    # GOV.UK's yellow focus ring round the focused face's circle.
    ring = ok.evaluate("input => getComputedStyle(input.labels[0], '::before').boxShadow")
    assert ring != "none", "the focused face shows no focus ring"
    send_form(page, "Enter")

    expect_question(page, MY_PLAN, page_after(MY_PLAN, FACES))
    # The answer was kept: the Back link leads to the face chosen.
    tab_to(page, "a.govuk-back-link")
    press_and_load(page, "Enter")
    expect_question(page, MY_PLAN, FACES)
    expect(ok).to_be_checked()
