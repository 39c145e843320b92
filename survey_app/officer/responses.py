"""Officers read a run's responses: a filtered table of them, and one response in full."""

from __future__ import annotations

import calendar
from datetime import date
from urllib.parse import urlencode

from flask import abort, render_template, request, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovDateInput, GovSelect
from wtforms import SelectChoice, SelectField, ValidationError
from wtforms.fields import DateField

from questionnaires.schema import Question

from ..access import requires
from ..models import Role
from ..officer_forms import error_list
from ..services import responses as response_service
from ..services import runs
from ..services.questionnaires import questionnaire_of
from . import bp
from .paging import page_number, pagination

PER_PAGE = 50
# Short names for the filters; the questions themselves are long.
FILTER_NAMES = {
    "completed_with_support": "Who answered",
    "school_phase": "Stage of education",
    "support_type": "Type of support",
    "primary_need": "Primary need",
    "locality": "Area",
    "setting_type": "Type of setting",
}
_DATE_PARTS = ("day", "month", "year")


class FilterDateField(DateField):
    """A day, month and year typed in three boxes, all optional together.

    Says which part is missing or that the date is not a real one, in the
    words of the GOV.UK date input pattern.
    """

    def __init__(self, label: str, **kwargs):
        super().__init__(label, format="%d %m %Y", widget=GovDateInput(), **kwargs)

    def subject(self) -> str:
        """How the error messages name the date: "From date must include a month"."""
        return f"{self.label.text} date"

    def process_formdata(self, valuelist: list[str]) -> None:
        parts = [part.strip() for part in valuelist][:3]
        if len(parts) != 3 or not any(parts):
            self.raw_data, self.data = None, None
            return
        missing = [name for name, part in zip(_DATE_PARTS, parts, strict=True) if not part]
        if missing:
            self.data = None
            raise ValueError(f"{self.subject()} must include a {' and a '.join(missing)}")
        self.data = _real_date(*parts)
        if self.data is None:
            raise ValueError(f"{self.subject()} must be a real date, like 27 3 2026")


def _real_date(day: str, month: str, year: str) -> date | None:
    if not (day.isdigit() and month.isdigit() and year.isdigit() and len(year) == 4):
        return None
    day_number, month_number, year_number = int(day), int(month), int(year)
    if not (1 <= month_number <= 12 and 1900 <= year_number):
        return None
    if not 1 <= day_number <= calendar.monthrange(year_number, month_number)[1]:
        return None
    return date(year_number, month_number, day_number)


class _FilterForm(FlaskForm):
    class Meta:
        # Filters only read: a GET form with nothing to protect, and its links can be shared.
        csrf = False

    submitted_from = FilterDateField("Submitted from")
    submitted_to = FilterDateField("Submitted to")

    def validate_submitted_to(self, field: FilterDateField) -> None:
        start = self.submitted_from.data
        if field.data and start and field.data < start:
            raise ValidationError("Submitted to date must be the same as or after the submitted from date")


def filter_form(questions: list[Question]) -> FlaskForm:
    """The filters of a run's responses: the dates, and each of its context questions."""

    class Form(_FilterForm):
        pass

    for question in questions:
        choices = [SelectChoice("", "Any")] + [SelectChoice(option.value, option.label) for option in question.options]
        field = SelectField(
            FILTER_NAMES.get(question.key, question.label), choices=choices, widget=GovSelect(), validate_choice=False
        )
        setattr(Form, question.key, field)
    return Form(formdata=request.args)


def filters_from(form: FlaskForm, questions: list[Question]) -> response_service.ResponseFilters:
    """The filters to apply: those typed correctly (a bad date is left out, the others still apply)."""
    form.validate()
    answers = {}
    for question in questions:
        value = form[question.key].data
        if value and question.option(value):
            answers[question.key] = value
    dates_valid = not form.submitted_from.errors and not form.submitted_to.errors
    return response_service.ResponseFilters(
        submitted_from=form.submitted_from.data if not form.submitted_from.errors else None,
        submitted_to=form.submitted_to.data if dates_valid else None,
        answers=answers,
    )


def _query_pairs(exclude: str = "page") -> list[tuple[str, str]]:
    return [(name, value) for name, value in request.args.items(multi=True) if name != exclude]


@bp.get("/runs/<int:run_id>/responses")
@requires(Role.OFFICER)
def responses(run_id: int):
    run = runs.run_by_id(run_id) or abort(404)
    questionnaire = questionnaire_of(run.questionnaire_version)
    questions = response_service.filter_questions(questionnaire)
    form = filter_form(questions)
    filters = filters_from(form, questions)
    page = page_number()
    rows, total = response_service.responses_page(run, questionnaire, filters, page, PER_PAGE)
    base = url_for(".responses", run_id=run.id)
    pairs = _query_pairs()

    def href(number: int) -> str:
        return f"{base}?{urlencode([*pairs, ('page', number)])}"

    return render_template(
        "officer/responses.html",
        run=run,
        form=form,
        filter_fields=[form[question.key] for question in questions],
        context_columns=[
            (question.key, FILTER_NAMES.get(question.key, question.label))
            for question in response_service.table_questions(questionnaire)
        ],
        show_plan_reference=response_service.shows_plan_reference(run, questionnaire),
        rows=rows,
        total=total,
        filtered=bool(filters.submitted_from or filters.submitted_to or filters.answers),
        pagination=pagination(page, total, PER_PAGE, href),
        errors=error_list(form),
    )


@bp.get("/responses/<reference>")
@requires(Role.OFFICER)
def response(reference: str):
    view = response_service.response_by_reference(reference) or abort(404)
    return render_template("officer/response.html", view=view)
