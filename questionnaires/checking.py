"""Reading one parsed file, collecting every problem as ``file:line: field: message``."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .schema import (
    ENGLISH,
    LANGUAGES,
    RESERVED_OPTION_VALUES,
    Option,
    Origin,
    Translations,
)
from .yaml_lines import LineDict, LineList, YamlSyntaxError, load_yaml

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
IMAGE_PATTERN = re.compile(r"^[a-z0-9_-]+(/[a-z0-9_-]+)*\.(svg|png)$")
# Question keys become form field names; these would clash with the form itself.
RESERVED_KEYS = frozenset(
    {"csrf_token", "data", "errors", "meta", "validate", "populate_obj", "process", "submission_key"}
)
# Never a question: a plan reference someone types could be anyone's, and
# would identify a child in an anonymous response. In a run by identified
# invitation the invitation carries the plan's reference instead.
PLAN_REFERENCE = "plan_reference"
PLAN_REFERENCE_REFUSED = (
    "a plan reference is never asked: in a run by identified invitation it comes from the invitation, "
    "and other runs keep none"
)
OPTION_FIELDS = {"value", "label", "hint", "image", "image_alt"}
# Which fields of each part may be translated with ``field::language``.
QUESTIONNAIRE_TEXTS = ("title", "intro", "who_sees_answers")
GROUP_TEXTS = ("title", "hint")
APART_FLAGS = ("dont_know", "not_applicable", "none_option")
QUESTION_TEXTS = ("label", "hint", "required_message", "suffix", *APART_FLAGS)
OPTION_TEXTS = ("label", "hint", "image_alt")
USE_TEXTS = ("label", "hint")

# The shared files beside the questionnaires (see shared.py).
SCALES_FILE = "scales.yaml"
CONTEXT_FILE = "context.yaml"
EQUALITY_FILE = "equality.yaml"
SHARED_FILES = (SCALES_FILE, CONTEXT_FILE, EQUALITY_FILE)


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


class Checker:
    """Reads one parsed file, collecting problems instead of stopping at the first."""

    def __init__(self, file: str, languages: Sequence[str] | None = None):
        self.file = file
        self.problems: list[Problem] = []
        # The languages translations may be given in; None in shared files,
        # which may carry any language a questionnaire could declare.
        self.languages = languages

    def problem(self, line: int, where: str, message: str) -> None:
        self.problems.append(Problem(self.file, line, where, message))

    def mapping(self, value: Any, line: int, where: str, check_duplicates: bool = True) -> LineDict | None:
        if isinstance(value, LineDict):
            if check_duplicates:
                self.duplicates(value, where)
            return value
        self.problem(line, where, f"must be a mapping of fields, not {describe(value)}")
        return None

    def duplicates(self, mapping: LineDict, where: str) -> None:
        for key, duplicate_line in mapping.duplicate_keys:
            self.problem(duplicate_line, join(where, str(key)), f"'{key}' is given more than once")

    def allowed_fields(self, mapping: LineDict, allowed: set[str], where: str, texts: Sequence[str] = ()) -> None:
        """Refuse unknown fields, and translations of a field that cannot be translated."""
        for key in mapping:
            name = str(key)
            base, separator, language = name.partition("::")
            if separator:
                if base in texts and base in allowed:
                    self.translation_language(mapping, name, language, where)
                elif base in allowed:
                    self.problem(mapping.line_of(key), join(where, name), f"'{base}' cannot be translated")
                else:
                    self.unknown_field(mapping, key, allowed, where)
            elif name not in allowed:
                self.unknown_field(mapping, key, allowed, where)

    def unknown_field(self, mapping: LineDict, key: Any, allowed: set[str], where: str) -> None:
        close = difflib.get_close_matches(str(key).partition("::")[0], sorted(allowed), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f"; allowed fields are {', '.join(sorted(allowed))}"
        self.problem(mapping.line_of(key), join(where, str(key)), f"unknown field '{key}'{hint}")

    def translation_language(self, mapping: LineDict, name: str, language: str, where: str) -> None:
        line = mapping.line_of(name)
        if language == ENGLISH:
            self.problem(line, join(where, name), f"English is the field itself: write '{name[:-4]}'")
        elif language not in LANGUAGES:
            self.problem(
                line,
                join(where, name),
                f"unknown language '{language}'; known languages are {', '.join(sorted(LANGUAGES))}",
            )
        elif self.languages is not None and language not in self.languages:
            self.problem(
                line,
                join(where, name),
                f"'{language}' is not one of this questionnaire's languages ({', '.join(self.languages)}); "
                "add it to 'languages' or remove this translation",
            )

    def text(self, mapping: LineDict, key: str, where: str, required: bool = True) -> str | None:
        if key not in mapping or mapping[key] is None:
            if required:
                self.problem(mapping.line, join(where, key), f"'{key}' is required")
            return None
        value = mapping[key]
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.problem(mapping.line_of(key), join(where, key), f"must be text, not {describe(value)}")
            return None
        text = str(value).strip()
        if not text:
            self.problem(mapping.line_of(key), join(where, key), "must not be empty")
            return None
        return text

    def translations(self, mapping: LineDict, texts: Sequence[str], where: str) -> Translations:
        """The ``field::language`` texts of a mapping, checked like the English ones."""
        found: Translations = {}
        for key in mapping:
            base, separator, language = str(key).partition("::")
            if not separator or base not in texts or language == ENGLISH or language not in LANGUAGES:
                continue
            if self.languages is not None and language not in self.languages:
                continue
            english = mapping.get(base)
            # "dont_know: true" has built-in wording, which may be translated.
            built_in = english is True and base in APART_FLAGS
            if english in (None, False) or (english is True and not built_in):
                self.problem(mapping.line_of(key), join(where, str(key)), f"there is no English '{base}' to translate")
                continue
            text = self.text(mapping, str(key), where)
            if text is not None:
                found.setdefault(language, {})[base] = text
        return found

    def origin(self, mapping: LineDict, where: str, texts: Sequence[str]) -> Origin:
        return Origin(where, {name: (self.file, mapping.line_of(name)) for name in texts if name in mapping})

    def boolean(self, mapping: LineDict, key: str, where: str, default: bool) -> bool:
        value = mapping.get(key, default)
        if not isinstance(value, bool):
            self.problem(mapping.line_of(key), join(where, key), f"must be true or false, not {describe(value)}")
            return default
        return value

    def integer(self, mapping: LineDict, key: str, where: str, minimum: int, maximum: int) -> int | None:
        value = mapping.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(mapping.line_of(key), join(where, key), f"must be a whole number, not {describe(value)}")
            return None
        if not minimum <= value <= maximum:
            self.problem(mapping.line_of(key), join(where, key), f"must be between {minimum} and {maximum}")
            return None
        return value

    def key(self, mapping: LineDict, field_name: str, where: str) -> str | None:
        value = self.text(mapping, field_name, where)
        if value is None:
            return None
        if not KEY_PATTERN.match(value):
            self.problem(
                mapping.line_of(field_name),
                join(where, field_name),
                f"'{value}' is not a valid key: use lower-case letters, digits and underscores, starting with a letter",
            )
            return None
        if value in RESERVED_KEYS:
            self.problem(mapping.line_of(field_name), join(where, field_name), f"'{value}' is a reserved name")
            return None
        if value == PLAN_REFERENCE:
            self.problem(mapping.line_of(field_name), join(where, field_name), PLAN_REFERENCE_REFUSED)
            return None
        return value


def join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"'{value}'"


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def read_yaml(path: Path, checker: Checker) -> Any:
    """The parsed file, or None with the reason recorded."""
    try:
        return load_yaml(path.read_text(encoding="utf-8"))
    except YamlSyntaxError as error:
        checker.problem(error.line, "", error.message)
    except UnicodeDecodeError:
        checker.problem(1, "", "the file is not UTF-8 text")
    except OSError as error:
        checker.problem(1, "", f"cannot be read: {error.strerror}")
    return None


def read_options(checker: Checker, items: Any, line: int, where: str) -> tuple[Option, ...]:
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
        checker.allowed_fields(option, OPTION_FIELDS, item_where, OPTION_TEXTS)
        value = checker.key(option, "value", item_where)
        label = checker.text(option, "label", item_where)
        hint = checker.text(option, "hint", item_where, required=False)
        image = checker.text(option, "image", item_where, required=False)
        image_alt = checker.text(option, "image_alt", item_where, required=False)
        if image is not None and not IMAGE_PATTERN.match(image):
            checker.problem(
                option.line_of("image"),
                f"{item_where}.image",
                f"'{image}' must be a path under the app's images, like faces/happy.svg",
            )
        if (image is None) != (image_alt is None):
            checker.problem(
                option.line, item_where, "an image needs image_alt, a few words saying what it shows, and the reverse"
            )
        translations = checker.translations(option, OPTION_TEXTS, item_where)
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
        options.append(
            Option(
                value=value,
                label=label,
                hint=hint,
                image=image,
                image_alt=image_alt,
                translations=translations,
                origin=checker.origin(option, item_where, OPTION_TEXTS),
            )
        )
    return tuple(options)
