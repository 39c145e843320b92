"""Validate questionnaire YAML files into typed ``Questionnaire`` objects.

Every problem is reported as ``file:line: field: message`` and all problems in
a file are reported together, so an author can fix a file in one pass. A file
with any problem is refused whole: a half-understood questionnaire is never
shown to a family.

Besides the questionnaires, three shared files are read: ``scales.yaml``
(answer scales), ``context.yaml`` (context questions a questionnaire includes
with ``- use: key``, so the same key means the same thing everywhere) and
``equality.yaml`` (the equality monitoring section, appended to questionnaires
that ask for it).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from .schema import (
    CHOICE_TYPES,
    DONT_KNOW,
    ENGLISH,
    LANGUAGES,
    NONE_OF_THESE,
    NOT_APPLICABLE,
    PIPE_PATTERN,
    RESERVED_OPTION_VALUES,
    Audience,
    Condition,
    Option,
    Origin,
    Page,
    Question,
    Questionnaire,
    QuestionType,
    Section,
    Translations,
)
from .yaml_lines import LineDict, LineList, YamlSyntaxError, load_yaml

DIRECTORY = Path(__file__).resolve().parent
SCALES_FILE = "scales.yaml"
CONTEXT_FILE = "context.yaml"
EQUALITY_FILE = "equality.yaml"
SHARED_FILES = (SCALES_FILE, CONTEXT_FILE, EQUALITY_FILE)

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
IMAGE_PATTERN = re.compile(r"^[a-z0-9_-]+(/[a-z0-9_-]+)*\.(svg|png)$")
# Question keys become form field names; these would clash with the form itself.
RESERVED_KEYS = frozenset(
    {"csrf_token", "data", "errors", "meta", "validate", "populate_obj", "process", "submission_key"}
)
# The first question of every young person's questionnaire (see context.yaml).
COMPLETED_WITH_SUPPORT = "completed_with_support"
# The wording of answers the format adds itself, in each language shipped.
BUILT_IN_LABELS: dict[str, dict[str, str]] = {
    DONT_KNOW: {"en": "Don't know", "cy": "Ddim yn gwybod"},
    NOT_APPLICABLE: {"en": "Not applicable", "cy": "Amherthnasol"},
    NONE_OF_THESE: {"en": "None of these", "cy": "Dim un o'r rhain"},
    "yes": {"en": "Yes", "cy": "Ie"},
    "no": {"en": "No", "cy": "Na"},
}
MAX_TEXT_LENGTH = 10_000
DEFAULT_MAX_LENGTH = {QuestionType.SHORT_TEXT: 200, QuestionType.LONG_TEXT: 2000}
PIPED_TYPES = frozenset(
    {
        QuestionType.SINGLE_CHOICE,
        QuestionType.LIKERT,
        QuestionType.YES_NO,
        QuestionType.SHORT_TEXT,
        QuestionType.NUMBER,
        QuestionType.DATE,
    }
)

# Which fields of each part may be translated with ``field::language``.
QUESTIONNAIRE_TEXTS = ("title", "intro", "who_sees_answers")
GROUP_TEXTS = ("title", "hint")
APART_FLAGS = ("dont_know", "not_applicable", "none_option")
QUESTION_TEXTS = ("label", "hint", "required_message", "suffix", *APART_FLAGS)
OPTION_TEXTS = ("label", "hint", "image_alt")
USE_TEXTS = ("label", "hint")

QUESTIONNAIRE_FIELDS = {
    "key",
    "version",
    "title",
    "audience",
    "intro",
    "estimated_minutes",
    "who_sees_answers",
    "languages",
    "easy_read",
    "equality_monitoring",
    "questions",
}
GROUP_FIELDS = {"group", "title", "hint", "questions"}
USE_FIELDS = {"use", "label", "hint"}
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
OPTION_FIELDS = {"value", "label", "hint", "image", "image_alt"}
CONDITION_FIELDS = {"question", "any_of"}
# The locality question's options are the council's areas, from its settings.
FROM_CONFIG = "from_config"


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

    def missing_translations(self) -> list[Problem]:
        """Every text without a translation into a language its questionnaire declares."""
        found: set[Problem] = set()
        for questionnaire in self.questionnaires.values():
            found.update(missing_translations(questionnaire))
        return sorted(found)


@dataclass
class Shared:
    """What questionnaires take from the shared files."""

    scales: dict[str, tuple[Option, ...]] = field(default_factory=dict)
    context: dict[str, Question] = field(default_factory=dict)
    # Context questions that cannot be asked as things are set up, and why.
    unavailable: dict[str, str] = field(default_factory=dict)
    equality: LineDict | None = None
    equality_file: str = EQUALITY_FILE


class _Checker:
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
        self.problem(line, where, f"must be a mapping of fields, not {_describe(value)}")
        return None

    def duplicates(self, mapping: LineDict, where: str) -> None:
        for key, duplicate_line in mapping.duplicate_keys:
            self.problem(duplicate_line, _join(where, str(key)), f"'{key}' is given more than once")

    def allowed_fields(self, mapping: LineDict, allowed: set[str], where: str, texts: Sequence[str] = ()) -> None:
        """Refuse unknown fields, and translations of a field that cannot be translated."""
        for key in mapping:
            name = str(key)
            base, separator, language = name.partition("::")
            if separator:
                if base in texts and base in allowed:
                    self.translation_language(mapping, name, language, where)
                elif base in allowed:
                    self.problem(mapping.line_of(key), _join(where, name), f"'{base}' cannot be translated")
                else:
                    self.unknown_field(mapping, key, allowed, where)
            elif name not in allowed:
                self.unknown_field(mapping, key, allowed, where)

    def unknown_field(self, mapping: LineDict, key: Any, allowed: set[str], where: str) -> None:
        close = difflib.get_close_matches(str(key).partition("::")[0], sorted(allowed), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f"; allowed fields are {', '.join(sorted(allowed))}"
        self.problem(mapping.line_of(key), _join(where, str(key)), f"unknown field '{key}'{hint}")

    def translation_language(self, mapping: LineDict, name: str, language: str, where: str) -> None:
        line = mapping.line_of(name)
        if language == ENGLISH:
            self.problem(line, _join(where, name), f"English is the field itself: write '{name[:-4]}'")
        elif language not in LANGUAGES:
            self.problem(
                line,
                _join(where, name),
                f"unknown language '{language}'; known languages are {', '.join(sorted(LANGUAGES))}",
            )
        elif self.languages is not None and language not in self.languages:
            self.problem(
                line,
                _join(where, name),
                f"'{language}' is not one of this questionnaire's languages ({', '.join(self.languages)}); "
                "add it to 'languages' or remove this translation",
            )

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
                self.problem(mapping.line_of(key), _join(where, str(key)), f"there is no English '{base}' to translate")
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


def _read_yaml(path: Path, checker: _Checker) -> Any:
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


# --- shared files -------------------------------------------------------------


def load_scales(path: Path) -> tuple[dict[str, tuple[Option, ...]], list[Problem]]:
    """Named answer scales (``agree5``...), defined once for every questionnaire."""
    checker = _Checker(_display_path(path))
    raw = _read_yaml(path, checker)
    if raw is None:
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


def locality_options(localities: Iterable[str]) -> tuple[Option, ...]:
    """The council's areas as options; each code is its name in lower case."""
    options = []
    for name in localities:
        value = re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")
        if value and not value[0].isalpha():
            value = f"area_{value}"
        if value and all(option.value != value for option in options):
            # Place names are the same in every language, so need no translation.
            options.append(Option(value=value[:63], label=name.strip()))
    return tuple(options)


def load_context(
    path: Path, scales: dict[str, tuple[Option, ...]], localities: Sequence[str] = ()
) -> tuple[dict[str, Question], dict[str, str], list[Problem]]:
    """Context questions, each defined once and included by questionnaires with ``use``.

    Returns the questions, those that cannot be asked as things are set up
    (with the reason, reported only where one is used), and the problems.
    """
    checker = _Checker(_display_path(path))
    raw = _read_yaml(path, checker)
    if raw is None:
        return {}, {}, checker.problems
    root = checker.mapping(raw, 1, "")
    if root is None:
        return {}, {}, checker.problems
    questions: dict[str, Question] = {}
    unavailable: dict[str, str] = {}
    reader = _PageReader(checker, Shared(scales=scales), section=Section.CONTEXT)
    for name, entry in root.items():
        line = root.line_of(name)
        if not isinstance(name, str) or not KEY_PATTERN.match(name) or name in RESERVED_KEYS:
            checker.problem(line, str(name), "a context question's name must be a lower-case key")
            continue
        entry = checker.mapping(entry, line, name, check_duplicates=False)
        if entry is None:
            continue
        if "key" in entry:
            checker.problem(entry.line_of("key"), f"{name}.key", "the key is the name above; remove 'key'")
            continue
        if "show_if" in entry:
            checker.problem(
                entry.line_of("show_if"), f"{name}.show_if", "a context question is asked wherever it is used"
            )
            continue
        config_options = None
        if entry.get("options") == FROM_CONFIG:
            config_options = locality_options(localities)
            if len(config_options) < 2:
                unavailable[name] = (
                    f"'{name}' takes its options from the LOCALITIES setting, "
                    "which needs at least two areas, separated by commas"
                )
                continue
        question = reader.question(entry, name, key=name, page_index=0, config_options=config_options)
        if question is not None:
            questions[name] = question
    return questions, unavailable, checker.problems


def load_equality(path: Path) -> tuple[LineDict | None, list[Problem]]:
    """The equality section, read here only as far as its shape.

    Its questions are checked as part of each questionnaire that includes
    them, so that their keys and conditions are checked in that setting.
    """
    checker = _Checker(_display_path(path))
    raw = _read_yaml(path, checker)
    if raw is None:
        return None, checker.problems
    root = checker.mapping(raw, 1, "")
    if root is None:
        return None, checker.problems
    checker.allowed_fields(root, {"questions"}, "")
    if not isinstance(root.get("questions"), LineList) or not root["questions"]:
        checker.problem(root.line, "questions", "needs a list of at least one question")
        return None, checker.problems
    return (root if not checker.problems else None), checker.problems


def load_shared(directory: Path, localities: Sequence[str] = ()) -> tuple[Shared, list[Problem]]:
    scales, problems = load_scales(directory / SCALES_FILE)
    shared = Shared(scales=scales, equality_file=_display_path(directory / EQUALITY_FILE))
    if (directory / CONTEXT_FILE).exists():
        shared.context, shared.unavailable, context_problems = load_context(
            directory / CONTEXT_FILE, scales, localities
        )
        problems.extend(context_problems)
    if (directory / EQUALITY_FILE).exists():
        shared.equality, equality_problems = load_equality(directory / EQUALITY_FILE)
        problems.extend(equality_problems)
    return shared, problems


# --- questionnaires ---------------------------------------------------------


def load_file(path: Path, shared: Shared) -> tuple[Questionnaire | None, list[Problem]]:
    """Validate one questionnaire file. Returns it only when it has no problems."""
    checker = _Checker(_display_path(path))
    raw = _read_yaml(path, checker)
    if raw is None:
        return None, checker.problems
    questionnaire = _read_questionnaire(checker, raw, shared, str(path))
    if checker.problems:
        return None, checker.problems
    return questionnaire, []


def _read_languages(checker: _Checker, root: LineDict) -> tuple[str, ...]:
    raw = root.get("languages", [ENGLISH])
    line = root.line_of("languages")
    if not isinstance(raw, list) or not raw or not all(isinstance(item, str) for item in raw):
        checker.problem(line, "languages", "must be a list of language codes, like [en, cy]")
        return (ENGLISH,)
    unknown = [code for code in raw if code not in LANGUAGES]
    if unknown:
        checker.problem(
            line,
            "languages",
            f"unknown language {', '.join(repr(code) for code in unknown)}; "
            f"known languages are {', '.join(sorted(LANGUAGES))}",
        )
    if raw[0] != ENGLISH:
        checker.problem(line, "languages", "English (en) must come first: every text is written in English first")
    if len(set(raw)) != len(raw):
        checker.problem(line, "languages", "a language is listed twice")
    return tuple(code for code in dict.fromkeys(raw) if code in LANGUAGES) or (ENGLISH,)


def _read_questionnaire(checker: _Checker, raw: Any, shared: Shared, source: str) -> Questionnaire | None:
    root = checker.mapping(raw, 1, "")
    if root is None:
        return None
    checker.languages = _read_languages(checker, root)
    checker.allowed_fields(root, QUESTIONNAIRE_FIELDS, "", QUESTIONNAIRE_TEXTS)
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
    easy_read = checker.boolean(root, "easy_read", "", default=False)
    equality_monitoring = checker.boolean(root, "equality_monitoring", "", default=False)
    translations = checker.translations(root, QUESTIONNAIRE_TEXTS, "")

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

    reader = _PageReader(checker, shared, easy_read=easy_read)
    items = root.get("questions")
    if not isinstance(items, LineList) or not items:
        checker.problem(root.line_of("questions"), "questions", "needs a list of at least one question")
    else:
        reader.read(items, "questions")
    if equality_monitoring:
        _read_equality_section(checker, root, reader, shared)
    pages = reader.pages

    first = pages[0].questions[0] if pages else None
    if (
        audience is Audience.YOUNG_PERSON
        and first
        and (first.key != COMPLETED_WITH_SUPPORT or first.section is not Section.CONTEXT)
    ):
        checker.problem(
            root.line_of("questions"),
            "questions",
            f"a young person's questionnaire must start with '- use: {COMPLETED_WITH_SUPPORT}', "
            "so that we know whether they answered alone, with help, or someone answered for them",
        )
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
        languages=checker.languages,
        easy_read=easy_read,
        translations=translations,
        pages=tuple(pages),
        source=source,
        origin=checker.origin(root, "", QUESTIONNAIRE_TEXTS),
    )


def _read_equality_section(checker: _Checker, root: LineDict, reader: _PageReader, shared: Shared) -> None:
    """Append the shared equality questions, checked as part of this questionnaire."""
    if shared.equality is None:
        checker.problem(
            root.line_of("equality_monitoring"),
            "equality_monitoring",
            f"the equality section ({shared.equality_file}) is missing or has problems",
        )
        return
    # A shared file: it may carry translations into languages this questionnaire does not use.
    equality_checker = _Checker(shared.equality_file)
    section_reader = _PageReader(
        equality_checker,
        shared,
        section=Section.EQUALITY,
        easy_read=reader.easy_read,
        earlier=reader.earlier,
        pages=reader.pages,
        page_keys=reader.page_keys,
    )
    section_reader.read(shared.equality["questions"], "questions")
    checker.problems.extend(equality_checker.problems)


class _PageReader:
    """Reads a list of questions and groups into pages, checking each against those before it."""

    def __init__(
        self,
        checker: _Checker,
        shared: Shared,
        section: Section = Section.MAIN,
        easy_read: bool = False,
        earlier: dict[str, tuple[Question, int]] | None = None,
        pages: list[Page] | None = None,
        page_keys: dict[str, int] | None = None,
    ):
        self.checker = checker
        self.shared = shared
        self.section = section
        self.easy_read = easy_read
        # Every question so far, with the index of its page: show_if and
        # piping may only look back to an earlier page, because a page is
        # answered as a whole.
        self.earlier = {} if earlier is None else earlier
        self.pages = [] if pages is None else pages
        self.page_keys = {} if page_keys is None else page_keys

    def read(self, items: LineList, where: str) -> None:
        checker = self.checker
        for index, item in enumerate(items):
            item_where = f"{where}[{index}]"
            entry = checker.mapping(item, items.line_of(index), item_where, check_duplicates=False)
            if entry is None:
                continue
            if "group" in entry:
                page = self.group(entry, item_where)
            else:
                question = self.entry(entry, item_where, len(self.pages))
                page = Page(key=question.key, questions=(question,)) if question else None
            if page is None:
                continue
            if page.key in self.page_keys:
                checker.problem(entry.line, item_where, f"the key '{page.key}' is used twice in this questionnaire")
                continue
            self.page_keys[page.key] = entry.line
            for question in page.questions:
                self.page_keys.setdefault(question.key, entry.line)
            self.pages.append(page)

    def entry(self, entry: LineDict, where: str, page_index: int) -> Question | None:
        if "use" in entry and self.section is Section.EQUALITY:
            self.checker.problem(
                entry.line_of("use"),
                where,
                "the equality section cannot include context questions: they are stored apart",
            )
            return None
        if "use" in entry:
            return self.use(entry, where, page_index)
        return self.question(entry, where, page_index=page_index)

    def group(self, entry: LineDict, where: str) -> Page | None:
        checker = self.checker
        checker.allowed_fields(entry, GROUP_FIELDS, where, GROUP_TEXTS)
        key = checker.key(entry, "group", where)
        where = key or where
        checker.duplicates(entry, where)
        if self.easy_read:
            checker.problem(
                entry.line, where, "an easy read questionnaire asks one question per page: remove the group"
            )
        title = checker.text(entry, "title", where)
        hint = checker.text(entry, "hint", where, required=False)
        translations = checker.translations(entry, GROUP_TEXTS, where)
        page_index = len(self.pages)
        self.check_pipes(entry, GROUP_TEXTS, where, page_index)
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
            question = self.entry(question_entry, item_where, page_index)
            if question:
                questions.append(question)
        if key is None or title is None or not questions:
            return None
        return Page(
            key=key,
            title=title,
            hint=hint,
            questions=tuple(questions),
            translations=translations,
            origin=checker.origin(entry, where, GROUP_TEXTS),
        )

    def use(self, entry: LineDict, where: str, page_index: int) -> Question | None:
        """A shared context question, with its wording optionally adapted to this audience."""
        checker = self.checker
        checker.duplicates(entry, where)
        checker.allowed_fields(entry, USE_FIELDS, where, USE_TEXTS)
        name = checker.text(entry, "use", where)
        if name is None:
            return None
        shared = self.shared.context.get(name)
        if name in self.shared.unavailable:
            checker.problem(entry.line_of("use"), f"{where}.use", self.shared.unavailable[name])
            return None
        if shared is None:
            known = ", ".join(sorted(self.shared.context)) or "none"
            close = difflib.get_close_matches(name, sorted(self.shared.context), n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            checker.problem(
                entry.line_of("use"), f"{where}.use", f"unknown context question '{name}'; {hint}known: {known}"
            )
            return None
        if name in self.earlier:
            checker.problem(entry.line_of("use"), f"{where}.use", f"'{name}' is already asked in this questionnaire")
            return None
        changes: dict[str, Any] = {}
        places = dict(shared.origin.places) if shared.origin else {}
        for text_name in USE_TEXTS:
            text = checker.text(entry, text_name, name, required=False)
            if text is not None:
                changes[text_name] = text
                places[text_name] = (checker.file, entry.line_of(text_name))
        translations = {language: dict(texts) for language, texts in shared.translations.items()}
        for text_name in changes:
            # New wording needs its own translations: the shared ones say something else.
            for texts in translations.values():
                texts.pop(text_name, None)
        for language, texts in checker.translations(entry, USE_TEXTS, name).items():
            translations.setdefault(language, {}).update(texts)
        self.check_pipes(entry, USE_TEXTS, name, page_index)
        question = replace(
            shared,
            **changes,
            translations={language: texts for language, texts in translations.items() if texts},
            origin=Origin(name, places),
        )
        self.check_easy_read(question, entry, name)
        self.earlier[name] = (question, page_index)
        return question

    def question(
        self,
        entry: LineDict,
        where: str,
        page_index: int,
        key: str | None = None,
        config_options: tuple[Option, ...] | None = None,
    ) -> Question | None:
        checker = self.checker
        if key is None:
            key = checker.key(entry, "key", where)
        if key is not None:
            where = key
        checker.duplicates(entry, where)
        if key is not None and key in self.earlier:
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
        if self.section is Section.CONTEXT:
            allowed = allowed - {"key", "show_if"}
        checker.allowed_fields(entry, allowed, where, QUESTION_TEXTS)

        label = checker.text(entry, "label", where)
        hint = checker.text(entry, "hint", where, required=False)
        required = checker.boolean(entry, "required", where, default=True)
        required_message = checker.text(entry, "required_message", where, required=False)
        show_if = _read_show_if(checker, entry, where, self.earlier, page_index)
        translations = checker.translations(entry, QUESTION_TEXTS, where)
        self.check_pipes(entry, ("label", "hint"), where, page_index)

        if question_type is None or key is None or label is None:
            return None
        values: dict[str, Any] = {}
        if question_type in CHOICE_TYPES:
            values["options"] = _read_choice_options(
                checker, entry, where, question_type, self.shared.scales, translations, config_options
            )
            if question_type is QuestionType.LIKERT:
                values["scale"] = entry.get("scale")
        elif question_type.is_text:
            max_length = checker.integer(entry, "max_length", where, 1, MAX_TEXT_LENGTH)
            values["max_length"] = max_length or DEFAULT_MAX_LENGTH[question_type]
        elif question_type is QuestionType.NUMBER:
            values.update(_read_number_bounds(checker, entry, where))
        elif question_type is QuestionType.DATE:
            values.update(_read_date_bounds(checker, entry, where))
        # The wording of apart options lives on the options themselves.
        for texts in translations.values():
            for flag in APART_FLAGS:
                texts.pop(flag, None)

        question = Question(
            key=key,
            type=question_type,
            label=label,
            hint=hint,
            required=required,
            required_message=required_message,
            show_if=show_if,
            section=self.section,
            translations={language: texts for language, texts in translations.items() if texts},
            origin=checker.origin(entry, where, ("label", "hint", "required_message", "suffix")),
            **values,
        )
        self.check_easy_read(question, entry, where)
        if self.section is Section.EQUALITY and (question.required or not question.type.is_choice):
            checker.problem(
                entry.line,
                where,
                "an equality question must be optional and have options: free text could identify someone",
            )
        self.earlier[key] = (question, page_index)
        return question

    def check_easy_read(self, question: Question, entry: LineDict, where: str) -> None:
        if self.easy_read and question.type.is_text and question.required:
            self.checker.problem(
                entry.line,
                where,
                "an easy read questionnaire must not require free text: add 'required: false'",
            )

    def check_pipes(self, entry: LineDict, texts: Sequence[str], where: str, page_index: int) -> None:
        """``${key}`` may show an earlier page's answer; check each one names such a question."""
        for name in entry:
            base = str(name).partition("::")[0]
            value = entry[name]
            if base not in texts or not isinstance(value, str) or "${" not in value:
                continue
            line = entry.line_of(name)
            field_where = _join(where, str(name))
            if value.count("${") != len(PIPE_PATTERN.findall(value)):
                self.checker.problem(
                    line, field_where, "write an earlier answer as ${question_key} or ${question_key|text if blank}"
                )
                continue
            for match in PIPE_PATTERN.finditer(value):
                self.check_pipe(match, line, field_where, page_index)

    def check_pipe(self, match: re.Match, line: int, where: str, page_index: int) -> None:
        key, fallback = match.group(1), match.group(2)
        earlier = self.earlier.get(key)
        if earlier is None or earlier[1] >= page_index:
            self.checker.problem(line, where, f"'{key}' is not a question on an earlier page, so cannot be shown here")
            return
        question = earlier[0]
        if question.type not in PIPED_TYPES:
            self.checker.problem(
                line, where, f"'{key}' is a {question.type.value} question; only a single answer can be shown in text"
            )
        elif not fallback and (not question.required or question.show_if):
            self.checker.problem(
                line,
                where,
                f"'{key}' may be left unanswered: give the words to show then, like ${{{key}|your setting}}",
            )


def _read_choice_options(
    checker: _Checker,
    entry: LineDict,
    where: str,
    question_type: QuestionType,
    scales: dict[str, tuple[Option, ...]],
    translations: Translations,
    config_options: tuple[Option, ...] | None = None,
) -> tuple[Option, ...]:
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
        options = [_built_in_option(value, checker, entry, "type", where, {}) for value in ("yes", "no")]
    elif config_options is not None:
        options = list(config_options)
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
        option = _apart_option(checker, entry, "none_option", NONE_OF_THESE, where, translations)
        if option:
            options.append(replace(option, exclusive=True))
    else:
        for flag, code in (("dont_know", DONT_KNOW), ("not_applicable", NOT_APPLICABLE)):
            option = _apart_option(checker, entry, flag, code, where, translations)
            if option:
                options.append(option)
    return tuple(options)


def _built_in_option(
    code: str, checker: _Checker, entry: LineDict, flag: str, where: str, translations: Translations, **values
) -> Option:
    """An answer the format words itself, in each language it has wording for, unless the file words it."""
    labels = {language: text for language, text in BUILT_IN_LABELS[code].items() if language != ENGLISH}
    labels.update({language: texts[flag] for language, texts in translations.items() if flag in texts})
    return Option(
        value=code,
        label=BUILT_IN_LABELS[code][ENGLISH],
        translations={language: {"label": text} for language, text in labels.items()},
        origin=Origin(where, {"label": (checker.file, entry.line_of(flag))}, {"label": flag}),
        **values,
    )


def _apart_option(
    checker: _Checker, entry: LineDict, flag: str, code: str, where: str, translations: Translations
) -> Option | None:
    """``dont_know: true`` uses the standard wording; a text gives other wording."""
    value = entry.get(flag)
    if value is None or value is False:
        return None
    if value is True:
        return _built_in_option(code, checker, entry, flag, where, translations, apart=True)
    if isinstance(value, str) and value.strip():
        return Option(
            value=code,
            label=value.strip(),
            apart=True,
            translations={
                language: {"label": texts[flag]} for language, texts in translations.items() if flag in texts
            },
            origin=Origin(where, {"label": (checker.file, entry.line_of(flag))}, {"label": flag}),
        )
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


# --- translations -----------------------------------------------------------


def missing_translations(questionnaire: Questionnaire) -> list[Problem]:
    """Each text shown in English because it has no translation into a declared language."""
    found: set[Problem] = set()

    def check(item, texts: Sequence[str]) -> None:
        if item.origin is None:
            return  # written where no translation is needed (place names from the settings)
        for name in texts:
            if getattr(item, name, None) is None or name not in item.origin.places:
                continue
            file, line = item.origin.places[name]
            for language in questionnaire.languages[1:]:
                if name not in item.translations.get(language, {}):
                    written_as = item.origin.names.get(name, name)
                    message = f"no {LANGUAGES[language][1]} ({language}) translation; English is shown"
                    if written_as == "type":
                        message += "; to translate Yes and No, ask a single_choice question with options yes and no"
                    found.add(Problem(file, line, _join(item.origin.where, written_as), message))

    check(questionnaire, QUESTIONNAIRE_TEXTS)
    for page in questionnaire.pages:
        check(page, GROUP_TEXTS)
        for question in page.questions:
            check(question, ("label", "hint", "required_message", "suffix"))
            for option in question.options:
                check(option, OPTION_TEXTS)
    return sorted(found)


# --- directories ------------------------------------------------------------


def questionnaire_files(directory: Path = DIRECTORY) -> list[Path]:
    return sorted(path for path in directory.glob("*.yaml") if path.name not in SHARED_FILES)


def load_files(paths: Iterable[Path], directory: Path = DIRECTORY, localities: Sequence[str] = ()) -> Library:
    """Validate the given files; refuse a file with any problem, and a key used twice."""
    library = Library()
    shared, shared_problems = load_shared(directory, localities)
    problems: set[Problem] = set(shared_problems)
    sources: dict[str, str] = {}
    for path in paths:
        questionnaire, file_problems = load_file(path, shared)
        # The shared equality section's problems repeat for each questionnaire using it.
        problems.update(file_problems)
        if questionnaire is None:
            continue
        if questionnaire.key in sources:
            problems.add(
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
    library.problems = sorted(problems)
    return library


def load_directory(directory: Path = DIRECTORY, localities: Sequence[str] = ()) -> Library:
    return load_files(questionnaire_files(directory), directory, localities)
