"""Questions and pages: the ``questions`` list of a questionnaire or a shared file, checked in order."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from .checking import (
    APART_FLAGS,
    EQUALITY_FILE,
    GROUP_TEXTS,
    PLAN_REFERENCE,
    PLAN_REFERENCE_REFUSED,
    QUESTION_TEXTS,
    USE_TEXTS,
    Checker,
    describe,
    join,
    read_options,
)
from .schema import (
    CHOICE_TYPES,
    DONT_KNOW,
    ENGLISH,
    NONE_OF_THESE,
    NOT_APPLICABLE,
    PIPE_PATTERN,
    Condition,
    Option,
    Origin,
    Page,
    Question,
    QuestionType,
    Section,
    Translations,
)
from .yaml_lines import LineDict, LineList

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
CONDITION_FIELDS = {"question", "any_of"}


@dataclass
class Shared:
    """What questionnaires take from the shared files."""

    scales: dict[str, tuple[Option, ...]] = field(default_factory=dict)
    context: dict[str, Question] = field(default_factory=dict)
    # Context questions that cannot be asked as things are set up, and why.
    unavailable: dict[str, str] = field(default_factory=dict)
    equality: LineDict | None = None
    equality_file: str = EQUALITY_FILE


class PageReader:
    """Reads a list of questions and groups into pages, checking each against those before it."""

    def __init__(
        self,
        checker: Checker,
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
        if name == PLAN_REFERENCE:
            checker.problem(entry.line_of("use"), f"{where}.use", PLAN_REFERENCE_REFUSED)
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
            field_where = join(where, str(name))
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
    checker: Checker,
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
        options = list(read_options(checker, entry["options"], entry.line_of("options"), f"{where}.options"))
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
    code: str, checker: Checker, entry: LineDict, flag: str, where: str, translations: Translations, **values
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
    checker: Checker, entry: LineDict, flag: str, code: str, where: str, translations: Translations
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


def _read_show_if(checker: Checker, entry: LineDict, where: str, earlier, page_index: int) -> tuple[Condition, ...]:
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


def _read_number_bounds(checker: Checker, entry: LineDict, where: str) -> dict[str, Any]:
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
            checker.problem(entry.line_of(name), f"{where}.{name}", f"must be a number, not {describe(value)}")
            bounds[name] = None
        elif whole_number and not float(value).is_integer():
            checker.problem(entry.line_of(name), f"{where}.{name}", "must be a whole number, as the answer is")
            bounds[name] = None
        else:
            bounds[name] = int(value) if float(value).is_integer() else float(value)
    if bounds["min"] is not None and bounds["max"] is not None and bounds["min"] > bounds["max"]:
        checker.problem(entry.line_of("max"), f"{where}.max", "must not be less than min")
    return bounds


def _read_date_bounds(checker: Checker, entry: LineDict, where: str) -> dict[str, Any]:
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
