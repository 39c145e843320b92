"""Sign in, sign out and change password: thin views over services.accounts."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from ..access import public, requires
from ..models import Role
from ..officer_forms import error_list
from ..services import accounts
from . import bp, sessions
from .forms import ChangePasswordForm, SignInForm

SIGN_IN_REFUSED = "Enter a correct email address and password"


def _safe_next(target: str | None) -> str:
    """Only a path in the officer area: never another site."""
    if target and target.startswith("/officer") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("officer.dashboard")


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = SignInForm()
    problem = None
    if form.validate_on_submit():
        result = accounts.sign_in(form.email.data, form.password.data, request.remote_addr or "")
        if result.user is not None:
            # A new session: nothing from before signing in carries over.
            session.clear()
            login_user(result.user)
            sessions.start()
            return redirect(_safe_next(request.args.get("next")), code=303)
        # The same words whether the account exists or not.
        if result.throttled:
            problem = "There have been too many attempts to sign in. Wait 15 minutes, then try again"
        else:
            problem = SIGN_IN_REFUSED
        form.password.data = ""
    errors = error_list(form)
    if problem:
        errors = [{"text": problem, "href": "#email"}]
    return render_template("auth/sign_in.html", form=form, errors=errors, problem=problem)


@bp.post("/sign-out")
@public
def sign_out():
    if current_user.is_authenticated:
        accounts.sign_out(current_user._get_current_object())
        logout_user()
    session.clear()
    flash("You have signed out.", "signed_out")
    return redirect(url_for("auth.sign_in"), code=303)


@bp.route("/officer/account/password", methods=["GET", "POST"])
@requires(Role.VIEWER)
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(current_user, form.current_password.data, form.new_password.data)
        except accounts.AccountError as refused:
            field = form.current_password if "current" in str(refused) else form.new_password
            field.errors = [str(refused)]
        else:
            # The password change ended every session, this one included: start a fresh one.
            login_user(current_user._get_current_object())
            sessions.start()
            flash("Your password has been changed. You have been signed out everywhere else.", "success")
            return redirect(url_for("officer.dashboard"), code=303)
    return render_template("auth/change_password.html", form=form, errors=error_list(form))
