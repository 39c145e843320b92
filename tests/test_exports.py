"""Exports of a run's responses: CSV and Excel, the codebook, formula neutralisation, streaming and the audit log."""

from __future__ import annotations

import csv
import io
import re
import secrets
import tracemalloc
import zipfile

from openpyxl import load_workbook
from sqlalchemy import insert, select

from questionnaires.examples import example_form_values
from questionnaires.schema import Section
from survey_app.database import begin_write
from survey_app.extensions import db
from survey_app.models import (
    Answer,
    AuditEvent,
    Response,
    SurveyRun,
    User,
    utcnow,
)
from survey_app.services import exports
from survey_app.services import questionnaires as questionnaire_service
from survey_app.services.journey import new_reference

from .pages import Browser, check_page, complete
from .stored import store_response

PLAN = "ehc_plan_feedback"
PLAN_SLUG = "ehc-plan-feedback"
DANGEROUS = ["=1+2", "+44 7700 900000", "-2 weeks late", "@SUM(A1:A9)", "\tindented", "\rcarriage return"]
NEEDS_MISSING = ["health", "communication_interaction"]


# --- helpers shared with the retention and records tests -----------------------


def questionnaire(key: str = PLAN):
    return questionnaire_service.library().questionnaires[key]


def run_of(slug: str = PLAN_SLUG) -> SurveyRun:
    return db.session.scalar(select(SurveyRun).where(SurveyRun.slug == slug))


def plan_answers(**changes) -> dict[str, str | list[str]]:
    """A full set of answers to the plan questionnaire (its example answers), with ``changes``."""
    answers: dict[str, str | list[str]] = {}
    for question in questionnaire().questions:
        if question.section is Section.EQUALITY or question.key == "needs_missing" or question.type.value == "date":
            continue
        values = example_form_values(question)
        answers[question.key] = values if question.type.value == "multiple_choice" else values[0]
    answers["plan_received"] = "2025-11-14"
    answers.update(changes)
    return answers


def csrf_token(browser: Browser) -> str:
    """A valid CSRF token for this browser's session, from the sign-out form every officer page has."""
    return browser.get("/officer/").soup.select_one("input[name=csrf_token]")["value"]


def audit_entries(action: str) -> list[AuditEvent]:
    db.session.rollback()  # see what the requests committed
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def download(browser: Browser, url: str, file_format: str):
    """Post the export form as the browser would, choosing ``file_format``."""
    response = browser.post(url, {"file_format": file_format})
    assert response.status_code == 200, response.status_code
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    return response


def read_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def plan_choices(question) -> list[str]:
    """The journey's example answers, but disagreeing that the plan reflects needs, so needs_missing is asked."""
    if question.key == "plan_reflects_needs":
        return ["strongly_disagree"]
    if question.key == "needs_missing":
        return NEEDS_MISSING
    if question.key == "worked_well":
        return ['=HYPERLINK("http://example.com")']
    return example_form_values(question)


# --- the page ---------------------------------------------------------------


def test_the_export_page_explains_the_file_and_offers_both_formats(signed_in):
    run = run_of()
    page = signed_in("officer").get(f"/officer/runs/{run.id}/export")
    assert page.h1 == "Export responses"
    assert "one column for each" in page.text
    assert "Equality monitoring answers are not included" in page.text
    assert "Every export is recorded in the audit log" in page.text
    assert "viewers cannot" in page.text
    assert {element["value"] for element in page.soup.select("input[name=file_format]")} == {"csv", "xlsx"}
    assert page.link("download the codebook") == f"/officer/runs/{run.id}/export/codebook"


def test_choosing_no_format_is_an_error_on_the_field(signed_in):
    browser = signed_in("officer")
    url = f"/officer/runs/{run_of().id}/export"
    response = browser.post(url, {})
    page = check_page(response)
    assert page.title.startswith("Error: ")
    assert page.error_summary == [("Choose a file format", "#file_format")]
    assert not audit_entries("export")


def test_viewers_cannot_export_or_see_the_export_page(signed_in, app):
    run = run_of()
    viewer = signed_in("viewer")
    viewer.get(f"/officer/runs/{run.id}/export", status=403)
    viewer.get(f"/officer/runs/{run.id}/export/codebook", status=403)
    posted = {"file_format": "csv", "csrf_token": csrf_token(viewer)}
    assert viewer.client.post(f"/officer/runs/{run.id}/export", data=posted).status_code == 403
    signed_in("admin").get(f"/officer/runs/{run.id}/export")
    signed_in("officer").get("/officer/runs/999999/export", status=404)


# --- contents -----------------------------------------------------------------


def test_the_csv_has_one_row_per_response_with_question_wording_and_labels(signed_in, browser):
    assert complete(browser, questionnaire(), PLAN_SLUG, plan_choices).endswith("/check-answers")
    browser.post_redirect(f"/surveys/{PLAN_SLUG}/check-answers", {})
    db.session.rollback()
    stored = db.session.scalar(select(Response))
    officer = signed_in("officer")
    response = download(officer, f"/officer/runs/{stored.run_id}/export", "csv")
    assert response.mimetype == "text/csv"
    assert re.search(
        r'filename="ehc-plan-feedback-responses-\d{4}-\d{2}-\d{2}\.csv"', response.headers["Content-Disposition"]
    )
    header, *rows = read_csv(response.data)
    definition = questionnaire()
    assert header[:3] == ["Reference", "Submitted at (UK time)", "Language"]
    assert definition.question("needs_missing").label in header
    assert definition.question("felt_involved").label in header
    # Equality monitoring questions are kept apart, so never exported.
    assert definition.question("respondent_sex").label not in header
    assert len(rows) == 1
    row = dict(zip(header, rows[0], strict=True))
    assert row["Reference"] == stored.reference
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", row["Submitted at (UK time)"])
    assert row["Language"] == "English"
    needs = definition.question("needs_missing")
    # Labels, in the questionnaire's order, joined in one cell.
    assert row[needs.label] == "Communication and interaction; Health needs"
    assert row[definition.question("plan_reflects_needs").label] == "Strongly disagree"
    assert row[definition.question("worked_well").label] == '\'=HYPERLINK("http://example.com")'

    [entry] = audit_entries("export")
    assert entry.actor == "officer@example.gov.uk"
    assert entry.details == {"run_id": stored.run_id, "format": "csv", "rows": 1}


def test_the_xlsx_has_the_responses_and_a_codebook(signed_in):
    run = run_of()
    store_response(run, plan_answers(plan_reflects_needs="disagree", needs_missing=NEEDS_MISSING))
    store_response(run, plan_answers())
    response = download(signed_in("admin"), f"/officer/runs/{run.id}/export", "xlsx")
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    workbook = load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == ["Responses", "Codebook"]
    rows = [[cell.value for cell in row] for row in workbook["Responses"].iter_rows()]
    header = rows[0]
    definition = questionnaire()
    assert header[3] == definition.questions[0].label
    assert len(rows) == 3
    needs_column = header.index(definition.question("needs_missing").label)
    assert rows[1][needs_column] == "Communication and interaction; Health needs"
    assert rows[2][needs_column] is None  # not asked

    codebook = [[cell.value for cell in row] for row in workbook["Codebook"].iter_rows()]
    assert codebook[0] == list(exports.CODEBOOK_HEADER)
    needs_line = next(line for line in codebook if line[0] == definition.question("needs_missing").label)
    assert needs_line[1] == "needs_missing" and "separated by" in needs_line[2]
    assert [None, "needs_missing", None, "health", "Health needs"] in codebook
    assert any(line[0] == "Not included" and "Equality monitoring" in line[2] for line in codebook)

    [entry] = audit_entries("export")
    assert entry.details == {"run_id": run.id, "format": "xlsx", "rows": 2}


def test_the_codebook_downloads_as_csv_for_the_csv_format(signed_in):
    run = run_of()
    response = signed_in("officer").client.get(f"/officer/runs/{run.id}/export/codebook")
    assert response.status_code == 200
    header, *lines = read_csv(response.data)
    assert tuple(header) == exports.CODEBOOK_HEADER
    assert ["", "felt_involved", "", "strongly_agree", "Strongly agree"] in lines
    worked_well = questionnaire().question("worked_well")
    assert [worked_well.label, "worked_well", "Long text, as typed", "", ""] in lines


# --- formulas -----------------------------------------------------------------


def test_text_a_spreadsheet_would_run_as_a_formula_is_neutralised_in_csv(signed_in):
    run = run_of()
    for text in DANGEROUS:
        store_response(run, plan_answers(worked_well=text))
    header, *rows = read_csv(download(signed_in("officer"), f"/officer/runs/{run.id}/export", "csv").data)
    column = header.index(questionnaire().question("worked_well").label)
    assert [row[column] for row in rows] == [f"'{text}" for text in DANGEROUS]


def test_text_a_spreadsheet_would_run_as_a_formula_is_neutralised_in_xlsx(signed_in):
    run = run_of()
    for text in DANGEROUS:
        store_response(run, plan_answers(worked_well=text))
    data = download(signed_in("officer"), f"/officer/runs/{run.id}/export", "xlsx").data
    sheet = load_workbook(io.BytesIO(data))["Responses"]
    header = [cell.value for cell in next(sheet.iter_rows())]
    column = header.index(questionnaire().question("worked_well").label)
    cells = [row[column] for row in sheet.iter_rows(min_row=2)]
    for cell, text in zip(cells, DANGEROUS, strict=True):
        assert cell.data_type == "s"
        # XML reads a carriage return back as a line feed; the apostrophe is what matters.
        assert cell.value in (f"'{text}", f"'{text}".replace("\r", "\n"))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = [archive.read(name) for name in archive.namelist() if name.startswith("xl/worksheets/")]
    assert sheets and not any(b"<f>" in sheet or b"<f " in sheet for sheet in sheets)


def test_neutralise_leaves_ordinary_text_alone():
    assert exports.neutralise("Strongly agree") == "Strongly agree"
    assert exports.neutralise("3 weeks") == "3 weeks"
    assert exports.neutralise("") == ""
    assert [exports.neutralise(text)[0] for text in DANGEROUS] == ["'"] * len(DANGEROUS)


# --- streaming ----------------------------------------------------------------


def test_a_large_export_is_streamed_not_held_in_memory(survey_db, users):
    """3,000 responses with long comments: the CSV is written while at most one batch of rows is in memory."""
    run = run_of()
    comment = "The caseworker listened to us. " * 100  # about 3 KB
    _store_many(run, plan_answers(worked_well=comment, could_be_better=comment), 3000)
    officer = db.session.get(User, users["officer"].id)

    tracemalloc.start()
    try:
        file = exports.export_responses(run, exports.CSV, by=officer)
        written = rows = 0
        for chunk in file.chunks:
            written += len(chunk)
            rows += b"caseworker" in chunk
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert rows == 3000
    assert written > 3000 * 2 * len(comment)  # about 19 MB written...
    assert peak < written / 5  # ...while never holding more than a small part of it


def _store_many(run: SurveyRun, answers: dict[str, str | list[str]], count: int) -> None:
    """Many responses at once, through executemany: the rows the journey stores, faster."""
    now = utcnow()
    begin_write()
    response_ids = db.session.scalars(
        insert(Response).returning(Response.id, sort_by_parameter_order=True),
        [
            {
                "reference": new_reference(),
                "submission_key": secrets.token_hex(16),
                "run_id": run.id,
                "questionnaire_version_id": run.questionnaire_version_id,
                "audience": run.questionnaire_version.audience,
                "language": "en",
                "submitted_at": now,
            }
            for _ in range(count)
        ],
    ).all()
    db.session.execute(
        insert(Answer),
        [
            {
                "response_id": response_id,
                "run_id": run.id,
                "questionnaire_version_id": run.questionnaire_version_id,
                "question_key": key,
                "value": value,
                "audience": run.questionnaire_version.audience,
                "language": "en",
                "submitted_at": now,
            }
            for response_id in response_ids
            for key, given in answers.items()
            for value in (given if isinstance(given, list) else [given])
        ],
    )
    db.session.commit()
