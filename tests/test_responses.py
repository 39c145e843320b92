"""The responses table, one response, and one plan's responses side by side."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from questionnaires.examples import example_form_values
from survey_app.extensions import db
from survey_app.models import Access, AuditEvent, Response, SurveyRun, utcnow
from survey_app.services import questionnaires as questionnaire_service
from survey_app.services import runs
from survey_app.services.questionnaires import questionnaire_of

from .pages import complete
from .stored import invited_response, store_response

SCRIPT = "<script>alert('x')</script>"


def run_of(slug: str) -> SurveyRun:
    return db.session.scalar(select(SurveyRun).filter_by(slug=slug))


def references_on(page) -> list[str]:
    return [link.get_text(strip=True) for link in page.soup.select("table a[href^='/officer/responses/']")]


# --- The table ------------------------------------------------------------------


def test_table_lists_newest_first_with_answers_in_words(signed_in):
    run = run_of("ehc-plan-feedback")
    older = store_response(run, {"school_phase": "primary", "locality": "dont_know"}, utcnow() - timedelta(days=2))
    newer = store_response(run, {"school_phase": "secondary", "primary_need": "asd"}, language="cy")
    page = signed_in("officer").get(f"/officer/runs/{run.id}/responses")
    assert references_on(page) == [newer.reference, older.reference]
    assert "Primary school (Reception to Year 6)" in page.text
    assert "Autism (autistic spectrum disorder)" in page.text
    assert "Welsh" in page.text
    assert "2 responses, newest first" in page.text
    assert "Plan reference" not in page.text  # an open run's responses never carry one
    assert page.link(newer.reference) == f"/officer/responses/{newer.reference}"


def test_table_is_paginated_fifty_to_a_page_keeping_the_filters(signed_in):
    run = run_of("ehc-plan-feedback")
    start = utcnow() - timedelta(hours=2)
    made = [store_response(run, {"school_phase": "primary"}, start + timedelta(minutes=i)) for i in range(51)]
    store_response(run, {"school_phase": "secondary"})
    browser = signed_in("officer")
    first = browser.get(f"/officer/runs/{run.id}/responses?school_phase=primary")
    assert len(references_on(first)) == 50
    assert references_on(first)[0] == made[-1].reference
    next_page = first.soup.select_one(".govuk-pagination__next a")["href"]
    assert "school_phase=primary" in next_page and "page=2" in next_page
    second = browser.get(next_page)
    assert references_on(second) == [made[0].reference]
    assert second.soup.select_one(".govuk-pagination__prev a")


def test_filter_by_each_context_question(signed_in):
    run = run_of("send-pathways-information")
    secondary = store_response(run, {"school_phase": "secondary", "support_type": "ehc_plan", "locality": "dont_know"})
    primary = store_response(run, {"school_phase": "primary", "support_type": "sen_support"})
    browser = signed_in("officer")
    url = f"/officer/runs/{run.id}/responses"
    page = browser.get(url)
    labels = [label.get_text(strip=True) for label in page.soup.select("form label.govuk-label--s")]
    assert {"Stage of education", "Type of support", "Area"} <= set(labels)
    assert references_on(browser.get(f"{url}?school_phase=secondary")) == [secondary.reference]
    assert references_on(browser.get(f"{url}?support_type=sen_support")) == [primary.reference]
    assert references_on(browser.get(f"{url}?school_phase=secondary&support_type=sen_support")) == []
    assert "No responses match these filters" in browser.get(f"{url}?school_phase=post_19").text
    # An option the question does not have is ignored rather than matching nothing.
    assert len(references_on(browser.get(f"{url}?school_phase=nonsense"))) == 2


def test_filter_by_completed_with_support(signed_in):
    run = run_of("outcomes-young-person")
    alone = store_response(run, {"completed_with_support": "alone"})
    helped = store_response(run, {"completed_with_support": "with_help"})
    browser = signed_in("officer")
    page = browser.get(f"/officer/runs/{run.id}/responses?completed_with_support=with_help")
    assert references_on(page) == [helped.reference]
    assert "Who answered" in page.text
    assert "Someone is helping me" in page.text
    page = browser.get(f"/officer/runs/{run.id}/responses?completed_with_support=alone")
    assert references_on(page) == [alone.reference]


def test_filter_by_dates_in_uk_time(signed_in):
    run = run_of("annual-review")
    # 11:30pm UTC on 30 June is 12:30am on 1 July in the UK (summer time).
    june = store_response(run, {}, datetime(2025, 6, 30, 22, 30))
    july = store_response(run, {}, datetime(2025, 6, 30, 23, 30))
    august = store_response(run, {}, datetime(2025, 8, 2, 9, 0))
    browser = signed_in("officer")
    url = f"/officer/runs/{run.id}/responses"
    from_july = "submitted_from=1&submitted_from=7&submitted_from=2025"
    to_july = "submitted_to=31&submitted_to=7&submitted_to=2025"
    assert references_on(browser.get(f"{url}?{from_july}")) == [august.reference, july.reference]
    assert references_on(browser.get(f"{url}?{to_july}")) == [july.reference, june.reference]
    assert references_on(browser.get(f"{url}?{from_july}&{to_july}")) == [july.reference]


def test_a_bad_date_is_explained_and_the_other_filters_still_apply(signed_in):
    run = run_of("ehc-plan-feedback")
    primary = store_response(run, {"school_phase": "primary"})
    store_response(run, {"school_phase": "secondary"})
    browser = signed_in("officer")
    url = f"/officer/runs/{run.id}/responses"
    page = browser.get(f"{url}?submitted_from=31&submitted_from=2&submitted_from=2025&school_phase=primary")
    assert page.title.startswith("Error: ")
    assert page.error_summary == [("Submitted from date must be a real date, like 27 3 2026", "#submitted_from-day")]
    assert references_on(page) == [primary.reference]
    assert page.value_of("submitted_from") == ["31", "2", "2025"]
    page = browser.get(f"{url}?submitted_to=&submitted_to=5&submitted_to=2025")
    assert page.error_summary == [("Submitted to date must include a day", "#submitted_to-day")]
    assert len(references_on(page)) == 2
    page = browser.get(
        f"{url}?submitted_from=2&submitted_from=5&submitted_from=2025&submitted_to=1&submitted_to=5&submitted_to=2025"
    )
    assert page.field_errors == ["Submitted to date must be the same as or after the submitted from date"]


def test_unknown_run_is_404_and_viewers_are_refused(signed_in):
    run = run_of("ehc-plan-feedback")
    response = store_response(run, {})
    signed_in("officer").get("/officer/runs/999999/responses", status=404)
    viewer = signed_in("viewer")
    viewer.get(f"/officer/runs/{run.id}/responses", status=403)
    viewer.get(f"/officer/responses/{response.reference}", status=403)
    viewer.get("/officer/plans", status=403)


# --- One response ---------------------------------------------------------------


def test_response_page_shows_every_question_in_words_with_text_escaped(signed_in):
    run = run_of("ehc-plan-feedback")
    response = store_response(
        run,
        {
            "felt_involved": "agree",
            "needs_missing": ["health", "social_care"],
            "school_phase": "primary",
            "worked_well": f"{SCRIPT}\nSecond line",
        },
    )
    page = signed_in("officer").get(f"/officer/responses/{response.reference}")
    html = page.response.get_data(as_text=True)
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert page.h1 == f"Response {response.reference}"
    questionnaire = questionnaire_of(run.questionnaire_version)
    keys = [row.get_text(" ", strip=True) for row in page.soup.select(".govuk-summary-list__key")]
    for question in questionnaire.questions:
        if question.section.value != "equality" and not question.pipes:
            assert question.label in keys
    assert not any("ethnic" in key.lower() for key in keys)
    assert "Primary school (Reception to Year 6)" in page.text
    assert "Not answered" in page.text


def test_response_page_links_to_its_plan(signed_in):
    response = invited_response(identified_run("ehc-plan-feedback"), "EHC/2025/0042", {})
    page = signed_in("officer").get(f"/officer/responses/{response.reference}")
    assert page.link("see every view of this plan") == "/officer/plans/EHC/2025/0042"


def test_response_answered_through_the_journey(browser, signed_in):
    questionnaire = questionnaire_service.library().questionnaires["annual_review"]

    def choose(question):
        if question.key == "worked_well":
            return [SCRIPT]
        return example_form_values(question)

    check = complete(browser, questionnaire, "annual-review", choose)
    assert browser.post_redirect(check, {}).endswith("/confirmation")
    stored = db.session.scalar(select(Response).where(Response.run_id == run_of("annual-review").id))
    officer_page = signed_in("officer").get(f"/officer/responses/{stored.reference}")
    assert "&lt;script&gt;" in officer_page.response.get_data(as_text=True)
    assert SCRIPT not in officer_page.response.get_data(as_text=True)
    assert stored.plan_reference is None and "plan reference" not in officer_page.text.lower()


def test_unknown_response_is_404(signed_in):
    signed_in("officer").get("/officer/responses/NOSUCH-REFER", status=404)


# --- One plan, every view ----------------------------------------------------------


def identified_run(slug: str) -> SurveyRun:
    """A run by identified invitation of the same questionnaire as the demo run ``slug``."""
    version = run_of(slug).questionnaire_version
    now = utcnow()
    return runs.open_run(
        version,
        f"{slug}-by-invitation",
        version.title,
        now,
        now + timedelta(days=20),
        access=Access.IDENTIFIED_INVITATIONS,
    )


def _views(reference: str) -> list[Response]:
    """The family's and the setting's answers about one plan, each through its identified invitation."""
    parent = invited_response(
        identified_run("ehc-plan-feedback"),
        reference,
        {"school_phase": "secondary", "worked_well": "The plan is clear", "felt_involved": "agree"},
    )
    setting = invited_response(
        identified_run("ehc-plan-feedback-setting"),
        reference,
        {"school_phase": "primary", "setting_name": "Hill View School", "worked_well": SCRIPT},
    )
    return [parent, setting]


def test_plan_view_puts_the_family_and_the_setting_side_by_side(signed_in):
    parent, setting = _views("EHC/2025/0042")
    page = signed_in("officer").get("/officer/plans/EHC/2025/0042")
    headings = [th.get_text(" ", strip=True) for th in page.soup.select("thead th")]
    assert [heading.split(" Response")[0] for heading in headings] == ["Parent or carer", "Setting"]
    assert [r.reference for r in (parent, setting)] == [
        heading.split("Response ")[1].split(",")[0].strip() for heading in headings
    ]
    rows = {
        row.th.get_text(" ", strip=True): [cell.get_text(" ", strip=True) for cell in row.find_all("td")]
        for row in page.soup.select("tbody tr")
    }
    phase = next(cells for label, cells in rows.items() if label.startswith("Which stage of education"))
    assert phase[0] == "Secondary school (Year 7 to Year 11)"
    assert phase[1].startswith("Primary school")
    worked_well = next(cells for label, cells in rows.items() if "worked well" in label.lower())
    assert worked_well[0].startswith("The plan is clear")
    assert SCRIPT not in page.response.get_data(as_text=True)
    assert "Hill View School" in page.text
    assert not any("plan reference" in label.lower() for label in rows)


def test_a_plan_joins_only_references_that_came_from_invitations(signed_in):
    """A reference typed into a version that asked for one, or a young person's, joins nothing."""
    _views("EHC-5150")
    typed = store_response(run_of("ehc-plan-feedback"), {"worked_well": "Typed by someone"}, plan_reference="EHC-5150")
    typed_alone = store_response(run_of("annual-review"), {}, plan_reference="EHC-6000")
    # As a young people's run by identified invitation stored it before such runs were refused.
    young_person = invited_response(run_of("my-plan-my-review"), "EHC-5150", {"could_be_better": "More help in maths"})
    officer = signed_in("officer")
    page = officer.get("/officer/plans/EHC-5150")
    headings = [th.get_text(" ", strip=True) for th in page.soup.select("thead th")]
    assert [heading.split(" Response")[0] for heading in headings] == ["Parent or carer", "Setting"]
    for response in (typed, young_person):
        assert response.reference not in page.text
    assert "Typed by someone" not in page.text and "More help in maths" not in page.text
    officer.get("/officer/plans/EHC-6000", status=404)
    listed = [row.find("td").get_text(strip=True) for row in officer.get("/officer/plans").soup.select("tbody tr")]
    assert listed == ["EHC-5150"]
    assert typed_alone.plan_reference == "EHC-6000", "the test stored a typed reference, which must not show"


def test_plan_view_is_audited_with_the_number_of_responses(signed_in):
    _views("EHC-9")
    signed_in("admin").get("/officer/plans/EHC-9")
    event = db.session.scalar(select(AuditEvent).filter_by(action="plan_viewed"))
    assert event.subject == "Plan EHC-9"
    assert event.details == {"responses": 2}
    assert event.actor == "admin@example.gov.uk"


def test_plans_list_counts_each_audience_and_searches(signed_in):
    _views("EHC-1001")
    invited_response(identified_run("annual-review"), "EHC-2002", {})
    store_response(run_of("ehc-plan-feedback"), {})
    browser = signed_in("officer")
    page = browser.get("/officer/plans")
    headings = [th.get_text(strip=True) for th in page.soup.select("thead th")]
    assert headings == ["Plan reference", "Parent or carer", "Setting", "Professional", "Latest response"]
    rows = {
        row.find("td").get_text(strip=True): [cell.get_text(strip=True) for cell in row.find_all("td")[1:4]]
        for row in page.soup.select("tbody tr")
    }
    assert rows == {"EHC-1001": ["1", "1", "0"], "EHC-2002": ["1", "0", "0"]}
    page = browser.get("/officer/plans?reference=1001")
    assert [row.find("td").get_text(strip=True) for row in page.soup.select("tbody tr")] == ["EHC-1001"]
    assert "No plan reference contains" in browser.get("/officer/plans?reference=%25").text


def test_plan_view_refuses_viewers_and_unknown_plans(signed_in):
    _views("EHC-77")
    signed_in("viewer").get("/officer/plans/EHC-77", status=403)
    signed_in("officer").get("/officer/plans/NOT-A-PLAN", status=404)
    assert db.session.scalar(select(AuditEvent).filter_by(action="plan_viewed")) is None
