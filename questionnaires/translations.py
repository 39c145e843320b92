"""Texts shown in English because a questionnaire lacks their translation."""

from __future__ import annotations

from collections.abc import Sequence

from .checking import GROUP_TEXTS, OPTION_TEXTS, QUESTIONNAIRE_TEXTS, Problem, join
from .schema import (
    LANGUAGES,
    Questionnaire,
)


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
                    found.add(Problem(file, line, join(item.origin.where, written_as), message))

    check(questionnaire, QUESTIONNAIRE_TEXTS)
    for page in questionnaire.pages:
        check(page, GROUP_TEXTS)
        for question in page.questions:
            check(question, ("label", "hint", "required_message", "suffix"))
            for option in question.options:
                check(option, OPTION_TEXTS)
    return sorted(found)
