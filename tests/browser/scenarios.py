"""The states of the service a respondent can meet, one function each.

Each takes a fresh page (and ``make_run``) to one page of the service and
checks that it got there, so that a test over them names the page, and a
broken set-up is not mistaken for a page that passes.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from .helpers import (
    CHECK_ANSWERS,
    EHC,
    MY_PLAN,
    PATHWAYS,
    answer_until,
    expect_question,
    first_page,
    question_path,
    questionnaire_of,
    send_answers,
    submit,
)

# A faces question in the young people's easy-read survey.
FACES = "asked_what_i_think"
# The first page of the equality monitoring section.
EQUALITY = "about_you"


def home(page, make_run):
    page.goto("/")
    expect(page.locator("h1")).to_contain_text("Have your say")


def welsh_home(page, make_run):
    """In Welsh: the surveys with Welsh first, those without under their own heading, marked English."""
    page.goto("/change-language?to=cy&next=/")
    expect(page.locator("html")).to_have_attribute("lang", "cy")
    expect(page.get_by_role("heading", name="Arolygon yn Saesneg yn unig")).to_be_visible()
    expect(page.locator("main h3 a [lang=en]").first).to_be_visible()


def start_pathways(page, make_run):
    page.goto(f"/surveys/{PATHWAYS}")
    expect(page.get_by_role("button", name="Start now")).to_be_visible()


def start_ehc(page, make_run):
    page.goto(f"/surveys/{EHC}")
    expect(page.get_by_role("button", name="Start now")).to_be_visible()


def start_easy_read(page, make_run):
    page.goto(f"/surveys/{MY_PLAN}")
    expect(page.locator(".app-easy-read h1")).to_have_text(questionnaire_of(MY_PLAN).title)
    expect(page.get_by_role("button", name="Start now")).to_be_visible()


def radios(page, make_run):
    answer_until(page, PATHWAYS, "used_local_offer")
    expect(page.locator("input[type=radio]")).to_have_count(3)


def radios_with_error(page, make_run):
    answer_until(page, PATHWAYS, "used_local_offer")
    submit(page)
    expect(page.locator(".govuk-error-summary")).to_contain_text("Select yes if you have looked")


def faces(page, make_run):
    answer_until(page, MY_PLAN, FACES)
    expect(page.locator(".govuk-radios.app-radios--images img")).to_have_count(3)


def faces_with_error(page, make_run):
    answer_until(page, MY_PLAN, FACES)
    submit(page)
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        questionnaire_of(MY_PLAN).question(FACES).required_message
    )
    expect(page.locator(".govuk-radios.app-radios--images img")).to_have_count(3)


def welsh_question(page, make_run):
    key = first_page(PATHWAYS)
    page.goto(f"/change-language?to=cy&next={question_path(PATHWAYS, key)}")
    expect(page.locator("html")).to_have_attribute("lang", "cy")
    expect_question(page, PATHWAYS, key, "cy")


def equality_monitoring(page, make_run):
    answer_until(page, PATHWAYS, EQUALITY)
    expect(page.get_by_role("button", name="Skip these questions")).to_be_visible()


def saved(page, make_run):
    answer_until(page, PATHWAYS, "used_local_offer")
    page.get_by_label("Yes").check()
    submit(page, "Save and come back later")
    expect(page).to_have_url(re.compile(rf"/surveys/{PATHWAYS}/saved$"))
    expect(page.locator("#return-link")).to_contain_text(f"/surveys/{PATHWAYS}/resume?code=")


def link_not_working(page, make_run):
    page.goto(f"/surveys/{PATHWAYS}/resume?code=bad")
    expect(page.locator("h1")).to_have_text("This link does not work")


def checkboxes_with_exclusive_option(page, make_run):
    answer_until(page, EHC, "needs_missing", {"plan_reflects_needs": ["disagree"]})
    expect(page.locator("input[type=checkbox][data-behaviour=exclusive]")).to_have_count(1)


def number_with_error(page, make_run):
    answer_until(page, EHC, "contacts_to_chase")
    page.get_by_label("About how many times").fill("lots")
    submit(page)
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter a number")


def date_with_error(page, make_run):
    answer_until(page, EHC, "plan_received")
    for part, value in (("Day", "31"), ("Month", "2"), ("Year", "2025")):
        page.get_by_label(part).fill(value)
    submit(page)
    expect(page.locator(".govuk-error-summary")).to_contain_text("real date")


def character_count(page, make_run):
    answer_until(page, PATHWAYS, "could_be_better")
    page.get_by_label("How could we make information").fill("Clearer letters.")
    expect(page.locator(".govuk-character-count__status")).to_contain_text("characters remaining")


def short_text(page, make_run):
    answer_until(page, PATHWAYS, "looking_for", {"used_local_offer": ["yes"], "found_what_needed": ["some"]})
    expect(page.locator("input#looking_for")).to_be_visible()


def grouped_page(page, make_run):
    answer_until(page, PATHWAYS, "information_topics")
    expect(page.locator("fieldset")).to_have_count(3)


def check_answers(page, make_run):
    answer_until(page, EHC, CHECK_ANSWERS)
    expect(page.locator("h1")).to_have_text("Check your answers before sending them")


def confirmation(page, make_run):
    send_answers(page, PATHWAYS)


def closed(page, make_run):
    make_run("ehc_plan_feedback", "closed-survey", timedelta(days=-30), timedelta(days=-2))
    page.goto("/surveys/closed-survey")
    expect(page.locator("h1")).to_have_text("This survey has closed")


def not_open_yet(page, make_run):
    make_run("ehc_plan_feedback", "future-survey", timedelta(days=2), timedelta(days=30))
    page.goto("/surveys/future-survey")
    expect(page.locator("h1")).to_have_text("This survey is not open yet")


def not_found(page, make_run):
    page.goto("/surveys/no-such-survey")
    expect(page.locator("h1")).to_have_text("Page not found")


def form_expired(page, make_run):
    answer_until(page, PATHWAYS, "used_local_offer")
    page.locator("input[name=csrf_token]").evaluate("input => { input.value = 'not-the-token' }")
    page.get_by_label("Yes").check()
    submit(page)
    expect(page.locator("h1")).to_have_text("This page has expired")


def accessibility_statement(page, make_run):
    page.goto("/accessibility")
    expect(page.locator("h1")).to_contain_text("Accessibility statement")


def privacy_notice(page, make_run):
    page.goto("/privacy")
    expect(page.locator("h1")).to_have_text("Privacy notice")


def cookies(page, make_run):
    page.goto("/cookies")
    expect(page.locator("h1")).to_have_text("Cookies")


SCENARIOS = [
    home,
    welsh_home,
    start_pathways,
    start_ehc,
    start_easy_read,
    radios,
    radios_with_error,
    faces,
    faces_with_error,
    welsh_question,
    equality_monitoring,
    checkboxes_with_exclusive_option,
    number_with_error,
    date_with_error,
    character_count,
    short_text,
    grouped_page,
    check_answers,
    confirmation,
    saved,
    link_not_working,
    closed,
    not_open_yet,
    not_found,
    form_expired,
    accessibility_statement,
    privacy_notice,
    cookies,
]


def scenario_params() -> list:
    """The scenarios as test parameters named after them."""
    return [pytest.param(scenario, id=scenario.__name__) for scenario in SCENARIOS]
