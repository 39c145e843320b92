"""The respondent journey through the test client, for every shipped questionnaire."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from questionnaires import routing
from questionnaires.examples import example_form_values
from questionnaires.schema import Section
from survey_app.extensions import db
from survey_app.models import Answer, Draft, Response, SurveyRun, utcnow
from survey_app.services import questionnaires as questionnaire_service
from survey_app.services import runs

from .pages import Browser, check_page, complete, path_of
from .test_loader import shipped_library
from .test_storage import rows_of, stored_equality_answers

REFERENCE = re.compile(r"\b[2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}\b")
PLAN = "ehc_plan_feedback"
PATHWAYS = "send_pathways_information"
SHIPPED = sorted(shipped_library().questionnaires)


def questionnaire(key: str):
    return questionnaire_service.library().get(key)


def slug(key: str) -> str:
    return key.replace("_", "-")


def question_url(key: str, page: str, change: bool = False) -> str:
    return f"/surveys/{slug(key)}/questions/{page}" + ("?change=1" if change else "")


def responses() -> list[Response]:
    db.session.rollback()  # see what the requests committed
    return list(db.session.scalars(select(Response).order_by(Response.id)))


def stored_answers(response: Response) -> dict[str, list[str]]:
    rows = db.session.scalars(select(Answer).filter_by(response_id=response.id).order_by(Answer.id))
    stored: dict[str, list[str]] = {}
    for row in rows:
        stored.setdefault(row.question_key, []).append(row.value)
    return stored


def page_after(key: str, page_key: str) -> str:
    """The key of the page that follows ``page_key`` in the questionnaire."""
    keys = [page.key for page in questionnaire(key).pages]
    return keys[keys.index(page_key) + 1]


def given_or_example(**given):
    """Answer with ``given`` (None: leave blank), and with the example answer elsewhere."""

    def choose(question) -> list[str]:
        if question.key not in given:
            return example_form_values(question)
        value = given[question.key]
        return [] if value is None else value if isinstance(value, list) else [value]

    return choose


def answer_up_to(browser: Browser, key: str, page_key: str, **given) -> str:
    """Answer every page shown before ``page_key``, in order; return that page's path."""
    location = complete(browser, questionnaire(key), slug(key), given_or_example(**given), until=page_key)
    assert location == question_url(key, page_key)
    return location


def answer_from(browser: Browser, key: str, location: str, **given) -> str:
    """Answer every page shown from the page at ``location`` on; return the check-answers path."""
    page_key = location.split("/questions/")[1].split("?")[0]
    check_answers = complete(browser, questionnaire(key), slug(key), given_or_example(**given), start=page_key)
    assert check_answers == f"/surveys/{slug(key)}/check-answers"
    return check_answers


def summary(page) -> dict[str, str]:
    """The check-answers rows: each question's label and the answer shown."""
    return {
        row.select_one("dt").get_text(" ", strip=True): row.select_one("dd").get_text(" ", strip=True)
        for row in page.soup.select(".govuk-summary-list__row")
    }


def submit(browser: Browser, key: str) -> str:
    """Send the answers from the check-answers page; return the reference shown."""
    location = browser.post_redirect(f"/surveys/{slug(key)}/check-answers", {})
    assert location == f"/surveys/{slug(key)}/confirmation"
    confirmation = browser.get(location)
    assert confirmation.h1 == "Answers sent"
    return REFERENCE.search(confirmation.text).group()


# --- listing and starting ------------------------------------------------------


def test_the_home_page_lists_the_surveys_open_now(browser, make_run):
    make_run(PLAN, "last-year", timedelta(days=-400), timedelta(days=-300))
    page = browser.get("/")
    links = {a.get_text(strip=True): a["href"] for a in page.soup.select("main a")}
    assert links["Your views on your child's EHC plan"] == "/surveys/ehc-plan-feedback"
    assert links["Information about SEND support and the Local Offer"] == "/surveys/send-pathways-information"
    assert "/surveys/last-year" not in links.values()


def test_the_home_page_says_when_nothing_is_open(browser):
    db.session.execute(SurveyRun.__table__.update().values(closes_at=utcnow() - timedelta(days=1)))
    db.session.commit()
    page = browser.get("/")
    assert "There are no surveys open at the moment" in page.text


def test_the_start_page_says_what_the_survey_is_and_who_sees_the_answers(browser):
    definition = questionnaire(PLAN)
    page = browser.get("/surveys/ehc-plan-feedback")
    assert page.h1 == "Your views on your child's EHC plan"
    assert f"It takes about {definition.estimated_minutes} minutes" in page.text
    assert "Your answers are anonymous" in page.text
    assert "Who sees your answers" in page.text and "SEND engagement team" in page.text
    assert "The survey closes" in page.text
    start = page.soup.select_one("a.govuk-button--start")
    assert start.get_text(strip=True) == "Start now"
    assert start["href"] == question_url(PLAN, definition.pages[0].key)


# --- whole journeys -------------------------------------------------------------


@pytest.mark.parametrize("key", SHIPPED)
def test_every_shipped_questionnaire_can_be_completed_and_is_stored_exactly(browser, key):
    definition = questionnaire(key)
    check_answers = complete(browser, definition, slug(key))
    assert check_answers == f"/surveys/{slug(key)}/check-answers"
    page = browser.get(check_answers)
    assert page.h1 == "Check your answers before sending them"
    reference = submit(browser, key)

    [response] = responses()
    assert response.reference == reference
    assert response.questionnaire_version.key == key and response.questionnaire_version.version == definition.version
    assert response.audience == definition.audience.value and response.language == "en"
    given, _ = routing.prune(definition, {q.key: example_form_values(q) for q in definition.questions}, [])
    # Dates typed as day, month and year are stored as ISO dates.
    expected = {
        key: ["2025-11-14"] if definition.question(key).type.value == "date" else value for key, value in given.items()
    }
    # Equality monitoring answers are stored apart, with nothing linking them to the response.
    equality = {key for key in expected if definition.question(key).section is Section.EQUALITY}
    assert bool(equality) == definition.has_equality_section
    assert stored_answers(response) == {key: value for key, value in expected.items() if key not in equality}
    assert rows_of(stored_equality_answers(response)) == rows_of({key: expected[key] for key in equality})
    assert db.session.scalar(select(Draft).limit(1)) is None, "the draft is removed once submitted"


def test_check_answers_shows_one_summary_list_per_section(browser):
    """As the GOV.UK pattern does: not a list (and a gap) for every question."""
    definition = questionnaire(PATHWAYS)
    page = browser.get(complete(browser, definition, slug(PATHWAYS)))
    lists = page.soup.select(".govuk-summary-list")
    # The questions asked one to a page share a list while they follow one
    # another; each group has its own under its title; equality monitoring is
    # one list. Every list after the first is under its heading.
    headings = [lst.find_previous("h2").get_text(" ", strip=True) for lst in lists[1:]]
    assert headings == [
        "How good is the information about these topics?",
        "Your other answers",
        "About your child",
        "Your other answers",
        "Equality monitoring",
    ]
    assert lists[0].find_previous("h2") is None, "the first list follows the page heading"
    assert all("app-summary-list--wide-key" in lst["class"] for lst in lists)

    # Every question answered has its row, in the order asked, each with a
    # Change link to its page that names the question to screen readers.
    given, _ = routing.prune(definition, {q.key: example_form_values(q) for q in definition.questions}, [])
    rows = page.soup.select(".govuk-summary-list__row")
    assert [row.select_one(".govuk-summary-list__actions a")["href"].split("#")[1] for row in rows] == list(given)
    for row in rows:
        key = row.select_one(".govuk-summary-list__key").get_text(" ", strip=True)
        link = row.select_one(".govuk-summary-list__actions a")
        question_key = link["href"].split("#")[1]
        page_key = next(p.key for p in definition.pages if any(q.key == question_key for q in p.questions))
        assert link["href"] == f"{question_url(PATHWAYS, page_key, change=True)}#{question_key}"
        assert link.select_one(".govuk-visually-hidden").get_text(strip=True) == key


def test_question_pages_show_progress_and_back_links(browser):
    definition = questionnaire(PATHWAYS)
    assert definition.pages[0].key == "aware_local_offer"
    # Before any answer, the pages shown are those with a question asked of everyone.
    total = sum(1 for page in definition.pages if any(not question.show_if for question in page.questions))
    first = browser.get(question_url(PATHWAYS, "aware_local_offer"))
    assert first.soup.select_one(".govuk-caption-l").get_text(strip=True) == f"Question 1 of {total}"
    assert first.soup.select_one(".govuk-back-link")["href"] == "/surveys/send-pathways-information"
    assert first.h1 == definition.question("aware_local_offer").label
    assert first.soup.select_one("legend h1"), "a question alone on its page is the page heading"

    location = browser.post_redirect(question_url(PATHWAYS, "aware_local_offer"), {"aware_local_offer": "yes"})
    assert location == question_url(PATHWAYS, "used_local_offer")
    second = browser.get(location)
    # Answering yes revealed a question: the total grows.
    assert second.soup.select_one(".govuk-caption-l").get_text(strip=True) == f"Question 2 of {total + 1}"
    assert second.soup.select_one(".govuk-back-link")["href"] == question_url(PATHWAYS, "aware_local_offer")


def test_dont_know_is_kept_apart_from_the_scale(browser):
    browser.post_redirect(question_url(PLAN, "plan_received"), {})
    page = browser.get(question_url(PLAN, "felt_involved"))
    items = page.soup.select(".govuk-radios > div")
    classes = [item["class"][0] for item in items]
    assert classes[-2] == "govuk-radios__divider" and items[-2].get_text(strip=True) == "or"
    assert items[-1].select_one("input")["value"] == "dont_know"


def test_none_of_these_is_exclusive(browser):
    url = answer_up_to(browser, PLAN, "needs_missing", plan_received=None, plan_reflects_needs="disagree")
    page = browser.get(url)
    none = page.soup.select_one('input[value="none"]')
    assert none["data-behaviour"] == "exclusive"
    after = browser.post_page(url, {"needs_missing": ["health", "none"]})
    assert after.error_summary == [("Select “Not sure” or the other options, not both", "#needs_missing")]
    assert after.value_of("needs_missing") == ["health", "none"]


# --- routing and changing answers ------------------------------------------------


def answer_plan_up_to_needs(browser: Browser, agreement: str) -> str:
    """Answer up to and including whether the plan describes the needs; return the next page's path."""
    answer_up_to(
        browser,
        PLAN,
        "plan_reflects_needs",
        plan_received=None,
        felt_involved="agree",
        communication_good="neither",
        contacts_to_chase="3",
    )
    return browser.post_redirect(question_url(PLAN, "plan_reflects_needs"), {"plan_reflects_needs": agreement})


def finish_plan(browser: Browser, location: str) -> str:
    """Answer the rest of the plan survey from the page at ``location``; return the check-answers path."""
    return answer_from(
        browser,
        PLAN,
        location,
        outcomes_good="agree",
        provision_meets_needs="dont_know",
        worked_well=None,
        could_be_better="More updates",
        school_phase="secondary",
    )


def test_show_if_routes_to_a_question_only_when_it_applies(browser):
    answer_plan_up_to_needs(browser, "agree")
    assert browser.get_redirect(question_url(PLAN, "needs_missing")) == question_url(PLAN, "outcomes_good")

    browser.post_redirect(question_url(PLAN, "plan_reflects_needs"), {"plan_reflects_needs": "strongly_disagree"})
    location = browser.post_redirect(question_url(PLAN, "plan_reflects_needs"), {"plan_reflects_needs": "disagree"})
    assert location == question_url(PLAN, "needs_missing")


def test_changing_an_answer_discards_answers_it_made_irrelevant(browser):
    assert answer_plan_up_to_needs(browser, "disagree") == question_url(PLAN, "needs_missing")
    location = browser.post_redirect(question_url(PLAN, "needs_missing"), {"needs_missing": ["health", "social_care"]})
    finish_plan(browser, location)
    check = browser.get(f"/surveys/{slug(PLAN)}/check-answers")
    assert "Which needs are missing from the plan or not described well?" in check.text
    assert "Health needs" in check.text

    change = check.link("Change The plan accurately describes")
    assert path_of(change).startswith(question_url(PLAN, "plan_reflects_needs", change=True))
    changing = browser.get(path_of(change).split("#")[0])
    assert changing.soup.select_one(".govuk-back-link")["href"] == f"/surveys/{slug(PLAN)}/check-answers"
    assert changing.value_of("plan_reflects_needs") == ["disagree"], "the earlier answer is shown"
    location = browser.post_redirect(path_of(change).split("#")[0], {"plan_reflects_needs": "agree"})
    assert location == f"/surveys/{slug(PLAN)}/check-answers"

    check = browser.get(location)
    assert "Which needs are missing" not in check.text
    submit(browser, PLAN)
    [response] = responses()
    stored = stored_answers(response)
    assert "needs_missing" not in stored
    assert stored["plan_reflects_needs"] == ["agree"]


def test_a_change_that_reveals_a_question_asks_it_then_returns(browser):
    finish_plan(browser, answer_plan_up_to_needs(browser, "agree"))
    location = browser.post_redirect(
        question_url(PLAN, "plan_reflects_needs", change=True), {"plan_reflects_needs": "disagree"}
    )
    assert location == question_url(PLAN, "needs_missing", change=True)
    assert browser.get_redirect(f"/surveys/{slug(PLAN)}/check-answers") == question_url(PLAN, "needs_missing")
    location = browser.post_redirect(location, {"needs_missing": ["none"]})
    assert location == f"/surveys/{slug(PLAN)}/check-answers"
    assert summary(browser.get(location))[questionnaire(PLAN).question("needs_missing").label] == "Not sure"


def test_pages_are_answered_in_order(browser):
    assert browser.get_redirect(question_url(PLAN, "outcomes_good")) == question_url(PLAN, "plan_received")
    assert browser.get_redirect(f"/surveys/{slug(PLAN)}/check-answers") == f"/surveys/{slug(PLAN)}"
    browser.get(question_url(PLAN, "no_such_page"), status=404)


# --- validation -------------------------------------------------------------------


def test_a_required_question_left_empty(browser):
    browser.post_redirect(question_url(PLAN, "plan_received"), {})
    page = browser.post_page(question_url(PLAN, "felt_involved"), {})
    assert page.title.startswith("Error: I felt fully involved")
    assert page.error_summary == [("Select how much you agree that you felt fully involved", "#felt_involved")]
    assert page.field_errors == ["Select how much you agree that you felt fully involved"]
    assert page.soup.select_one("#felt_involved")["type"] == "radio"


def test_a_number_out_of_range_keeps_what_was_typed(browser):
    answer_up_to(browser, PLAN, "contacts_to_chase")
    page = browser.post_page(question_url(PLAN, "contacts_to_chase"), {"contacts_to_chase": "150"})
    assert page.error_summary == [("Enter a number between 0 and 99", "#contacts_to_chase")]
    assert page.value_of("contacts_to_chase") == ["150"]
    page = browser.post_page(question_url(PLAN, "contacts_to_chase"), {"contacts_to_chase": "two"})
    assert page.field_errors == ["Enter a number, like 3"]
    page = browser.post_page(question_url(PLAN, "contacts_to_chase"), {"contacts_to_chase": "2.5"})
    assert page.field_errors == ["Enter a whole number, like 3"]
    assert browser.post_redirect(
        question_url(PLAN, "contacts_to_chase"), {"contacts_to_chase": " 1,2 "}
    ) == question_url(PLAN, page_after(PLAN, "contacts_to_chase"))


@pytest.mark.parametrize(
    ("parts", "message", "target"),
    [
        (["31", "2", "2025"], "The date must be a real date", "#plan_received-day"),
        (["14", "", "2025"], "The date must include a month", "#plan_received-month"),
        (["14", "13", "2025"], "The date must be a real date", "#plan_received-day"),
        (["1", "1", "25"], "The year must include 4 numbers", "#plan_received-year"),
        (["a", "1", "2025"], "The date must be a real date, written in numbers, like 27 3 2026", "#plan_received-day"),
        (["1", "1", "2099"], "The date must be today or in the past", "#plan_received-day"),
    ],
)
def test_a_date_that_cannot_be_right(browser, parts, message, target):
    page = browser.post_page(question_url(PLAN, "plan_received"), {"plan_received": parts})
    assert page.error_summary == [(message, target)]
    assert page.value_of("plan_received") == parts, "what was typed is kept"


def test_text_over_its_limit_is_kept_for_shortening(browser):
    answer_up_to(browser, PLAN, "worked_well")
    too_long = "x" * 1201
    page = browser.post_page(question_url(PLAN, "worked_well"), {"worked_well": too_long})
    assert page.error_summary == [("Your answer must be 1,200 characters or fewer", "#worked_well")]
    assert page.soup.select_one("textarea#worked_well").get_text() == too_long
    assert "You can enter up to 1200 characters" in page.text


def test_an_error_on_a_grouped_page_keeps_the_other_answers(browser):
    definition = questionnaire(PATHWAYS)
    answer_up_to(browser, PATHWAYS, "information_topics", aware_local_offer="no", pathways_information="poor")
    page = browser.post_page(
        question_url(PATHWAYS, "information_topics"), {"info_sen_support": "good", "info_adulthood": "not_applicable"}
    )
    assert page.h1 == definition.page("information_topics").title
    assert page.error_summary == [(definition.question("info_assessment").required_message, "#info_assessment")]
    assert page.value_of("info_sen_support") == ["good"]
    assert page.value_of("info_adulthood") == ["not_applicable"]
    # And the answers of earlier pages are still there.
    back = browser.get(question_url(PATHWAYS, "pathways_information"))
    assert back.value_of("pathways_information") == ["poor"]


def test_an_answer_that_is_not_an_option_is_refused(browser):
    page = browser.post_page(question_url(PATHWAYS, "aware_local_offer"), {"aware_local_offer": "maybe"})
    assert page.field_errors == ["Select one of the options"]


def test_an_optional_question_can_be_left_blank(browser):
    assert browser.post_redirect(question_url(PLAN, "plan_received"), {}) == question_url(PLAN, "felt_involved")
    assert "(optional)" in browser.get(question_url(PLAN, "plan_received")).h1


# --- submitting once ---------------------------------------------------------------


def completed_plan(browser: Browser) -> str:
    return complete(browser, questionnaire(PLAN), slug(PLAN))


def test_submitting_twice_stores_one_response_and_shows_the_same_confirmation(browser):
    check_answers = completed_plan(browser)
    form = browser.get(check_answers).form()
    first = browser.client.post(check_answers, data=form)
    second = browser.client.post(check_answers, data=form)  # a double click, or a retry
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    [response] = responses()
    page = browser.get(path_of(second.headers["Location"]))
    assert response.reference in page.text


def test_the_back_button_after_submitting_cannot_send_again(browser):
    check_answers = completed_plan(browser)
    old_form = browser.get(check_answers).form()
    reference = submit(browser, PLAN)
    # Going back shows the confirmation, not the answers.
    assert browser.get_redirect(check_answers) == f"/surveys/{slug(PLAN)}/confirmation"
    # And the old page's form, sent again, is the same submission.
    again = browser.client.post(check_answers, data=old_form)
    assert path_of(again.headers["Location"]) == f"/surveys/{slug(PLAN)}/confirmation"
    assert reference in browser.get(f"/surveys/{slug(PLAN)}/confirmation").text
    assert len(responses()) == 1


def test_a_retry_from_a_browser_that_lost_the_reply_gets_the_same_reference(app, browser):
    check_answers = completed_plan(browser)
    form = browser.get(check_answers).form()
    session_cookie = browser.client.get_cookie("session").value
    browser.client.post(check_answers, data=form)
    reference = responses()[0].reference

    # The first reply (and its new cookie) never arrived: the browser retries
    # with the cookie it had.
    retry = app.test_client()
    retry.set_cookie("session", session_cookie)
    response = retry.post(check_answers, data=form)
    page = check_page(retry.get(path_of(response.headers["Location"])))
    assert reference in page.text
    assert len(responses()) == 1


def test_two_tabs_submitting_at_the_same_moment_store_one_response(app, browser):
    check_answers = completed_plan(browser)
    form = browser.get(check_answers).form()
    session_cookie = browser.client.get_cookie("session").value
    tabs = []
    for _ in range(6):
        tab = app.test_client()
        tab.set_cookie("session", session_cookie)
        tabs.append(tab)
    start = threading.Barrier(len(tabs))
    locations = []

    def send(tab):
        start.wait()
        locations.append(tab.post(check_answers, data=form))

    threads = [threading.Thread(target=send, args=(tab,)) for tab in tabs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status_code for r in locations] == [303] * len(tabs)
    assert len(responses()) == 1


def test_a_new_response_can_be_started_after_sending_one(browser):
    completed_plan(browser)
    reference = submit(browser, PLAN)
    start = browser.get(f"/surveys/{slug(PLAN)}")
    assert "You have sent your answers to this survey" in start.text and reference in start.text
    completed_plan(browser)
    second = submit(browser, PLAN)
    assert second != reference
    assert len(responses()) == 2


def test_the_start_page_offers_to_continue_where_you_left_off(browser):
    answer_plan_up_to_needs(browser, "agree")
    page = browser.get(f"/surveys/{slug(PLAN)}")
    button = page.soup.select_one("a.govuk-button--start")
    assert button.get_text(strip=True) == "Continue where you left off"
    assert button["href"] == question_url(PLAN, "outcomes_good")


def test_the_confirmation_page_needs_a_submission(browser):
    assert browser.get_redirect(f"/surveys/{slug(PLAN)}/confirmation") == f"/surveys/{slug(PLAN)}"


def test_an_expired_draft_is_not_used(browser):
    answer_plan_up_to_needs(browser, "agree")
    db.session.execute(Draft.__table__.update().values(expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    assert browser.get_redirect(question_url(PLAN, "outcomes_good")) == question_url(
        PLAN, questionnaire(PLAN).pages[0].key
    )


# --- closed and unknown surveys -------------------------------------------------------


def test_an_unknown_survey_is_not_found(browser):
    page = browser.get("/surveys/no-such-survey", status=404)
    assert page.h1 == "Page not found"
    browser.get("/surveys/no-such-survey/questions/felt_involved", status=404)


def test_a_closed_survey_says_so(browser, make_run):
    make_run(PLAN, "closed-survey", timedelta(days=-60), timedelta(days=-1))
    page = browser.get("/surveys/closed-survey", status=410)
    assert page.h1 == "This survey has closed"
    browser.get("/surveys/closed-survey/questions/felt_involved", status=410)
    assert browser.client.post("/surveys/closed-survey/check-answers", data={}).status_code in (400, 410)


def test_a_survey_not_open_yet_says_when_it_opens(browser, make_run):
    make_run(PLAN, "future-survey", timedelta(days=2), timedelta(days=30))
    page = browser.get("/surveys/future-survey", status=404)
    assert page.h1 == "This survey is not open yet"


def test_someone_part_way_through_when_a_survey_closes_can_finish(browser):
    check_answers = completed_plan(browser)
    run_table = SurveyRun.__table__
    db.session.execute(
        run_table.update().where(run_table.c.slug == slug(PLAN)).values(closes_at=utcnow() - timedelta(minutes=5))
    )
    db.session.commit()
    runs.forget_cached_runs()
    browser.get(check_answers)
    submit(browser, PLAN)
    # A newcomer is told it has closed.
    newcomer = Browser(browser.client.application.test_client())
    newcomer.get(f"/surveys/{slug(PLAN)}", status=410)


# --- CSRF and the session -------------------------------------------------------------


def test_a_form_without_a_valid_token_explains_and_loses_no_saved_answers(browser):
    answer_up_to(browser, PATHWAYS, "pathways_information", aware_local_offer="no")
    response = browser.client.post(
        question_url(PATHWAYS, "pathways_information"), data={"pathways_information": "good", "csrf_token": "stale"}
    )
    assert response.status_code == 400
    page = check_page(response)
    assert page.h1 == "This page has expired"
    assert page.link("Go back to the page") == question_url(PATHWAYS, "pathways_information")
    assert browser.get(question_url(PATHWAYS, "aware_local_offer")).value_of("aware_local_offer") == ["no"]


def test_sending_answers_without_a_valid_token_stores_nothing(browser):
    check_answers = completed_plan(browser)
    form = browser.get(check_answers).form()
    form["csrf_token"] = ["forged"]
    assert browser.client.post(check_answers, data=form).status_code == 400
    assert responses() == []
    assert browser.get(check_answers).h1 == "Check your answers before sending them"


def test_answers_are_kept_on_the_server_not_in_the_cookie_or_the_address(app, browser):
    secret = "Our caseworker Mrs Example was brilliant"
    answer_up_to(browser, PLAN, "worked_well", felt_involved="agree", plan_reflects_needs="agree")
    location = browser.post_redirect(question_url(PLAN, "worked_well"), {"worked_well": secret})
    assert "Mrs" not in location
    cookie = browser.client.get_cookie("session")
    serializer = app.session_interface.get_signing_serializer(app)
    session = serializer.loads(cookie.value)
    assert set(session) <= {"csrf_token", "drafts", "_permanent"}
    assert secret not in str(session) and "agree" not in str(session)
    assert cookie.http_only and cookie.same_site == "Lax"
    [draft] = db.session.scalars(select(Draft))
    assert draft.answers["worked_well"] == secret
    token = session["drafts"][str(draft.run_id)]
    assert draft.token_hash != token, "the table holds a hash of the token, not the token"


# --- every shipped questionnaire: other routes, every change link ----------------------


def last_answer(question) -> list[str]:
    """The other end of every scale: takes the routes example_form_values does not."""
    if question.type.is_choice:
        return [question.scale_options[-1].value]
    return example_form_values(question)


@pytest.mark.parametrize("key", SHIPPED)
def test_every_shipped_questionnaire_completes_along_its_other_routes(browser, key):
    definition = questionnaire(key)
    check_answers = complete(browser, definition, slug(key), choose=last_answer)
    page = browser.get(check_answers)
    # Each row's change link ends with its question's key (labels can show earlier answers).
    shown = {a["href"].rsplit("#", 1)[1] for a in page.soup.select(".govuk-summary-list__actions a")}
    assert len(shown) == len(page.soup.select(".govuk-summary-list__row"))
    given, _ = routing.prune(definition, {q.key: last_answer(q)[0] for q in definition.questions}, [])
    for question in definition.questions:
        assert (question.key in shown) == question.is_shown(given), question.key
    submit(browser, key)
    assert len(responses()) == 1


@pytest.mark.parametrize("key", SHIPPED)
def test_every_change_link_returns_to_check_answers(browser, key):
    check_answers = complete(browser, questionnaire(key), slug(key))
    page = browser.get(check_answers)
    links = [path_of(a["href"]).split("#")[0] for a in page.soup.select(".govuk-summary-list__actions a")]
    assert len(links) == len(page.soup.select(".govuk-summary-list__row"))
    for link in dict.fromkeys(links):
        question_page = browser.get(link)
        assert question_page.soup.select_one(".govuk-back-link")["href"] == check_answers
        # Continue without changing anything: straight back to check answers.
        assert browser.post_redirect(link, {}) == check_answers
    submit(browser, key)


def test_a_change_to_a_run_reaches_every_worker_within_the_cache_time(browser, monkeypatch):
    browser.get(f"/surveys/{slug(PLAN)}")
    run_table = SurveyRun.__table__
    db.session.execute(
        run_table.update().where(run_table.c.slug == slug(PLAN)).values(closes_at=utcnow() - timedelta(hours=2))
    )
    db.session.commit()
    # Another worker's change: this process still has the run it read.
    browser.get(f"/surveys/{slug(PLAN)}")
    later = runs.time.monotonic() + browser.client.application.config["RUN_CACHE_SECONDS"] + 1
    monkeypatch.setattr(runs.time, "monotonic", lambda: later)
    assert browser.get(f"/surveys/{slug(PLAN)}", status=410).h1 == "This survey has closed"
