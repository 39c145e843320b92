"""Validate questionnaire YAML files into typed ``Questionnaire`` objects.

Every problem is reported as ``file:line: field: message`` and all problems in
a file are reported together, so an author can fix a file in one pass. A file
with any problem is refused whole: a half-understood questionnaire is never
shown to a family.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from .schema import (
    CHOICE_TYPES,
    DONT_KNOW,
    NONE_OF_THESE,
    NOT_APPLICABLE,
    RESERVED_OPTION_VALUES,
    Audience,
    Condition,
    Option,
    Page,
    Question,
    Questionnaire,
    QuestionType,
)
from .yaml_lines import LineDict, LineList, YamlSyntaxError, load_yaml

DIRECTORY = Path(__file__).resolve().parent
SCALES_FILE = DIRECTORY / "scales.yaml"

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
# Question keys become form field names; these would clash with the form itself.
RESERVED_KEYS = frozenset(
    {"csrf_token", "data", "errors", "meta", "validate", "populate_obj", "process", "submission_key"}
)
DEFAULT_LABELS = {
    DONT_KNOW: "Don't know",
    NOT_APPLICABLE: "Not applicable",
    NONE_OF_THESE: "None of these",
}
MAX_TEXT_LENGTH = 10_000
DEFAULT_MAX_LENGTH = {QuestionType.SHORT_TEXT: 200, QuestionType.LONG_TEXT: 2000}

QUESTIONNAIRE_FIELDS = {
    "key",
    "version",
    "title",
    "audience",
    "intro",
    "estimated_minutes",
    "who_sees_answers",
    "questions",
}
GROUP_FIELDS = {"group", "title", "hint", "questions"}
COMMON_QUESTION_FIELDS = {"key", "type", "label", "hint", "required", "required_message", "show_if"}
TYPE_FIELDS: dict[QuestionType, set[str]] = {
    QuestionType.SINGLE_CHOICE: {"options", "dont_know", "not_applicable"},
    QuestionType.LIKERT: {"scale", "dont_know", "not_applicable"},
    QuestionType.YES_NO: {"dont_know", "not_applicable"},
    QuestionType.MULTIPLE_CHOICE: {"options", "none_option"},
    QuestionType.SHORT_TEXT: {"max_length"},
    QuestionType.LONG_TEXT: {"max_length"},
    QuestionType.NUMBER: {"min", "max", "whole_number", "suffix"},
    QuestionType.DATE: {"min", "max"},
}
OPTION_FIELDS = {"value", "label", "hint"}
CONDITION_FIELDS = {"question", "any_of"}


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.field}: " if self.field else ""
        return f"{self.file}:{self.line}: {where}{self.message}"


class QuestionnaireError(Exception):
    """Raised when definitions cannot be used; carries every problem found."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = sorted(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


@dataclass
class Library:
    """The questionnaires found in a directory, and the files refused."""

    questionnaires: dict[str, Questionnaire] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def get(self, key: str) -> Questionnaire | None:
        return self.questionnaires.get(key)


class _Checker:
    """Reads one parsed file, collecting problems instead of stopping at the first."""

    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []

    def problem(self, line: int, where: str, message: str) -> None:
        self.problems.append(Problem(self.file, line, where, message))

    def mapping(self, value: Any, line: int, where: str, check_duplicates: bool = True) -> LineDict | None:
        if isinstance(value, LineDict):
            if check_duplicates:
                self.duplicates(value, where)
            return value
        self.problem(line, where, f"must be a mapping of fields, not {_describe(value)}")
        return None

    def duplicates(self, mapping: LineDict, where: str) -> None:
        for key, duplicate_line in mapping.duplicate_keys:
            self.problem(duplicate_line, _join(where, str(key)), f"'{key}' is given more than once")

    def allowed_fields(self, mapping: LineDict, allowed: set[str], where: str) -> None:
        for key in mapping:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), sorted(allowed), n=1)
                hint = (
                    f"; did you mean '{close[0]}'?" if close else f"; allowed fields are {', '.join(sorted(allowed))}"
                )
                self.problem(mapping.line_of(key), _join(where, str(key)), f"unknown field '{key}'{hint}")

    def text(self, mapping: LineDict, key: str, where: str, required: bool = True) -> str | None:
        if key not in mapping or mapping[key] is None:
            if required:
                self.problem(mapping.line, _join(where, key), f"'{key}' is required")
            return None
        value = mapping[key]
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.problem(mapping.line_of(key), _join(where, key), f"must be text, not {_describe(value)}")
            return None
        text = str(value).strip()
        if not text:
            self.problem(mapping.line_of(key), _join(where, key), "must not be empty")
            return None
        return text

    def boolean(self, mapping: LineDict, key: str, where: str, default: bool) -> bool:
        value = mapping.get(key, default)
        if not isinstance(value, bool):
            self.problem(mapping.line_of(key), _join(where, key), f"must be true or false, not {_describe(value)}")
            return default
        return value

    def integer(self, mapping: LineDict, key: str, where: str, minimum: int, maximum: int) -> int | None:
        value = mapping.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(mapping.line_of(key), _join(where, key), f"must be a whole number, not {_describe(value)}")
            return None
        if not minimum <= value <= maximum:
            self.problem(mapping.line_of(key), _join(where, key), f"must be between {minimum} and {maximum}")
            return None
        return value

    def key(self, mapping: LineDict, field_name: str, where: str) -> str | None:
        value = self.text(mapping, field_name, where)
        if value is None:
            return None
        if not KEY_PATTERN.match(value):
            self.problem(
                mapping.line_of(field_name),
                _join(where, field_name),
                f"'{value}' is not a valid key: use lower-case letters, digits and underscores, starting with a letter",
            )
            return None
        if value in RESERVED_KEYS:
            self.problem(mapping.line_of(field_name), _join(where, field_name), f"'{value}' is a reserved name")
            return None
        return value


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"'{value}'"


def _display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# --- scales -----------------------------------------------------------------


def load_scales(path: Path = SCALES_FILE) -> tuple[dict[str, tuple[Option, ...]], list[Problem]]:
    """Named answer scales (``agree5``...), defined once for every questionnaire."""
    checker = _Checker(_display_path(path))
    try:
        raw = load_yaml(path.read_text(encoding="utf-8"))
    except YamlSyntaxError as error:
        checker.problem(error.line, "", error.message)
        return {}, checker.problems
    except OSError as error:
        checker.problem(1, "", f"cannot be read: {error.strerror}")
        return {}, checker.problems
    scales: dict[str, tuple[Option, ...]] = {}
    root = checker.mapping(raw, 1, "")
    if root is None:
        return {}, checker.problems
    for name, items in root.items():
        line = root.line_of(name)
        if not isinstance(name, str) or not KEY_PATTERN.match(name):
            checker.problem(line, str(name), "a scale name must be a lower-case key")
            continue
        options = _read_options(checker, items, line, name)
        if options:
            scales[name] = options
    return scales, checker.problems


def _read_options(checker: _Checker, items: Any, line: int, where: str) -> tuple[Option, ...]:
    if not isinstance(items, LineList) or not items:
        checker.problem(line, where, "needs a list of options, each with a value and a label")
        return ()
    options: list[Option] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        item_where = f"{where}[{index}]"
        option = checker.mapping(item, items.line_of(index), item_where)
        if option is None:
            continue
        checker.allowed_fields(option, OPTION_FIELDS, item_where)
        value = checker.key(option, "value", item_where)
        label = checker.text(option, "label", item_where)
        hint = checker.text(option, "hint", item_where, required=False)
        if value is None or label is None:
            continue
        if value in RESERVED_OPTION_VALUES:
            checker.problem(
                option.line_of("value"),
                f"{item_where}.value",
                f"'{value}' is kept for the answers apart from the scale; "
                "use dont_know, not_applicable or none_option instead",
            )
            continue
        if value in seen:
            checker.problem(option.line_of("value"), f"{item_where}.value", f"the value '{value}' is used twice")
            continue
        seen.add(value)
        options.append(Option(value=value, label=label, hint=hint))
    return tuple(options)


# --- questionnaires ---------------------------------------------------------


def load_file(path: Path, scales: dict[str, tuple[Option, ...]]) -> tuple[Questionnaire | None, list[Problem]]:
    """Validate one questionnaire file. Returns it only when it has no problems."""
    checker = _Checker(_display_path(path))
    try:
        raw = load_yaml(path.read_text(encoding="utf-8"))
    except YamlSyntaxError as error:
        checker.problem(error.line, "", error.message)
        return None, checker.problems
    except UnicodeDecodeError:
        checker.problem(1, "", "the file is not UTF-8 text")
        return None, checker.problems
    except OSError as error:
        checker.problem(1, "", f"cannot be read: {error.strerror}")
        return None, checker.problems
    questionnaire = _read_questionnaire(checker, raw, scales, str(path))
    if checker.problems:
        return None, checker.problems
    return questionnaire, []


def _read_questionnaire(
    checker: _Checker, raw: Any, scales: dict[str, tuple[Option, ...]], source: str
) -> Questionnaire | None:
    root = checker.mapping(raw, 1, "")
    if root is None:
        return None
    checker.allowed_fields(root, QUESTIONNAIRE_FIELDS, "")
    key = checker.key(root, "key", "")
    version = checker.integer(root, "version", "", 1, 10_000)
    if "version" not in root:
        checker.problem(root.line, "version", "'version' is required")
    title = checker.text(root, "title", "")
    intro = checker.text(root, "intro", "")
    who_sees_answers = checker.text(root, "who_sees_answers", "", required=False)
    estimated_minutes = checker.integer(root, "estimated_minutes", "", 1, 120)
    if "estimated_minutes" not in root:
        checker.problem(root.line, "estimated_minutes", "'estimated_minutes' is required")

    audience = None
    audience_text = checker.text(root, "audience", "")
    if audience_text is not None:
        try:
            audience = Audience(audience_text)
        except ValueError:
            checker.problem(
                root.line_of("audience"),
                "audience",
                f"unknown audience '{audience_text}'; use one of {', '.join(a.value for a in Audience)}",
            )

    pages = _read_pages(checker, root, scales)
    if checker.problems or None in (key, version, title, intro, estimated_minutes, audience):
        return None
    return Questionnaire(
        key=key,
        version=version,
        title=title,
        audience=audience,
        intro=intro,
        estimated_minutes=estimated_minutes,
        who_sees_answers=who_sees_answers,
        pages=tuple(pages),
        source=source,
    )


def _read_pages(checker: _Checker, root: LineDict, scales: dict[str, tuple[Option, ...]]) -> list[Page]:
    items = root.get("questions")
    if not isinstance(items, LineList) or not items:
        checker.problem(root.line_of("questions"), "questions", "needs a list of at least one question")
        return []
    pages: list[Page] = []
    # Every question so far, with the index of its page: show_if may only
    # look back to an earlier page, because a page is answered as a whole.
    earlier: dict[str, tuple[Question, int]] = {}
    page_keys: dict[str, int] = {}
    for index, item in enumerate(items):
        where = f"questions[{index}]"
        entry = checker.mapping(item, items.line_of(index), where, check_duplicates=False)
        if entry is None:
            continue
        if "group" in entry:
            page = _read_group(checker, entry, where, scales, earlier, len(pages))
        else:
            question = _read_question(checker, entry, where, scales, earlier, len(pages))
            page = Page(key=question.key, questions=(question,)) if question else None
        if page is None:
            continue
        if page.key in page_keys:
            checker.problem(entry.line, where, f"the key '{page.key}' is used twice in this questionnaire")
            continue
        page_keys[page.key] = entry.line
        for question in page.questions:
            page_keys.setdefault(question.key, entry.line)
        pages.append(page)
    return pages


def _read_group(checker, entry: LineDict, where: str, scales, earlier, page_index: int) -> Page | None:
    checker.allowed_fields(entry, GROUP_FIELDS, where)
    key = checker.key(entry, "group", where)
    where = key or where
    checker.duplicates(entry, where)
    title = checker.text(entry, "title", where)
    hint = checker.text(entry, "hint", where, required=False)
    items = entry.get("questions")
    if not isinstance(items, LineList) or len(items) < 2:
        checker.problem(
            entry.line_of("questions"), f"{where}.questions", "a group needs a list of at least two questions"
        )
        return None
    questions = []
    for index, item in enumerate(items):
        item_where = f"{where}.questions[{index}]"
        question_entry = checker.mapping(item, items.line_of(index), item_where, check_duplicates=False)
        if question_entry is None:
            continue
        if "group" in question_entry:
            checker.problem(question_entry.line, item_where, "groups cannot be put inside groups")
            continue
        question = _read_question(checker, question_entry, item_where, scales, earlier, page_index)
        if question:
            questions.append(question)
    if key is None or title is None or not questions:
        return None
    return Page(key=key, title=title, hint=hint, questions=tuple(questions))


def _read_question(
    checker: _Checker,
    entry: LineDict,
    where: str,
    scales: dict[str, tuple[Option, ...]],
    earlier: dict[str, tuple[Question, int]],
    page_index: int,
) -> Question | None:
    key = checker.key(entry, "key", where)
    if key is not None:
        where = key
    checker.duplicates(entry, where)
    if key is not None:
        if key in earlier:
            checker.problem(
                entry.line_of("key"), f"{where}.key", f"the key '{key}' is used twice in this questionnaire"
            )
            key = None

    type_text = checker.text(entry, "type", where)
    question_type = None
    if type_text is not None:
        try:
            question_type = QuestionType(type_text)
        except ValueError:
            close = difflib.get_close_matches(type_text, [t.value for t in QuestionType], n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            checker.problem(
                entry.line_of("type"),
                f"{where}.type",
                f"unknown question type '{type_text}'{hint}; use one of {', '.join(t.value for t in QuestionType)}",
            )
    allowed = COMMON_QUESTION_FIELDS | (
        TYPE_FIELDS[question_type] if question_type else set().union(*TYPE_FIELDS.values())
    )
    checker.allowed_fields(entry, allowed, where)

    label = checker.text(entry, "label", where)
    hint = checker.text(entry, "hint", where, required=False)
    required = checker.boolean(entry, "required", where, default=True)
    required_message = checker.text(entry, "required_message", where, required=False)
    show_if = _read_show_if(checker, entry, where, earlier, page_index)

    if question_type is None or key is None or label is None:
        return None
    values: dict[str, Any] = {}
    if question_type in CHOICE_TYPES:
        values["options"] = _read_choice_options(checker, entry, where, question_type, scales)
        if question_type is QuestionType.LIKERT:
            values["scale"] = entry.get("scale")
    elif question_type.is_text:
        max_length = checker.integer(entry, "max_length", where, 1, MAX_TEXT_LENGTH)
        values["max_length"] = max_length or DEFAULT_MAX_LENGTH[question_type]
    elif question_type is QuestionType.NUMBER:
        values.update(_read_number_bounds(checker, entry, where))
    elif question_type is QuestionType.DATE:
        values.update(_read_date_bounds(checker, entry, where))

    question = Question(
        key=key,
        type=question_type,
        label=label,
        hint=hint,
        required=required,
        required_message=required_message,
        show_if=show_if,
        **values,
    )
    earlier[key] = (question, page_index)
    return question


def _read_choice_options(checker: _Checker, entry: LineDict, where: str, question_type, scales) -> tuple[Option, ...]:
    if question_type is QuestionType.LIKERT:
        scale = checker.text(entry, "scale", where)
        if scale is None:
            return ()
        if scale not in scales:
            checker.problem(
                entry.line_of("scale"),
                f"{where}.scale",
                f"unknown scale '{scale}'; known scales are {', '.join(sorted(scales)) or 'none'}",
            )
            return ()
        options = list(scales[scale])
    elif question_type is QuestionType.YES_NO:
        options = [Option(value="yes", label="Yes"), Option(value="no", label="No")]
    else:
        if "options" not in entry:
            checker.problem(entry.line, f"{where}.options", f"a {question_type.value} question needs options")
            return ()
        options = list(_read_options(checker, entry["options"], entry.line_of("options"), f"{where}.options"))
        if len(options) < 2 and options:
            checker.problem(
                entry.line_of("options"), f"{where}.options", "a choice question needs at least two options"
            )

    if question_type is QuestionType.MULTIPLE_CHOICE:
        label = _apart_label(checker, entry, "none_option", where)
        if label:
            options.append(Option(value=NONE_OF_THESE, label=label, apart=True, exclusive=True))
    else:
        for flag, code in (("dont_know", DONT_KNOW), ("not_applicable", NOT_APPLICABLE)):
            label = _apart_label(checker, entry, flag, where)
            if label:
                options.append(Option(value=code, label=label, apart=True))
    return tuple(options)


def _apart_label(checker: _Checker, entry: LineDict, flag: str, where: str) -> str | None:
    """``dont_know: true`` uses the standard wording; a text gives other wording."""
    value = entry.get(flag)
    if value is None or value is False:
        return None
    if value is True:
        code = NONE_OF_THESE if flag == "none_option" else flag
        return DEFAULT_LABELS[code]
    if isinstance(value, str) and value.strip():
        return value.strip()
    checker.problem(entry.line_of(flag), f"{where}.{flag}", "must be true, false or the wording to show")
    return None


def _read_show_if(checker: _Checker, entry: LineDict, where: str, earlier, page_index: int) -> tuple[Condition, ...]:
    raw = entry.get("show_if")
    if raw is None:
        return ()
    where = f"{where}.show_if"
    items = raw if isinstance(raw, LineList) else [raw]
    lines = raw.item_lines if isinstance(raw, LineList) else [entry.line_of("show_if")]
    conditions = []
    for index, item in enumerate(items):
        item_where = f"{where}[{index}]" if isinstance(raw, LineList) else where
        condition = checker.mapping(item, lines[index], item_where)
        if condition is None:
            continue
        checker.allowed_fields(condition, CONDITION_FIELDS, item_where)
        target_key = checker.text(condition, "question", item_where)
        any_of = condition.get("any_of")
        if target_key is None:
            continue
        line = condition.line_of("question")
        if target_key not in earlier:
            checker.problem(
                line,
                f"{item_where}.question",
                f"'{target_key}' is not an earlier question; show_if can only depend on a question asked before it",
            )
            continue
        target, target_page = earlier[target_key]
        if target_page == page_index:
            checker.problem(
                line,
                f"{item_where}.question",
                f"'{target_key}' is on the same page; show_if can only depend on a question on an earlier page",
            )
            continue
        if not target.type.is_choice:
            checker.problem(
                line,
                f"{item_where}.question",
                f"'{target_key}' is a {target.type.value} question; show_if needs a question with options",
            )
            continue
        if isinstance(any_of, (str, int)) and not isinstance(any_of, bool):
            any_of = [str(any_of)]
        if not isinstance(any_of, list) or not any_of:
            checker.problem(condition.line_of("any_of"), f"{item_where}.any_of", "needs a list of answer values")
            continue
        known = {option.value for option in target.options}
        if not known:
            continue  # the target's own options are already reported as broken
        unknown = [str(value) for value in any_of if str(value) not in known]
        if unknown:
            checker.problem(
                condition.line_of("any_of"),
                f"{item_where}.any_of",
                f"{', '.join(repr(v) for v in unknown)} is not an answer to '{target_key}'; "
                f"its answers are {', '.join(sorted(known))}",
            )
            continue
        conditions.append(Condition(question=target_key, any_of=tuple(str(value) for value in any_of)))
    return tuple(conditions)


def _read_number_bounds(checker: _Checker, entry: LineDict, where: str) -> dict[str, Any]:
    whole_number = checker.boolean(entry, "whole_number", where, default=True)
    bounds: dict[str, Any] = {
        "whole_number": whole_number,
        "suffix": checker.text(entry, "suffix", where, required=False),
    }
    for name in ("min", "max"):
        value = entry.get(name)
        if value is None:
            bounds[name] = None
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            checker.problem(entry.line_of(name), f"{where}.{name}", f"must be a number, not {_describe(value)}")
            bounds[name] = None
        elif whole_number and not float(value).is_integer():
            checker.problem(entry.line_of(name), f"{where}.{name}", "must be a whole number, as the answer is")
            bounds[name] = None
        else:
            bounds[name] = int(value) if float(value).is_integer() else float(value)
    if bounds["min"] is not None and bounds["max"] is not None and bounds["min"] > bounds["max"]:
        checker.problem(entry.line_of("max"), f"{where}.max", "must not be less than min")
    return bounds


def _read_date_bounds(checker: _Checker, entry: LineDict, where: str) -> dict[str, Any]:
    bounds: dict[str, Any] = {}
    for name in ("min", "max"):
        value = entry.get(name)
        if value is None:
            bounds[name] = None
            continue
        text = str(value).strip()
        if text != "today":
            try:
                date.fromisoformat(text)
            except ValueError:
                checker.problem(
                    entry.line_of(name), f"{where}.{name}", f"'{text}' must be a date written YYYY-MM-DD, or today"
                )
                text = None
        bounds[name] = text
    low, high = bounds.get("min"), bounds.get("max")
    if low and high and "today" not in (low, high) and low > high:
        checker.problem(entry.line_of("max"), f"{where}.max", "must not be before min")
    return bounds


# --- directories ------------------------------------------------------------


def questionnaire_files(directory: Path = DIRECTORY) -> list[Path]:
    return sorted(path for path in directory.glob("*.yaml") if path.name != SCALES_FILE.name)


def load_files(paths: Iterable[Path], scales_path: Path = SCALES_FILE) -> Library:
    """Validate the given files; refuse a file with any problem, and a key used twice."""
    library = Library()
    scales, scale_problems = load_scales(scales_path)
    library.problems.extend(scale_problems)
    sources: dict[str, str] = {}
    for path in paths:
        questionnaire, problems = load_file(path, scales)
        library.problems.extend(problems)
        if questionnaire is None:
            continue
        if questionnaire.key in sources:
            library.problems.append(
                Problem(
                    _display_path(path),
                    1,
                    "key",
                    f"the key '{questionnaire.key}' is already used by {sources[questionnaire.key]}",
                )
            )
            continue
        sources[questionnaire.key] = _display_path(path)
        library.questionnaires[questionnaire.key] = questionnaire
    library.problems.sort()
    return library


def load_directory(directory: Path = DIRECTORY) -> Library:
    return load_files(questionnaire_files(directory), directory / "scales.yaml")
