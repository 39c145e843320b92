"""WTForms classes built at run time from questionnaire pages.

Each question becomes one field, named by its stable key and rendered with a
GOV.UK Frontend component. ``page_form`` returns a bound form; after
``validate()`` the form's ``answers()`` are the page's answers in the form the
draft and the database keep them: a code, a list of codes, or text.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import Field, RadioField, SelectChoice, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import StopValidation, ValidationError

from questionnaires import Answers, AnswerValue, Page, Question, QuestionType

from .formatting import long_date, piped
from .widgets import (
    QuestionCharacterCount,
    QuestionCheckboxes,
    QuestionDateInput,
    QuestionNumberInput,
    QuestionRadios,
    QuestionTextInput,
)

DEFAULT_REQUIRED = {
    "radios": lazy_gettext("Select an answer"),
    "checkboxes": lazy_gettext("Select at least one option"),
    "text": lazy_gettext("Enter an answer"),
    "number": lazy_gettext("Enter a number"),
    "date": lazy_gettext("Enter a date"),
}


def _format_number(value: float) -> str:
    return f"{value:,}"


class _AnswerField:
    """What every question field adds to its WTForms base."""

    question: Question
    is_page_heading: bool

    def answer(self) -> AnswerValue | None:
        return self.data or None


class ChoiceField(_AnswerField, RadioField):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, invalid_choice_message=lazy_gettext("Select one of the options"), **kwargs)


class MultipleChoiceField(_AnswerField, SelectMultipleField):
    def pre_validate(self, form):
        if self.data and not set(self.data) <= {option.value for option in self.question.options}:
            raise ValidationError(_("Select from the options shown"))
        exclusive = [option for option in self.question.options if option.exclusive]
        if self.data and len(self.data) > 1 and any(option.value in self.data for option in exclusive):
            raise ValidationError(_("Select “%(none)s” or the other options, not both", none=exclusive[0].label))

    def answer(self) -> list[str] | None:
        if not self.data:
            return None
        # Kept in the questionnaire's order, whatever order the browser sent.
        return [option.value for option in self.question.options if option.value in self.data]


class TextField(_AnswerField, StringField):
    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        self.data = (self.data or "").strip()

    def pre_validate(self, form):
        limit = self.question.max_length
        if self.data and len(self.data) > limit:
            raise ValidationError(_("Your answer must be %(limit)s characters or fewer", limit=f"{limit:,}"))


class LongTextField(TextField, TextAreaField):
    pass


class NumberField(_AnswerField, StringField):
    """Numbers typed as text, so "1,200" or " 3 " are understood and kept as typed on error."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        self.data = (self.data or "").strip()

    def pre_validate(self, form):
        if not self.data:
            return
        question = self.question
        try:
            number = Decimal(self.data.replace(",", "").replace(" ", ""))
        except InvalidOperation:
            raise ValidationError(_("Enter a number, like 3")) from None
        if not number.is_finite():
            raise ValidationError(_("Enter a number, like 3"))
        if question.whole_number and number != number.to_integral_value():
            raise ValidationError(_("Enter a whole number, like 3"))
        low, high = question.min, question.max
        if low is not None and high is not None and not low <= number <= high:
            raise ValidationError(
                _("Enter a number between %(low)s and %(high)s", low=_format_number(low), high=_format_number(high))
            )
        if low is not None and number < low:
            raise ValidationError(_("Enter a number that is %(low)s or more", low=_format_number(low)))
        if high is not None and number > high:
            raise ValidationError(_("Enter a number that is %(high)s or less", high=_format_number(high)))
        self.data = str(int(number)) if question.whole_number else format(number.normalize(), "f")


class DateField(_AnswerField, Field):
    """Day, month and year in three inputs, checked as GOV.UK's date pattern asks."""

    widget = QuestionDateInput()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.wrong_parts: set[str] = set()

    def _value(self):
        return self.data.isoformat() if isinstance(self.data, date) else ""

    def process_data(self, value):
        self.data = date.fromisoformat(value) if isinstance(value, str) and value else None

    def process_formdata(self, valuelist):
        parts = [(value or "").strip() for value in valuelist[:3]]
        self.raw_data = parts + [""] * (3 - len(parts))
        self.data = None

    def pre_validate(self, form):
        if not self.raw_data or not any(self.raw_data):
            return
        day, month, year = self.raw_data
        missing = [name for name, value in zip(("day", "month", "year"), self.raw_data, strict=True) if not value]
        if missing:
            self.wrong_parts = set(missing)
            raise ValidationError(MISSING_DATE_PARTS[tuple(missing)])
        if not all(part.isdigit() for part in self.raw_data):
            self.wrong_parts = {
                name for name, value in zip(("day", "month", "year"), self.raw_data, strict=True) if not value.isdigit()
            }
            raise ValidationError(_("The date must be a real date, written in numbers, like 27 3 2026"))
        if len(year) != 4:
            self.wrong_parts = {"year"}
            raise ValidationError(_("The year must include 4 numbers"))
        try:
            given = date(int(year), int(month), int(day))
        except ValueError:
            self.wrong_parts = {"day", "month", "year"}
            raise ValidationError(_("The date must be a real date")) from None
        earliest, latest = _bound(self.question.min), _bound(self.question.max)
        if latest and given > latest:
            self.wrong_parts = {"day", "month", "year"}
            if self.question.max == "today":
                raise ValidationError(_("The date must be today or in the past"))
            raise ValidationError(_("The date must be on or before %(date)s", date=long_date(latest)))
        if earliest and given < earliest:
            self.wrong_parts = {"day", "month", "year"}
            if self.question.min == "today":
                raise ValidationError(_("The date must be today or in the future"))
            raise ValidationError(_("The date must be on or after %(date)s", date=long_date(earliest)))
        self.data = given

    def answer(self) -> str | None:
        return self.data.isoformat() if self.data else None


# Every combination of missing parts, each a whole sentence so it can be translated.
MISSING_DATE_PARTS = {
    ("day",): lazy_gettext("The date must include a day"),
    ("month",): lazy_gettext("The date must include a month"),
    ("year",): lazy_gettext("The date must include a year"),
    ("day", "month"): lazy_gettext("The date must include a day and month"),
    ("day", "year"): lazy_gettext("The date must include a day and year"),
    ("month", "year"): lazy_gettext("The date must include a month and year"),
}


class _AnswerGiven:
    """Stops at an empty answer: with ``message`` for a required question, silently for an optional one.

    Unlike InputRequired and Optional it looks at every input of the field, so
    a date with only its month typed is checked, not taken as empty.
    """

    def __init__(self, message: str | None = None):
        self.message = message
        self.field_flags = {"required": True} if message else {"optional": True}

    def __call__(self, form, field):
        if field.raw_data and any(value.strip() for value in field.raw_data if isinstance(value, str)):
            return
        field.errors[:] = []
        raise StopValidation(self.message)


def _bound(value) -> date | None:
    if value is None:
        return None
    return date.today() if value == "today" else date.fromisoformat(value)


def _label_text(question: Question, label: str) -> str:
    return label if question.required else _("%(label)s (optional)", label=label)


def _field(question: Question, is_page_heading: bool) -> Field:
    # Built once per page of a questionnaire in one language, in a request in
    # that language, so the interface text is translated here once.
    label = _label_text(question, question.label)
    kind, field_class, extra = _kind(question)
    message = question.required_message or str(DEFAULT_REQUIRED[kind])
    if not is_page_heading and not question.required_message:
        message = f"{message}: {question.label}"
    validators = [_AnswerGiven(message if question.required else None)]
    field = field_class(label, validators=validators, description=question.hint or "", **extra)
    return field


def _kind(question: Question):
    choices = [SelectChoice(option.value, option.label) for option in question.options]
    match question.type:
        case QuestionType.MULTIPLE_CHOICE:
            return "checkboxes", MultipleChoiceField, {"choices": choices, "widget": QuestionCheckboxes()}
        case QuestionType.SINGLE_CHOICE | QuestionType.LIKERT | QuestionType.YES_NO:
            return "radios", ChoiceField, {"choices": choices, "widget": QuestionRadios()}
        case QuestionType.SHORT_TEXT:
            return "text", TextField, {"widget": QuestionTextInput()}
        case QuestionType.LONG_TEXT:
            return "text", LongTextField, {"widget": QuestionCharacterCount()}
        case QuestionType.NUMBER:
            return "number", NumberField, {"widget": QuestionNumberInput()}
        case QuestionType.DATE:
            return "date", DateField, {}
    raise ValueError(f"No field for question type {question.type}")


class PageForm(FlaskForm):
    """Base of the generated forms: knows its questions and gives their answers."""

    questions: tuple[Question, ...] = ()

    def answers(self) -> Answers:
        given = {}
        for question in self.questions:
            value = self[question.key].answer()
            if value not in (None, "", []):
                given[question.key] = value
        return given

    def answers_kept(self, previous: Answers) -> Answers:
        """What to keep of a page left unfinished (to change language or come back later).

        Each answer that is valid is kept, and where an answer is not valid
        the one given before stays, so leaving a page never loses anything.
        """
        kept = {}
        for question in self.questions:
            field = self[question.key]
            value = previous.get(question.key) if field.errors else field.answer()
            if value not in (None, "", []):
                kept[question.key] = value
        return kept

    def question_fields(self) -> list[Field]:
        return [self[question.key] for question in self.questions]

    def error_list(self) -> list[dict[str, str]]:
        """The error summary's entries, each linking to the input to correct."""
        errors = []
        for field in self.question_fields():
            if field.errors:
                target = f"{field.id}-day" if isinstance(field, DateField) else field.id
                if isinstance(field, DateField) and field.wrong_parts:
                    first = next(part for part in ("day", "month", "year") if part in field.wrong_parts)
                    target = f"{field.id}-{first}"
                errors.append({"text": field.errors[0], "href": f"#{target}"})
        return errors


# Form classes by page and the questions it shows; the page is kept with its
# class so that its id cannot be reused by another object.
_form_classes: dict[tuple[int, tuple[str, ...]], tuple[Page, type[PageForm]]] = {}


def _form_class(page: Page, shown: tuple[Question, ...]) -> type[PageForm]:
    cache_key = (id(page), tuple(question.key for question in shown))
    cached = _form_classes.get(cache_key)
    if cached is None or cached[0] is not page:
        is_single = len(page.questions) == 1
        fields = {question.key: _field(question, is_page_heading=is_single) for question in shown}
        cached = (page, type(f"PageForm_{page.key}", (PageForm,), {**fields, "questions": shown}))
        _form_classes[cache_key] = cached
    return cached[1]


def page_form(page: Page, answers: Answers, questionnaire, formdata=None) -> PageForm:
    """The form for a page's shown questions, filled in with earlier answers."""
    shown = tuple(question for question in page.questions if question.is_shown(answers))
    is_single = len(page.questions) == 1
    form_class = _form_class(page, shown)
    data = {question.key: answers[question.key] for question in shown if question.key in answers}
    form = form_class(formdata=formdata, data=data)
    for question in shown:
        field = form[question.key]
        field.question = question
        field.is_page_heading = is_single
        # A label showing an earlier answer is this person's alone: it is
        # rendered for them and never cached.
        field.personal = question.pipes
        if question.pipes:
            field.label.text = _label_text(question, piped(question.label, questionnaire, answers))
            field.description = piped(question.hint, questionnaire, answers) if question.hint else ""
    return form
