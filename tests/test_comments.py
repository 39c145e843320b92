"""The comments page: tags, follow-up, risk words, personal details and redaction."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Answer, AuditEvent, CommentTag, FollowUp, Redaction, utcnow

from .pages import check_page
from .stored import store_response
from .test_responses import SCRIPT, run_of


def answer_of(response, key: str) -> Answer:
    return db.session.scalar(select(Answer).filter_by(response_id=response.id, question_key=key))


def csrf_token(page) -> str:
    return page.soup.select_one("input[name=csrf_token]")["value"]


def audit_events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).filter_by(action=action).order_by(AuditEvent.id)))


def card(page, answer: Answer):
    return page.soup.find(id=f"comment-{answer.id}")


def comments_url(run) -> str:
    return f"/officer/runs/{run.id}/comments"


# --- Reading comments ---------------------------------------------------------------


def test_comments_are_listed_by_question_newest_first_and_escaped(signed_in):
    run = run_of("ehc-plan-feedback")
    older = store_response(run, {"worked_well": "The letters were clear"}, utcnow() - timedelta(days=1))
    newer = store_response(
        run, {"worked_well": SCRIPT, "could_be_better": "Answer the phone", "plan_reference": "EHC-55"}
    )
    page = signed_in("officer").get(comments_url(run))
    html = page.response.get_data(as_text=True)
    assert SCRIPT not in html and "&lt;script&gt;" in html
    headings = [h2.get_text(strip=True) for h2 in page.soup.select("h2.govuk-heading-m")]
    assert headings[1:] == ["What worked well?", "What could have been better?"]
    cards = [div["id"] for div in page.soup.select(".govuk-summary-card")]
    assert cards == [
        f"comment-{answer_of(newer, 'worked_well').id}",
        f"comment-{answer_of(older, 'worked_well').id}",
        f"comment-{answer_of(newer, 'could_be_better').id}",
    ]
    assert "EHC-55" not in page.text  # the plan reference is not a comment
    assert page.link(newer.reference) == f"/officer/responses/{newer.reference}"


def test_filter_by_question(signed_in):
    run = run_of("ehc-plan-feedback")
    store_response(run, {"worked_well": "Kind staff", "could_be_better": "Faster replies"})
    page = signed_in("officer").get(f"{comments_url(run)}?question=could_be_better")
    assert "Faster replies" in page.text and "Kind staff" not in page.text


def test_viewers_are_refused_and_unknown_ids_are_404(signed_in):
    run = run_of("ehc-plan-feedback")
    response = store_response(run, {"worked_well": "Good", "felt_involved": "agree"})
    viewer = signed_in("viewer")
    viewer.get(comments_url(run), status=403)
    viewer.get(f"/officer/comments/{answer_of(response, 'worked_well').id}/redact", status=403)
    officer = signed_in("officer")
    officer.get("/officer/runs/999999/comments", status=404)
    officer.get("/officer/comments/999999/redact", status=404)
    # Only free-text answers are comments.
    officer.get(f"/officer/comments/{answer_of(response, 'felt_involved').id}/redact", status=404)


# --- Tags --------------------------------------------------------------------------------


def test_tags_record_who_and_when_are_audited_and_keep_the_filters(signed_in):
    run = run_of("ehc-plan-feedback")
    response = store_response(run, {"worked_well": "The caseworker was kind"})
    other = store_response(run, {"worked_well": "Nothing"})
    answer = answer_of(response, "worked_well")
    browser = signed_in("officer")
    page = browser.get(f"{comments_url(run)}?question=worked_well")
    suggestions = [option["value"] for option in page.soup.select("datalist#tag-suggestions option")]
    assert "communication" in suggestions and "praise" in suggestions
    form = card(page, answer).find("form", action=lambda action: action and "/tags" in action)
    assert "question=worked_well" in form["action"]
    assert card(page, answer).find("input", attrs={"name": "tag"})["list"] == "tag-suggestions"

    posted = browser.client.post(form["action"], data={"csrf_token": csrf_token(page), "tag": "  Praise "})
    assert posted.status_code == 303
    assert posted.headers["Location"].endswith(f"{comments_url(run)}?question=worked_well#comment-{answer.id}")
    tag = db.session.scalar(select(CommentTag).filter_by(answer_id=answer.id))
    assert tag.tag == "praise"  # spelt as the suggested tag
    assert tag.added_by.email == "officer@example.gov.uk" and tag.added_at is not None
    (event,) = audit_events("comment_tagged")
    assert event.actor == "officer@example.gov.uk"
    assert event.details == {"answer_id": answer.id, "run_id": run.id}

    browser.get(comments_url(run))  # where the redirect goes, showing the message
    browser.client.post(
        f"/officer/comments/{answer.id}/tags", data={"csrf_token": csrf_token(page), "tag": "Home to school transport"}
    )
    page = browser.get(f"{comments_url(run)}?tag=praise")
    assert card(page, answer) is not None and card(page, answer_of(other, "worked_well")) is None
    shown = card(page, answer).get_text(" ", strip=True)
    assert "praise added by officer@example.gov.uk" in shown
    # A tag someone typed is offered to everyone from then on.
    assert "Home to school transport" in [o["value"] for o in page.soup.select("datalist#tag-suggestions option")]

    removed = browser.client.post(
        f"/officer/comments/{answer.id}/tags/remove?tag=praise", data={"csrf_token": csrf_token(page), "tag": "praise"}
    )
    assert removed.status_code == 303
    assert [t.tag for t in db.session.scalars(select(CommentTag).filter_by(answer_id=answer.id))] == [
        "Home to school transport"
    ]
    (event,) = audit_events("comment_untagged")
    assert event.details == {"answer_id": answer.id, "run_id": run.id}


def test_an_empty_tag_is_explained_on_the_comment(signed_in):
    run = run_of("ehc-plan-feedback")
    answer = answer_of(store_response(run, {"worked_well": "Fine"}), "worked_well")
    browser = signed_in("officer")
    page = browser.get(comments_url(run))
    response = browser.client.post(f"/officer/comments/{answer.id}/tags", data={"csrf_token": csrf_token(page)})
    page = check_page(response)
    assert page.error_summary == [("Enter a tag", f"#tag-{answer.id}")]
    too_long = "x" * 51
    page = check_page(
        browser.client.post(
            f"/officer/comments/{answer.id}/tags", data={"csrf_token": csrf_token(page), "tag": too_long}
        )
    )
    assert page.field_errors == ["Tag must be 50 characters or fewer"]
    assert page.soup.find(id=f"tag-{answer.id}")["value"] == too_long
    assert db.session.scalar(select(CommentTag)) is None


def test_posting_without_the_csrf_token_is_refused(signed_in):
    run = run_of("ehc-plan-feedback")
    answer = answer_of(store_response(run, {"worked_well": "Fine"}), "worked_well")
    response = signed_in("officer").client.post(f"/officer/comments/{answer.id}/tags", data={"tag": "praise"})
    assert response.status_code == 400
    assert db.session.scalar(select(CommentTag)) is None


# --- Follow-up ---------------------------------------------------------------------------


def test_follow_up_is_flagged_and_resolved_with_who_and_when(signed_in):
    run = run_of("ehc-plan-feedback")
    answer = answer_of(store_response(run, {"could_be_better": "Nobody replied for weeks"}), "could_be_better")
    other = answer_of(store_response(run, {"could_be_better": "All fine"}), "could_be_better")
    officer, admin = signed_in("officer"), signed_in("admin")
    page = officer.get(comments_url(run))
    flagged = officer.client.post(
        f"/officer/comments/{answer.id}/follow-up",
        data={"csrf_token": csrf_token(page), "note": "Ask the team manager to call"},
    )
    assert flagged.status_code == 303 and flagged.headers["Location"].endswith(f"#comment-{answer.id}")
    follow_up = db.session.scalar(select(FollowUp).filter_by(answer_id=answer.id))
    assert follow_up.flagged_by.email == "officer@example.gov.uk" and follow_up.flagged_at is not None
    assert follow_up.note == "Ask the team manager to call" and follow_up.resolved_at is None
    (event,) = audit_events("follow_up_flagged")
    assert event.details == {"answer_id": answer.id, "run_id": run.id}

    page = admin.get(f"{comments_url(run)}?follow_up=open")
    assert card(page, answer) is not None and card(page, other) is None
    shown = card(page, answer).get_text(" ", strip=True)
    assert "Needs follow-up" in shown and "Flagged by officer@example.gov.uk" in shown
    assert "Note: Ask the team manager to call" in shown

    done = admin.client.post(f"/officer/comments/{answer.id}/follow-up/done", data={"csrf_token": csrf_token(page)})
    assert done.status_code == 303
    db.session.expire_all()
    follow_up = db.session.scalar(select(FollowUp).filter_by(answer_id=answer.id))
    assert follow_up.resolved_by.email == "admin@example.gov.uk" and follow_up.resolved_at is not None
    (event,) = audit_events("follow_up_resolved")
    assert event.actor == "admin@example.gov.uk"
    page = admin.get(f"{comments_url(run)}?follow_up=done")
    assert "Marked done by admin@example.gov.uk" in card(page, answer).get_text(" ", strip=True)
    assert card(admin.get(f"{comments_url(run)}?follow_up=open"), answer) is None


# --- Risk words --------------------------------------------------------------------------


def test_young_peoples_comments_with_risk_words_come_first(signed_in):
    young = run_of("outcomes-young-person")
    risky = answer_of(store_response(young, {"could_be_better": "Sometimes I want to hurt myself."}), "could_be_better")
    calm = answer_of(store_response(young, {"could_be_better": "More trips please"}), "could_be_better")
    browser = signed_in("officer")
    page = browser.get(comments_url(young))
    section = page.soup.find("section", attrs={"aria-labelledby": "risk-heading"})
    assert section.h2.get_text(strip=True) == "Comments that may need safeguarding follow-up"
    assert section.find(id=f"comment-{risky.id}") is not None
    assert section.find(id=f"comment-{calm.id}") is None
    assert "Mentions: “hurt myself”" in section.get_text(" ", strip=True)
    assert section.select_one(".govuk-warning-text")
    # Not repeated below.
    assert len(page.soup.find_all(id=f"comment-{risky.id}")) == 1

    # It stays at the top once flagged, until the follow-up is marked done.
    browser.client.post(f"/officer/comments/{risky.id}/follow-up", data={"csrf_token": csrf_token(page)})
    page = browser.get(comments_url(young))
    assert page.soup.find("section", attrs={"aria-labelledby": "risk-heading"}).find(id=f"comment-{risky.id}")
    browser.client.post(f"/officer/comments/{risky.id}/follow-up/done", data={"csrf_token": csrf_token(page)})
    page = browser.get(comments_url(young))
    assert page.soup.find("section", attrs={"aria-labelledby": "risk-heading"}) is None
    assert card(page, risky) is not None


def test_the_same_words_from_a_parent_are_not_put_first(signed_in):
    run = run_of("ehc-plan-feedback")
    answer = answer_of(
        store_response(run, {"could_be_better": "My child said I want to hurt myself"}), "could_be_better"
    )
    page = signed_in("officer").get(comments_url(run))
    assert page.soup.find("section", attrs={"aria-labelledby": "risk-heading"}) is None
    assert card(page, answer) is not None


# --- Personal details and redaction -------------------------------------------------------


def test_personal_details_are_highlighted(signed_in):
    run = run_of("ehc-plan-feedback")
    answer = answer_of(store_response(run, {"worked_well": "Our caseworker Sarah rang on 07700 900123"}), "worked_well")
    page = signed_in("officer").get(comments_url(run))
    shown = card(page, answer)
    assert "May contain a phone number and a name" in shown.get_text(" ", strip=True)
    assert [mark.get_text() for mark in shown.find_all("mark")] == ["Sarah", "07700 900123"]
    assert shown.select_one(".govuk-summary-card__action a")["href"] == f"/officer/comments/{answer.id}/redact"


def test_redaction_overwrites_the_stored_text_and_audits_without_it(signed_in):
    run = run_of("ehc-plan-feedback")
    original = "Mrs Patel (patel@example.com) was great, call 07700 900123"
    answer = answer_of(store_response(run, {"worked_well": original}), "worked_well")
    browser = signed_in("officer")
    url = f"/officer/comments/{answer.id}/redact?question=worked_well"
    page = browser.get(url)
    suggested = "[name removed] ([email removed]) was great, call [phone number removed]"
    assert page.value_of("text") == [suggested]

    posted = browser.post(url, {"text": suggested.replace("was great", "was great!")}, status=303)
    assert posted.headers["Location"] == f"{comments_url(run)}?question=worked_well#comment-{answer.id}"
    db.session.expire_all()
    assert db.session.get(Answer, answer.id).value == suggested.replace("was great", "was great!")
    redaction = db.session.scalar(select(Redaction).filter_by(answer_id=answer.id))
    assert redaction.redacted_by.email == "officer@example.gov.uk" and redaction.redacted_at is not None
    (event,) = audit_events("redaction")
    assert event.details == {"answer_id": answer.id, "run_id": run.id}
    every_entry = " ".join(f"{e.subject} {e.details}" for e in db.session.scalars(select(AuditEvent)))
    assert "Patel" not in every_entry and "07700" not in every_entry
    page = browser.get(comments_url(run))
    assert "Redacted by officer@example.gov.uk" in card(page, answer).get_text(" ", strip=True)
    assert "Patel" not in page.text


def test_redaction_must_change_the_text_and_keeps_what_was_typed(signed_in):
    run = run_of("ehc-plan-feedback")
    original = "Call me on 07700 900123"
    answer = answer_of(store_response(run, {"worked_well": original}), "worked_well")
    browser = signed_in("officer")
    url = f"/officer/comments/{answer.id}/redact"
    page = browser.post_page(url, {"text": original})
    assert page.error_summary == [
        ("Change the comment to remove the personal details, or go back without redacting", "#text")
    ]
    assert page.value_of("text") == [original]
    page = browser.post_page(url, {"text": "   "})
    assert page.field_errors == ["Enter the comment as it should be kept, with the personal details removed"]
    db.session.expire_all()
    assert db.session.get(Answer, answer.id).value == original
    assert db.session.scalar(select(Redaction)) is None
    assert audit_events("redaction") == []
