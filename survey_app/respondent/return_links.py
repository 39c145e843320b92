"""Save and come back later: the saved page, the emailed link, and opening it again.

The link is the only key to the saved answers. It is shown on the page and,
if the person chooses, emailed to them; the address is used to send that one
email and is never stored or logged.
"""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovTextInput
from wtforms import StringField
from wtforms.validators import StopValidation, ValidationError

from .. import languages, mail
from ..access import public
from ..config import text_in
from ..formatting import long_date
from ..services import journey
from . import bp
from .views import DRAFTS, RETURN_LINKS, run_for_answering, session_entry, set_session_entry


class _EmailAddress:
    def __call__(self, form, field):
        field.data = (field.data or "").strip()
        if not field.data:
            raise StopValidation(_("Enter your email address"))
        if not mail.is_valid_address(field.data):
            raise ValidationError(_("Enter an email address in the correct format, like name@example.com"))


class EmailLinkForm(FlaskForm):
    email = StringField(
        lazy_gettext("Email address"),
        validators=[_EmailAddress()],
        widget=GovTextInput(),
        description=lazy_gettext("We will only use it to send you this link. We will not keep it."),
    )


def return_link(slug: str, token: str) -> str:
    """The full address of a return link, on the service's public address when it is set."""
    path = url_for("respondent.resume", slug=slug, code=token)
    base = current_app.config["PUBLIC_URL"].rstrip("/") or request.url_root.rstrip("/")
    return base + path


@bp.post("/surveys/<slug>/save-for-later")
@public
def save_for_later(slug: str):
    """ "Save and come back later" from a page with nothing to save but the draft (check answers)."""
    run, _questionnaire = run_for_answering(slug)
    progress = journey.load_progress(run, session_entry(DRAFTS, run))
    if progress.submission_key is None:
        return redirect(url_for(".start", slug=run.slug), code=303)
    set_session_entry(RETURN_LINKS, run, journey.create_return_link(progress))
    return redirect(url_for(".saved", slug=run.slug), code=303)


@bp.route("/surveys/<slug>/saved", methods=["GET", "POST"])
@public
def saved(slug: str):
    run, questionnaire = run_for_answering(slug)
    token = session_entry(RETURN_LINKS, run)
    progress = journey.load_progress(run, session_entry(DRAFTS, run))
    if token is None or progress.submission_key is None:
        return redirect(url_for(".start", slug=run.slug))
    link = return_link(run.slug, token)
    form = EmailLinkForm() if mail.is_configured() else None
    sent_to = mail_failed = None
    if form is not None and form.validate_on_submit():
        try:
            mail.send(form.email.data, *_email(questionnaire.title, link, progress.expires_at))
            sent_to = form.email.data
            form.email.data = ""
        except mail.MailNotSent:
            mail_failed = True
    errors = [{"text": form.email.errors[0], "href": "#email"}] if form is not None and form.email.errors else []
    return render_template(
        "respondent/saved.html",
        run=run,
        questionnaire=questionnaire,
        link=link,
        expires_at=progress.expires_at,
        form=form,
        errors=errors,
        sent_to=sent_to,
        mail_failed=mail_failed,
    )


def _email(title: str, link: str, expires_at) -> tuple[str, str]:
    subject = _("Your saved answers: %(title)s", title=title)
    body = _(
        "You saved your answers to “%(title)s” so that you can come back to them later.\n\n"
        "Use this link to carry on where you left off:\n%(link)s\n\n"
        "The link works until %(date)s. After that, your answers are deleted.\n\n"
        "Anyone with this link can see and change your answers, so do not share it.\n\n"
        "We have not kept your email address.\n\n"
        "%(council)s",
        title=title,
        link=link,
        date=long_date(expires_at),
        council=text_in(current_app.config, "COUNCIL_NAME", languages.current())[0],
    )
    return subject, body


@bp.get("/surveys/<slug>/resume")
@public
def resume(slug: str):
    run, questionnaire = run_for_answering(slug)
    token = journey.resume(run, request.args.get("code", ""))
    if token is None:
        page = render_template("respondent/link_not_working.html", run=run, questionnaire=questionnaire)
        return page, 404
    set_session_entry(DRAFTS, run, token)
    set_session_entry(RETURN_LINKS, run, None)
    return redirect(url_for(".start", slug=run.slug, resumed="1"), code=303)
