"""Exports of a run's responses: CSV and Excel, the codebook, formula neutralisation, streaming and the audit log."""

from __future__ import annotations

import csv
import io
import re
import secrets
import tracemalloc
import zipfile
from datetime import datetime, timedelta

from openpyxl import load_workbook
from sqlalchemy import event, insert, select

from questionnaires.examples import example_form_values
from questionnaires.schema import Section
from survey_app.database import begin_write
from survey_app.extensions import db
from survey_app.formatting import uk_time
from survey_app.models import (
    Access,
    Answer,
    AuditEvent,
    Response,
    SurveyRun,
    User,
    utcnow,
)
from survey_app.services import exports, runs
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
        written = lines = chunks = 0
        for chunk in file.chunks:
            written += len(chunk)
            lines += chunk.count(b"\r\n")  # each chunk ends with a whole row
            chunks += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert lines == 1 + 3000
    assert written > 3000 * 2 * len(comment)  # about 19 MB written...
    assert chunks > 100  # ...sent a piece at a time...
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


# --- prepared once, and the same file as written answer by answer ---------------


def _answer_text_answer_by_answer(question, values: list[str]) -> str:
    """How exports wrote an answer before each question's cells were prepared once per export."""
    if not question.type.is_choice:
        return "; ".join(values)
    order = {option.value: index for index, option in enumerate(question.options)}
    chosen = sorted(values, key=lambda value: order.get(value, len(order)))
    return "; ".join(option.label if (option := question.option(value)) else value for value in chosen)


def _csv_answer_by_answer(run: SurveyRun, identified: bool) -> bytes:
    """The CSV export of a run, worked out response by response and answer by answer from the tables."""
    definition = questionnaire()
    questions = exports.exported_questions(definition)
    header = ["Reference", "Submitted at (UK time)", "Language"] + (["Plan reference"] if identified else [])
    lines = [header + [exports.wording(question) for question in questions]]
    for response in db.session.scalars(select(Response).where(Response.run_id == run.id).order_by(Response.id)):
        given: dict[str, list[str]] = {}
        for answer in db.session.scalars(select(Answer).where(Answer.response_id == response.id).order_by(Answer.id)):
            given.setdefault(answer.question_key, []).append(answer.value)
        fixed = [
            response.reference,
            uk_time(response.submitted_at).strftime("%Y-%m-%d %H:%M:%S"),
            exports.language_name(response.language),
        ] + ([response.plan_reference or ""] if identified else [])
        lines.append(
            fixed
            + [
                _answer_text_answer_by_answer(question, given[question.key]) if question.key in given else ""
                for question in questions
            ]
        )
    text = io.StringIO()
    writer = csv.writer(text)
    for line in lines:
        writer.writerow([exports.neutralise(cell) for cell in line])
    return "\ufeff".encode() + text.getvalue().encode()


def _insert(run: SurveyRun, submitted_at, answers: list[tuple[str, str]], **response) -> None:
    """A response and its answers straight into the tables, in this order: codes no question has, repeats."""
    begin_write()
    response_id = db.session.scalar(
        insert(Response)
        .values(
            reference=response.pop("reference", None) or new_reference(),
            submission_key=secrets.token_hex(16),
            run_id=run.id,
            questionnaire_version_id=run.questionnaire_version_id,
            audience=run.questionnaire_version.audience,
            language=response.pop("language", "en"),
            submitted_at=submitted_at,
            **response,
        )
        .returning(Response.id)
    )
    for key, value in answers:
        db.session.execute(
            insert(Answer).values(
                response_id=response_id,
                run_id=run.id,
                questionnaire_version_id=run.questionnaire_version_id,
                question_key=key,
                value=value,
                audience=run.questionnaire_version.audience,
                language="en",
                submitted_at=submitted_at,
            )
        )
    db.session.commit()


def test_the_csv_is_the_file_written_answer_by_answer(survey_db, users):
    """Prepared once per export, the cells are those worked out answer by answer, byte for byte."""
    version = run_of().questionnaire_version
    run = runs.open_run(
        version,
        "plans-identified",
        "Plans",
        utcnow() - timedelta(days=1),
        utcnow() + timedelta(days=1),
        access=Access.IDENTIFIED_INVITATIONS,
    )
    summer, winter = datetime(2025, 6, 30, 23, 30), datetime(2025, 12, 31, 23, 30)
    _insert(
        run,
        summer,
        # Codes out of the questionnaire's order, one no question has, and formulas.
        [
            ("needs_missing", "health"),
            ("needs_missing", "no_such_need"),
            ("needs_missing", "communication_interaction"),
            ("worked_well", "=SUM(A1:A9)"),
            ("felt_involved", "agree"),
            ("contacts_to_chase", "-3"),
        ],
        language="cy",
        plan_reference='=HYPERLINK("http://example.com")',
    )
    # The same question answered twice, a code a likert question does not have, an unknown language.
    _insert(
        run, winter, [("worked_well", "first"), ("worked_well", "+second"), ("felt_involved", "maybe")], language="xx"
    )
    _insert(run, winter, [])  # nothing answered
    for number in range(30):
        answers = plan_answers(plan_reflects_needs="disagree", needs_missing=NEEDS_MISSING[: number % 3])
        pairs = [
            (key, value) for key, given in answers.items() for value in (given if isinstance(given, list) else [given])
        ]
        _insert(run, summer + timedelta(minutes=number), pairs[number % 5 :], plan_reference=f"P{number}")
    officer = db.session.get(User, users["officer"].id)

    written = b"".join(exports.export_responses(run, exports.CSV, by=officer).chunks)
    assert written == _csv_answer_by_answer(run, identified=True)
    header, first, second, *_ = read_csv(written)
    row = dict(zip(header, first, strict=True))
    assert row["Submitted at (UK time)"] == "2025-07-01 00:30:00"  # 23:30 UTC in summer
    assert row[questionnaire().question("needs_missing").label] == (
        "Communication and interaction; Health needs; no_such_need"
    )
    assert row["Plan reference"].startswith("'=")
    assert dict(zip(header, second, strict=True))["Language"] == "xx"


def test_each_question_s_cells_are_prepared_once_per_export(survey_db, users, monkeypatch):
    run = run_of()
    for number in range(12):
        store_response(run, plan_answers(needs_missing=NEEDS_MISSING[: number % 3], worked_well=f"Comment {number}"))
    prepared: list[str] = []
    prepare = exports.AnswerCells.__init__

    def counted(self, question):
        prepared.append(question.key)
        prepare(self, question)

    monkeypatch.setattr(exports.AnswerCells, "__init__", counted)
    officer = db.session.get(User, users["officer"].id)
    for file_format in (exports.CSV, exports.XLSX):
        prepared.clear()
        b"".join(exports.export_responses(run, file_format, by=officer).chunks)
        assert sorted(prepared) == sorted(question.key for question in exports.exported_questions(questionnaire()))


# --- Excel, streamed ------------------------------------------------------------


def test_the_xlsx_starts_before_any_answer_is_read_and_is_streamed(survey_db, users):
    """3,000 responses with long comments: the workbook's first bytes come before the rows are read, and the
    rest comes a piece at a time, never more than a small part of it held."""
    run = run_of()
    comment = "The caseworker listened to us. " * 100  # about 3 KB
    _store_many(run, plan_answers(worked_well=comment, could_be_better="=1+2"), 3000)
    officer = db.session.get(User, users["officer"].id)
    statements: list[str] = []

    def seen(connection, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    tracemalloc.start()
    try:
        chunks = exports.export_responses(run, exports.XLSX, by=officer).chunks
        statements.clear()
        pieces = [next(chunks)]
        assert pieces[0].startswith(b"PK")
        assert not any("answer" in statement for statement in statements)  # nothing read yet
        pieces += list(chunks)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        event.remove(db.engine, "before_cursor_execute", seen)
    data = b"".join(pieces)
    assert len(pieces) > 10
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        sheet_size = archive.getinfo("xl/worksheets/sheet1.xml").file_size
    assert sheet_size > 3000 * len(comment)  # about 10 MB of rows...
    assert peak < sheet_size / 5  # ...never held at once

    sheet = load_workbook(io.BytesIO(data), read_only=True)["Responses"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    csv_rows = read_csv(b"".join(exports.export_responses(run, exports.CSV, by=officer).chunks))
    assert len(rows) == len(csv_rows) == 3001
    assert [[value or "" for value in row] for row in rows] == csv_rows


def test_the_export_page_says_a_large_file_takes_a_while(signed_in, monkeypatch):
    run = run_of()
    store_response(run, plan_answers())
    store_response(run, plan_answers())
    officer = signed_in("officer")
    page = officer.get(f"/officer/runs/{run.id}/export")
    assert "takes a while" not in page.text and "Excel opens at most" not in page.text
    monkeypatch.setattr(exports, "LARGE_EXPORT", 2)
    monkeypatch.setattr(exports, "XLSX_RESPONSES_PER_SECOND", 1 / 150)
    page = officer.get(f"/officer/runs/{run.id}/export")
    assert "The download starts straight away" in page.text
    assert "about 5 minutes for the Excel file, less than a minute for the CSV file" in page.text
    monkeypatch.setattr(exports, "EXCEL_ROWS", 2)
    page = officer.get(f"/officer/runs/{run.id}/export")
    assert "Excel opens at most 1,048,575 responses on a sheet, and this survey has more: choose CSV" in page.text
