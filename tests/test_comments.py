"""The comments page and each comment's own page: tags, follow-up, risk words, personal details and redaction."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import event, select

from survey_app.database import begin_write
from survey_app.extensions import db
from survey_app.models import Answer, AuditEvent, CommentTag, FollowUp, Redaction, utcnow
from survey_app.officer.comments import PER_PAGE

from .pages import check_page
from .stored import add_response, store_response
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


def comment_url(answer: Answer) -> str:
    return f"/officer/comments/{answer.id}"


def form_posting_to(page, path: str):
    """The form on the page whose action is ``path`` (with any query string)."""
    [form] = [f for f in page.soup.select("form[method=post]") if urlsplit(f["action"]).path == path]
    return form


def store_many(run, key: str, texts: list[str]) -> list[Answer]:
    """One response per text, each a minute older than the one before: newest first, as the page lists them."""
    begin_write()
    now = utcnow()
    responses = [add_response(run, {key: text}, now - timedelta(minutes=number)) for number, text in enumerate(texts)]
    db.session.commit()
    return [answer_of(response, key) for response in responses]


def card_ids(page) -> list[str]:
    return [div["id"] for div in page.soup.select(".govuk-summary-card")]


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
    assert card_ids(page) == [
        f"comment-{answer_of(newer, 'worked_well').id}",
        f"comment-{answer_of(older, 'worked_well').id}",
        f"comment-{answer_of(newer, 'could_be_better').id}",
    ]
    assert "EHC-55" not in page.text  # the plan reference is not a comment
    assert page.link(newer.reference) == f"/officer/responses/{newer.reference}"


def test_the_comments_page_holds_no_form_but_its_filters(signed_in):
    """Tagging, follow-up and redaction are on each comment's own page, behind one link per comment."""
    run = run_of("ehc-plan-feedback")
    answers = store_many(run, "worked_well", [f"Comment number {number}" for number in range(5)])
    page = signed_in("officer").get(comments_url(run))
    main = page.soup.find("main")
    assert [form.get("method", "get") for form in main.find_all("form")] == ["get"], "only the filters"
    for answer in answers:
        links = card(page, answer).find_all("a")
        assert [link["href"] for link in links][-1] == comment_url(answer)
        assert links[-1].get_text(" ", strip=True) == (
            f"Tag, follow up or redact the comment on response {answer.response.reference}"
        )


def test_comments_are_paginated_in_sql(signed_in, app):
    run = run_of("ehc-plan-feedback")
    total = 2 * PER_PAGE + 5
    answers = store_many(run, "worked_well", [f"Comment number {number}" for number in range(total)])
    statements = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    browser = signed_in("officer")
    event.listen(db.engine, "before_cursor_execute", remember)
    try:
        first = browser.get(comments_url(run))
    finally:
        event.remove(db.engine, "before_cursor_execute", remember)
    assert card_ids(first) == [f"comment-{answer.id}" for answer in answers[:PER_PAGE]]
    assert f"{total} comments, by question and newest first: page 1 of 3." in first.text
    # The page's comments are read a page at a time: the query has LIMIT and OFFSET.
    listing = [s for s in statements if "FROM answer" in s and "LIMIT" in s.upper() and "OFFSET" in s.upper()]
    assert listing, "the comments are not read with LIMIT and OFFSET"
    assert first.soup.select_one(".govuk-pagination__next a")["href"] == f"{comments_url(run)}?page=2"

    last = browser.get(f"{comments_url(run)}?page=3")
    assert card_ids(last) == [f"comment-{answer.id}" for answer in answers[2 * PER_PAGE :]]
    assert last.title.startswith("Comments: ") and ", page 3 –" in last.title
    assert last.soup.select_one(".govuk-pagination__prev a")["href"] == f"{comments_url(run)}?page=2"

    beyond = browser.get(f"{comments_url(run)}?page=9")
    assert card_ids(beyond) == [] and "There is no page 9." in beyond.text


def test_a_comment_has_its_own_page_that_returns_to_where_the_officer_was(signed_in):
    run = run_of("ehc-plan-feedback")
    answers = store_many(run, "worked_well", [f"Comment number {number}" for number in range(PER_PAGE + 3)])
    answer = answers[PER_PAGE + 1]  # on page 2
    browser = signed_in("officer")
    listing = browser.get(f"{comments_url(run)}?question=worked_well&page=2")
    opened = card(listing, answer).find("a", href=lambda href: href.startswith(comment_url(answer)))["href"]
    assert parse_qs(urlsplit(opened).query) == {"question": ["worked_well"], "page": ["2"]}

    page = browser.get(opened)
    assert page.h1 == f"Comment on response {answer.response.reference}"
    assert "What worked well?" in page.text and "Comment number 21" in page.text
    back = f"{comments_url(run)}?question=worked_well&page=2#comment-{answer.id}"
    assert page.soup.select_one(".govuk-back-link")["href"] == back
    assert page.link("Back to the comments") == back
    redact = page.link("Redact this comment")
    assert urlsplit(redact).path == f"{comment_url(answer)}/redact" and "page=2" in redact
    # Each form on the page carries the filters and page number, and returns there.
    for action in ("tags", "follow-up"):
        form = form_posting_to(page, f"{comment_url(answer)}/{action}")
        assert parse_qs(urlsplit(form["action"]).query) == {"question": ["worked_well"], "page": ["2"]}
    posted = browser.client.post(
        form_posting_to(page, f"{comment_url(answer)}/tags")["action"],
        data={"csrf_token": csrf_token(page), "tag": "x"},
    )
    assert posted.status_code == 303 and posted.headers["Location"].endswith(back)
    listing = browser.get(back.split("#")[0])
    assert "Tagged “x”." in listing.soup.select_one(".govuk-notification-banner").get_text(" ", strip=True)
    assert "x" in [tag.get_text(strip=True) for tag in card(listing, answer).select(".govuk-tag")]


def test_viewers_are_refused_and_unknown_ids_are_404(signed_in):
    run = run_of("ehc-plan-feedback")
    response = store_response(run, {"worked_well": "Good", "felt_involved": "agree"})
    comment = answer_of(response, "worked_well")
    viewer = signed_in("viewer")
    viewer.get(comments_url(run), status=403)
    viewer.get(comment_url(comment), status=403)
    viewer.get(f"{comment_url(comment)}/redact", status=403)
    officer = signed_in("officer")
    officer.get("/officer/runs/999999/comments", status=404)
    officer.get("/officer/comments/999999", status=404)
    officer.get("/officer/comments/999999/redact", status=404)
    # Only free-text answers are comments.
    officer.get(comment_url(answer_of(response, "felt_involved")), status=404)
    officer.get(f"{comment_url(answer_of(response, 'felt_involved'))}/redact", status=404)


# --- Tags --------------------------------------------------------------------------------


def test_tags_record_who_and_when_are_audited_and_keep_the_filters(signed_in):
    run = run_of("ehc-plan-feedback")
    response = store_response(run, {"worked_well": "The caseworker was kind"})
    other = store_response(run, {"worked_well": "Nothing"})
    answer = answer_of(response, "worked_well")
    browser = signed_in("officer")
    page = browser.get(f"{comment_url(answer)}?question=worked_well")
    suggestions = [option["value"] for option in page.soup.select("datalist#tag-suggestions option")]
    assert "communication" in suggestions and "praise" in suggestions
    form = form_posting_to(page, f"{comment_url(answer)}/tags")
    assert "question=worked_well" in form["action"]
    assert form.find("input", attrs={"name": "tag"})["list"] == "tag-suggestions"

    posted = browser.client.post(form["action"], data={"csrf_token": csrf_token(page), "tag": "  Praise "})
    assert posted.status_code == 303
    assert posted.headers["Location"].endswith(f"{comments_url(run)}?question=worked_well#comment-{answer.id}")
    tag = db.session.scalar(select(CommentTag).filter_by(answer_id=answer.id))
    assert tag.tag == "praise"  # spelt as the suggested tag
    assert tag.added_by.email == "officer@example.gov.uk" and tag.added_at is not None
    (event_,) = audit_events("comment_tagged")
    assert event_.actor == "officer@example.gov.uk"
    assert event_.details == {"answer_id": answer.id, "run_id": run.id}

    browser.get(comments_url(run))  # where the redirect goes, showing the message
    browser.client.post(
        f"/officer/comments/{answer.id}/tags", data={"csrf_token": csrf_token(page), "tag": "Home to school transport"}
    )
    page = browser.get(f"{comments_url(run)}?tag=praise")
    assert card(page, answer) is not None and card(page, answer_of(other, "worked_well")) is None
    assert "Tags: Home to school transport praise" in card(page, answer).get_text(" ", strip=True)
    # A tag someone typed is offered to everyone from then on.
    assert "Home to school transport" in [o["value"] for o in page.soup.select("select#tag option")]
    own = browser.get(comment_url(answer))
    assert "praise added by officer@example.gov.uk" in own.text
    assert "Home to school transport" in [o["value"] for o in own.soup.select("datalist#tag-suggestions option")]

    removes = [f for f in own.soup.select("form[method=post]") if f"{comment_url(answer)}/tags/remove" in f["action"]]
    assert [form.find("input", attrs={"name": "tag"})["value"] for form in removes] == [
        "Home to school transport",
        "praise",
    ]
    assert removes[1].button.get_text(" ", strip=True) == "Remove the tag praise"
    removed = browser.client.post(
        f"/officer/comments/{answer.id}/tags/remove?tag=praise", data={"csrf_token": csrf_token(page), "tag": "praise"}
    )
    assert removed.status_code == 303
    assert removed.headers["Location"].endswith(f"{comments_url(run)}?tag=praise#comment-{answer.id}")
    assert [t.tag for t in db.session.scalars(select(CommentTag).filter_by(answer_id=answer.id))] == [
        "Home to school transport"
    ]
    (event_,) = audit_events("comment_untagged")
    assert event_.details == {"answer_id": answer.id, "run_id": run.id}


def test_an_empty_tag_is_explained_on_the_comments_own_page(signed_in):
    run = run_of("ehc-plan-feedback")
    answer = answer_of(store_response(run, {"worked_well": "Fine"}), "worked_well")
    browser = signed_in("officer")
    page = browser.get(comment_url(answer))
    response = browser.client.post(f"{comment_url(answer)}/tags?page=2", data={"csrf_token": csrf_token(page)})
    page = check_page(response)
    assert page.h1 == f"Comment on response {answer.response.reference}"
    assert page.error_summary == [("Enter a tag", "#tag")]
    # The page still returns to where the officer was.
    assert page.soup.select_one(".govuk-back-link")["href"] == f"{comments_url(run)}?page=2#comment-{answer.id}"
    too_long = "x" * 51
    page = check_page(
        browser.client.post(f"{comment_url(answer)}/tags", data={"csrf_token": csrf_token(page), "tag": too_long})
    )
    assert page.field_errors == ["Tag must be 50 characters or fewer"]
    assert page.soup.find(id="tag")["value"] == too_long
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
    page = officer.get(comment_url(answer))
    assert "Not flagged for follow-up." in page.text
    form = form_posting_to(page, f"{comment_url(answer)}/follow-up")
    assert form.find("textarea", attrs={"name": "note"})["id"] == "note"
    flagged = officer.client.post(
        form["action"], data={"csrf_token": csrf_token(page), "note": "Ask the team manager to call"}
    )
    assert flagged.status_code == 303 and flagged.headers["Location"].endswith(f"#comment-{answer.id}")
    follow_up = db.session.scalar(select(FollowUp).filter_by(answer_id=answer.id))
    assert follow_up.flagged_by.email == "officer@example.gov.uk" and follow_up.flagged_at is not None
    assert follow_up.note == "Ask the team manager to call" and follow_up.resolved_at is None
    (event_,) = audit_events("follow_up_flagged")
    assert event_.details == {"answer_id": answer.id, "run_id": run.id}

    page = admin.get(f"{comments_url(run)}?follow_up=open")
    assert card(page, answer) is not None and card(page, other) is None
    shown = card(page, answer).get_text(" ", strip=True)
    assert "Needs follow-up" in shown and "Follow-up note: Ask the team manager to call" in shown
    own = admin.get(comment_url(answer))
    assert "Flagged by officer@example.gov.uk" in own.text and "Note: Ask the team manager to call" in own.text

    done = admin.client.post(
        form_posting_to(own, f"{comment_url(answer)}/follow-up/done")["action"], data={"csrf_token": csrf_token(own)}
    )
    assert done.status_code == 303
    db.session.expire_all()
    follow_up = db.session.scalar(select(FollowUp).filter_by(answer_id=answer.id))
    assert follow_up.resolved_by.email == "admin@example.gov.uk" and follow_up.resolved_at is not None
    (event_,) = audit_events("follow_up_resolved")
    assert event_.actor == "admin@example.gov.uk"
    page = admin.get(f"{comments_url(run)}?follow_up=done")
    assert "Follow-up done" in card(page, answer).get_text(" ", strip=True)
    assert "Marked done by admin@example.gov.uk" in admin.get(comment_url(answer)).text
    assert card(admin.get(f"{comments_url(run)}?follow_up=open"), answer) is None


def test_a_note_too_long_is_explained_on_the_comments_own_page(signed_in):
    run = run_of("ehc-plan-feedback")
    answer = answer_of(store_response(run, {"could_be_better": "Nobody replied"}), "could_be_better")
    browser = signed_in("officer")
    page = browser.get(comment_url(answer))
    note = "n" * 1001
    page = check_page(
        browser.client.post(f"{comment_url(answer)}/follow-up", data={"csrf_token": csrf_token(page), "note": note})
    )
    assert page.error_summary == [("Note must be 1000 characters or fewer", "#note")]
    assert page.soup.find(id="note").get_text() == note
    assert db.session.scalar(select(FollowUp)) is None


# --- Risk words --------------------------------------------------------------------------


def test_young_peoples_comments_with_risk_words_come_first(signed_in):
    young = run_of("outcomes-young-person")
    risky = answer_of(store_response(young, {"could_be_better": "Sometimes I want to hurt myself."}), "could_be_better")
    calm = answer_of(store_response(young, {"could_be_better": "More trips please"}), "could_be_better")
    browser = signed_in("officer")
    page = browser.get(comments_url(young))
    section = page.soup.find("section", attrs={"aria-labelledby": "risk-heading"})
    assert section.h2.get_text(strip=True) == "Comments that may need safeguarding follow-up"
    assert section is page.soup.find("main").find(["section", "form"]), "the section comes before everything else"
    assert section.find(id=f"comment-{risky.id}") is not None
    assert section.find(id=f"comment-{calm.id}") is None
    assert "Mentions: “hurt myself”" in section.get_text(" ", strip=True)
    assert section.select_one(".govuk-warning-text")
    # Not repeated below.
    assert len(page.soup.find_all(id=f"comment-{risky.id}")) == 1

    # Its own page says so, and offers the follow-up.
    own = browser.get(comment_url(risky))
    assert "uses words that can mean a risk of harm: “hurt myself”" in own.soup.select_one(".govuk-warning-text").text
    form = form_posting_to(own, f"{comment_url(risky)}/follow-up")

    # It stays at the top once flagged, until the follow-up is marked done.
    browser.client.post(form["action"], data={"csrf_token": csrf_token(own)})
    page = browser.get(comments_url(young))
    assert page.soup.find("section", attrs={"aria-labelledby": "risk-heading"}).find(id=f"comment-{risky.id}")
    browser.client.post(f"{comment_url(risky)}/follow-up/done", data={"csrf_token": csrf_token(page)})
    page = browser.get(comments_url(young))
    assert page.soup.find("section", attrs={"aria-labelledby": "risk-heading"}) is None
    assert card(page, risky) is not None


def test_later_pages_point_to_the_safeguarding_comments_on_the_first(signed_in):
    young = run_of("outcomes-young-person")
    risky = answer_of(store_response(young, {"could_be_better": "I get bullied at break."}), "could_be_better")
    store_many(young, "could_be_better", [f"More trips please {number}" for number in range(PER_PAGE + 1)])
    page = signed_in("officer").get(f"{comments_url(young)}?page=2")
    assert card(page, risky) is None and page.soup.find("section", attrs={"aria-labelledby": "risk-heading"}) is None
    warning = page.soup.find("main").select_one(".govuk-warning-text")
    assert "1 comment that may need safeguarding follow-up is listed first, on page 1." in warning.get_text(
        " ", strip=True
    )
    assert warning.a["href"] == f"{comments_url(young)}#risk-heading"
    assert len(page.soup.select(".govuk-summary-card")) == 1  # the last of the others


def test_the_same_words_from_a_parent_are_not_put_first(signed_in):
    run = run_of("ehc-plan-feedback")
    answer = answer_of(
        store_response(run, {"could_be_better": "My child said I want to hurt myself"}), "could_be_better"
    )
    page = signed_in("officer").get(comments_url(run))
    assert page.soup.find("section", attrs={"aria-labelledby": "risk-heading"}) is None
    assert card(page, answer) is not None


# --- Personal details and redaction -------------------------------------------------------


@pytest.mark.parametrize("where", ["list", "own page"])
def test_personal_details_are_highlighted(signed_in, where):
    run = run_of("ehc-plan-feedback")
    answer = answer_of(store_response(run, {"worked_well": "Our caseworker Sarah rang on 07700 900123"}), "worked_well")
    browser = signed_in("officer")
    if where == "list":
        shown = card(browser.get(comments_url(run)), answer)
    else:
        page = browser.get(comment_url(answer))
        shown = page.soup.find("main")
        assert page.link("Redact this comment") == f"{comment_url(answer)}/redact"
    assert "May contain a phone number and a name" in shown.get_text(" ", strip=True)
    assert [mark.get_text() for mark in shown.find_all("mark")] == ["Sarah", "07700 900123"]


def test_redaction_overwrites_the_stored_text_and_audits_without_it(signed_in):
    run = run_of("ehc-plan-feedback")
    original = "Mrs Patel (patel@example.com) was great, call 07700 900123"
    answer = answer_of(store_response(run, {"worked_well": original}), "worked_well")
    browser = signed_in("officer")
    url = f"{comment_url(answer)}/redact?question=worked_well&page=2"
    page = browser.get(url)
    suggested = "[name removed] ([email removed]) was great, call [phone number removed]"
    assert page.value_of("text") == [suggested]
    # Cancelling goes back to the comment's own page, which still knows where the officer was.
    assert page.link("Cancel") == f"{comment_url(answer)}?question=worked_well&page=2"

    posted = browser.post(url, {"text": suggested.replace("was great", "was great!")}, status=303)
    assert posted.headers["Location"] == f"{comments_url(run)}?question=worked_well&page=2#comment-{answer.id}"
    db.session.expire_all()
    assert db.session.get(Answer, answer.id).value == suggested.replace("was great", "was great!")
    redaction = db.session.scalar(select(Redaction).filter_by(answer_id=answer.id))
    assert redaction.redacted_by.email == "officer@example.gov.uk" and redaction.redacted_at is not None
    (event_,) = audit_events("redaction")
    assert event_.details == {"answer_id": answer.id, "run_id": run.id}
    every_entry = " ".join(f"{e.subject} {e.details}" for e in db.session.scalars(select(AuditEvent)))
    assert "Patel" not in every_entry and "07700" not in every_entry
    page = browser.get(comments_url(run))
    assert "Redacted" in card(page, answer).get_text(" ", strip=True)
    assert "Patel" not in page.text
    assert "Redacted by officer@example.gov.uk" in browser.get(comment_url(answer)).text


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
