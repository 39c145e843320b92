"""Invitation links: uploading references, the links themselves, the respondent's side, and reminders."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import timedelta

import pytest
from sqlalchemy import DateTime, inspect, select

from survey_app.database import begin_write
from survey_app.extensions import db
from survey_app.models import Access, Answer, AuditEvent, Invitation, Response, SurveyRun, utcnow
from survey_app.services import questionnaires as questionnaire_service
from survey_app.services import runs

from . import smtp
from .pages import Browser, check_page, complete, path_of

# The fixtures of tests/smtp.py, made visible to pytest in this module.
smtp_server = smtp.smtp_server

PLAN = "ehc_plan_feedback"
SLUG = "plan-by-invitation"


def questionnaire():
    return questionnaire_service.library().questionnaires[PLAN]


def invitation_run(access: Access = Access.ANONYMOUS_INVITATIONS, slug: str = SLUG) -> SurveyRun:
    version = next(v for v in questionnaire_service.latest_versions() if v.key == PLAN)
    now = utcnow()
    return runs.open_run(
        version, slug, "Your views on your child's EHC plan", now, now + timedelta(days=20), access=access
    )


def csv_bytes(*rows: str, bom: bool = False) -> bytes:
    return (("\ufeff" if bom else "") + "\r\n".join(rows) + "\r\n").encode()


def upload(officer: Browser, run: SurveyRun, content: bytes, filename: str = "references.csv"):
    url = f"/officer/runs/{run.id}/invitations/upload"
    return officer.post(url, {"file": (io.BytesIO(content), filename)})


def download(officer: Browser, run: SurveyRun, batch: str = "") -> list[dict[str, str]]:
    page = officer.get(f"/officer/runs/{run.id}/invitations")
    token = page.soup.find("input", attrs={"name": "csrf_token"})["value"]
    response = officer.client.post(
        f"/officer/runs/{run.id}/invitations/download", data={"csrf_token": token, "batch": batch}
    )
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert f'filename="invitation-links-{run.slug}.csv"' in response.headers["Content-Disposition"]
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff"), "Excel needs the byte order mark to read UTF-8"
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def invited(officer: Browser, run: SurveyRun, *rows: str) -> list[dict[str, str]]:
    """Upload these rows (after a header) and return the downloaded links."""
    response = upload(officer, run, csv_bytes(*rows))
    assert response.status_code == 303, check_page(response).text
    return download(officer, run)


def audit_actions() -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def stored_invitations(run: SurveyRun) -> list[Invitation]:
    db.session.rollback()
    return list(db.session.scalars(select(Invitation).where(Invitation.run_id == run.id).order_by(Invitation.id)))


def answer_through(browser: Browser, link: str, choose=None) -> str:
    """Open an invitation link, answer everything and send it; returns the confirmation page's text."""
    assert browser.get_redirect(path_of(link)) == f"/surveys/{SLUG}"
    arguments = {"choose": choose} if choose else {}
    check = complete(browser, questionnaire(), SLUG, **arguments)
    assert browser.post_redirect(check, {}) == f"/surveys/{SLUG}/confirmation"
    return browser.get(f"/surveys/{SLUG}/confirmation").text


# Uploading ------------------------------------------------------------------


def test_an_upload_creates_links_and_the_download_neutralises_formulas(signed_in):
    run = invitation_run()
    officer = signed_in("officer")
    content = csv_bytes("Reference,Email", "EHC-1,parent.one@example.org", "=HYPERLINK(1),", "-42,", bom=True)
    response = upload(officer, run, content)
    assert response.status_code == 303
    page = officer.get(path_of(response.headers["Location"]))
    assert page.h1 == "Invitation links created" and "3 links" in page.text
    response = officer.client.post(
        f"/officer/runs/{run.id}/invitations/download",
        data={key: values[0] for key, values in page.form(-1).items()},
    )
    rows = list(csv.reader(io.StringIO(response.data.decode().removeprefix("\ufeff"))))
    assert rows[0] == ["reference", "email", "link"]
    assert [row[:2] for row in rows[1:]] == [["EHC-1", "parent.one@example.org"], ["'=HYPERLINK(1)", ""], ["'-42", ""]]
    assert all(row[2].startswith(f"http://localhost/surveys/{SLUG}/invitation?code=") for row in rows[1:])
    assert [invitation.reference for invitation in stored_invitations(run)] == ["EHC-1", "=HYPERLINK(1)", "-42"]
    assert audit_actions()[-2:] == ["invitations_created", "invitations_downloaded"]
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.details == {"run_id": run.id, "count": 3}


def test_links_are_unique_long_and_only_their_hash_is_stored(signed_in):
    run = invitation_run()
    links = invited(signed_in("officer"), run, "reference", *[f"REF-{number}" for number in range(200)])
    tokens = [link["link"].split("code=")[1] for link in links]
    assert len(set(tokens)) == 200
    for token, invitation in zip(tokens, stored_invitations(run), strict=True):
        # 43 URL-safe base64 characters: 256 bits, well over the 128 needed.
        assert len(token) == 43 and len(token) * 6 >= 128
        assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert len(invitation.link_salt) == 32
        assert token not in {str(getattr(invitation, column.key)) for column in Invitation.__table__.columns}
    # Downloading again gives the same links: they are made from the salt and the secret key.
    assert download(signed_in("officer"), run) == links


def problems_for(officer: Browser, run: SurveyRun, content: bytes) -> tuple[list[str], str]:
    response = upload(officer, run, content)
    assert response.status_code == 200
    page = check_page(response)
    assert page.title.startswith("Error: ")
    problems = [item.get_text(" ", strip=True) for item in page.soup.select("#problems li")]
    return problems, page.text


def test_a_bad_file_is_refused_whole_naming_each_row_and_column(signed_in):
    run = invitation_run()
    officer = signed_in("officer")
    invited(officer, run, "reference", "EHC-9")
    content = csv_bytes(
        "reference,email",
        "EHC-1,parent@example.org",
        "EHC-2,not an email",
        ",someone@example.org",
        "EHC-1,",
        "X" * 101 + ",",
        "EHC-9,",
        "EHC-3,ok@example.org,extra",
    )
    problems, text = problems_for(officer, run, content)
    assert problems == [
        "Row 3, column email: enter an email address in the correct format",
        "Row 4, column reference: enter the reference",
        "Row 5, column reference: this reference is also in row 2",
        "Row 6, column reference: the reference must be 100 characters or fewer",
        "Row 7, column reference: this reference has already been invited to this survey run",
        "Row 8, column C: this column has no heading. Remove the value, or name the column reference or email.",
    ]
    assert "6 problems in the file. Nothing was imported." in text
    assert [invitation.reference for invitation in stored_invitations(run)] == ["EHC-9"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "The file is empty"),
        (b"\r\n\r\n", "The file is empty"),
        (b"PK\x03\x04\x00\x00binary", "The file is not a CSV file"),
        ("reference\r\nCafé\r\n".encode("cp1252"), "The file is not saved as UTF-8 text"),
        (b"ref,email\r\nEHC-1,\r\n", "Row 1: the first row must name the columns"),
        (b"reference,name\r\nEHC-1,Sam\r\n", "Row 1, column B: remove the column \u201cname\u201d"),
        (b"reference\r\n", "The file has a header row but no rows of references under it."),
        (b'reference\r\n"EHC-1\r\n', "Row 2: this row cannot be read as CSV"),
    ],
)
def test_files_that_are_not_lists_of_references_are_refused(signed_in, content, problem):
    run = invitation_run()
    problems, _text = problems_for(signed_in("officer"), run, content)
    assert problems[0].startswith(problem)
    assert stored_invitations(run) == []


def test_at_most_fifty_problems_are_listed_with_a_count_of_the_rest(signed_in):
    run = invitation_run()
    content = csv_bytes("reference,email", *[f"R{number},bad" for number in range(70)])
    problems, text = problems_for(signed_in("officer"), run, content)
    assert len(problems) == 50 and problems[0] == "Row 2, column email: enter an email address in the correct format"
    assert "70 problems in the file" in text and "And 20 more." in text


def test_more_than_twenty_thousand_rows_are_refused(signed_in):
    run = invitation_run()
    problems, _text = problems_for(signed_in("officer"), run, csv_bytes("reference", *map(str, range(20_001))))
    assert problems == ["The file has 20,001 rows of references. Split it into files of 20,000 rows or fewer."]
    assert stored_invitations(run) == []


def test_a_file_over_the_size_limit_is_refused_on_the_upload_page(signed_in):
    run = invitation_run()
    response = upload(signed_in("officer"), run, csv_bytes("reference", *["R" * 99 for _ in range(11_000)]))
    assert response.status_code == 413
    page = check_page(response)
    assert page.h1 == "Upload references"
    assert page.field_errors == ["The file must be smaller than 1 MB. Split it into smaller files and upload each one"]
    assert stored_invitations(run) == []


def test_invitation_pages_need_an_officer_and_an_invitation_only_run(signed_in):
    run = invitation_run()
    viewer = signed_in("viewer")
    for url in ("invitations", "invitations/upload", f"invitations/created?batch={utcnow().isoformat()}"):
        viewer.get(f"/officer/runs/{run.id}/{url}", status=403)
    officer = signed_in("officer")
    open_run = db.session.scalar(select(SurveyRun).where(SurveyRun.slug == "ehc-plan-feedback"))
    officer.get(f"/officer/runs/{open_run.id}/invitations", status=404)
    assert "Invitation links and reminders" in officer.get(f"/officer/runs/{run.id}").text


# The respondent's side ------------------------------------------------------------


def test_a_link_works_once_and_an_anonymous_response_keeps_no_link_to_it(signed_in, browser, app):
    run = invitation_run(Access.ANONYMOUS_INVITATIONS)
    [link] = invited(signed_in("officer"), run, "reference", "EHC-77")
    text = answer_through(browser, link["link"])
    assert "Answers sent" in text

    [invitation] = stored_invitations(run)
    assert invitation.used
    [response] = db.session.scalars(select(Response).where(Response.run_id == run.id)).all()
    assert response.invitation_id is None and response.plan_reference is None

    # Used: the link now says so, in this browser and any other.
    for other in (browser, Browser(app.test_client())):
        page = other.get(path_of(link["link"]))
        assert page.h1 == "You have already answered this survey"
    assert browser.get(f"/surveys/{SLUG}").h1 == "You have already answered this survey"


def test_the_anonymous_invitation_cannot_be_joined_to_answers():
    # Nothing in the tables of answers refers to an invitation except the
    # response's invitation_id, which anonymous runs leave empty (above).
    for table in (Answer.__table__, SurveyRun.__table__):
        assert not [key for key in table.foreign_keys if key.column.table.name == "invitation"]
    # The invitation holds no time of use: only when it was made and last reminded.
    times = {column.key for column in Invitation.__table__.columns if isinstance(column.type, DateTime)}
    assert times == {"created_at", "last_reminded_at"}
    assert inspect(Invitation).columns["used"].type.python_type is bool


def test_an_identified_response_carries_the_invitations_reference(signed_in, browser):
    run = invitation_run(Access.IDENTIFIED_INVITATIONS)
    [link] = invited(signed_in("officer"), run, "reference,email", "EHC-2024-0042,parent@example.org")
    answer_through(browser, link["link"])
    [invitation] = stored_invitations(run)
    [response] = db.session.scalars(select(Response).where(Response.run_id == run.id)).all()
    assert response.invitation_id == invitation.id and response.plan_reference == "EHC-2024-0042"
    page = signed_in("officer").get(f"/officer/runs/{run.id}/invitations")
    assert "EHC-2024-0042 Answered" in page.text


def test_an_unknown_link_and_no_link_are_explained(signed_in, browser):
    run = invitation_run()
    invited(signed_in("officer"), run, "reference", "EHC-1")
    page = browser.get(f"/surveys/{SLUG}/invitation?code=not-a-real-code", status=404)
    assert page.h1 == "This invitation link does not work"
    browser.get(f"/surveys/{SLUG}/invitation", status=404)
    first_page = questionnaire().pages[0].key
    for url in (f"/surveys/{SLUG}", f"/surveys/{SLUG}/questions/{first_page}", f"/surveys/{SLUG}/check-answers"):
        assert browser.get(url, status=403).h1 == "This survey is by invitation only"
    assert SLUG not in browser.get("/").text, "invitation-only runs are not listed publicly"


def test_a_link_used_meanwhile_on_another_device_stores_nothing_more(signed_in, app):
    run = invitation_run(Access.IDENTIFIED_INVITATIONS)
    [link] = invited(signed_in("officer"), run, "reference", "EHC-3")
    phone, laptop = Browser(app.test_client()), Browser(app.test_client())
    for device in (phone, laptop):
        assert device.get_redirect(path_of(link["link"])) == f"/surveys/{SLUG}"
    phone_check = complete(phone, questionnaire(), SLUG)
    laptop_check = complete(laptop, questionnaire(), SLUG)
    phone_form, laptop_form = (
        {key: values[0] for key, values in device.get(check).form().items()}
        for device, check in ((phone, phone_check), (laptop, laptop_check))
    )
    assert phone.post_redirect(phone_check, {}) == f"/surveys/{SLUG}/confirmation"
    response = laptop.client.post(laptop_check, data=laptop_form)
    assert response.status_code == 409
    assert check_page(response).h1 == "You have already answered this survey"
    db.session.rollback()
    assert db.session.scalar(select(db.func.count()).select_from(Response).where(Response.run_id == run.id)) == 1
    # Sending the phone's answers again (a double click, a retry) is the same response, not a refusal.
    response = phone.client.post(phone_check, data=phone_form)
    assert path_of(response.headers["Location"]) == f"/surveys/{SLUG}/confirmation"


def test_a_paused_invitation_run_shows_the_paused_page(signed_in, browser):
    run = invitation_run()
    [link] = invited(signed_in("officer"), run, "reference", "EHC-4")
    runs.pause(run)
    assert browser.get(path_of(link["link"]), status=503).h1 == "This survey is paused"


# Emails ---------------------------------------------------------------------


@pytest.fixture
def mail_to(app, smtp_server, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", smtp_server.host)
    monkeypatch.setitem(app.config, "MAIL_PORT", smtp_server.port)
    return smtp_server


def press(officer: Browser, run: SurveyRun, button_start: str):
    page = officer.get(f"/officer/runs/{run.id}/invitations")
    button = next(b for b in page.soup.select("form button") if b.get_text(" ", strip=True).startswith(button_start))
    form = button.find_parent("form")
    data = {field["name"]: field.get("value", "") for field in form.select("input[name]")}
    response = officer.client.post(form["action"], data=data)
    assert response.status_code == 303
    return officer.get(path_of(response.headers["Location"]))


def test_reminders_go_only_to_people_who_have_not_answered(signed_in, browser, mail_to):
    run = invitation_run(Access.ANONYMOUS_INVITATIONS)
    officer = signed_in("officer")
    links = invited(
        officer,
        run,
        "reference,email",
        "A-1,answered@example.org",
        "A-2,waiting@example.org",
        "A-3,",
        "A-4,refused@example.org",
    )
    answer_through(browser, links[0]["link"])
    mail_to.refuse.add("refused@example.org")

    page = press(officer, run, "Email a reminder to the 2 people who have not answered and have an email address")
    assert "1 reminder sent. 1 could not be sent" in page.text
    assert [message["To"] for message in mail_to.messages] == ["waiting@example.org"]
    message = mail_to.messages[0]
    body = message.get_content()
    assert message["Subject"] == "Reminder: Your views on your child's EHC plan"
    assert links[1]["link"] in body and "Example Council" in body and "The survey closes at" in body
    assert links[0]["link"] not in body

    counts = {invitation.reference: invitation.reminders_sent for invitation in stored_invitations(run)}
    assert counts == {"A-1": 0, "A-2": 1, "A-3": 0, "A-4": 0}
    assert all(i.last_reminded_at is None for i in stored_invitations(run) if i.reference != "A-2")
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "reminders_sent")).one()
    assert event.details == {"run_id": run.id, "count": 1, "failed": 1}


def test_the_invitation_email_goes_to_those_never_emailed(signed_in, mail_to):
    run = invitation_run()
    officer = signed_in("officer")
    links = invited(officer, run, "reference,email", "B-1,first@example.org", "B-2,second@example.org")
    begin_write()
    db.session.execute(Invitation.__table__.update().where(Invitation.reference == "B-1").values(reminders_sent=1))
    db.session.commit()
    page = press(officer, run, "Email the invitations to the 1 person not emailed yet")
    assert "1 invitation sent." in page.text
    [message] = mail_to.messages
    assert message["To"] == "second@example.org" and links[1]["link"] in message.get_content()
    assert "would like to hear from you" in message["Subject"]
    assert "invitations_emailed" in audit_actions()


def test_without_mail_the_page_says_so_instead_of_offering_to_send(signed_in):
    run = invitation_run()
    officer = signed_in("officer")
    invited(officer, run, "reference,email", "C-1,someone@example.org")
    page = officer.get(f"/officer/runs/{run.id}/invitations")
    assert "Email is not set up for this service" in page.text
    assert not [b for b in page.soup.select("button") if "Email" in b.get_text()]
