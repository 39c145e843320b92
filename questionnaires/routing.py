"""Which pages a respondent sees, given the answers so far.

``show_if`` only looks back to earlier pages, so walking the pages in order
and keeping only the answers to questions still shown discards, in one pass,
every answer that a change has made irrelevant (and the answers that depended
on those, and so on).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .schema import Answers, Page, Questionnaire


@dataclass(frozen=True)
class Progress:
    """Where a page sits among the pages now shown: "Question 3 of 9"."""

    number: int
    total: int


def visible_pages(questionnaire: Questionnaire, answers: Answers) -> list[Page]:
    return [page for page in questionnaire.pages if page.is_shown(answers)]


def prune(questionnaire: Questionnaire, answers: Answers, completed_pages: Iterable[str]) -> tuple[Answers, list[str]]:
    """Drop answers to questions no longer shown, and pages no longer shown."""
    kept: Answers = {}
    for question in questionnaire.questions:
        if question.key in answers and question.is_shown(kept):
            kept[question.key] = answers[question.key]
    shown = {page.key for page in visible_pages(questionnaire, kept)}
    return kept, [key for key in completed_pages if key in shown]


def is_page_complete(page: Page, answers: Answers, completed_pages: Iterable[str]) -> bool:
    if page.key not in completed_pages:
        return False
    return all(
        question.key in answers for question in page.questions if question.required and question.is_shown(answers)
    )


def first_unfinished_page(
    questionnaire: Questionnaire, answers: Answers, completed_pages: Iterable[str], before: str | None = None
) -> Page | None:
    """The first shown page not yet answered, looking only before ``before`` if given."""
    completed = set(completed_pages)
    for page in visible_pages(questionnaire, answers):
        if page.key == before:
            return None
        if not is_page_complete(page, answers, completed):
            return page
    return None


def next_page(questionnaire: Questionnaire, answers: Answers, current: str) -> Page | None:
    pages = visible_pages(questionnaire, answers)
    keys = [page.key for page in pages]
    if current not in keys:
        return pages[0] if pages else None
    index = keys.index(current)
    return pages[index + 1] if index + 1 < len(pages) else None


def previous_page(questionnaire: Questionnaire, answers: Answers, current: str) -> Page | None:
    pages = visible_pages(questionnaire, answers)
    keys = [page.key for page in pages]
    if current not in keys:
        return None
    index = keys.index(current)
    return pages[index - 1] if index > 0 else None


def progress(questionnaire: Questionnaire, answers: Answers, current: str) -> Progress:
    keys = [page.key for page in visible_pages(questionnaire, answers)]
    return Progress(number=keys.index(current) + 1, total=len(keys))
