"""Typed questionnaire definitions.

A questionnaire is validated from YAML (see ``loader``) into these frozen
objects. The same objects are rebuilt from the JSON stored with each
published version (``Questionnaire.from_dict``), so a response is always read
against the exact wording it answered, whatever the YAML file says today.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from functools import cached_property
from typing import Any

# An answer as the journey holds it: one code, several codes, or text.
AnswerValue = str | list[str]
Answers = dict[str, AnswerValue]
# Texts in other languages: {"cy": {"label": "..."}}. English is the field itself.
Translations = dict[str, dict[str, str]]

ENGLISH = "en"
# Languages a questionnaire may declare: (name in the language itself, name in English).
LANGUAGES: dict[str, tuple[str, str]] = {
    "en": ("English", "English"),
    "cy": ("Cymraeg", "Welsh"),
    "ar": ("العربية", "Arabic"),
    "bn": ("বাংলা", "Bengali"),
    "es": ("Español", "Spanish"),
    "fa": ("فارسی", "Persian"),
    "fr": ("Français", "French"),
    "gu": ("ગુજરાતી", "Gujarati"),
    "lt": ("Lietuvių", "Lithuanian"),
    "pa": ("ਪੰਜਾਬੀ", "Punjabi"),
    "pl": ("Polski", "Polish"),
    "ps": ("پښتو", "Pashto"),
    "pt": ("Português", "Portuguese"),
    "ro": ("Română", "Romanian"),
    "so": ("Soomaali", "Somali"),
    "tr": ("Türkçe", "Turkish"),
    "uk": ("Українська", "Ukrainian"),
    "ur": ("اردو", "Urdu"),
    "zh-hans": ("简体中文", "Chinese (simplified)"),
}
RIGHT_TO_LEFT = frozenset({"ar", "fa", "ps", "ur"})

# An earlier answer shown in a text: ${setting_name} or ${setting_name|your setting}.
PIPE_PATTERN = re.compile(r"\$\{([a-z][a-z0-9_]*)(?:\|([^{}]*))?\}")


class Section(StrEnum):
    """Where a question belongs, which decides how its answers are stored and used."""

    MAIN = "main"
    # Who the answer is about (age group, type of support...): used to break results down.
    CONTEXT = "context"
    # About the respondent (sex, ethnicity, disability): stored apart from the other answers.
    EQUALITY = "equality"


@dataclass(frozen=True)
class Origin:
    """Where each text of a definition was written, for reporting missing translations.

    Not part of a definition's meaning: left out of comparisons and of what is published.
    """

    where: str
    places: dict[str, tuple[str, int]]
    # The field an author writes, where it differs (a "Don't know" option's
    # label is written as the question's dont_know).
    names: dict[str, str] = field(default_factory=dict)


def _translated(item, language: str):
    texts = item.translations.get(language)
    return replace(item, **texts) if texts else item


class Audience(StrEnum):
    PARENT_CARER = "parent_carer"
    YOUNG_PERSON = "young_person"
    SETTING = "setting"
    PRACTITIONER = "practitioner"

    @property
    def label(self) -> str:
        return {
            "parent_carer": "Parents and carers",
            "young_person": "Children and young people",
            "setting": "Schools, colleges and early years settings",
            "practitioner": "Professionals",
        }[self.value]


class QuestionType(StrEnum):
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    LIKERT = "likert"
    YES_NO = "yes_no"
    SHORT_TEXT = "short_text"
    LONG_TEXT = "long_text"
    NUMBER = "number"
    DATE = "date"

    @property
    def is_choice(self) -> bool:
        return self in CHOICE_TYPES

    @property
    def is_text(self) -> bool:
        return self in (QuestionType.SHORT_TEXT, QuestionType.LONG_TEXT)


CHOICE_TYPES = frozenset(
    {QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE, QuestionType.LIKERT, QuestionType.YES_NO}
)

# Codes of the answers kept apart from a scale. They are left out of
# denominators by the analysis, so their codes are fixed across questionnaires.
DONT_KNOW = "dont_know"
NOT_APPLICABLE = "not_applicable"
NONE_OF_THESE = "none"
RESERVED_OPTION_VALUES = frozenset({DONT_KNOW, NOT_APPLICABLE, NONE_OF_THESE})


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    hint: str | None = None
    # Shown after an "or" divider, apart from the scale ("Don't know").
    apart: bool = False
    # A checkbox that cannot be combined with the others ("None of these").
    exclusive: bool = False
    # A picture shown with the words (the faces scale), under the app's static images.
    image: str | None = None
    image_alt: str | None = None
    translations: Translations = field(default_factory=dict)
    origin: Origin | None = field(default=None, compare=False, repr=False)

    def localised(self, language: str) -> Option:
        return _translated(self, language)


@dataclass(frozen=True)
class Condition:
    """Show a question only when an earlier answer is one of ``any_of``."""

    question: str
    any_of: tuple[str, ...]

    def holds(self, answers: Answers) -> bool:
        given = answers.get(self.question)
        if given is None:
            return False
        values = given if isinstance(given, list) else [given]
        return any(value in self.any_of for value in values)


@dataclass(frozen=True)
class Question:
    key: str
    type: QuestionType
    label: str
    hint: str | None = None
    required: bool = True
    required_message: str | None = None
    options: tuple[Option, ...] = ()
    scale: str | None = None
    show_if: tuple[Condition, ...] = ()
    max_length: int | None = None
    # Bounds: numbers for number questions, ISO dates or "today" for dates.
    min: float | str | None = None
    max: float | str | None = None
    whole_number: bool = True
    suffix: str | None = None
    section: Section = Section.MAIN
    translations: Translations = field(default_factory=dict)
    origin: Origin | None = field(default=None, compare=False, repr=False)

    def localised(self, language: str) -> Question:
        question = _translated(self, language)
        return replace(question, options=tuple(option.localised(language) for option in self.options))

    @cached_property
    def pipes(self) -> bool:
        """Whether the label or hint shows an earlier answer (asked on every page, so worked out once)."""
        return any(PIPE_PATTERN.search(text or "") for text in (self.label, self.hint))

    def is_shown(self, answers: Answers) -> bool:
        return all(condition.holds(answers) for condition in self.show_if)

    def option(self, value: str) -> Option | None:
        return next((option for option in self.options if option.value == value), None)

    @property
    def scale_options(self) -> tuple[Option, ...]:
        return tuple(option for option in self.options if not option.apart)

    @property
    def apart_options(self) -> tuple[Option, ...]:
        return tuple(option for option in self.options if option.apart)


@dataclass(frozen=True)
class Page:
    """One screen of the journey: a single question, or a titled group."""

    key: str
    questions: tuple[Question, ...]
    title: str | None = None
    hint: str | None = None
    translations: Translations = field(default_factory=dict)
    origin: Origin | None = field(default=None, compare=False, repr=False)

    @property
    def is_group(self) -> bool:
        return self.title is not None

    @property
    def section(self) -> Section:
        return self.questions[0].section

    def localised(self, language: str) -> Page:
        page = _translated(self, language)
        return replace(page, questions=tuple(question.localised(language) for question in self.questions))

    def is_shown(self, answers: Answers) -> bool:
        return any(question.is_shown(answers) for question in self.questions)


@dataclass(frozen=True)
class Questionnaire:
    key: str
    version: int
    title: str
    audience: Audience
    intro: str
    estimated_minutes: int
    pages: tuple[Page, ...]
    who_sees_answers: str | None = None
    languages: tuple[str, ...] = (ENGLISH,)
    # Young people's versions: one question per page, pictures with words, read aloud.
    easy_read: bool = False
    translations: Translations = field(default_factory=dict)
    source: str | None = field(default=None, compare=False)
    origin: Origin | None = field(default=None, compare=False, repr=False)
    # The language this copy is in (see ``localised``); not part of the definition.
    language: str = field(default=ENGLISH, compare=False)

    @property
    def questions(self) -> tuple[Question, ...]:
        return tuple(question for page in self.pages for question in page.questions)

    def question(self, key: str) -> Question | None:
        return next((question for question in self.questions if question.key == key), None)

    def page(self, key: str) -> Page | None:
        return next((page for page in self.pages if page.key == key), None)

    def localised(self, language: str) -> Questionnaire:
        """A copy with every text in ``language`` where translated, English elsewhere."""
        if language == ENGLISH or language not in self.languages:
            return self
        questionnaire = _translated(self, language)
        return replace(questionnaire, language=language, pages=tuple(page.localised(language) for page in self.pages))

    @property
    def has_equality_section(self) -> bool:
        return any(page.section is Section.EQUALITY for page in self.pages)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self, dict_factory=_definition_dict)

    @property
    def definition_hash(self) -> str:
        """A fingerprint of the meaning: wording, options, routing and limits."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str | None = None) -> Questionnaire:
        """Rebuild a questionnaire from ``to_dict`` output (a published version)."""

        def question(raw: dict[str, Any]) -> Question:
            values = dict(raw)
            values["type"] = QuestionType(values["type"])
            values["section"] = Section(values.get("section", Section.MAIN))
            values["options"] = tuple(Option(**option) for option in values["options"])
            values["show_if"] = tuple(
                Condition(question=c["question"], any_of=tuple(c["any_of"])) for c in values["show_if"]
            )
            return Question(**values)

        def asked(raw: dict[str, Any]) -> bool:
            # Versions published before plan references came only from
            # invitations asked for one to be typed: never ask it again.
            return raw["key"] != LEGACY_PLAN_REFERENCE

        pages = tuple(
            Page(
                key=page["key"],
                title=page["title"],
                hint=page["hint"],
                translations=page.get("translations", {}),
                questions=tuple(question(q) for q in page["questions"] if asked(q)),
            )
            for page in data["pages"]
            if any(asked(q) for q in page["questions"])
        )
        return cls(
            key=data["key"],
            version=data["version"],
            title=data["title"],
            audience=Audience(data["audience"]),
            intro=data["intro"],
            estimated_minutes=data["estimated_minutes"],
            who_sees_answers=data["who_sees_answers"],
            languages=tuple(data.get("languages", (ENGLISH,))),
            easy_read=data.get("easy_read", False),
            translations=data.get("translations", {}),
            pages=pages,
            source=source,
        )


# The key of a question that versions published before December 2026 could
# ask; the loader now refuses it (see checking.PLAN_REFERENCE).
LEGACY_PLAN_REFERENCE = "plan_reference"

# Fields that say where a definition came from, or which copy it is, not what it means.
_NOT_PUBLISHED = frozenset({"source", "origin", "language"})


def _definition_dict(items: list[tuple[str, Any]]) -> dict[str, Any]:
    return {name: value for name, value in items if name not in _NOT_PUBLISHED}
