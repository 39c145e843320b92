"""Admins answer requests about data: a copy of one response, or its erasure."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextInput
from wtforms import StringField, SubmitField
from wtforms.validators import InputRequired

from ..access import requires
from ..models import Role
from ..officer_forms import error_list
from ..services import records as records_service
from . import bp
from .exports import download

NOT_FOUND = (
    "No response has this reference. Check it with the person: a reference has 10 letters and numbers, "
    "like 7KQ4M-X2RTD. Responses erased or deleted at the end of their retention period cannot be found"
)


class FindForm(FlaskForm):
    reference = StringField(
        "Reference",
        description="The reference on the confirmation page the person saw after sending their answers, "
        "like 7KQ4M-X2RTD. Spaces and capital letters do not matter.",
        widget=GovTextInput(),
        validators=[InputRequired("Enter the reference the person gave you")],
    )
    submit = SubmitField("Find the response", widget=GovSubmitInput())


class ActionForm(FlaskForm):
    submit = SubmitField("Export for a subject access request", widget=GovSubmitInput())


class EraseForm(FlaskForm):
    reference = StringField(
        "Type the reference again to confirm",
        widget=GovTextInput(),
        validators=[InputRequired("Type the reference to confirm that this is the response to erase")],
    )
    submit = SubmitField("Erase this response", widget=GovSubmitInput())


@bp.route("/records", methods=["GET", "POST"])
@requires(Role.ADMIN)
def records():
    form = FindForm()
    if form.validate_on_submit():
        response = records_service.find(form.reference.data)
        if response is not None:
            return redirect(url_for(".record", reference=response.reference), code=303)
        form.reference.errors = [NOT_FOUND]
    return render_template("officer/records.html", form=form, errors=error_list(form))


@bp.get("/records/<reference>")
@requires(Role.ADMIN)
def record(reference: str):
    response = records_service.find(reference) or abort(404)
    return render_template("officer/records_response.html", record=records_service.record(response), form=ActionForm())


@bp.post("/records/<reference>/export")
@requires(Role.ADMIN)
def record_export(reference: str):
    response = records_service.find(reference) or abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    return download(records_service.subject_access_export(response, by=current_user))


@bp.route("/records/<reference>/erase", methods=["GET", "POST"])
@requires(Role.ADMIN)
def record_erase(reference: str):
    response = records_service.find(reference) or abort(404)
    form = EraseForm()
    if form.validate_on_submit():
        if records_service.normalise(form.reference.data) != response.reference:
            form.reference.errors = [f"The reference you typed is not {response.reference}: type it again"]
        else:
            erased = response.reference
            try:
                records_service.erase(response, by=current_user)
            except records_service.ReferenceNotFound:
                abort(404)
            flash(f"Response {erased} has been erased. The audit log records that it was.", "success")
            return redirect(url_for(".records"), code=303)
    return render_template(
        "officer/records_erase.html", record=records_service.record(response), form=form, errors=error_list(form)
    )
