"""Survey runs in the officer area: opening, the runs list, a run's page, changing, pausing and closing.

And what respondents see of it: a paused run, a closed one, and the young
people's confirmation page.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from xml.etree import ElementTree

import pytest
from sqlalchemy import select

from survey_app.database import begin_write
from survey_app.extensions import db
from survey_app.models import Access, AuditEvent, Draft, Response, SurveyRun, Wave, utcnow
from survey_app.services import journey, runs
from survey_app.services import questionnaires as questionnaire_service

from .pages import Browser, complete, path_of

PLAN = "ehc_plan_feedback"
YOUNG = "information_young_person"
NEW = "/officer/runs/new"


def version_of(key: str):
    return next(version for version in questionnaire_service.latest_versions() if version.key == key)


def audit_actions() -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def run_titled(title: str) -> SurveyRun:
    db.session.rollback()
    return db.session.scalars(select(SurveyRun).where(SurveyRun.title == title)).one()


def add_responses(run: SurveyRun, *times: datetime) -> None:
    """Store responses sent at these times (UTC), as the journey would."""
    begin_write()
    for at in times:
        db.session.add(
            Response(
                reference=journey.new_reference(),
                submission_key=secrets.token_hex(16),
                run_id=run.id,
                questionnaire_version_id=run.questionnaire_version_id,
                audience="parent_carer",
                language="en",
                submitted_at=at,
            )
        )
    db.session.commit()


def post_button(browser: Browser, url: str, button: str) -> str:
    """Press a button on the page at ``url`` that posts its own form elsewhere; return where it redirects."""
    page = browser.get(url)
    button_element = next(b for b in page.soup.select("form button") if b.get_text(" ", strip=True) == button)
    form = button_element.find_parent("form")
    data = {field["name"]: field.get("value", "") for field in form.select("input[name]")}
    response = browser.client.post(form["action"], data=data)
    assert response.status_code == 303, f"{button}: {response.status_code}"
    return path_of(response.headers["Location"])


def good_run(**changes) -> dict:
    """A valid "Open a survey run" form: opening in two days, for two weeks, at 9am and 5pm UK time."""
    opens = (utcnow() + timedelta(days=2)).date()
    closes = opens + timedelta(days=14)
    fields = {
        "questionnaire": str(version_of(PLAN).id),
        "title": "Your views on EHC plans: spring",
        "audience_description": "Parent carers of children with a new EHC plan",
        "wave": "",
        "new_wave_name": "",
        "opens_on": [str(opens.day), str(opens.month), str(opens.year)],
        "opens_time": "9am",
        "closes_on": [str(closes.day), str(closes.month), str(closes.year)],
        "closes_time": "17:00",
        "access": "open",
        "expected_eligible": "1,250",
        "retention_months": "24",
    }
    fields.update(changes)
    return fields


# Opening a run ---------------------------------------------------------------


def test_an_officer_opens_a_run_in_uk_time_with_a_new_baseline_wave(signed_in):
    officer = signed_in("officer")
    page = officer.get(NEW)
    assert page.value_of("retention_months") == ["24"]
    data = good_run(
        opens_on=["1", "7", "2031"],
        closes_on=["31", "7", "2031"],
        new_wave_name="Baseline summer 2031",
        new_wave_baseline="y",
    )
    location = officer.post_redirect(NEW, data)
    run = run_titled("Your views on EHC plans: spring")
    assert location == f"/officer/runs/{run.id}"
    # 9am on 1 July is 8am UTC (British Summer Time); stored as naive UTC.
    assert run.opens_at == datetime(2031, 7, 1, 8, 0)
    assert run.closes_at == datetime(2031, 7, 31, 16, 0)
    assert run.slug == "your-views-on-ehc-plans-spring"
    assert run.expected_eligible == 1250 and run.retention_months == 24
    assert run.access == Access.OPEN and run.created_by_id is not None
    assert run.wave.name == "Baseline summer 2031" and run.wave.is_baseline
    assert "run_created" in audit_actions()

    page = officer.get(location)
    assert "Your views on EHC plans: spring" in page.h1
    assert "Scheduled" in page.text and "9am on 1 July 2031" in page.text
    # A second run of the same title gets an address of its own.
    officer.post_redirect(NEW, good_run(wave=str(run.wave_id)))
    slugs = set(db.session.scalars(select(SurveyRun.slug).where(SurveyRun.title == run.title)))
    assert slugs == {"your-views-on-ehc-plans-spring", "your-views-on-ehc-plans-spring-2"}


def test_bad_input_keeps_what_was_typed_and_names_each_error(signed_in):
    officer = signed_in("officer")
    db.session.rollback()
    before = db.session.scalar(select(db.func.count()).select_from(SurveyRun))
    page = officer.post_page(
        NEW,
        good_run(
            title="",
            opens_on=["31", "2", "2031"],
            opens_time="quarter past",
            closes_on=["1", "", "2031"],
            expected_eligible="lots",
            retention_months="0",
            audience_description="Families in the north",
        ),
    )
    assert page.title.startswith("Error: ")
    errors = dict(page.error_summary)
    assert errors == {
        "Enter a title": "#title",
        "The opening date must be a real date, like 27 3 2027": "#opens_on-day",
        "Enter the opening time as a time of day, like 9am or 17:30": "#opens_time",
        "The closing date must include a month": "#closes_on-day",
        "The expected number of eligible people must be a whole number, like 250": "#expected_eligible",
        "Months to keep individual responses must be a whole number from 1 to 120": "#retention_months",
    }
    # Everything typed is kept, wrong or not.
    assert page.value_of("opens_on") == ["31", "2", "2031"]
    assert page.value_of("closes_on") == ["1", "", "2031"]
    assert page.value_of("opens_time") == ["quarter past"]
    assert page.value_of("expected_eligible") == ["lots"]
    assert page.value_of("audience_description") == ["Families in the north"]
    assert page.value_of("questionnaire") == [str(version_of(PLAN).id)]
    db.session.rollback()
    assert db.session.scalar(select(db.func.count()).select_from(SurveyRun)) == before


def test_a_run_must_close_after_it_opens_and_in_the_future(signed_in):
    officer = signed_in("officer")
    page = officer.post_page(NEW, good_run(closes_on=["1", "1", "2020"], opens_on=["1", "12", "2019"]))
    assert ("The closing date and time must be in the future", "#closes_on-day") in page.error_summary
    page = officer.post_page(NEW, good_run(opens_time="5pm", closes_on=good_run()["opens_on"], closes_time="9am"))
    assert ("The closing date and time must be after the opening", "#closes_on-day") in page.error_summary


def test_a_new_wave_needs_a_name_of_its_own(signed_in):
    begin_write()
    db.session.add(Wave(name="Wave 2 autumn 2030"))
    db.session.commit()
    officer = signed_in("officer")
    page = officer.post_page(NEW, good_run(new_wave_name="wave 2 AUTUMN 2030"))
    assert page.field_errors == ["There is already a wave called “wave 2 AUTUMN 2030”: choose it from the list"]


def test_viewers_see_the_runs_but_cannot_open_or_change_them(signed_in):
    viewer = signed_in("viewer")
    page = viewer.get("/officer/")
    assert "Open a survey run" not in page.text
    run = run_titled(version_of(PLAN).title)
    assert "Manage this run" not in viewer.get(f"/officer/runs/{run.id}").text
    viewer.get(NEW, status=403)
    viewer.get(f"/officer/runs/{run.id}/edit", status=403)
    viewer.get(f"/officer/runs/{run.id}/close", status=403)
    token = page.soup.find("input", attrs={"name": "csrf_token"})["value"]
    for action in ("pause", "resume", "close"):
        assert viewer.client.post(f"/officer/runs/{run.id}/{action}", data={"csrf_token": token}).status_code == 403
    assert viewer.client.post(NEW, data={"csrf_token": token, **good_run()}).status_code == 403
    assert signed_in("officer").get("/officer/").link("Open a survey run") == NEW


# The runs list and a run's page ---------------------------------------------------


def test_the_runs_list_groups_runs_by_status_with_responses_and_rates(signed_in, make_run):
    make_run(PLAN, "plan-later", timedelta(days=3), timedelta(days=10))
    make_run(PLAN, "plan-last-year", -timedelta(days=400), -timedelta(days=300))
    paused = make_run(PLAN, "plan-paused", -timedelta(days=1), timedelta(days=10))
    runs.pause(paused)
    open_run = db.session.scalar(select(SurveyRun).where(SurveyRun.slug == "ehc-plan-feedback"))
    begin_write()
    open_run.expected_eligible = 40
    db.session.commit()
    add_responses(open_run, utcnow(), utcnow())

    page = signed_in("viewer").get("/officer/")
    headings = [h2.get_text(" ", strip=True) for h2 in page.soup.select("h2")]
    assert headings[:4] == ["Open now (11)", "Paused (1)", "Scheduled (1)", "Closed (1)"]
    rows = {
        tr.find("a")["href"]: [td.get_text(" ", strip=True) for td in tr.select("td")]
        for tr in page.soup.select("tbody tr")
    }
    cells = rows[f"/officer/runs/{open_run.id}"]
    assert cells[1:3] == ["Not in a wave", "Anyone with the link"]
    assert cells[-2:] == ["2", "5% (2 of 40 expected)"]
    assert rows[f"/officer/runs/{paused.id}"][-1] == "Not known"
    assert f"{version_of(PLAN).title}, version {version_of(PLAN).version}" in page.text


def test_run_status_over_time(make_run):
    run = make_run(PLAN, "plan-status", timedelta(hours=1), timedelta(days=1))
    now = utcnow()
    assert runs.status(run, now) == runs.SCHEDULED
    assert runs.status(run, now + timedelta(hours=2)) == runs.OPEN
    assert runs.status(run, now + timedelta(days=2)) == runs.CLOSED
    run.paused_at = now
    assert runs.status(run, now + timedelta(hours=2)) == runs.PAUSED
    assert runs.status(run, now + timedelta(days=2)) == runs.CLOSED


def test_response_rates_use_invitations_or_the_expected_number(make_run):
    run = make_run(PLAN, "plan-rates", -timedelta(days=1), timedelta(days=1))
    assert runs.response_rate(run, 5, 0).percent is None
    run.expected_eligible = 200
    rate = runs.response_rate(run, 19, 0)
    assert (rate.percent, rate.basis) == (9.5, "expected eligible")
    run.access = Access.ANONYMOUS_INVITATIONS
    assert runs.response_rate(run, 3, 0).percent is None
    rate = runs.response_rate(run, 3, 12)
    assert (rate.percent, rate.basis, rate.denominator) == (25, "invitations", 12)


def test_the_run_page_shows_the_link_qr_code_and_submissions_per_day(signed_in):
    run = run_titled(version_of(PLAN).title)
    # 11:30pm UTC on a summer day is already the next day in the UK.
    add_responses(run, datetime(2031, 6, 1, 10), datetime(2031, 6, 1, 23, 30), datetime(2031, 6, 2, 9))
    page = signed_in("viewer").get(f"/officer/runs/{run.id}")
    assert "http://localhost/surveys/ehc-plan-feedback" in page.text
    image = page.soup.find("img", class_="app-qr-code")
    assert image["alt"] == "QR code for the link http://localhost/surveys/ehc-plan-feedback"
    table = page.soup.find("caption", string=lambda text: text and "Responses sent each day" in text).parent
    days = [[td.get_text(" ", strip=True) for td in tr.select("th, td")][:2] for tr in table.select("tbody tr")]
    assert days == [["1 June 2031", "1"], ["2 June 2031", "2"]]
    assert table.find("meter")["value"] == "1" and table.find("meter")["max"] == "2"
    assert not page.soup.select("[style]"), "no inline styles (the content security policy forbids them)"


def sharing_section(page) -> tuple[str, object]:
    """The text of a run page's "Sharing it" section, and the section's elements."""
    heading = page.soup.find("h2", string="Sharing it")
    parts = []
    for sibling in heading.find_next_siblings():
        if sibling.name == "h2":
            break
        parts.append(sibling)
    text = " ".join(part.get_text(" ", strip=True) for part in parts)
    return " ".join(text.split()), parts


def poster_material(parts) -> list:
    """The QR code image and its download link, wherever they are in the section."""
    found = []
    for part in parts:
        for element in [part, *part.find_all(True)]:
            if element.name == "img" and "app-qr-code" in element.get("class", []):
                found.append(element)
            if element.name == "a" and element.get("href", "").endswith("qr-code.svg"):
                found.append(element)
    return found


@pytest.mark.parametrize("state", ["open", "scheduled", "paused", "closed", "closed early"])
def test_the_run_page_says_what_the_link_does_in_each_state(signed_in, make_run, state):
    opens, closes = {
        "open": (-timedelta(days=1), timedelta(days=10)),
        "scheduled": (timedelta(days=3), timedelta(days=10)),
        "paused": (-timedelta(days=1), timedelta(days=10)),
        "closed": (-timedelta(days=20), -timedelta(days=2)),
        "closed early": (-timedelta(days=1), timedelta(days=10)),
    }[state]
    run = make_run(PLAN, "plan-sharing", opens, closes)
    if state == "paused":
        runs.pause(run)
    if state == "closed early":
        runs.close_early(run)
    page = signed_in("viewer").get(f"/officer/runs/{run.id}")
    text, parts = sharing_section(page)
    assert "http://localhost/surveys/plan-sharing" in text
    poster = poster_material(parts)
    if state == "open":
        assert text.startswith("Anyone with this link can answer")
        assert "Put it on posters and letters" in text and len(poster) == 2
    elif state == "scheduled":
        when = page.soup.find("dt", string=lambda s: s and s.strip() == "Opens").find_next("dd").get_text(strip=True)
        assert f"It opens at {when}" in text and "told when it opens" in text
        assert "Anyone with this link can answer" not in text
        assert "ready for when it opens" in text and len(poster) == 2, "posters can be printed before it opens"
    elif state == "paused":
        assert "paused" in text and "Nobody can answer" in text and "told it is paused" in text
        assert "Anyone with this link can answer" not in text and "Put it on posters" not in text
        assert "work again when it is resumed" in text and len(poster) == 2
    else:
        assert "closed" in text and "told it has closed" in text and "Nobody can start answering" in text
        assert "Anyone with this link can answer" not in text and "posters" in text  # take them down
        assert "Put it on posters" not in text and poster == [], "no QR code for a closed run"
        assert not page.soup.select("a[href='http://localhost/surveys/plan-sharing']")


@pytest.mark.parametrize("state", ["open", "scheduled", "paused", "closed"])
def test_an_invitation_runs_page_says_whether_the_links_work(signed_in, make_run, state):
    opens, closes = {
        "open": (-timedelta(days=1), timedelta(days=10)),
        "scheduled": (timedelta(days=3), timedelta(days=10)),
        "paused": (-timedelta(days=1), timedelta(days=10)),
        "closed": (-timedelta(days=20), -timedelta(days=2)),
    }[state]
    run = make_run(PLAN, "plan-invited", opens, closes)
    begin_write()
    run.access = Access.ANONYMOUS_INVITATIONS
    db.session.commit()
    if state == "paused":
        runs.pause(run)
    page = signed_in("viewer").get(f"/officer/runs/{run.id}")
    text, parts = sharing_section(page)
    assert poster_material(parts) == []
    expected = {
        "open": ["Only people with their own invitation link can answer", "told it is by invitation"],
        "scheduled": ["can answer from when it opens at", "told when it opens"],
        "paused": ["Nobody can answer while it is paused", "work again when it is resumed", "told it is paused"],
        "closed": ["It has closed, so the invitation links no longer work", "told it has closed"],
    }[state]
    for words in expected:
        assert words in text, text
    if state != "open":
        assert "told it is by invitation" not in text


def test_the_qr_code_is_an_svg_image_of_the_public_link(app, signed_in):
    run = run_titled(version_of(PLAN).title)
    viewer = signed_in("viewer")
    response = viewer.client.get(f"/officer/runs/{run.id}/qr-code.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert 'filename="qr-code-ehc-plan-feedback.svg"' in response.headers["Content-Disposition"]
    root = ElementTree.fromstring(response.data)  # noqa: S314 - the app's own output
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert int(root.get("width")) >= 200 and root.find(".//{http://www.w3.org/2000/svg}path") is not None
    app.config["PUBLIC_URL"] = "https://have-your-say.example.gov.uk"
    try:
        page = viewer.get(f"/officer/runs/{run.id}")
        assert "https://have-your-say.example.gov.uk/surveys/ehc-plan-feedback" in page.text
        assert viewer.client.get(f"/officer/runs/{run.id}/qr-code.svg").data != response.data
    finally:
        app.config["PUBLIC_URL"] = ""
    viewer.get("/officer/runs/999999", status=404)
    assert viewer.client.get("/officer/runs/999999/qr-code.svg").status_code == 404


def test_the_run_page_links_only_to_pages_that_exist(app, signed_in):
    run = run_titled(version_of(PLAN).title)
    page = signed_in("officer").get(f"/officer/runs/{run.id}")
    links = {a["href"] for a in page.soup.select("a")}
    for endpoint, path in (
        ("officer.responses", "responses"),
        ("officer.comments", "comments"),
        ("officer.export", "export"),
    ):
        if endpoint in app.view_functions:
            with app.test_request_context():
                from flask import url_for

                assert url_for(endpoint, run_id=run.id) in links
        else:
            assert not any(path in link for link in links)
    assert f"/officer/runs/{run.id}/edit" in links


# Changing, pausing and closing -----------------------------------------------------


def test_changing_a_run_keeps_its_address_and_locks_what_answers_depend_on(signed_in, make_run):
    run = make_run(PLAN, "plan-to-change", -timedelta(days=1), timedelta(days=10))
    officer = signed_in("officer")
    url = f"/officer/runs/{run.id}/edit"
    page = officer.get(url)
    # It has opened: the opening time is history.
    assert not page.value_of("opens_time") and "opened" in page.text
    assert page.value_of("questionnaire") and page.value_of("access") == ["open"]
    closes = (utcnow() + timedelta(days=30)).date()
    officer.post_redirect(
        url, {"title": "Plan feedback (extended)", "closes_on": [str(closes.day), str(closes.month), str(closes.year)]}
    )
    run = run_titled("Plan feedback (extended)")
    assert run.slug == "plan-to-change" and run.closes_at.date() in (closes, closes - timedelta(days=1))
    assert audit_actions()[-1] == "run_changed"

    add_responses(run, utcnow())
    page = officer.get(url)
    assert not page.value_of("questionnaire") and not page.value_of("access")
    assert "cannot change" in page.text
    # A forged post cannot change them either.
    officer.post_redirect(url, {"questionnaire": str(version_of(YOUNG).id), "access": "identified_invitations"})
    run = run_titled("Plan feedback (extended)")
    assert run.questionnaire_version_id == version_of(PLAN).id and run.access == Access.OPEN


def test_pausing_keeps_answers_in_progress_and_resuming_lets_people_carry_on(signed_in, browser):
    questionnaire = questionnaire_service.library().questionnaires[PLAN]
    first, second = questionnaire.pages[0].key, questionnaire.pages[1].key
    complete(browser, questionnaire, "ehc-plan-feedback", until=second)
    run = run_titled(version_of(PLAN).title)
    officer = signed_in("officer")
    assert post_button(officer, f"/officer/runs/{run.id}", "Pause it") == f"/officer/runs/{run.id}"
    runs.forget_cached_runs()
    for url in ("/surveys/ehc-plan-feedback", f"/surveys/ehc-plan-feedback/questions/{first}"):
        page = browser.get(url, status=503)
        assert page.h1 == "This survey is paused"
    assert "ehc-plan-feedback" not in browser.get("/").text
    db.session.rollback()
    assert db.session.scalar(select(db.func.count()).select_from(Draft).where(Draft.run_id == run.id)) == 1

    assert "Paused since" in officer.get(f"/officer/runs/{run.id}").text
    assert post_button(officer, f"/officer/runs/{run.id}", "Resume it") == f"/officer/runs/{run.id}"
    runs.forget_cached_runs()
    assert browser.get_redirect(f"/surveys/ehc-plan-feedback/questions/{questionnaire.pages[2].key}") == (
        f"/surveys/ehc-plan-feedback/questions/{second}"
    ), "the answers given before the pause are still there"
    assert audit_actions()[-2:] == ["run_paused", "run_resumed"]


def test_pause_and_resume_need_a_csrf_token(signed_in):
    run = run_titled(version_of(PLAN).title)
    officer = signed_in("officer")
    assert officer.client.post(f"/officer/runs/{run.id}/pause").status_code == 400
    assert run_titled(run.title).paused_at is None


def test_a_paused_drafts_expiry_waits_for_the_pause(make_run):
    run = make_run(PLAN, "plan-expiry", -timedelta(days=1), timedelta(days=10))
    begin_write()
    db.session.add(
        Draft(token_hash="a" * 64, run_id=run.id, submission_key="b" * 32, expires_at=utcnow() + timedelta(hours=1))
    )
    db.session.commit()
    runs.pause(run)
    begin_write()
    run.paused_at = utcnow() - timedelta(hours=5)  # as if paused five hours ago
    db.session.commit()
    runs.resume(run)
    draft = db.session.scalars(select(Draft).where(Draft.run_id == run.id)).one()
    assert draft.expires_at > utcnow() + timedelta(hours=5)


def test_closing_early_asks_first_keeps_responses_and_tells_respondents(signed_in, browser):
    run = run_titled(version_of(PLAN).title)
    add_responses(run, utcnow())
    officer = signed_in("officer")
    page = officer.get(f"/officer/runs/{run.id}/close")
    assert page.h1 == "Are you sure you want to close this survey run now?"
    assert officer.post_redirect(f"/officer/runs/{run.id}/close", {}) == f"/officer/runs/{run.id}"
    run = run_titled(run.title)
    assert run.closed_early_at is not None and run.closes_at <= utcnow()
    assert runs.status(run) == runs.CLOSED
    assert audit_actions()[-1] == "run_closed"
    runs.forget_cached_runs()
    assert browser.get("/surveys/ehc-plan-feedback", status=410).h1 == "This survey has closed"
    page = officer.get(f"/officer/runs/{run.id}")
    assert "closed early" in page.text and "Close it early" not in page.text
    db.session.rollback()
    assert db.session.scalar(select(db.func.count()).select_from(Response).where(Response.run_id == run.id)) == 1
    # A closed run's details can still be corrected without moving its closing time.
    officer.post_redirect(f"/officer/runs/{run.id}/edit", {"title": "EHC plans (closed)"})
    assert run_titled("EHC plans (closed)").closes_at == run.closes_at


# The young people's confirmation page ---------------------------------------------


@pytest.mark.parametrize("language", ["en", "cy"])
def test_a_young_persons_confirmation_says_who_to_talk_to(browser, language):
    questionnaire = questionnaire_service.library().questionnaires[YOUNG]
    slug = YOUNG.replace("_", "-")
    check = complete(browser, questionnaire, slug)
    browser.post_redirect(check, {})
    if language == "cy":
        browser.client.get(f"/change-language?to=cy&next=/surveys/{slug}/confirmation")
    page = browser.get(f"/surveys/{slug}/confirmation")
    expected = {
        "en": ["If you are worried", "Childline free on 0800 1111", "call 999"],
        "cy": ["Os ydych chi'n poeni", "Childline am ddim ar 0800 1111", "ffoniwch 999"],
    }[language]
    for text in expected:
        assert text in page.text
    assert page.soup.find("a", href="https://www.childline.org.uk")


def test_other_confirmations_do_not_show_the_young_peoples_section(browser):
    questionnaire = questionnaire_service.library().questionnaires[PLAN]
    browser.post_redirect(complete(browser, questionnaire, "ehc-plan-feedback"), {})
    assert "Childline" not in browser.get("/surveys/ehc-plan-feedback/confirmation").text
