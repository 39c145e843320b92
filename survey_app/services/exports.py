"""Exports of a run's responses: one row per response, as CSV or Excel, with a codebook.

Rows are streamed: responses and their answers are read in batches through
a server-side cursor (``yield_per``), ordered by response, and each response
is written out as soon as its last answer has been read, so an export of
any size holds only one batch in memory.

Every cell is neutralised against formula injection: text that a
spreadsheet would read as a formula (starting ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return) is written with a leading apostrophe, and Excel
cells are always typed as text.
"""

from __future__ import annotations

import csv
import io
import itertools
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import func, select

from questionnaires import Question, Questionnaire, QuestionType
from questionnaires.schema import LANGUAGES, PIPE_PATTERN, Section

from ..database import begin_write
from ..extensions import db
from ..formatting import uk_time
from ..models import Access, Answer, Response, SurveyRun, User, utcnow
from . import audit
from . import questionnaires as questionnaire_service

CSV = "csv"
XLSX = "xlsx"
FORMATS = {CSV: "CSV (comma-separated values)", XLSX: "Excel (XLSX)"}
MIMETYPES = {CSV: "text/csv; charset=utf-8", XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}

# Answer rows read from the database at a time.
BATCH_SIZE = 1000
# What a multiple-choice cell puts between the labels chosen.
JOIN = "; "
# Characters that make a spreadsheet read a cell as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

TYPE_DESCRIPTIONS = {
    QuestionType.SINGLE_CHOICE: "One answer from a list",
    QuestionType.MULTIPLE_CHOICE: f'Any number of answers from a list: the labels chosen, separated by "{JOIN}"',
    QuestionType.LIKERT: "One point on a scale",
    QuestionType.YES_NO: "Yes or no",
    QuestionType.SHORT_TEXT: "Short text, as typed",
    QuestionType.LONG_TEXT: "Long text, as typed",
    QuestionType.NUMBER: "A number",
    QuestionType.DATE: "A date, written YYYY-MM-DD",
}
# Characters: wide enough to read a short answer without widening the column.
COLUMN_WIDTH = 24
CODEBOOK_HEADER = ("Column", "Question key", "Type of answer", "Code", "Label")


@dataclass(frozen=True)
class Summary:
    """What an export of a run will hold, for the page that offers it."""

    responses: int
    questions: int
    identified: bool


@dataclass(frozen=True)
class Download:
    filename: str
    mimetype: str
    chunks: Iterator[bytes]


def neutralise(text: str) -> str:
    """Text a spreadsheet will show as text, never run as a formula."""
    return f"'{text}" if text.startswith(FORMULA_START) else text


def exported_questions(questionnaire: Questionnaire) -> list[Question]:
    """Every question but the equality monitoring ones, which are stored apart from responses."""
    return [question for question in questionnaire.questions if question.section is not Section.EQUALITY]


def wording(question: Question) -> str:
    """A question's wording with each earlier answer it shows replaced by its fallback ("your setting")."""
    return PIPE_PATTERN.sub(lambda match: match.group(2) or match.group(1), question.label)


def answer_text(question: Question, values: list[str]) -> str:
    """An answer as people read it: option labels (in the questionnaire's order), or the text given."""
    if not question.type.is_choice:
        return JOIN.join(values)
    order = {option.value: index for index, option in enumerate(question.options)}
    chosen = sorted(values, key=lambda value: order.get(value, len(order)))
    return JOIN.join(option.label if (option := question.option(value)) else value for value in chosen)


def summary(run: SurveyRun) -> Summary:
    responses = db.session.scalar(select(func.count()).select_from(Response).where(Response.run_id == run.id))
    return Summary(
        responses=responses,
        questions=len(exported_questions(questionnaire_service.questionnaire_of(run.questionnaire_version))),
        identified=run.access == Access.IDENTIFIED_INVITATIONS,
    )


def export_responses(run: SurveyRun, file_format: str, by: User) -> Download:
    """Record the export, then give the file: the responses sent up to now, oldest first."""
    if file_format not in FORMATS:
        raise ValueError(f"Unknown export format {file_format!r}")
    begin_write()
    questionnaire = questionnaire_service.questionnaire_of(run.questionnaire_version)
    identified = run.access == Access.IDENTIFIED_INVITATIONS
    # Rows sent while the file is being written are left out, so the count
    # in the audit log is the number of rows in the file.
    count, last_id = db.session.execute(
        select(func.count(), func.max(Response.id)).where(Response.run_id == run.id)
    ).one()
    audit.record("export", run.title, actor=by, run_id=run.id, format=file_format, rows=count)
    db.session.commit()
    rows = _rows(run.id, last_id or 0, exported_questions(questionnaire), identified)
    header = _header(questionnaire, identified)
    name = f"{run.slug}-responses-{_today()}.{file_format}"
    if file_format == CSV:
        return Download(name, MIMETYPES[CSV], _csv_chunks(itertools.chain([header], rows)))
    return Download(name, MIMETYPES[XLSX], _xlsx_chunks(header, rows, codebook(questionnaire, identified)))


def codebook_download(run: SurveyRun) -> Download:
    """The codebook alone, as CSV: it describes the questions, so holds nobody's answers."""
    questionnaire = questionnaire_service.questionnaire_of(run.questionnaire_version)
    rows = codebook(questionnaire, run.access == Access.IDENTIFIED_INVITATIONS)
    name = f"{run.slug}-codebook-{_today()}.csv"
    return Download(name, MIMETYPES[CSV], _csv_chunks(itertools.chain([CODEBOOK_HEADER], rows)))


def codebook(questionnaire: Questionnaire, identified: bool) -> list[tuple[str, ...]]:
    """One line per column, then one per answer option of a question that has options."""
    lines = [
        ("Reference", "", "The reference the respondent was given when they sent their answers", "", ""),
        ("Submitted at (UK time)", "", "Date and time sent, written YYYY-MM-DD HH:MM:SS", "", ""),
        ("Language", "", "The language the questionnaire was answered in", "", ""),
    ]
    if identified:
        lines.append(
            ("Plan reference", "", "The plan's reference from the invitation, or given by the respondent", "", "")
        )
    for question in exported_questions(questionnaire):
        lines.append((wording(question), question.key, TYPE_DESCRIPTIONS[question.type], "", ""))
        lines.extend(("", question.key, "", option.value, option.label) for option in question.options)
    lines.append(
        (
            "Not included",
            "",
            "Equality monitoring answers are kept apart from responses, so they can be counted "
            "but never read beside one person's answers. They are not in this file.",
            "",
            "",
        )
    )
    return lines


def _header(questionnaire: Questionnaire, identified: bool) -> tuple[str, ...]:
    fixed = ["Reference", "Submitted at (UK time)", "Language"] + (["Plan reference"] if identified else [])
    return tuple(fixed + [wording(question) for question in exported_questions(questionnaire)])


def _rows(run_id: int, last_id: int, questions: list[Question], identified: bool) -> Iterator[tuple[str, ...]]:
    """One row per response, read in batches and grouped per response as they arrive."""
    query = (
        select(
            Response.id,
            Response.reference,
            Response.submitted_at,
            Response.language,
            Response.plan_reference,
            Answer.question_key,
            Answer.value,
        )
        .outerjoin(Answer, Answer.response_id == Response.id)
        .where(Response.run_id == run_id, Response.id <= last_id)
        .order_by(Response.id, Answer.id)
        .execution_options(yield_per=BATCH_SIZE)
    )
    result = db.session.execute(query)
    try:
        for _, answer_rows in itertools.groupby(result, key=lambda row: row.id):
            yield _row(list(answer_rows), questions, identified)
    finally:
        result.close()


def _row(answer_rows: list, questions: list[Question], identified: bool) -> tuple[str, ...]:
    first = answer_rows[0]
    given: dict[str, list[str]] = {}
    for answer in answer_rows:
        if answer.question_key is not None:
            given.setdefault(answer.question_key, []).append(answer.value)
    fixed = [first.reference, _uk_timestamp(first.submitted_at), language_name(first.language)]
    if identified:
        fixed.append(first.plan_reference or "")
    answers = [answer_text(question, given[question.key]) if question.key in given else "" for question in questions]
    return tuple(fixed + answers)


def _csv_chunks(rows: Iterable[tuple[str, ...]]) -> Iterator[bytes]:
    # The byte order mark makes Excel read the file as UTF-8 rather than guess.
    yield "\ufeff".encode()
    line = io.StringIO()
    writer = csv.writer(line)
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
        yield line.getvalue().encode()
        line.seek(0)
        line.truncate()


def _xlsx_chunks(
    header: tuple[str, ...], rows: Iterable[tuple[str, ...]], codebook_lines: list[tuple[str, ...]]
) -> Iterator[bytes]:
    """Write the workbook to a temporary file (openpyxl's write-only mode keeps no rows in memory), then read it out."""
    workbook = Workbook(write_only=True)
    _write_sheet(workbook, "Responses", header, rows)
    _write_sheet(workbook, "Codebook", CODEBOOK_HEADER, codebook_lines)
    file = tempfile.TemporaryFile()  # noqa: SIM115 - closed (and so deleted) once read out
    try:
        workbook.save(file)
        file.seek(0)
        yield from _read_out(file)
    finally:
        file.close()


def _read_out(file: IO[bytes]) -> Iterator[bytes]:
    while chunk := file.read(64 * 1024):
        yield chunk


def _write_sheet(workbook: Workbook, title: str, header: tuple[str, ...], rows: Iterable[tuple[str, ...]]) -> None:
    sheet = workbook.create_sheet(title)
    # Set before any row is written: a write-only sheet cannot go back.
    sheet.freeze_panes = "A2"
    for index in range(1, len(header) + 1):
        sheet.column_dimensions[get_column_letter(index)].width = COLUMN_WIDTH
    bold = Font(bold=True)
    sheet.append([_text_cell(sheet, value, bold) for value in header])
    for row in rows:
        sheet.append([_text_cell(sheet, value) for value in row])


def _text_cell(sheet, value: str, font: Font | None = None) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=neutralise(ILLEGAL_CHARACTERS_RE.sub("", value)))
    # Always text, so nothing in the file is ever a formula, whatever the value.
    cell.data_type = "s"
    if font is not None:
        cell.font = font
    return cell


def _uk_timestamp(value: datetime) -> str:
    return uk_time(value).strftime("%Y-%m-%d %H:%M:%S")


def language_name(code: str) -> str:
    return LANGUAGES[code][1] if code in LANGUAGES else code


def _today() -> str:
    return uk_time(utcnow()).strftime("%Y-%m-%d")
