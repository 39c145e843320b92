"""The shared files: answer scales, context questions and the equality section."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from .checking import (
    CONTEXT_FILE,
    EQUALITY_FILE,
    KEY_PATTERN,
    PLAN_REFERENCE,
    PLAN_REFERENCE_REFUSED,
    RESERVED_KEYS,
    SCALES_FILE,
    Checker,
    Problem,
    display_path,
    read_options,
    read_yaml,
)
from .questions import PageReader, Shared
from .schema import (
    Option,
    Question,
    Section,
)
from .yaml_lines import LineDict, LineList

# The locality question's options are the council's areas, from its settings.
FROM_CONFIG = "from_config"


def load_scales(path: Path) -> tuple[dict[str, tuple[Option, ...]], list[Problem]]:
    """Named answer scales (``agree5``...), defined once for every questionnaire."""
    checker = Checker(display_path(path))
    raw = read_yaml(path, checker)
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
        options = read_options(checker, items, line, name)
        if options:
            scales[name] = options
    return scales, checker.problems


# An area of the LOCALITIES setting: "North", or its English and Welsh names, "North|Gogledd".
WELSH_NAME_SEPARATOR = "|"


def locality_names(entry: str) -> tuple[str, str | None]:
    """An area's English name and its Welsh name, if it has one of its own.

    Raises ValueError for an empty name on either side of the "|", or more
    than one "|".
    """
    parts = [part.strip() for part in entry.split(WELSH_NAME_SEPARATOR)]
    if len(parts) > 2:
        raise ValueError(
            f"'{entry.strip()}' has more than one '|'; write each area as its name, "
            "or its English and Welsh names joined by one '|', like North|Gogledd"
        )
    if not all(parts):
        raise ValueError(
            f"'{entry.strip()}' has an empty name; write each area as its name, "
            "or its English and Welsh names joined by one '|', like North|Gogledd"
        )
    english = parts[0]
    welsh = parts[1] if len(parts) == 2 and parts[1] != english else None
    return english, welsh


def locality_options(localities: Iterable[str]) -> tuple[Option, ...]:
    """The council's areas as options; each code is its English name in lower case.

    The code never depends on the Welsh name, so giving an area a Welsh name
    later keeps every answer already stored. An area with no Welsh name is
    shown in English on Welsh pages: many places have one name in both.
    """
    options = []
    for entry in localities:
        if not entry.strip():
            continue
        english, welsh = locality_names(entry)
        value = re.sub(r"[^a-z0-9]+", "_", english.lower()).strip("_")
        if value and not value[0].isalpha():
            value = f"area_{value}"
        if value and all(option.value != value for option in options):
            translations = {"cy": {"label": welsh}} if welsh else {}
            options.append(Option(value=value[:63], label=english, translations=translations))
    return tuple(options)


def load_context(
    path: Path, scales: dict[str, tuple[Option, ...]], localities: Sequence[str] = ()
) -> tuple[dict[str, Question], dict[str, str], list[Problem]]:
    """Context questions, each defined once and included by questionnaires with ``use``.

    Returns the questions, those that cannot be asked as things are set up
    (with the reason, reported only where one is used), and the problems.
    """
    checker = Checker(display_path(path))
    raw = read_yaml(path, checker)
    if raw is None:
        return {}, {}, checker.problems
    root = checker.mapping(raw, 1, "")
    if root is None:
        return {}, {}, checker.problems
    questions: dict[str, Question] = {}
    unavailable: dict[str, str] = {}
    reader = PageReader(checker, Shared(scales=scales), section=Section.CONTEXT)
    for name, entry in root.items():
        line = root.line_of(name)
        if not isinstance(name, str) or not KEY_PATTERN.match(name) or name in RESERVED_KEYS:
            checker.problem(line, str(name), "a context question's name must be a lower-case key")
            continue
        if name == PLAN_REFERENCE:
            checker.problem(line, name, PLAN_REFERENCE_REFUSED)
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
    checker = Checker(display_path(path))
    raw = read_yaml(path, checker)
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
    shared = Shared(scales=scales, equality_file=display_path(directory / EQUALITY_FILE))
    if (directory / CONTEXT_FILE).exists():
        shared.context, shared.unavailable, context_problems = load_context(
            directory / CONTEXT_FILE, scales, localities
        )
        problems.extend(context_problems)
    if (directory / EQUALITY_FILE).exists():
        shared.equality, equality_problems = load_equality(directory / EQUALITY_FILE)
        problems.extend(equality_problems)
    return shared, problems
