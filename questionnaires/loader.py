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

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .checking import (
    QUESTIONNAIRE_TEXTS,
    SHARED_FILES,
    Checker,
    Problem,
    display_path,
    read_yaml,
)
from .questions import COMPLETED_WITH_SUPPORT, PageReader, Shared
from .schema import (
    ENGLISH,
    LANGUAGES,
    Audience,
    Questionnaire,
    Section,
)
from .shared import load_shared
from .translations import missing_translations
from .yaml_lines import LineDict, LineList

DIRECTORY = Path(__file__).resolve().parent
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


def load_file(path: Path, shared: Shared) -> tuple[Questionnaire | None, list[Problem]]:
    """Validate one questionnaire file. Returns it only when it has no problems."""
    checker = Checker(display_path(path))
    raw = read_yaml(path, checker)
    if raw is None:
        return None, checker.problems
    questionnaire = _read_questionnaire(checker, raw, shared, str(path))
    if checker.problems:
        return None, checker.problems
    return questionnaire, []


def _read_languages(checker: Checker, root: LineDict) -> tuple[str, ...]:
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


def _read_questionnaire(checker: Checker, raw: Any, shared: Shared, source: str) -> Questionnaire | None:
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

    reader = PageReader(checker, shared, easy_read=easy_read)
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


def _read_equality_section(checker: Checker, root: LineDict, reader: PageReader, shared: Shared) -> None:
    """Append the shared equality questions, checked as part of this questionnaire."""
    if shared.equality is None:
        checker.problem(
            root.line_of("equality_monitoring"),
            "equality_monitoring",
            f"the equality section ({shared.equality_file}) is missing or has problems",
        )
        return
    # A shared file: it may carry translations into languages this questionnaire does not use.
    equality_checker = Checker(shared.equality_file)
    section_reader = PageReader(
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
                    display_path(path),
                    1,
                    "key",
                    f"the key '{questionnaire.key}' is already used by {sources[questionnaire.key]}",
                )
            )
            continue
        sources[questionnaire.key] = display_path(path)
        library.questionnaires[questionnaire.key] = questionnaire
    library.problems = sorted(problems)
    return library


def load_directory(directory: Path = DIRECTORY, localities: Sequence[str] = ()) -> Library:
    return load_files(questionnaire_files(directory), directory, localities)
