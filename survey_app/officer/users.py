"""Admins manage who can sign in, and with which role."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovRadioInput, GovSubmitInput, GovTextInput
from wtforms import EmailField, PasswordField, RadioField, SelectChoice, SubmitField
from wtforms.validators import InputRequired

from ..access import requires
from ..models import Role
from ..officer_forms import error_list
from ..services import accounts
from . import bp

ROLE_CHOICES = [
    SelectChoice(Role.VIEWER.value, "Viewer: dashboards and published totals only"),
    SelectChoice(Role.OFFICER.value, "Officer: survey runs, responses, comments and exports"),
    SelectChoice(Role.ADMIN.value, "Admin: everything, including users and the audit log"),
]


class UserForm(FlaskForm):
    email = EmailField("Email address", widget=GovTextInput(), validators=[InputRequired("Enter an email address")])
    role = RadioField("Role", choices=ROLE_CHOICES, widget=GovRadioInput(), validators=[InputRequired("Choose a role")])
    password = PasswordField(
        "Password for their first sign-in",
        description="At least 12 characters. Give it to them in person or by phone, not by email. "
        "They can change it under “Your account”.",
        widget=GovPasswordInput(),
        validators=[InputRequired("Enter a password")],
    )
    submit = SubmitField("Add user", widget=GovSubmitInput())


class RoleForm(FlaskForm):
    role = RadioField("Role", choices=ROLE_CHOICES, widget=GovRadioInput(), validators=[InputRequired("Choose a role")])
    submit = SubmitField("Save role", widget=GovSubmitInput())


class ActiveForm(FlaskForm):
    submit = SubmitField("Save", widget=GovSubmitInput())


@bp.get("/users")
@requires(Role.ADMIN)
def users():
    return render_template("officer/users.html", users=accounts.users())


@bp.route("/users/new", methods=["GET", "POST"])
@requires(Role.ADMIN)
def user_new():
    form = UserForm()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(form.email.data, form.password.data, form.role.data, created_by=current_user)
        except accounts.AccountError as refused:
            field = form.password if "assword" in str(refused) else form.email
            field.errors = [str(refused)]
        else:
            flash(f"{user.email} can now sign in as {user.role}.", "success")
            return redirect(url_for(".users"), code=303)
    return render_template("officer/user_new.html", form=form, errors=error_list(form))


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@requires(Role.ADMIN)
def user(user_id: int):
    user = accounts.user_by_id(user_id) or abort(404)
    form = RoleForm(role=user.role)
    if form.validate_on_submit():
        try:
            accounts.set_role(user, form.role.data, by=current_user)
        except accounts.AccountError as refused:
            form.role.errors = [str(refused)]
        else:
            flash(f"{user.email} is now {user.role}.", "success")
            return redirect(url_for(".users"), code=303)
    return render_template("officer/user.html", user=user, form=form, active_form=ActiveForm(), errors=error_list(form))


@bp.post("/users/<int:user_id>/disable")
@requires(Role.ADMIN)
def user_disable(user_id: int):
    user = accounts.user_by_id(user_id) or abort(404)
    if not ActiveForm().validate_on_submit():
        abort(400)
    if user.id == current_user.id:
        flash("You cannot disable your own account: ask another admin.")
        return redirect(url_for(".user", user_id=user.id), code=303)
    accounts.set_active(user, False, by=current_user)
    flash(f"{user.email} can no longer sign in, and has been signed out everywhere.", "success")
    return redirect(url_for(".users"), code=303)


@bp.post("/users/<int:user_id>/enable")
@requires(Role.ADMIN)
def user_enable(user_id: int):
    user = accounts.user_by_id(user_id) or abort(404)
    if not ActiveForm().validate_on_submit():
        abort(400)
    accounts.set_active(user, True, by=current_user)
    flash(f"{user.email} can sign in again.", "success")
    return redirect(url_for(".users"), code=303)
