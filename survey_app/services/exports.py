"""Exports of a run's responses: one row per response, as CSV or Excel, with a codebook.

Rows are streamed: a run's responses, and their answers, are read in id
order through two server-side cursors (``yield_per``) side by side, and
each response is written out as soon as its last answer has been read, so
an export of any size holds only a batch of rows in memory. How each
question's answers become a cell (its labels, their order, the cell each
answer makes) is prepared once per export, in an ``AnswerCells``, not
worked out again answer by answer.

The Excel workbook is streamed too: its small parts come from an openpyxl
workbook made with the header row and the codebook, and the rows of the
responses sheet are written into it as they are read, in a ZIP file written
as it is sent, so the download starts at once instead of when the last row
is written.

Every cell is neutralised against formula injection: text that a
spreadsheet would read as a formula (starting ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return) is written with a leading apostrophe, and Excel
cells are always typed as text.
"""

from __future__ import annotations

import csv
import io
import itertools
import operator
import secrets
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import Select, func, select

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


# Responses a second each export writes (benchmarks/exports.py on two shared CPUs, slower than most servers):
# the export page says about how long a large run's file takes to download.
CSV_RESPONSES_PER_SECOND = 25_000
XLSX_RESPONSES_PER_SECOND = 15_000
# From this many responses, the page says so.
LARGE_EXPORT = 20_000
# Excel opens at most this many rows on a sheet: the header row and one less response.
EXCEL_ROWS = 1_048_576


@dataclass(frozen=True)
class Summary:
    """What an export of a run will hold, for the page that offers it."""

    responses: int
    questions: int
    identified: bool

    @property
    def large(self) -> bool:
        return self.responses >= LARGE_EXPORT

    @property
    def csv_takes(self) -> str:
        return _about(self.responses / CSV_RESPONSES_PER_SECOND)

    @property
    def xlsx_takes(self) -> str:
        return _about(self.responses / XLSX_RESPONSES_PER_SECOND)

    @property
    def too_many_for_excel(self) -> bool:
        return self.responses >= EXCEL_ROWS


def _about(seconds: float) -> str:
    """A download's time as people say it: "less than a minute", "about a minute", "about 4 minutes"."""
    if seconds < 45:
        return "less than a minute"
    if seconds < 90:
        return "about a minute"
    return f"about {round(seconds / 60)} minutes"


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
    return AnswerCells(question).text(values)


class AnswerCells:
    """How one question's answers are written: prepared once per export, then used for every response.

    ``cell`` takes an answer as the export reads it (None when not answered,
    a code or text, or a tuple of them when there are several) and gives the
    cell, neutralised. A choice question's cells are kept as they are made,
    so each combination of codes is worked out once per export (up to
    ``CACHED_CELLS`` of them); text is different in every response, so it is
    not kept.
    """

    # Combinations of codes kept per question: enough for every combination of a long checkbox list.
    CACHED_CELLS = 4096

    def __init__(self, question: Question):
        self.key = question.key
        self.is_choice = question.type.is_choice
        # As ``Question.option`` finds them: the first option with a code gives its label.
        self.labels: dict[str, str] = {}
        for option in question.options:
            self.labels.setdefault(option.value, option.label)
        self.order = {option.value: index for index, option in enumerate(question.options)}
        self.cells: dict[object, str] = {None: ""}
        if self.is_choice:
            self.cells.update((value, neutralise(label)) for value, label in self.labels.items())

    def text(self, values: list[str] | tuple[str, ...]) -> str:
        """The answer in words, not neutralised: labels in the questionnaire's order, or the text as given."""
        if not self.is_choice:
            return JOIN.join(values)
        unknown = len(self.order)
        chosen = sorted(values, key=lambda value: self.order.get(value, unknown))
        return JOIN.join(self.labels.get(value, value) for value in chosen)

    def cell(self, answer: str | tuple[str, ...] | None) -> str:
        found = self.cells.get(answer)
        if found is not None:
            return found
        made = neutralise(self.text(answer if isinstance(answer, tuple) else (answer,)))
        if self.is_choice and len(self.cells) < self.CACHED_CELLS:
            self.cells[answer] = made
        return made


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
    columns = [AnswerCells(question) for question in exported_questions(questionnaire)]
    rows = _rows(run.id, last_id or 0, columns, identified)
    header = _header(questionnaire, identified)
    name = f"{run.slug}-responses-{_today()}.{file_format}"
    if file_format == CSV:
        return Download(name, MIMETYPES[CSV], _csv_chunks(itertools.chain([_neutralised(header)], rows)))
    # Choice answers repeat, so their cells' XML is worth keeping; references, times and text do not.
    repeating = [False] * (len(header) - len(columns)) + [column.is_choice for column in columns]
    return Download(name, MIMETYPES[XLSX], _xlsx_chunks(header, rows, codebook(questionnaire, identified), repeating))


def codebook_download(run: SurveyRun) -> Download:
    """The codebook alone, as CSV: it describes the questions, so holds nobody's answers."""
    questionnaire = questionnaire_service.questionnaire_of(run.questionnaire_version)
    rows = codebook(questionnaire, run.access == Access.IDENTIFIED_INVITATIONS)
    name = f"{run.slug}-codebook-{_today()}.csv"
    return Download(name, MIMETYPES[CSV], _csv_chunks(map(_neutralised, itertools.chain([CODEBOOK_HEADER], rows))))


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


def _neutralised(row: Iterable[str]) -> list[str]:
    return [neutralise(cell) for cell in row]


_KEY_AND_VALUE = operator.itemgetter(1, 2)


def _rows(run_id: int, last_id: int, columns: list[AnswerCells], identified: bool) -> Iterator[list[str]]:
    """One row per response, its cells neutralised, read in batches.

    The responses and their answers are two queries read side by side, both
    in response order, rather than one join that would repeat each
    response's reference and time on every one of its answers.
    """
    responses_query = (
        select(Response.id, Response.reference, Response.submitted_at, Response.language, Response.plan_reference)
        .where(Response.run_id == run_id, Response.id <= last_id)
        .order_by(Response.id)
    )
    answers_query = (
        select(Answer.response_id, Answer.question_key, Answer.value)
        .join(Response, Response.id == Answer.response_id)
        .where(Response.run_id == run_id, Response.id <= last_id)
        .order_by(Response.id, Answer.id)
    )
    responses = db.session.connection().execute(responses_query, execution_options={"yield_per": BATCH_SIZE})
    answers = _plain_rows(answers_query)
    keys = [column.key for column in columns]
    cells_made = [column.cells for column in columns]
    languages: dict[str, str] = {}
    timestamps = _UKTimestamps()
    try:
        by_response = itertools.groupby(itertools.chain.from_iterable(answers), key=operator.itemgetter(0))
        pending = next(by_response, None)
        # A batch at a time (``partitions``): less work than asking for each row.
        for response_id, reference, submitted_at, language, plan_reference in itertools.chain.from_iterable(
            responses.partitions()
        ):
            given: dict[str, str | tuple[str, ...]] = {}
            # Answers of a response erased between the two queries' starts are passed over.
            while pending is not None and pending[0] <= response_id:
                if pending[0] == response_id:
                    given = _given(list(pending[1]))
                pending = next(by_response, None)
            if language not in languages:
                languages[language] = neutralise(language_name(language))
            row = [neutralise(reference), timestamps.text(submitted_at), languages[language]]
            if identified:
                row.append(neutralise(plan_reference or ""))
            # Each column's answer, then the cell made for it before: map keeps this loop out of Python.
            cells = list(map(dict.get, cells_made, map(given.get, keys)))
            if None in cells:
                # Text, or codes not met before: made by the question's own AnswerCells.
                cells = [column.cell(given.get(column.key)) for column in columns]
            row += cells
            yield row
    finally:
        answers.close()
        responses.close()


def _plain_rows(query: Select) -> Iterator[list[tuple]]:
    """A query's rows in batches, as the database driver gives them, through a server-side cursor on PostgreSQL.

    For the answers of an export: a million responses have ten million, and
    reading them as plain tuples rather than SQLAlchemy's rows takes a third
    less time. Only whole numbers are bound in the query (written into it as
    they are), and every column is an integer or text, so the driver's values
    are already what SQLAlchemy would give.
    """
    connection = db.session.connection()
    sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    driver_connection = connection.connection.dbapi_connection
    if connection.dialect.name == "postgresql":
        # Named, so PostgreSQL sends the rows as they are fetched instead of all at once.
        cursor = driver_connection.cursor(name=f"export_{secrets.token_hex(8)}")
    else:
        cursor = driver_connection.cursor()
    try:
        cursor.execute(sql)
        while batch := cursor.fetchmany(BATCH_SIZE):
            yield batch
    finally:
        cursor.close()


def _given(answer_rows: list) -> dict[str, str | tuple[str, ...]]:
    """One response's answers by question key: a code or text, or a tuple of them when there are several."""
    given = dict(map(_KEY_AND_VALUE, answer_rows))
    if len(given) == len(answer_rows):
        return given
    given = {}
    for _, key, value in answer_rows:
        before = given.get(key)
        if before is None:
            given[key] = value
        elif isinstance(before, tuple):
            given[key] = (*before, value)
        else:
            given[key] = (before, value)
    return given


class _UKTimestamps:
    """Naive UTC times written in UK time, YYYY-MM-DD HH:MM:SS, finding the UK offset once per UTC hour.

    The clocks change on the hour (01:00 UTC), so every time in one UTC hour
    has the same offset.
    """

    def __init__(self):
        self.offsets: dict[int, timedelta] = {}

    def text(self, moment: datetime) -> str:
        hour = moment.toordinal() * 24 + moment.hour
        offset = self.offsets.get(hour)
        if offset is None:
            offset = self.offsets[hour] = uk_time(moment).utcoffset()
        return (moment + offset).isoformat(" ", "seconds")


# CSV rows are sent in pieces of about this many characters, not one row at a time.
CHUNK_CHARACTERS = 64 * 1024


def _csv_chunks(rows: Iterable[list[str]]) -> Iterator[bytes]:
    """CSV of rows whose cells are already neutralised."""
    # The byte order mark makes Excel read the file as UTF-8 rather than guess.
    yield "\ufeff".encode()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(row)
        if buffer.tell() >= CHUNK_CHARACTERS:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


# --- Excel ----------------------------------------------------------------------

RESPONSES_SHEET = "Responses"
CODEBOOK_SHEET = "Codebook"
# Bytes of the responses sheet compressed at a time, and sent once there are this many.
XLSX_CHUNK_BYTES = 64 * 1024
# Cells whose XML is kept once made, per choice question's column.
XLSX_CACHED_CELLS = 4096
# zlib's fastest level: the file is half as large again as at the default level (6), compressed 3 times as fast.
XLSX_COMPRESSION = 1


def _xlsx_chunks(
    header: tuple[str, ...],
    rows: Iterable[list[str]],
    codebook_lines: list[tuple[str, ...]],
    repeating: list[bool],
) -> Iterator[bytes]:
    """The workbook, streamed as it is written: each part of the ZIP file is sent as soon as it is made.

    openpyxl (write-only) makes a workbook with the header row and the
    codebook: its parts are copied, and the responses sheet is split where its
    rows end, for the response rows to be written in between, in the XML
    openpyxl writes for a row. The ZIP file goes to a pipe that is emptied as
    it is sent, so it holds at most a chunk of it; an unseekable ZIP file puts
    each part's sizes after it (a data descriptor), as Excel reads.
    """
    skeleton = _skeleton(header, codebook_lines)
    pipe = _Pipe()
    with (
        zipfile.ZipFile(io.BytesIO(skeleton)) as source,
        zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=XLSX_COMPRESSION) as target,
    ):
        sheet_name = _sheet_part(source, RESPONSES_SHEET)
        for part in source.infolist():
            data = source.read(part)
            # By name, so each part takes the target's compression.
            if part.filename != sheet_name:
                target.writestr(part.filename, data)
            else:
                before, after = data.split(b"</sheetData>")
                with target.open(part.filename, "w") as sheet:
                    sheet.write(before)
                    for xml in _sheet_rows(rows, 2, repeating):
                        sheet.write(xml)
                        # zlib keeps what it compresses until it has enough to send.
                        if pipe.holding:
                            yield pipe.take()
                    sheet.write(b"</sheetData>" + after)
            yield pipe.take()
    yield pipe.take()  # the ZIP file's directory, written as it closes


def _skeleton(header: tuple[str, ...], codebook_lines: list[tuple[str, ...]]) -> bytes:
    """A workbook with the responses sheet's header row only, and the whole codebook."""
    workbook = Workbook(write_only=True)
    _write_sheet(workbook, RESPONSES_SHEET, header, [])
    _write_sheet(workbook, CODEBOOK_SHEET, CODEBOOK_HEADER, codebook_lines)
    file = io.BytesIO()
    workbook.save(file)
    return file.getvalue()


def _sheet_part(archive: zipfile.ZipFile, title: str) -> str:
    """The name of the part holding the sheet called ``title`` (openpyxl numbers them in order)."""
    sheets = [name for name in archive.namelist() if name.startswith("xl/worksheets/sheet")]
    position = [RESPONSES_SHEET, CODEBOOK_SHEET].index(title) + 1
    name = f"xl/worksheets/sheet{position}.xml"
    if name not in sheets:
        raise RuntimeError(f"openpyxl wrote no {name}")
    return name


def _sheet_rows(rows: Iterable[list[str]], first_row: int, repeating: list[bool]) -> Iterator[bytes]:
    """The XML of rows of text cells as openpyxl writes them, in pieces of about ``XLSX_CHUNK_BYTES``.

    Every row is one ``str.format`` of a template made once for the number of
    columns, so that the loop over cells runs in C; an empty cell is written
    as openpyxl writes one, an inline string with no text. The XML of a cell
    in a ``repeating`` column (a choice question's) is kept once made.
    """
    template = _row_template(len(repeating))
    kept = [{"": ""} if repeats else None for repeats in repeating]
    pieces: list[str] = []
    size = 0
    for number, row in enumerate(rows, start=first_row):
        xml = [made.get(value) if made is not None else None for made, value in zip(kept, row, strict=True)]
        for index, value in enumerate(row):
            if xml[index] is None:
                xml[index] = _inline_string(value) if value else ""
                made = kept[index]
                if made is not None and len(made) < XLSX_CACHED_CELLS:
                    made[value] = xml[index]
        text = template.format(number, *xml)
        pieces.append(text)
        size += len(text)
        if size >= XLSX_CHUNK_BYTES:
            yield "".join(pieces).encode()
            pieces.clear()
            size = 0
    if pieces:
        yield "".join(pieces).encode()


def _row_template(columns: int) -> str:
    """``<row r="{0}"><c r="A{0}" t="inlineStr">{1}</c>...</row>``: a row's number, then each cell's XML."""
    cells = "".join(
        f'<c r="{get_column_letter(index)}{{0}}" t="inlineStr">{{{index}}}</c>' for index in range(1, columns + 1)
    )
    return f'<row r="{{0}}">{cells}</row>'


def _inline_string(value: str) -> str:
    """A cell's text as an inline string: characters XML cannot hold taken out, then neutralised and escaped."""
    text = neutralise(ILLEGAL_CHARACTERS_RE.sub("", value))
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f"<is><t{space}>{escaped}</t></is>"


class _Pipe(io.RawIOBase):
    """Where the ZIP file is written: unseekable, and emptied each time it is read with ``take``."""

    def __init__(self):
        super().__init__()
        self.pieces: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.pieces.append(bytes(data))
        return len(data)

    @property
    def holding(self) -> bool:
        return bool(self.pieces)

    def take(self) -> bytes:
        data = b"".join(self.pieces)
        self.pieces.clear()
        return data


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


def language_name(code: str) -> str:
    return LANGUAGES[code][1] if code in LANGUAGES else code


def _today() -> str:
    return uk_time(utcnow()).strftime("%Y-%m-%d")
