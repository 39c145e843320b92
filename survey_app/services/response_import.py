"""Importing responses collected elsewhere, such as a baseline run in another survey tool.

A CSV file (UTF-8) has a header row, then one row per response and one
column per question. Columns are matched to questions by key
("pathways_information") or by the question's wording; answers by code
("very_good") or by the option's wording in any of the questionnaire's
languages ("Very good", "Da iawn"). A ``submitted_at`` column gives the date
each response was sent, in UK time unless it carries an offset (or
``--submitted-on`` gives one date for the whole file). Where another tool
words things differently, a mapping file says which column is which
question (or the date), which answer is which code, and which columns to
ignore:

    columns:
      "Date submitted": submitted_at
      "Q4. How would you rate the information?": pathways_information
    answers:
      pathways_information:
        "Excellent": very_good
    ignore: ["Respondent ID", "IP Address"]

A plan reference is never imported: a file with a plan reference column is
refused, and every imported response has none. Plan references come only
from identified invitations.

**Two passes.** ``check_file`` reads the file once, row by row, checking
every cell against the questionnaire: an answer the question does not offer,
a number or date out of bounds, text over its limit, an answer to a question
the routing would not have asked, a date outside the run. It keeps only the
problems (the first 50, and how many) and a few counts, so memory does not
grow with the file. A file with any problem is refused whole, naming each
problem's row and column. ``store`` then reads it again and writes the
responses in batches of ``BATCH_SIZE``, each batch its own short write
transaction: on SQLite the write lock is free between batches, so people
answering surveys at the same time get through.

**All or nothing.** If the import stops part-way (an error, Ctrl+C, SIGTERM,
the file changing between the passes), the batches already written are
removed, and so is a run the import made. Everything an import writes can be
found again from the run and the file alone: each response's submission key,
and the id of its equality monitoring row, are hashes of the run's address,
the file's SHA-256 and the row number (so they look random, and cannot be
matched with each other without the file). The audit log records when an
import starts and when it finishes; if the process was killed outright
(kill -9, a power cut) so that nothing could be removed, importing the same
file again finds the import that started and did not finish, and removes
what it stored before starting afresh. A file whose import finished is
refused when imported into the same run again.

Imported responses are stored as the journey stores them: the answers with
the response, equality monitoring answers apart, with nothing linking the two,
and their counts (``answer_counts``) added in each batch's transaction, and
taken away with what is removed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import secrets
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from time import monotonic, sleep

import yaml
from flask import current_app
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from questionnaires import Answers, Question, Questionnaire, QuestionType
from questionnaires.schema import Section

from ..database import begin_write
from ..extensions import db
from ..models import (
    Access,
    Answer,
    AnswerCount,
    AuditEvent,
    EqualityAnswer,
    EqualityMonitoring,
    QuestionnaireVersion,
    Response,
    SurveyRun,
    Wave,
    utcnow,
)
from . import answer_counts, audit, runs
from .csv_files import MAX_PROBLEMS_SHOWN, SAVE_AS_CSV, CsvFileRefused, column_letter, unnamed_cells
from .journey import REFERENCE_ALPHABET
from .uk_time import UK, end_of_uk_day, uk_date

SUBMITTED_AT = "submitted_at"
PLAN_REFERENCE = "plan_reference"
# Headings of a plan reference column, as compared (see _normal).
PLAN_REFERENCE_HEADINGS = frozenset({"plan_reference", "plan reference", "plan ref", "plan_ref"})
NO_PLAN_REFERENCES = "plan references come only from identified invitations and cannot be imported"
SEVERAL_ANSWERS = re.compile(r"\s*[;|]\s*")
MAX_ROWS = 100_000
MAX_BYTES = 50 * 1024 * 1024
# Dates, year first or day first (never month first), with a time or without: 2021-11-14, 14/11/2021, 14/11/21,
# 2021-11-14 09:30, 2021-11-14T09:30:15, 14/11/2021 09:30.
YEAR_FIRST = re.compile(r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})")
DAY_FIRST = re.compile(r"(?P<day>\d{1,2})/(?P<month>\d{1,2})/(?P<year>\d{4}|\d{2})")
AT_TIME = r"(?:[T ](?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?)?"
MOMENTS = tuple(re.compile(form.pattern + AT_TIME) for form in (YEAR_FIRST, DAY_FIRST))
# An ISO 8601 time with its offset from UTC: 2021-11-14T09:30:00Z, 2021-06-14 09:30+01:00.
WITH_OFFSET = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})", re.IGNORECASE)
EMPTY_FILE = "The file is empty. It needs a header row, then one row for each response."

# Responses written per transaction. On SQLite each batch holds the write lock
# for a fraction of a second; respondents' writes go in between.
BATCH_SIZE = 500
# On SQLite the lock is left free between batches for at least as long as the
# last batch held it, and at least this long: a writer in another process waits
# in SQLite's busy handler, which looks again every 100 ms at most.
LEAST_GAP_SECONDS = 0.1
# Rows checked between two reports of progress.
PROGRESS_EVERY = 1000

# Stages of progress, as passed to a ``Progress`` callback with (done, total):
CHECKED = "checked"  # rows read and checked; total is None until the last call
STORED = "stored"  # responses stored, of the file's
REMOVED = "removed"  # responses removed after a failure, of those stored
CLEARED = "cleared"  # responses removed that an earlier, unfinished import of the file left
Progress = Callable[[str, int, int | None], None]

STARTED = "responses_import_started"
FINISHED = "responses_imported"
UNDONE = "responses_import_undone"


class MappingRefused(ValueError):
    """A mapping file that does not fit the questionnaire: every problem, one a line."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


class AlreadyImported(Exception):
    """The file's responses are already in the run (or being imported into it)."""


@dataclass(frozen=True)
class Mapping:
    columns: dict[str, str]  # the heading as written (normalised) -> question key, or submitted_at
    answers: dict[str, dict[str, str]]  # question key -> answer as written (normalised) -> code
    ignore: frozenset[str]  # headings (normalised) to leave out


NO_MAPPING = Mapping({}, {}, frozenset())


@dataclass(frozen=True)
class ImportedResponse:
    row: int
    submitted_at: datetime  # naive UTC, as the database holds times
    answers: Answers


def _normal(text: str) -> str:
    """Text as it is compared: case, spacing and curly quotes ignored."""
    straight = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return " ".join(straight.split()).casefold()


# The mapping file -------------------------------------------------------------------------------------


def read_mapping(path: Path, questionnaire: Questionnaire) -> Mapping:
    """A mapping file, checked against the questionnaire (``MappingRefused`` lists what does not fit)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise MappingRefused([f"{path}: the mapping file cannot be read: {error}"]) from None
    if not isinstance(raw, dict) or set(raw) - {"columns", "answers", "ignore"}:
        raise MappingRefused([f"{path}: a mapping file has only the sections columns, answers and ignore."])
    shapes = {
        "columns": (dict, "each heading, then the question's key (or submitted_at), one a line"),
        "answers": (dict, "each question's key, then its answers as written, each with its code"),
        "ignore": (list, "a list of headings"),
    }
    problems = [
        f"{path}: {section}: give {what}."
        for section, (kind, what) in shapes.items()
        if raw.get(section) is not None and not isinstance(raw[section], kind)
    ]
    if problems:
        raise MappingRefused(problems)
    columns: dict[str, str] = {}
    for heading, key in (raw.get("columns") or {}).items():
        question = questionnaire.question(str(key))
        if str(key) == PLAN_REFERENCE:
            problems.append(f"{path}: columns: “{heading}” is mapped to plan_reference: {NO_PLAN_REFERENCES}.")
        elif str(key) == SUBMITTED_AT:
            columns[_normal(str(heading))] = SUBMITTED_AT
        elif question is None:
            problems.append(
                f"{path}: columns: “{heading}” is mapped to '{key}', which {questionnaire.key} does not ask. "
                "Map each column to a question's key, or to submitted_at for the date each response was sent."
            )
        else:
            columns[_normal(str(heading))] = question.key
    answers: dict[str, dict[str, str]] = {}
    for key, given in (raw.get("answers") or {}).items():
        question = questionnaire.question(str(key))
        if question is None or not question.type.is_choice:
            problems.append(f"{path}: answers: {questionnaire.key} has no choice question '{key}'.")
            continue
        if not isinstance(given, dict):
            problems.append(f"{path}: answers: {key}: give each answer as written, then its code.")
            continue
        codes = {option.value for option in question.options}
        for written, code in given.items():
            if str(code) not in codes:
                problems.append(
                    f"{path}: answers: {key}: “{written}” is mapped to '{code}', which is not one of its answers "
                    f"({', '.join(sorted(codes))})."
                )
            else:
                answers.setdefault(question.key, {})[_normal(str(written))] = str(code)
    if problems:
        raise MappingRefused(problems)
    return Mapping(columns, answers, frozenset(_normal(str(heading)) for heading in raw.get("ignore") or []))


# Reading the file, row by row -------------------------------------------------------------------------


class _Fingerprinted(io.RawIOBase):
    """A file's bytes as they are read, hashed on the way, refusing a file that is not text."""

    def __init__(self, raw, digest):
        self.raw = raw
        self.digest = digest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = self.raw.readinto(buffer)
        if count:
            chunk = memoryview(buffer)[:count]
            if b"\x00" in chunk.tobytes():
                raise CsvFileRefused([f"The file is not a CSV file. {SAVE_AS_CSV}"])
            self.digest.update(chunk)
        return count


class _Records:
    """The records of a CSV file, one at a time, numbered as a spreadsheet numbers rows (the header is row 1).

    The file is never held whole: it is read in blocks, and its SHA-256
    (``fingerprint``) is known once every record has been read.
    """

    def __init__(self, path: Path):
        self.path = path
        self.digest = hashlib.sha256()

    @property
    def fingerprint(self) -> str:
        return self.digest.hexdigest()

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        with self.path.open("rb") as handle:
            raw = _Fingerprinted(handle, self.digest)
            # Excel starts UTF-8 CSV files with a byte order mark; newline="" lets csv see line ends in quoted cells.
            text = io.TextIOWrapper(io.BufferedReader(raw, 1 << 16), encoding="utf-8-sig", newline="")
            number = 0
            try:
                for number, cells in enumerate(csv.reader(text, strict=True), start=1):  # noqa: B007
                    yield number, cells
            except csv.Error:
                unreadable = f"Row {number + 1}: this row cannot be read as CSV."
                raise CsvFileRefused([f"{unreadable} Check for a quotation mark that is not closed."]) from None
            except UnicodeDecodeError:
                raise CsvFileRefused([f"The file is not saved as UTF-8 text. {SAVE_AS_CSV}"]) from None


def _blank(cells: list[str]) -> bool:
    return not any(cell.strip() for cell in cells)


class _Problems:
    """The first problems found, to show, and how many there are in all."""

    def __init__(self):
        self.shown: list[str] = []
        self.total = 0

    def add(self, problems: list[str]) -> None:
        self.total += len(problems)
        self.shown += problems[: max(0, MAX_PROBLEMS_SHOWN - len(self.shown))]


class _Rows:
    """How the rows of one file are read: which question each column answers, and every way an answer is written."""

    def __init__(self, header: list[str], questionnaire: Questionnaire, mapping: Mapping, submitted_on: date | None):
        self.header = header
        self.questionnaire = questionnaire
        self.submitted_on = submitted_on
        self.columns = _columns(header, questionnaire, mapping, submitted_on)
        self.date_position = next((p for p, key in self.columns.items() if key == SUBMITTED_AT), None)
        self.questions = {key: questionnaire.question(key) for key in self.columns.values() if key != SUBMITTED_AT}
        self.labels = {key: _answer_labels(question, mapping) for key, question in self.questions.items()}
        self.places = {position: f"column {column_letter(position)} ({key})" for position, key in self.columns.items()}
        self.answered = [(p, key) for p, key in self.columns.items() if key != SUBMITTED_AT]
        # Questions the routing may skip, in the questionnaire's order: only they can be answered out of turn.
        self.routed = [q for q in questionnaire.questions if q.show_if and q.key in self.questions]
        self.all_named = all(heading.strip() for heading in header)

    def read(
        self, number: int, cells: list[str], open_days: tuple[date, date] | None
    ) -> tuple[ImportedResponse | None, list[str]]:
        """The response in a row and its problems: every cell checked, and the date within ``open_days``."""
        problems: list[str] = []
        answers: Answers = {}
        submitted_at = self._submitted_at(number, cells, open_days, problems)
        count = len(cells)
        for position, key in self.answered:
            cell = cells[position].strip() if position < count else ""
            if not cell:
                continue
            answer = _answer(
                self.questions[key], cell, self.labels[key], f"Row {number}, {self.places[position]}", problems
            )
            if answer is not None:
                answers[key] = answer
        if count > len(self.header) or not self.all_named:
            problems += unnamed_cells(number, cells, self.header, "with a question's key or wording")
        for question in self.routed:
            if question.key in answers and not question.is_shown(answers):
                conditions = " and ".join(
                    f"{condition.question} is {' or '.join(condition.any_of)}" for condition in question.show_if
                )
                position = next(p for p, key in self.answered if key == question.key)
                problems.append(
                    f"Row {number}, {self.places[position]}: answered, but this question is only asked when "
                    f"{conditions}. Remove the answer or correct the earlier one."
                )
        if problems or submitted_at is None:
            return None, problems
        return ImportedResponse(number, submitted_at, answers), []

    def _submitted_at(
        self, number: int, cells: list[str], open_days: tuple[date, date] | None, problems: list[str]
    ) -> datetime | None:
        position = self.date_position
        cell = cells[position].strip() if position is not None and position < len(cells) else ""
        where = f"Row {number}, column {column_letter(position)} ({SUBMITTED_AT})" if position is not None else ""
        if not cell:
            if self.submitted_on is None:
                problems.append(f"{where}: give the date this response was sent.")
                return None
            moment = datetime.combine(self.submitted_on, time(12))
        else:
            moment = _parse_moment(cell)
            if moment is None:
                problems.append(
                    f"{where}: “{cell[:40]}” is not a date: write it like 2021-11-14 or 14/11/2021 09:30 (UK time), "
                    "or 2021-11-14T09:30:00Z."
                )
                return None
        if moment.tzinfo is None:
            # Times without an offset are UK times, as the other tool showed them.
            utc = moment.replace(tzinfo=UK).astimezone(UTC).replace(tzinfo=None)
            day = moment.date()
        else:
            utc = moment.astimezone(UTC).replace(tzinfo=None)
            day = uk_date(utc)
        if open_days is not None and not open_days[0] <= day <= open_days[1]:
            problems.append(
                f"Row {number}{', column ' + column_letter(position) if position is not None else ''}: "
                f"{day.isoformat()} is outside the run's dates ({open_days[0].isoformat()} to "
                f"{open_days[1].isoformat()})."
            )
            return None
        return utc


def _columns(
    header: list[str], questionnaire: Questionnaire, mapping: Mapping, submitted_on: date | None
) -> dict[int, str]:
    """Which question each column answers, by position; every heading that matches nothing is a problem."""
    by_key = {_normal(question.key): question.key for question in questionnaire.questions}
    by_wording = {_normal(question.label): question.key for question in questionnaire.questions}
    problems, columns, first_position = [], {}, {}
    for position, heading in enumerate(header):
        written = _normal(heading)
        if not written:
            continue
        key = (
            SUBMITTED_AT
            if written == SUBMITTED_AT
            else mapping.columns.get(written) or by_key.get(written) or by_wording.get(written)
        )
        letter = column_letter(position)
        if key == PLAN_REFERENCE or written in PLAN_REFERENCE_HEADINGS:
            problems.append(
                f"Row 1, column {letter}: “{heading.strip()[:80]}” is a column of plan references: "
                f"{NO_PLAN_REFERENCES}. Delete the column and import the file again."
            )
        elif written in mapping.ignore:
            continue
        elif key is None:
            problems.append(
                f"Row 1, column {letter}: “{heading.strip()[:80]}” is not a question of "
                f"{questionnaire.key}. Head the column with a question's key or wording, map it in a mapping "
                "file, or list it under ignore."
            )
        elif key in first_position and key == SUBMITTED_AT:
            problems.append(
                f"Row 1, column {letter}: column {column_letter(first_position[key])} already gives the date "
                "each response was sent (submitted_at)."
            )
        elif key in first_position:
            earlier = column_letter(first_position[key])
            problems.append(f"Row 1, column {letter}: {key} is also answered in column {earlier}.")
        else:
            first_position[key] = position
            columns[position] = key
    if SUBMITTED_AT not in first_position and submitted_on is None:
        problems.append(
            "Row 1: there is no submitted_at column. Add one with the date each response was sent "
            "(like 2021-11-14 or 14/11/2021 09:30), name the file's date column in a mapping file "
            '(columns: "Date submitted": submitted_at), or give one date for the whole file with --submitted-on.'
        )
    if problems:
        raise CsvFileRefused(problems)
    return columns


def _answer_labels(question: Question, mapping: Mapping) -> dict[str, str]:
    """Every way an answer to ``question`` may be written (as compared, see _normal), to its code."""
    labels: dict[str, str] = {}
    for option in question.options:
        labels[_normal(option.value)] = option.value
        labels[_normal(option.label)] = option.value
        for texts in option.translations.values():
            if "label" in texts:
                labels.setdefault(_normal(texts["label"]), option.value)
    labels.update(mapping.answers.get(question.key, {}))
    # Each also as written, found without normalising the cell: most cells are written exactly so.
    return {**labels, **_exactly_written(question, labels)}


def _exactly_written(question: Question, labels: dict[str, str]) -> dict[str, str]:
    written = {}
    for option in question.options:
        for text in (option.value, option.label):
            if labels.get(_normal(text)) == option.value:
                written[text] = option.value
    return written


def _answer(question: Question, cell: str, labels: dict[str, str], where: str, problems: list[str]):
    kind = question.type
    if kind.is_choice:
        parts = SEVERAL_ANSWERS.split(cell) if kind is QuestionType.MULTIPLE_CHOICE else [cell]
        codes = []
        for part in parts:
            code = labels.get(part) or labels.get(_normal(part))
            if code is None:
                offered = "; ".join(f"{option.label} ({option.value})" for option in question.options)
                problems.append(f"{where}: “{part[:80]}” is not one of its answers: {offered}.")
                return None
            codes.append(code)
        if kind is not QuestionType.MULTIPLE_CHOICE:
            return codes[0]
        exclusive = {option.value for option in question.options if option.exclusive}
        if len(codes) > 1 and exclusive & set(codes):
            problems.append(f"{where}: “{cell[:80]}” combines “None of these” with other answers.")
            return None
        return [option.value for option in question.options if option.value in codes]
    if kind.is_text:
        if len(cell) > question.max_length:
            problems.append(f"{where}: the answer is {len(cell):,} characters; the limit is {question.max_length:,}.")
            return None
        return cell
    if kind is QuestionType.NUMBER:
        return _number(question, cell, where, problems)
    return _date_answer(question, cell, where, problems)


def _number(question: Question, cell: str, where: str, problems: list[str]) -> str | None:
    try:
        number = Decimal(cell.replace(",", "").replace(" ", ""))
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        problems.append(f"{where}: “{cell[:40]}” is not a number.")
        return None
    if question.whole_number and number != number.to_integral_value():
        problems.append(f"{where}: {cell} is not a whole number.")
        return None
    if (question.min is not None and number < question.min) or (question.max is not None and number > question.max):
        problems.append(f"{where}: {cell} is outside the range {question.min} to {question.max}.")
        return None
    return str(int(number)) if question.whole_number else format(number.normalize(), "f")


def _year(written: str) -> int:
    """A year of four digits, or of two as Python reads them: 69 to 99 are 1969 to 1999, 00 to 68 are 2000 to 2068."""
    year = int(written)
    if len(written) == 2:
        year += 1900 if year >= 69 else 2000
    return year


def _parse_date(cell: str) -> date | None:
    for form in (YEAR_FIRST, DAY_FIRST):
        found = form.fullmatch(cell)
        if found is not None:
            try:
                return date(_year(found["year"]), int(found["month"]), int(found["day"]))
            except ValueError:
                return None
    return None


def _date_answer(question: Question, cell: str, where: str, problems: list[str]) -> str | None:
    given = _parse_date(cell)
    if given is None:
        problems.append(f"{where}: “{cell[:40]}” is not a date: write it like 2021-11-14 or 14/11/2021.")
        return None
    for bound, outside in ((question.min, given.__lt__), (question.max, given.__gt__)):
        if bound is not None:
            limit = date.today() if bound == "today" else date.fromisoformat(bound)
            if outside(limit):
                problems.append(f"{where}: {given.isoformat()} is outside the dates this question allows.")
                return None
    return given.isoformat()


def _parse_moment(cell: str) -> datetime | None:
    """A UK time without an offset (naive), or a time with one (aware); a date alone is midday."""
    if WITH_OFFSET.fullmatch(cell):
        try:
            return datetime.fromisoformat(cell.upper())
        except ValueError:
            return None
    for form in MOMENTS:
        found = form.fullmatch(cell)
        if found is not None:
            at = (int(found["hour"]), int(found["minute"]), int(found["second"] or 0)) if found["hour"] else (12,)
            try:
                return datetime(_year(found["year"]), int(found["month"]), int(found["day"]), *at)
            except ValueError:
                return None
    return None


def _open_days(run: SurveyRun) -> tuple[date, date] | None:
    """The first and last UK days a stored run is open (one closing at midnight is not open on the day that starts)."""
    if run.opens_at is None:
        return None
    return uk_date(run.opens_at), uk_date(run.closes_at - timedelta(microseconds=1))


# The first pass: checking ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckedFile:
    """A file with no problems, ready to store: what the second pass needs, and nothing of its answers."""

    path: Path
    fingerprint: str  # SHA-256 of the file's bytes
    responses: int
    last_row: int  # the number of the file's last record
    first_at: datetime  # the earliest and latest times responses were sent (naive UTC)
    last_at: datetime
    rows: _Rows


def check_file(
    path: Path,
    run: SurveyRun,
    questionnaire: Questionnaire,
    mapping: Mapping | None = None,
    submitted_on: date | None = None,
    progress: Progress | None = None,
) -> CheckedFile:
    """Check every row of a CSV file, reading it once; ``CsvFileRefused`` names the row and column of each problem.

    ``run`` may be new (not yet stored, with no dates): then any dates are
    accepted, and the run is given the file's first and last dates by ``store``.
    """
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise CsvFileRefused([f"The file must be smaller than {MAX_BYTES // 1024:,} KB. Split it into smaller files."])
    records = _Records(path)
    rows = iter(records)
    header = next(rows, (1, []))[1]
    if _blank(header):
        if all(_blank(cells) for _, cells in rows):
            raise CsvFileRefused([EMPTY_FILE])
        raise CsvFileRefused(["Row 1 is empty: the first row must be the header, naming each column."])
    reader = _Rows(header, questionnaire, mapping or NO_MAPPING, submitted_on)
    open_days = _open_days(run)
    problems = _Problems()
    count = last_row = 0
    first_at = last_at = None
    for last_row, cells in rows:  # noqa: B007 - the last row's number is kept
        if _blank(cells):
            continue
        count += 1
        if count > MAX_ROWS:
            continue  # only counted, to say how many there are
        response, row_problems = reader.read(last_row, cells, open_days)
        problems.add(row_problems)
        if response is not None:
            first_at = min(first_at or response.submitted_at, response.submitted_at)
            last_at = max(last_at or response.submitted_at, response.submitted_at)
        if progress and count % PROGRESS_EVERY == 0:
            progress(CHECKED, count, None)
    if progress:
        progress(CHECKED, count, count)
    if not count:
        raise CsvFileRefused(["The file has a header row but no responses under it."])
    if count > MAX_ROWS:
        raise CsvFileRefused([f"The file has {count:,} responses: split it into files of {MAX_ROWS:,}."])
    if problems.total:
        raise CsvFileRefused(problems.shown, problems.total)
    return CheckedFile(path, records.fingerprint, count, last_row, first_at, last_at, reader)


# The second pass: storing in batches ----------------------------------------------------------------------


def new_run(
    title: str, version: QuestionnaireVersion, wave: str | None, baseline: bool, expected_eligible: int | None
) -> SurveyRun:
    """A run for responses collected elsewhere, stored with them by ``store``: closed, so nobody answers it here."""
    run = SurveyRun(
        slug=runs.free_slug(runs.slug_from_title(title)),
        title=title,
        questionnaire_version_id=version.id,
        audience_description="Responses collected in another survey tool",
        access=Access.OPEN,
        expected_eligible=expected_eligible,
        retention_months=current_app.config["RESPONSE_RETENTION_MONTHS"],
        updated_at=utcnow(),
    )
    # Set without the backref: adding the run to version.runs would make the version dirty, and the next
    # query (looking up the wave, reading the questionnaire) would flush the unfinished run before ``store``
    # begins its write transaction.
    set_committed_value(run, "questionnaire_version", version)
    if wave:
        existing = runs.wave_named(wave)
        if existing is not None:
            run.wave_id = existing.id
        else:
            run.wave = Wave(name=wave, is_baseline=baseline, created_at=utcnow())
    return run


def _submission_key(slug: str, fingerprint: str, row: int) -> str:
    """The response's submission key: importing the same file into the same run gives the same keys."""
    return hashlib.sha256(f"import:{slug}:{fingerprint}:{row}".encode()).hexdigest()


def _equality_id(slug: str, fingerprint: str, row: int) -> str:
    """The id of the response's equality monitoring row: random to anyone without the file, found again with it."""
    return hashlib.sha256(f"equality:{slug}:{fingerprint}:{row}".encode()).hexdigest()[:32]


def _file_id(fingerprint: str) -> str:
    """How the audit log names a file: a hash of its hash."""
    return hashlib.sha256(f"file:{fingerprint}".encode()).hexdigest()[:32]


def _this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _still_running(process: str | None) -> bool:
    """Whether an import started by ``process`` (host:pid) is still running, as far as this machine can tell."""
    host, _, pid = (process or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def store(
    run: SurveyRun,
    questionnaire: Questionnaire,
    checked: CheckedFile,
    source: str,
    progress: Progress | None = None,
    batch_size: int | None = None,
) -> int:
    """Store a checked file's responses in batches, each its own transaction; all of them, or none.

    A new run is stored with the first batch. Refuses (``AlreadyImported``)
    a file whose import into the run finished before. If anything stops the
    import (an exception, KeyboardInterrupt), what it stored is removed
    before the exception goes on. ``progress`` is called after each batch is
    committed: raising there is the clean way to stop (the command does so on
    Ctrl+C or SIGTERM); an exception in the middle of a statement may leave
    SQLite's connection unusable for the removal, and what was stored is then
    removed by the next import of the file.
    """
    writer = _Writer(run, questionnaire, checked, source, progress or (lambda stage, done, total: None))
    writer.clear_earlier()
    try:
        writer.write(batch_size or BATCH_SIZE)
    except BaseException as error:
        db.session.rollback()
        if writer.started:
            writer.undo()
        runs.forget_cached_runs()
        if isinstance(error, IntegrityError) and "submission_key" in str(error.orig):
            raise AlreadyImported(
                f"Another import of this file into '{writer.title}' stored some of the same responses at the same time."
            ) from None
        raise
    runs.forget_cached_runs()
    return checked.responses


class _Writer:
    """One import's second pass: its batches, and how to remove them."""

    def __init__(self, run: SurveyRun, questionnaire: Questionnaire, checked: CheckedFile, source: str, progress):
        self.run = run
        self.checked = checked
        self.source = source
        self.progress = progress
        self.makes_run = run.id is None
        # A transient run has no lazy loads: a wave here is one new_run made.
        self.makes_wave = self.makes_run and run.wave_id is None and run.wave is not None
        self.run_id, self.slug, self.title = run.id, run.slug, run.title
        self.version_id, self.wave_id, self.adopted_wave_id = run.questionnaire_version_id, None, None
        self.audience = questionnaire.audience.value
        self.equality_keys = frozenset(q.key for q in questionnaire.questions if q.section is Section.EQUALITY)
        self.counting = answer_counts.counting_of(questionnaire)
        self.file_id = _file_id(checked.fingerprint)
        self.started = False  # whether a batch was committed
        self.stored = 0
        self.stored_through = 1  # the number of the last row stored
        self.committed_at: float | None = None  # when the last batch was committed
        self.held = 0.0  # and how long it held the write lock

    # Before writing: a file imported before, or an import of it that did not finish

    def clear_earlier(self) -> None:
        """Refuse a file already imported into the run; remove what an import of it that never finished left."""
        entries = [
            entry
            for entry in db.session.scalars(
                select(AuditEvent).where(AuditEvent.action.in_([STARTED, FINISHED, UNDONE])).order_by(AuditEvent.id)
            )
            if (entry.details or {}).get("file") == self.file_id
        ]
        if self.makes_run:
            # A new run is removed whole, with the wave it made, when its import never finished.
            for entry in _unfinished(entries):
                run_id = entry.details.get("run_id")
                still_there = db.session.scalar(select(SurveyRun.id).where(SurveyRun.id == run_id))
                if entry.details.get("new_run") and still_there:
                    self._refuse_if_running(entry)
                    made_wave = entry.details.get("new_wave_id")
                    if made_wave is not None and made_wave == self.run.wave_id:
                        # The new run goes in the wave the unfinished import made: it is kept, and is this
                        # import's to remove if this one stops part-way too.
                        self.adopted_wave_id, made_wave = made_wave, None
                    self._remove_run(run_id, made_wave, CLEARED)
            return
        present = 0
        for keys in self._keys_in_chunks(self.checked.last_row):
            present += db.session.scalar(
                select(func.count()).select_from(Response).where(Response.submission_key.in_(keys))
            )
        if not present:
            return
        unfinished = next((e for e in _unfinished(entries) if e.details.get("run_id") == self.run_id), None)
        if unfinished is None:
            if present < self.checked.responses:
                raise AlreadyImported(
                    f"{present:,} of this file's {self.checked.responses:,} responses are already imported to "
                    f"'{self.title}' (the others have been erased or deleted since)."
                )
            raise AlreadyImported(f"This file's {present:,} responses are already imported to '{self.title}'.")
        self._refuse_if_running(unfinished)
        self._remove_rows(self.checked.last_row, present, CLEARED)

    def _refuse_if_running(self, entry: AuditEvent) -> None:
        if _still_running(entry.details.get("process")):
            raise AlreadyImported(
                f"This file is being imported into '{entry.subject}' already, by process "
                f"{entry.details['process'].rpartition(':')[2]}. Wait for it to finish."
            )

    # Writing

    def write(self, batch_size: int) -> None:
        """Read the file again, storing each batch as it fills; the last one is stored with the audit entry."""
        records = _Records(self.checked.path)
        rows = iter(records)
        if next(rows, (1, None))[1] != self.checked.rows.header:
            raise CsvFileRefused(["The file changed while it was being imported. Import it again."])
        batch: list[ImportedResponse] = []
        for number, cells in rows:
            if _blank(cells):
                continue
            # Dates were checked in the first pass; a file changed since is found by its fingerprint below.
            response, _ = self.checked.rows.read(number, cells, None)
            if response is None:
                raise CsvFileRefused([f"Row {number} changed while the file was being imported. Import it again."])
            batch.append(response)
            if len(batch) >= batch_size:
                self._write_batch(batch, last=False)
                batch = []
        if records.fingerprint != self.checked.fingerprint:
            raise CsvFileRefused(["The file changed while it was being imported. Import it again."])
        self._write_batch(batch, last=True)

    def _write_batch(self, batch: list[ImportedResponse], last: bool) -> None:
        """One write transaction: the batch's rows are made ready before it, so that it holds the lock briefly."""
        rows = self._rows(batch) if self.started else None
        with self._transaction():
            if not self.started:
                self._start()
                rows = self._rows(batch)
            self._insert(*rows)
            if last:
                audit.record(
                    FINISHED,
                    self.title,
                    by=self.source,
                    run_id=self.run_id,
                    responses=self.checked.responses,
                    file=self.file_id,
                )
            # Counted before the commit, so that an interruption during it still removes the batch.
            self.started = True
            if batch:
                self.stored += len(batch)
                self.stored_through = batch[-1].row
        self.progress(STORED, self.stored, self.checked.responses)

    def _insert(self, responses: list[dict], answers: list[dict], monitoring: list[dict], equality: list[dict]):
        """Insert a batch's rows, giving each response a fresh reference and each answer its response's id."""
        for response, reference in zip(responses, _fresh_references(len(responses)), strict=True):
            response["reference"] = reference
        self._count(responses, answers, monitoring, equality)
        # Core inserts of plain rows, as executemany: the ORM's unit of work would cost several times as much.
        # (Ids are matched to rows by their keys: asking for them in order makes SQLite insert one row at a time.)
        table = Response.__table__
        returning = insert(table).returning(table.c.submission_key, table.c.id)
        id_of = dict(db.session.execute(returning, responses).all()) if responses else {}
        for answer in answers:
            answer["response_id"] = id_of[answer["response_id"]]
        for model, values in ((Answer, answers), (EqualityMonitoring, monitoring), (EqualityAnswer, equality)):
            if values:
                db.session.execute(insert(model.__table__), values)

    def _count(self, responses: list[dict], answers: list[dict], monitoring: list[dict], equality: list[dict]):
        """Add the batch's counts (which the measures read) in its transaction, in one statement or a few."""
        connection = db.session.connection()
        measures = answer_counts.counted_measures(connection)
        given: dict[str, dict[str, list[str]]] = {response["submission_key"]: {} for response in responses}
        for answer in answers:
            given[answer["response_id"]].setdefault(answer["question_key"], []).append(answer["value"])
        tally = answer_counts.Tally()
        for response in responses:
            key = response["submission_key"]
            tally.response(self.counting, self.run_id, self.audience, response["submitted_at"], given[key], measures)
        months = {row["id"]: row["submitted_month"] for row in monitoring}
        for row in equality:
            tally.equality(self.run_id, months[row["monitoring_id"]], [(row["question_key"], row["value"])])
        tally.write(connection)

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """A short write transaction, committed at the end. On SQLite it waits first until the lock has been
        free as long as the last one held it, so that respondents' writes get in between."""
        if self.committed_at is not None and db.engine.dialect.name == "sqlite":
            wait = self.committed_at + max(LEAST_GAP_SECONDS, self.held) - monotonic()
            if wait > 0:
                sleep(wait)
        begin_write()
        locked_at = monotonic()
        yield
        db.session.commit()
        self.committed_at = monotonic()
        self.held = self.committed_at - locked_at

    def _rows(self, batch: list[ImportedResponse]) -> tuple[list[dict], list[dict], list[dict], list[dict]]:
        """The rows of a batch's responses, answers (each with its response's key for now), and equality answers."""
        responses, answers, monitoring, equality = [], [], [], []
        shared = {"run_id": self.run_id, "questionnaire_version_id": self.version_id, "audience": self.audience}
        for imported in batch:
            key = _submission_key(self.slug, self.checked.fingerprint, imported.row)
            responses.append(
                {
                    **shared,
                    "submission_key": key,
                    "language": "en",
                    "submitted_at": imported.submitted_at,
                    # Never from the file: plan references come only from identified invitations.
                    "plan_reference": None,
                }
            )
            monitoring_id = None
            for question, given in imported.answers.items():
                values = given if isinstance(given, list) else [given]
                if question not in self.equality_keys:
                    answers += [
                        {
                            **shared,
                            "response_id": key,
                            "question_key": question,
                            "value": value,
                            "language": "en",
                            "submitted_at": imported.submitted_at,
                        }
                        for value in values
                    ]
                    continue
                if monitoring_id is None:
                    monitoring_id = _equality_id(self.slug, self.checked.fingerprint, imported.row)
                    monitoring.append(
                        {
                            "id": monitoring_id,
                            "run_id": self.run_id,
                            "questionnaire_version_id": self.version_id,
                            # The UK month, as the measures count responses.
                            "submitted_month": uk_date(imported.submitted_at).replace(day=1),
                        }
                    )
                equality += [{"monitoring_id": monitoring_id, "question_key": question, "value": v} for v in values]
        return responses, answers, monitoring, equality

    def _start(self) -> None:
        """In the first batch's transaction: the new run, if any, and the audit entry saying the import began."""
        run = self.run
        if self.makes_run:
            # Open from the first response's UK day to the end of the last one's.
            first, last = uk_date(self.checked.first_at), uk_date(self.checked.last_at)
            run.opens_at = datetime.combine(first, time(), tzinfo=UK).astimezone(UTC).replace(tzinfo=None)
            run.closes_at = end_of_uk_day(last)
            # Chosen again under the write lock: an earlier, unfinished import's run may have been removed since.
            run.slug = runs.free_slug(runs.slug_from_title(run.title))
            db.session.add(run)
            db.session.flush()
            self.run_id, self.slug = run.id, run.slug
            self.wave_id = run.wave_id if self.makes_wave or run.wave_id == self.adopted_wave_id else None
            audit.record(
                "run_created", run.title, by=self.source, run_id=run.id, questionnaire_version_id=self.version_id
            )
        audit.record(
            STARTED,
            self.title,
            by=self.source,
            run_id=self.run_id,
            responses=self.checked.responses,
            file=self.file_id,
            new_run=self.makes_run,
            new_wave_id=self.wave_id,
            process=_this_process(),
        )

    # Removing what was stored

    def undo(self) -> None:
        """Remove every batch this import committed, and the run (and wave) it made."""
        if self.makes_run:
            self._remove_run(self.run_id, self.wave_id, REMOVED, self.stored)
        else:
            self._remove_rows(self.stored_through, self.stored, REMOVED)

    def _keys_in_chunks(self, last_row: int, chunk: int = 1000) -> Iterator[list[str]]:
        for start in range(2, last_row + 1, chunk):
            yield [
                _submission_key(self.slug, self.checked.fingerprint, row)
                for row in range(start, min(start + chunk, last_row + 1))
            ]

    def _remove_rows(self, through: int, expected: int, stage: str, chunk: int = 1000) -> None:
        """From an existing run: the responses of rows 2 to ``through``, and their equality rows, a batch at a time."""
        fingerprint, run_id, removed = self.checked.fingerprint, self.run_id, 0
        self.progress(stage, 0, expected)
        for start in range(2, through + 1, chunk):
            rows = range(start, min(start + chunk, through + 1))
            keys = [_submission_key(self.slug, fingerprint, row) for row in rows]
            equality_ids = [_equality_id(self.slug, fingerprint, row) for row in rows]
            with self._transaction():
                ids = db.session.scalars(
                    select(Response.id).where(Response.run_id == run_id, Response.submission_key.in_(keys))
                ).all()
                _delete_responses(ids)
                answer_counts.remove_equality(db.session.connection(), equality_ids)
                _delete(EqualityAnswer, EqualityAnswer.monitoring_id.in_(equality_ids))
                _delete(
                    EqualityMonitoring, EqualityMonitoring.id.in_(equality_ids), EqualityMonitoring.run_id == run_id
                )
            removed += len(ids)
            self.progress(stage, removed, expected)
        with self._transaction():
            audit.record(UNDONE, self.title, by=self.source, run_id=run_id, responses=removed, file=self.file_id)

    def _remove_run(self, run_id: int, wave_id: int | None, stage: str, expected: int | None = None) -> None:
        """Remove a run an import made, its responses a batch at a time, and the wave it made if no run uses it."""
        removed = 0
        self.progress(stage, 0, expected)
        ids = [None]
        while ids:
            with self._transaction():
                ids = db.session.scalars(select(Response.id).where(Response.run_id == run_id).limit(1000)).all()
                _delete_responses(ids)
            removed += len(ids)
            self.progress(stage, removed, expected)
        with self._transaction():
            title = db.session.scalar(select(SurveyRun.title).where(SurveyRun.id == run_id)) or ""
            monitoring = select(EqualityMonitoring.id).where(EqualityMonitoring.run_id == run_id)
            _delete(EqualityAnswer, EqualityAnswer.monitoring_id.in_(monitoring))
            _delete(EqualityMonitoring, EqualityMonitoring.run_id == run_id)
            _delete(AnswerCount, AnswerCount.run_id == run_id)
            _delete(SurveyRun, SurveyRun.id == run_id)
            if wave_id is not None and not db.session.scalar(select(func.count()).where(SurveyRun.wave_id == wave_id)):
                _delete(Wave, Wave.id == wave_id)
            audit.record(
                UNDONE, title, by=self.source, run_id=run_id, responses=removed, file=self.file_id, run_removed=True
            )
        # Forget them in this session too: SQLite may give their ids to the next run and wave made.
        for model, removed_id in ((SurveyRun, run_id), (Wave, wave_id)):
            key = db.session.identity_key(model, removed_id) if removed_id is not None else None
            stale = db.session.identity_map.get(key) if key is not None else None
            if stale is not None:
                db.session.expunge(stale)
        self.progress(stage, removed, removed)


def _unfinished(entries: list[AuditEvent]) -> list[AuditEvent]:
    """The "started" entries, of one file's imports, with no "finished" or "undone" entry for their run after them."""
    open_by_run: dict[int, AuditEvent] = {}
    for entry in entries:
        if entry.action == STARTED:
            open_by_run[entry.details.get("run_id")] = entry
        else:
            open_by_run.pop(entry.details.get("run_id"), None)
    return list(open_by_run.values())


def _fresh_references(count: int) -> list[str]:
    """``count`` new response references like journey.new_reference's, none taken (checked in the transaction)."""
    references: set[str] = set()
    while len(references) < count:
        candidates = set(_random_references(count - len(references))) - references
        taken = set(db.session.scalars(select(Response.reference).where(Response.reference.in_(candidates))))
        references |= candidates - taken
    return list(references)


def _random_references(count: int) -> list[str]:
    """``count`` references of ten characters from one draw of random bytes (a byte past the last whole
    multiple of the alphabet's length is dropped, so every character is equally likely)."""
    size = len(REFERENCE_ALPHABET)
    usable = 256 - 256 % size
    characters = [REFERENCE_ALPHABET[byte % size] for byte in secrets.token_bytes(count * 12) if byte < usable]
    while len(characters) < count * 10:
        characters += [REFERENCE_ALPHABET[byte % size] for byte in secrets.token_bytes(16) if byte < usable]
    return [
        "".join(characters[start : start + 5]) + "-" + "".join(characters[start + 5 : start + 10])
        for start in range(0, count * 10, 10)
    ]


def _delete(model, *where) -> None:
    db.session.execute(delete(model).where(*where).execution_options(synchronize_session=False))


def _delete_responses(ids: list[int]) -> None:
    """Delete these responses with their answers, taking their counts away in the same transaction."""
    if ids:
        answer_counts.remove_responses(db.session.connection(), ids)
        _delete(Answer, Answer.response_id.in_(ids))
        _delete(Response, Response.id.in_(ids))
