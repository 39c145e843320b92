"""Importing responses collected elsewhere, such as a baseline run in another survey tool.

A CSV file has one row per response and one column per question. Columns
are matched to questions by key ("pathways_information") or by the
question's wording; answers by code ("very_good") or by the option's
wording in any of the questionnaire's languages ("Very good", "Da iawn").
Where another tool words things differently, a mapping file says which
column is which question and which answer is which code, and which columns
to ignore:

    columns:
      "Q4. How would you rate the information?": pathways_information
    answers:
      pathways_information:
        "Excellent": very_good
    ignore: ["Respondent ID", "IP Address"]

The mapping is checked against the questionnaire, and so is every cell:
an answer the question does not offer, a number or date out of bounds, text
over its limit, or an answer to a question the routing would not have
asked. A file with any problem is refused whole, naming each problem's row
and column, and nothing is imported. Each response's date comes from a
``submitted_at`` column (or ``--submitted-on`` for the whole file), and must
fall within the run's dates.

Imported responses are stored as the journey stores them: the answers with
the response, equality monitoring answers apart. Each row's submission key
comes from the file's content and the row, so importing the same file twice
is refused instead of counting every response twice.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm.attributes import set_committed_value

from questionnaires import Answers, Question, Questionnaire, QuestionType
from questionnaires.schema import Section

from ..database import begin_write
from ..extensions import db
from ..models import Access, EqualityAnswer, EqualityMonitoring, QuestionnaireVersion, Response, SurveyRun, Wave, utcnow
from . import audit, csv_files, runs
from .csv_files import CsvFileRefused, column_letter
from .journey import PLAN_REFERENCE_QUESTION, add_answers, new_reference
from .uk_time import UK, end_of_uk_day, uk_date

SUBMITTED_AT = "submitted_at"
SEVERAL_ANSWERS = re.compile(r"\s*[;|]\s*")
MAX_ROWS = 100_000
MAX_BYTES = 50 * 1024 * 1024
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y")
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M")


class MappingRefused(ValueError):
    """A mapping file that does not fit the questionnaire: every problem, one a line."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class Mapping:
    columns: dict[str, str]  # the heading as written (normalised) -> question key
    answers: dict[str, dict[str, str]]  # question key -> answer as written (normalised) -> code
    ignore: frozenset[str]  # headings (normalised) to leave out


@dataclass(frozen=True)
class ImportedResponse:
    row: int
    submitted_at: datetime  # naive UTC, as the database holds times
    answers: Answers
    submission_key: str


def _normal(text: str) -> str:
    """Text as it is compared: case, spacing and curly quotes ignored."""
    straight = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return " ".join(straight.split()).casefold()


def read_mapping(path: Path, questionnaire: Questionnaire) -> Mapping:
    """A mapping file, checked against the questionnaire (``MappingRefused`` lists what does not fit)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise MappingRefused([f"{path}: the mapping file cannot be read: {error}"]) from None
    problems: list[str] = []
    if not isinstance(raw, dict) or set(raw) - {"columns", "answers", "ignore"}:
        raise MappingRefused([f"{path}: a mapping file has only the sections columns, answers and ignore."])
    columns: dict[str, str] = {}
    for heading, key in (raw.get("columns") or {}).items():
        question = questionnaire.question(str(key))
        if question is None:
            problems.append(
                f"{path}: columns: “{heading}” is mapped to '{key}', which {questionnaire.key} does not ask."
            )
        else:
            columns[_normal(str(heading))] = question.key
    answers: dict[str, dict[str, str]] = {}
    for key, given in (raw.get("answers") or {}).items():
        question = questionnaire.question(str(key))
        if question is None or not question.type.is_choice:
            problems.append(f"{path}: answers: {questionnaire.key} has no choice question '{key}'.")
            continue
        codes = {option.value for option in question.options}
        for written, code in (given or {}).items():
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


def read_file(
    data: bytes,
    run: SurveyRun,
    questionnaire: Questionnaire,
    mapping: Mapping | None = None,
    submitted_on: date | None = None,
) -> list[ImportedResponse]:
    """The responses in a CSV file, or ``CsvFileRefused`` naming the row and column of every problem.

    ``run`` may be new (not yet stored, with no dates): then any dates are
    accepted, and the run is given the file's first and last dates by ``store``.
    """
    mapping = mapping or Mapping({}, {}, frozenset())
    text = csv_files.decode(
        data, "The file is empty. It needs a header row, then one row for each response.", MAX_BYTES
    )
    rows = list(csv_files.records(text))
    header = rows[0][1]
    columns = _columns(header, questionnaire, mapping, submitted_on)
    data_rows = [(number, cells) for number, cells in rows[1:] if any(cell.strip() for cell in cells)]
    if not data_rows:
        raise CsvFileRefused(["The file has a header row but no responses under it."])
    if len(data_rows) > MAX_ROWS:
        raise CsvFileRefused([f"The file has {len(data_rows):,} responses: split it into files of {MAX_ROWS:,}."])
    labels = {question.key: _answer_labels(question, questionnaire, mapping) for question in questionnaire.questions}
    fingerprint = hashlib.sha256(data).hexdigest()
    problems: list[str] = []
    imported = []
    for number, cells in data_rows:
        row_problems: list[str] = []
        answers: Answers = {}
        submitted_at = _submitted_at(number, cells, columns, run, submitted_on, row_problems)
        for position, key in columns.items():
            cell = cells[position].strip() if position < len(cells) else ""
            if key == SUBMITTED_AT or not cell:
                continue
            question = questionnaire.question(key)
            where = f"Row {number}, column {column_letter(position)} ({key})"
            answer = _answer(question, cell, labels[key], where, row_problems)
            if answer is not None:
                answers[key] = answer
        row_problems += csv_files.unnamed_cells(number, cells, header, "with a question's key or wording")
        row_problems += _routing_problems(number, columns, questionnaire, answers)
        problems += row_problems
        if not row_problems:
            key = hashlib.sha256(f"import:{run.slug}:{fingerprint}:{number}".encode()).hexdigest()
            imported.append(ImportedResponse(number, submitted_at, answers, key))
    if problems:
        raise CsvFileRefused(problems)
    return imported


def _columns(
    header: list[str], questionnaire: Questionnaire, mapping: Mapping, submitted_on: date | None
) -> dict[int, str]:
    """Which question each column answers, by position; every heading that matches nothing is a problem."""
    by_key = {question.key: question.key for question in questionnaire.questions}
    by_wording = {_normal(question.label): question.key for question in questionnaire.questions}
    problems, columns, first_position = [], {}, {}
    for position, heading in enumerate(header):
        written = _normal(heading)
        if not written or written in mapping.ignore:
            continue
        key = (
            SUBMITTED_AT
            if written == SUBMITTED_AT
            else mapping.columns.get(written) or by_key.get(heading.strip()) or by_wording.get(written)
        )
        if key is None:
            problems.append(
                f"Row 1, column {column_letter(position)}: “{heading.strip()[:80]}” is not a question of "
                f"{questionnaire.key}. Head the column with a question's key or wording, map it in a mapping "
                "file, or list it under ignore."
            )
        elif key in first_position:
            problems.append(
                f"Row 1, column {column_letter(position)}: {key} is also answered in column "
                f"{column_letter(first_position[key])}."
            )
        else:
            first_position[key] = position
            columns[position] = key
    if SUBMITTED_AT not in first_position and submitted_on is None:
        problems.append(
            "Row 1: there is no submitted_at column. Add one with the date each response was sent "
            "(like 2021-11-14 or 14/11/2021), or give one date for the whole file with --submitted-on."
        )
    if problems:
        raise CsvFileRefused(problems)
    return columns


def _answer_labels(question: Question, questionnaire: Questionnaire, mapping: Mapping) -> dict[str, str]:
    """Every way an answer to ``question`` may be written, to its code."""
    labels: dict[str, str] = {}
    for option in question.options:
        labels[_normal(option.value)] = option.value
        labels[_normal(option.label)] = option.value
        for texts in option.translations.values():
            if "label" in texts:
                labels.setdefault(_normal(texts["label"]), option.value)
    labels.update(mapping.answers.get(question.key, {}))
    return labels


def _answer(question: Question, cell: str, labels: dict[str, str], where: str, problems: list[str]):
    kind = question.type
    if kind.is_choice:
        parts = SEVERAL_ANSWERS.split(cell) if kind is QuestionType.MULTIPLE_CHOICE else [cell]
        codes = []
        for part in parts:
            code = labels.get(_normal(part))
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


def _parse_date(cell: str) -> date | None:
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(cell, pattern).date()
        except ValueError:
            continue
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


def _submitted_at(
    number: int, cells: list[str], columns: dict[int, str], run: SurveyRun, submitted_on: date | None, problems
) -> datetime | None:
    position = next((position for position, key in columns.items() if key == SUBMITTED_AT), None)
    cell = cells[position].strip() if position is not None and position < len(cells) else ""
    where = f"Row {number}, column {column_letter(position)} ({SUBMITTED_AT})" if position is not None else ""
    if not cell:
        if submitted_on is None:
            problems.append(f"{where}: give the date this response was sent.")
            return None
        moment = datetime.combine(submitted_on, time(12))
    else:
        moment = _parse_moment(cell)
        if moment is None:
            problems.append(f"{where}: “{cell[:40]}” is not a date: write it like 2021-11-14 or 14/11/2021 09:30.")
            return None
    # Times in the file are UK times, as the other tool showed them.
    utc = moment.replace(tzinfo=UK).astimezone(UTC).replace(tzinfo=None)
    if run.opens_at is None:
        return utc
    # The last UK day the run was open: one closing at midnight is not open on the day that starts.
    opens, closes = uk_date(run.opens_at), uk_date(run.closes_at - timedelta(microseconds=1))
    if not opens <= moment.date() <= closes:
        problems.append(
            f"Row {number}{', column ' + column_letter(position) if position is not None else ''}: "
            f"{moment.date().isoformat()} is outside the run's dates ({opens.isoformat()} to {closes.isoformat()})."
        )
        return None
    return utc


def _parse_moment(cell: str) -> datetime | None:
    for pattern in TIME_FORMATS:
        try:
            return datetime.strptime(cell, pattern)
        except ValueError:
            continue
    day = _parse_date(cell)
    return datetime.combine(day, time(12)) if day else None


def _routing_problems(number: int, columns: dict[int, str], questionnaire: Questionnaire, answers: Answers) -> list:
    """An answer to a question the routing would have skipped would count where it does not belong."""
    position_of = {key: position for position, key in columns.items()}
    problems = []
    for question in questionnaire.questions:
        if question.key in answers and not question.is_shown(answers):
            conditions = " and ".join(
                f"{condition.question} is {' or '.join(condition.any_of)}" for condition in question.show_if
            )
            problems.append(
                f"Row {number}, column {column_letter(position_of[question.key])} ({question.key}): answered, but "
                f"this question is only asked when {conditions}. Remove the answer or correct the earlier one."
            )
    return problems


def _plan_reference(run: SurveyRun, answers: Answers) -> str | None:
    """The reference the respondent gave, as the journey keeps it: never in an anonymous invitation run."""
    if Access(run.access) is Access.ANONYMOUS_INVITATIONS:
        return None
    given = answers.get(PLAN_REFERENCE_QUESTION)
    return given.strip()[:100] if isinstance(given, str) and given.strip() else None


class AlreadyImported(Exception):
    """The file's responses are already in the run."""


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


def store(run: SurveyRun, questionnaire: Questionnaire, responses: list[ImportedResponse], source: str) -> int:
    """Store every response in one transaction (with the run, when it is new); refuses a file imported before."""
    begin_write()
    if run.id is None:
        # Open from the first response's UK day to the end of the last one's.
        first = min(uk_date(response.submitted_at) for response in responses)
        last = max(uk_date(response.submitted_at) for response in responses)
        run.opens_at = datetime.combine(first, time(), tzinfo=UK).astimezone(UTC).replace(tzinfo=None)
        run.closes_at = end_of_uk_day(last)
        db.session.add(run)
        db.session.flush()
        audit.record(
            "run_created", run.title, by=source, run_id=run.id, questionnaire_version_id=run.questionnaire_version_id
        )
    keys = [response.submission_key for response in responses]
    already = db.session.scalar(select(func.count()).select_from(Response).where(Response.submission_key.in_(keys)))
    if already:
        db.session.rollback()
        raise AlreadyImported(f"This file's {already:,} responses are already imported to '{run.title}'.")
    equality_keys = {question.key for question in questionnaire.questions if question.section is Section.EQUALITY}
    for imported in responses:
        response = Response(
            reference=new_reference(),
            submission_key=imported.submission_key,
            run_id=run.id,
            questionnaire_version_id=run.questionnaire_version_id,
            audience=questionnaire.audience.value,
            language="en",
            submitted_at=imported.submitted_at,
            plan_reference=_plan_reference(run, imported.answers),
        )
        equality = EqualityMonitoring(
            id=secrets.token_hex(16),
            run_id=run.id,
            questionnaire_version_id=run.questionnaire_version_id,
            submitted_month=uk_date(imported.submitted_at).replace(day=1),
        )
        for key, given in imported.answers.items():
            if key in equality_keys:
                values = given if isinstance(given, list) else [given]
                equality.answers.extend(EqualityAnswer(question_key=key, value=value) for value in values)
            else:
                add_answers(response, key, given)
        db.session.add(response)
        if equality.answers:
            db.session.add(equality)
    audit.record("responses_imported", run.title, by=source, run_id=run.id, responses=len(responses))
    db.session.commit()
    runs.forget_cached_runs()
    return len(responses)
