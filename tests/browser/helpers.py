"""Moving through the journey in the browser, and checking pages with axe-core.

These helpers use the mouse and ``fill``: they set up the state a test is
about. The keyboard test moves with the keyboard alone.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Page, expect
from sqlalchemy import select

from questionnaires import Question, Questionnaire, load_directory
from questionnaires.examples import example_form_values
from questionnaires.schema import CHOICE_TYPES, ENGLISH
from survey_app.config import DEFAULTS
from survey_app.extensions import db
from survey_app.models import Response

AXE_SCRIPT = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}}
REFERENCE = re.compile(r"^[2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}$")
CHECK_ANSWERS = "check-answers"
# The demo runs that survey_db opens: one of each shipped questionnaire, its key with hyphens.
PATHWAYS = "send-pathways-information"
EHC = "ehc-plan-feedback"
MY_PLAN = "my-plan-my-review"  # easy read, for young people

# The shipped questionnaires, as the test app publishes them.
LIBRARY = load_directory(localities=[name.strip() for name in DEFAULTS["LOCALITIES"].split(",") if name.strip()])
if LIBRARY.problems:
    raise RuntimeError("The shipped questionnaires have problems:\n" + "\n".join(map(str, LIBRARY.problems)))


def questionnaire_of(slug: str, language: str = ENGLISH) -> Questionnaire:
    """The questionnaire a demo run asks, in ``language`` where it is translated."""
    return LIBRARY.questionnaires[slug.replace("-", "_")].localised(language)


def heading_of(slug: str, page_key: str, language: str = ENGLISH) -> str:
    """A question page's heading: a group's title, or its one question's label."""
    page = questionnaire_of(slug, language).page(page_key)
    assert page is not None, f"{slug} has no page {page_key}"
    return page.title if page.is_group else page.questions[0].label


def page_after(slug: str, page_key: str) -> str:
    """The key of the page defined after ``page_key``."""
    keys = [page.key for page in questionnaire_of(slug).pages]
    return keys[keys.index(page_key) + 1]


def first_page(slug: str) -> str:
    return questionnaire_of(slug).pages[0].key


def question_path(slug: str, page_key: str) -> str:
    return f"/surveys/{slug}/questions/{page_key}"


def page_key(page: Page) -> str:
    """The last part of the path: a question page's key, or "check-answers"."""
    return urlsplit(page.url).path.rsplit("/", 1)[-1]


def answer_questions(page: Page, questions: tuple[Question, ...], answers: dict[str, list[str]]) -> None:
    """Answer the questions shown on the page: as ``answers`` says, or else validly."""
    for question in questions:
        inputs = page.locator(f'[name="{question.key}"]')
        if not inputs.count():
            continue  # not shown to this respondent
        values = answers.get(question.key, example_form_values(question))
        if question.type in CHOICE_TYPES:
            for value in values:
                page.locator(f'[name="{question.key}"][value="{value}"]').check()
        else:
            for field, value in zip(inputs.all(), values, strict=True):
                field.fill(value)


def submit(page: Page, button: str = "Continue") -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=button).click()


def answer_until(page: Page, slug: str, stop: str, answers: dict[str, list[str]] | None = None) -> None:
    """From the first question, answer each page until the page ``stop`` (a page key or "check-answers")."""
    questionnaire = questionnaire_of(slug)
    page.goto(question_path(slug, questionnaire.pages[0].key))
    for _ in questionnaire.pages:
        if page_key(page) == stop:
            return
        answer_questions(page, questionnaire.page(page_key(page)).questions, answers or {})
        submit(page)
    assert page_key(page) == stop, f"the journey reached {page.url}, not {stop}"


def expect_question(page: Page, slug: str, page_key: str, language: str = ENGLISH) -> None:
    """The page is the question page ``page_key``, with its heading from the definition."""
    expect(page).to_have_url(re.compile(re.escape(question_path(slug, page_key)) + r"(\?|$)"))
    expect(page.locator("h1")).to_contain_text(heading_of(slug, page_key, language))


def send_answers(page: Page, slug: str, answers: dict[str, list[str]] | None = None) -> str:
    """Answer every page and send the answers; return the reference number shown."""
    answer_until(page, slug, CHECK_ANSWERS, answers)
    submit(page, "Send answers")
    expect(page.locator("h1")).to_have_text("Answers sent")
    reference = page.locator(".govuk-panel__body strong").inner_text()
    assert REFERENCE.match(reference), f"unexpected reference number {reference!r}"
    return reference


def stored_answers(app, reference: str, slug: str) -> dict[str, list[str]]:
    """The answers the database holds under a reference, checking they belong to the run ``slug``."""
    # A new app context has its own session, which sees what the live server committed.
    with app.app_context():
        response = db.session.scalar(select(Response).filter_by(reference=reference))
        assert response is not None, f"no response {reference} in the database"
        assert response.run.slug == slug
        answers: dict[str, list[str]] = {}
        for answer in response.answers:
            answers.setdefault(answer.question_key, []).append(answer.value)
    return answers


def axe_violations(page: Page) -> str:
    """axe-core's WCAG 2.2 A and AA violations on the page, described for a failure message ("" if none).

    Injecting axe needs a context made with ``bypass_csp=True``: the policy
    refuses the inline script Playwright adds.
    """
    page.add_script_tag(path=AXE_SCRIPT)
    results = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
    return "\n".join(
        f"{violation['id']} ({violation['impact']}): {violation['help']}\n"
        + "\n".join(
            f"  {node['target']}: " + node["failureSummary"].replace("\n", "\n    ") for node in violation["nodes"]
        )
        for violation in results["violations"]
    )
