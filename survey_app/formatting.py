"""Template filters: UK dates, plain-text paragraphs and answers shown back."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Flask
from flask_babel import format_date, lazy_gettext
from flask_babel import gettext as _
from markupsafe import Markup, escape

from questionnaires import Answers, AnswerValue, Audience, Question, Questionnaire, QuestionType
from questionnaires.schema import PIPE_PATTERN

# How much of a typed answer a piped text shows.
PIPED_TEXT_LENGTH = 80

UK = ZoneInfo("Europe/London")


def uk_time(value: datetime) -> datetime:
    """Stored times are naive UTC; people read UK time."""
    return value.replace(tzinfo=ZoneInfo("UTC")).astimezone(UK)


def long_date(value: date | datetime) -> str:
    """27 March 2026, with the month in the page's language."""
    if isinstance(value, datetime):
        value = uk_time(value).date()
    return format_date(value, "d MMMM y")


def time_and_date(value: datetime) -> str:
    local = uk_time(value)
    hour = local.strftime("%I").lstrip("0")
    minutes = "" if local.minute == 0 else local.strftime(":%M")
    return _("%(time)s on %(date)s", time=f"{hour}{minutes}{local.strftime('%p').lower()}", date=long_date(local))


def paragraphs(text: str) -> Markup:
    """Plain text to GOV.UK paragraphs; lines starting "- " become a bulleted list."""
    html = []
    for block in (text or "").strip().split("\n\n"):
        lines = [line.strip() for line in block.strip().splitlines() if line.strip()]
        if not lines:
            continue
        if all(line.startswith("- ") for line in lines):
            items = Markup("").join(Markup("<li>{}</li>").format(line[2:]) for line in lines)
            html.append(Markup('<ul class="govuk-list govuk-list--bullet">{}</ul>').format(items))
        else:
            html.append(Markup('<p class="govuk-body">{}</p>').format(" ".join(lines)))
    return Markup("").join(html)


def piped(text: str, questionnaire: Questionnaire, answers: Answers) -> str:
    """A text with each ``${key}`` replaced by that answer, as plain text for the template to escape."""

    def answer(match) -> str:
        key, fallback = match.group(1), match.group(2)
        question, value = questionnaire.question(key), answers.get(key)
        if question is None or value in (None, "", []) or isinstance(value, list):
            return fallback or ""
        if question.type.is_choice:
            option = question.option(value)
            return option.label if option else fallback or ""
        if question.type is QuestionType.DATE:
            return long_date(date.fromisoformat(value))
        shown = " ".join(str(value).split())
        return shown if len(shown) <= PIPED_TEXT_LENGTH else shown[: PIPED_TEXT_LENGTH - 1].rstrip() + "…"

    return PIPE_PATTERN.sub(answer, text)


def answer_html(question: Question, value: AnswerValue | None) -> Markup:
    """An answer as the check-answers page shows it back, always escaped."""
    if value in (None, "", []):
        return escape(_("Not answered"))
    if question.type.is_choice:
        labels = [
            (option.label if (option := question.option(code)) else code)
            for code in (value if isinstance(value, list) else [value])
        ]
        if len(labels) == 1:
            return escape(labels[0])
        items = Markup("").join(Markup("<li>{}</li>").format(label) for label in labels)
        return Markup('<ul class="govuk-list">{}</ul>').format(items)
    if question.type is QuestionType.DATE:
        return escape(long_date(date.fromisoformat(value)))
    if question.type is QuestionType.NUMBER and question.suffix:
        return escape(f"{value} {question.suffix}")
    lines = str(value).splitlines()
    return Markup("<br>").join(escape(line) for line in lines)


AUDIENCE_LABELS = {
    Audience.PARENT_CARER: lazy_gettext("Parents and carers"),
    Audience.YOUNG_PERSON: lazy_gettext("Children and young people"),
    Audience.SETTING: lazy_gettext("Schools, colleges and early years settings"),
    Audience.PRACTITIONER: lazy_gettext("Professionals"),
}


def audience_label(value: str) -> str:
    return str(AUDIENCE_LABELS[Audience(value)])


def init_app(app: Flask) -> None:
    app.add_template_global(piped)
    app.add_template_filter(audience_label)
    app.add_template_filter(long_date)
    app.add_template_filter(time_and_date)
    app.add_template_filter(paragraphs)
    app.add_template_global(answer_html)
