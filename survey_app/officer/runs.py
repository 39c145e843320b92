"""Survey runs: opening one, its page (link, QR code, response rate), changing, pausing and closing it."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

from flask import abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovDateInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import BooleanField, RadioField, SelectField, StringField, SubmitField
from wtforms.fields import DateField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, StopValidation

from ..access import requires
from ..formatting import UK, audience_label, uk_time
from ..models import Access, Role, SurveyRun, utcnow
from ..officer_forms import error_list
from ..services import invitations, qr, runs
from ..services import questionnaires as questionnaire_service
from . import bp

ACCESS_CHOICES = [
    SelectChoice(Access.OPEN.value, "Anyone with the link (anonymous)"),
    SelectChoice(
        Access.ANONYMOUS_INVITATIONS.value,
        "Invitation only, anonymous: which links were used is kept apart from the answers",
    ),
    SelectChoice(
        Access.IDENTIFIED_INVITATIONS.value,
        "Invitation only, identified: each response carries the invitation's plan reference, to follow up on a "
        "plan (not for young people's surveys)",
    ),
]
# Pages built by other parts of the officer area, linked from a run's page when they exist.
RUN_PAGES = (
    ("officer.responses", "Read the responses"),
    ("officer.comments", "Read the comments"),
    ("officer.export", "Export the responses"),
)
MAX_RETENTION_MONTHS = 120
_TIME = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?\s*([ap])?\.?\s*m?\.?$", re.IGNORECASE)


# Fields ---------------------------------------------------------------------


class DayMonthYearField(DateField):
    """A GOV.UK date input (day, month and year boxes) with plain-English errors."""

    def __init__(self, label: str, name_in_errors: str, **kwargs):
        super().__init__(label, widget=GovDateInput(), **kwargs)
        self.name_in_errors = name_in_errors

    def process_formdata(self, valuelist):
        parts = ([str(part).strip() for part in valuelist] + ["", "", ""])[:3]
        self.raw_data = parts  # the widget shows exactly what was typed, in three boxes
        self.data = None
        if not any(parts):
            return
        if not all(parts):
            missing = [name for name, part in zip(("day", "month", "year"), parts, strict=True) if not part]
            raise ValueError(f"The {self.name_in_errors} must include a {' and '.join(missing)}")
        try:
            day, month, year = (int(part) for part in parts)
            if year < 1000:
                raise ValueError
            self.data = date(year, month, day)
        except ValueError:
            raise ValueError(f"The {self.name_in_errors} must be a real date, like 27 3 2027") from None


def _required_date(message: str):
    def check(form, field):
        if field.data is None and not field.errors and not any(field.raw_data or []):
            raise StopValidation(message)

    return check


def parse_time(text: str) -> time | None:
    """9am, 9:30am, 09:30, 17:30 or 5.30pm; None if it is not a time of day."""
    text = (text or "").strip().lower()
    if text in ("midday", "noon", "12 noon"):
        return time(12)
    if text == "midnight":
        return time(0)
    match = _TIME.match(text)
    if not match:
        return None
    hour, minute, half = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "p" else 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def _time_text(value: datetime) -> str:
    return uk_time(value).strftime("%H:%M")


def to_utc(day: date, at: time) -> datetime:
    """A UK date and time as the naive UTC the database holds."""
    return datetime.combine(day, at, tzinfo=UK).astimezone(UTC).replace(tzinfo=None)


def _whole_number(text: str) -> int | None:
    cleaned = (text or "").replace(",", "").strip()
    return int(cleaned) if cleaned.isdigit() else None


# Forms ----------------------------------------------------------------------


class RunForm(FlaskForm):
    questionnaire = RadioField(
        "Questionnaire", widget=GovRadioInput(), validators=[InputRequired("Choose the questionnaire")]
    )
    title = StringField(
        "Title",
        description="Respondents see this, so make it plain. For example, “Your views on EHC plans: autumn 2027”.",
        widget=GovTextInput(),
        validators=[
            InputRequired("Enter a title"),
            Length(max=200, message="The title must be 200 characters or fewer"),
        ],
    )
    audience_description = StringField(
        "Who is asked (optional)",
        description="In your own words, for the runs list. "
        "For example, “Parent carers of children with a new EHC plan”.",
        widget=GovTextInput(),
        validators=[Length(max=200, message="Who is asked must be 200 characters or fewer")],
    )
    wave = SelectField(
        "Wave",
        widget=GovSelect(),
        description="Runs in the same wave are reported together.",
        validate_choice=False,  # checked in validate_wave, where no wave is a choice too
    )
    new_wave_name = StringField(
        "Or start a new wave: its name",
        description="Leave this empty to use the wave chosen above. For example, “Wave 2 autumn 2027”.",
        widget=GovTextInput(),
        validators=[Length(max=100, message="The wave's name must be 100 characters or fewer")],
    )
    new_wave_baseline = BooleanField(
        "This new wave is the baseline: later waves are compared with it", widget=GovCheckboxInput()
    )
    opens_on = DayMonthYearField("Opening date", "opening date", validators=[_required_date("Enter the opening date")])
    opens_time = StringField(
        "Opening time",
        description="UK time, for example 9am or 17:30.",
        widget=GovTextInput(),
        validators=[InputRequired("Enter the opening time")],
    )
    closes_on = DayMonthYearField("Closing date", "closing date", validators=[_required_date("Enter the closing date")])
    closes_time = StringField(
        "Closing time",
        description="UK time, for example 5pm or 23:59.",
        widget=GovTextInput(),
        validators=[InputRequired("Enter the closing time")],
    )
    access = RadioField(
        "Who can answer",
        choices=ACCESS_CHOICES,
        widget=GovRadioInput(),
        validators=[InputRequired("Choose who can answer")],
    )
    expected_eligible = StringField(
        "Expected number of eligible people (optional)",
        description="How many people could answer, for the response rate of a run open to anyone with the link. "
        "Runs by invitation count their invitations instead.",
        widget=GovTextInput(),
    )
    retention_months = StringField(
        "Months to keep individual responses",
        description="After this, each response is deleted and only the totals are kept.",
        widget=GovTextInput(),
        validators=[InputRequired("Enter how many months to keep individual responses")],
    )
    submit = SubmitField("Open the survey run", widget=GovSubmitInput())

    # Set by the view when a run is being changed: its current times.
    current: SurveyRun | None = None

    def validate_opens_time(self, field):
        if parse_time(field.data) is None:
            raise StopValidation("Enter the opening time as a time of day, like 9am or 17:30")

    def validate_closes_time(self, field):
        if parse_time(field.data) is None:
            raise StopValidation("Enter the closing time as a time of day, like 5pm or 23:59")

    def validate_expected_eligible(self, field):
        if (field.data or "").strip() and not _whole_number(field.data):
            raise StopValidation("The expected number of eligible people must be a whole number, like 250")

    def validate_retention_months(self, field):
        months = _whole_number(field.data)
        if months is None or not 1 <= months <= MAX_RETENTION_MONTHS:
            raise StopValidation(
                f"Months to keep individual responses must be a whole number from 1 to {MAX_RETENTION_MONTHS}"
            )

    def validate_wave(self, field):
        field.data = field.data or ""
        if field.data not in {choice.value for choice in field.choices}:
            raise StopValidation("Choose a wave from the list")

    def validate_new_wave_name(self, field):
        name = (field.data or "").strip()
        if not name:
            return
        if self.wave.data:
            raise StopValidation("Choose a wave from the list or type the name of a new one, not both")
        if runs.wave_named(name) is not None:
            raise StopValidation(f"There is already a wave called “{name}”: choose it from the list")

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if "access" in self and not self.access.errors:
            refusal = runs.access_refusal(self.access.data, self._chosen_audience())
            if refusal:
                self.access.errors = [*self.access.errors, refusal]
                valid = False
        opens_at = self.opens_at()
        closes_at = self.closes_at()
        if closes_at is not None and not self.closes_time.errors:
            if opens_at is not None and closes_at <= opens_at:
                self.closes_on.errors = [*self.closes_on.errors, "The closing date and time must be after the opening"]
                valid = False
            elif closes_at <= utcnow() and (self.current is None or closes_at != self.current.closes_at):
                self.closes_on.errors = [*self.closes_on.errors, "The closing date and time must be in the future"]
                valid = False
        return valid

    def _chosen_audience(self) -> str | None:
        if "questionnaire" in self and (self.questionnaire.data or "").isdigit():
            version = runs.version_by_id(int(self.questionnaire.data))
            return version.audience if version else None
        return self.current.questionnaire_version.audience if self.current else None

    def opens_at(self) -> datetime | None:
        if "opens_on" not in self:
            return self.current.opens_at if self.current else None
        return self._unless_unchanged(_moment(self.opens_on, self.opens_time), "opens_at")

    def closes_at(self) -> datetime | None:
        return self._unless_unchanged(_moment(self.closes_on, self.closes_time), "closes_at")

    def _unless_unchanged(self, typed: datetime | None, name: str) -> datetime | None:
        """The run's own time when the minute typed is the one shown (times are shown to the minute)."""
        if self.current is not None and typed == getattr(self.current, name).replace(second=0, microsecond=0):
            return getattr(self.current, name)
        return typed

    def details(self) -> runs.RunDetails:
        new_wave = (self.new_wave_name.data or "").strip()
        return runs.RunDetails(
            title=self.title.data.strip(),
            audience_description=(self.audience_description.data or "").strip(),
            opens_at=self.opens_at(),
            closes_at=self.closes_at(),
            expected_eligible=_whole_number(self.expected_eligible.data),
            retention_months=_whole_number(self.retention_months.data),
            version_id=int(self.questionnaire.data) if "questionnaire" in self else None,
            access=Access(self.access.data) if "access" in self else None,
            wave_id=None if new_wave or not self.wave.data else int(self.wave.data),
            new_wave=(new_wave, bool(self.new_wave_baseline.data)) if new_wave else None,
        )


def _moment(day_field: DayMonthYearField, time_field: StringField) -> datetime | None:
    at = parse_time(time_field.data)
    if day_field.data is None or at is None:
        return None
    return to_utc(day_field.data, at)


class ActionForm(FlaskForm):
    """The CSRF token of the pause, resume and close buttons."""


def _choose_questionnaire(form: RunForm, current: SurveyRun | None = None) -> None:
    versions = questionnaire_service.latest_versions()
    if current is not None and current.questionnaire_version_id not in {version.id for version in versions}:
        versions.append(current.questionnaire_version)
    form.questionnaire.choices = [
        SelectChoice(
            str(version.id),
            f"{version.title} (version {version.version}, for {audience_label(version.audience).lower()})",
        )
        for version in versions
    ]


def _choose_wave(form: RunForm) -> None:
    form.wave.choices = [SelectChoice("", "Not part of a wave")] + [
        SelectChoice(str(wave.id), f"{wave.name} (baseline)" if wave.is_baseline else wave.name)
        for wave in runs.waves()
    ]


def _run_or_404(run_id: int) -> SurveyRun:
    return runs.run_by_id(run_id) or abort(404)


# Views ----------------------------------------------------------------------


@bp.route("/runs/new", methods=["GET", "POST"])
@requires(Role.OFFICER)
def run_new():
    form = RunForm()
    if not form.is_submitted():
        form.retention_months.data = str(current_app.config["RESPONSE_RETENTION_MONTHS"])
        form.access.data = Access.OPEN.value
    _choose_questionnaire(form)
    _choose_wave(form)
    if form.validate_on_submit():
        try:
            run = runs.create_run(form.details(), by=current_user)
        except runs.WaveNameTaken as refused:
            form.new_wave_name.errors = [str(refused)]
        except runs.AccessRefused as refused:
            form.access.errors = [str(refused)]
        else:
            flash(f"“{run.title}” is set up.", "success")
            return redirect(url_for(".run", run_id=run.id), code=303)
    return render_template("officer/run_new.html", form=form, errors=error_list(form))


@bp.get("/runs/<int:run_id>")
@requires(Role.VIEWER)
def run(run_id: int):
    survey_run = _run_or_404(run_id)
    summary = runs.summary(survey_run)
    by_invitation = Access(survey_run.access).by_invitation
    return render_template(
        "officer/run.html",
        run=survey_run,
        summary=summary,
        per_day=runs.submissions_per_day(survey_run),
        public_link=public_link(survey_run),
        invitation_counts=invitations.counts(survey_run) if by_invitation else None,
        run_pages=[(endpoint, text) for endpoint, text in RUN_PAGES if endpoint in current_app.view_functions],
        action_form=ActionForm(),
    )


@bp.get("/runs/<int:run_id>/qr-code.svg")
@requires(Role.VIEWER)
def run_qr_code(run_id: int):
    survey_run = _run_or_404(run_id)
    response = make_response(qr.svg(public_link(survey_run)))
    response.headers["Content-Type"] = "image/svg+xml"
    response.headers["Content-Disposition"] = f'inline; filename="qr-code-{survey_run.slug}.svg"'
    return response


@bp.route("/runs/<int:run_id>/edit", methods=["GET", "POST"])
@requires(Role.OFFICER)
def run_edit(run_id: int):
    survey_run = _run_or_404(run_id)
    form = RunForm(data=None if _posted() else _current_values(survey_run))
    form.current = survey_run
    locked = runs.has_responses(survey_run)
    if locked:
        del form.questionnaire
        del form.access
    else:
        _choose_questionnaire(form, survey_run)
    opened = runs.status(survey_run) != runs.SCHEDULED
    if opened:
        del form.opens_on
        del form.opens_time
    _choose_wave(form)
    form.submit.label.text = "Save changes"
    if form.validate_on_submit():
        try:
            runs.change_run(survey_run, form.details(), by=current_user)
        except runs.WaveNameTaken as refused:
            form.new_wave_name.errors = [str(refused)]
        except runs.AccessRefused as refused:
            form.access.errors = [str(refused)]
        else:
            flash("Your changes are saved.", "success")
            return redirect(url_for(".run", run_id=survey_run.id), code=303)
    return render_template(
        "officer/run_edit.html", run=survey_run, form=form, locked=locked, opened=opened, errors=error_list(form)
    )


def _posted() -> bool:
    return request.method == "POST"


def _current_values(survey_run: SurveyRun) -> dict:
    return {
        "questionnaire": str(survey_run.questionnaire_version_id),
        "title": survey_run.title,
        "audience_description": survey_run.audience_description,
        "wave": str(survey_run.wave_id) if survey_run.wave_id else "",
        "opens_on": uk_time(survey_run.opens_at).date(),
        "opens_time": _time_text(survey_run.opens_at),
        "closes_on": uk_time(survey_run.closes_at).date(),
        "closes_time": _time_text(survey_run.closes_at),
        "access": survey_run.access,
        "expected_eligible": str(survey_run.expected_eligible or ""),
        "retention_months": str(survey_run.retention_months),
    }


@bp.post("/runs/<int:run_id>/pause")
@requires(Role.OFFICER)
def run_pause(run_id: int):
    return _act(run_id, runs.pause, "is paused. Respondents see a “paused” page; answers in progress are kept.")


@bp.post("/runs/<int:run_id>/resume")
@requires(Role.OFFICER)
def run_resume(run_id: int):
    return _act(run_id, runs.resume, "is open again.")


@bp.route("/runs/<int:run_id>/close", methods=["GET", "POST"])
@requires(Role.OFFICER)
def run_close(run_id: int):
    survey_run = _run_or_404(run_id)
    if _posted():
        return _act(run_id, runs.close_early, "is closed. Its responses are kept.")
    if runs.status(survey_run) not in (runs.OPEN, runs.PAUSED):
        flash("Only an open or paused survey run can be closed early.")
        return redirect(url_for(".run", run_id=survey_run.id), code=303)
    return render_template("officer/run_close.html", run=survey_run, form=ActionForm())


def _act(run_id: int, action, done: str):
    survey_run = _run_or_404(run_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        action(survey_run)
    except runs.RunNotChanged as refused:
        flash(str(refused))
    else:
        flash(f"“{survey_run.title}” {done}", "success")
    return redirect(url_for(".run", run_id=survey_run.id), code=303)


def public_link(survey_run: SurveyRun) -> str:
    return invitations.public_base_url() + url_for("respondent.start", slug=survey_run.slug)
