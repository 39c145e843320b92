"""Invitation links for invitation-only runs: uploading references, downloading links, emailing people."""

from __future__ import annotations

from datetime import datetime

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from govuk_frontend_wtf.wtforms_widgets import GovFileInput, GovSubmitInput
from wtforms import HiddenField, SubmitField

from .. import mail
from ..access import requires
from ..models import Access, Role, SurveyRun
from ..officer_forms import error_list
from ..services import invitations, runs
from . import bp
from .paging import page_number, pagination

UPLOAD_ENDPOINT = "officer.invitations_upload"
PER_PAGE = 100


class UploadForm(FlaskForm):
    file = FileField(
        "Upload a CSV file",
        description="The first row names the columns: reference (required), and email if you have addresses. "
        "Save it from Excel as “CSV UTF-8 (Comma delimited)”.",
        widget=GovFileInput(),
        validators=[FileRequired("Choose a CSV file to upload")],
    )
    submit = SubmitField("Upload and create the links", widget=GovSubmitInput())


class DownloadForm(FlaskForm):
    # Which upload to download: the time that names it, or empty for every link.
    batch = HiddenField()
    submit = SubmitField("Download the links", widget=GovSubmitInput())


class EmailForm(FlaskForm):
    kind = HiddenField()


def _invitation_run(run_id: int) -> SurveyRun:
    survey_run = runs.run_by_id(run_id) or abort(404)
    if not Access(survey_run.access).by_invitation:
        abort(404)
    return survey_run


@bp.get("/runs/<int:run_id>/invitations")
@requires(Role.OFFICER)
def invitations_page(run_id: int):
    survey_run = _invitation_run(run_id)
    identified = survey_run.access == Access.IDENTIFIED_INVITATIONS
    page = page_number()
    counts = invitations.counts(survey_run)
    return render_template(
        "officer/invitations.html",
        run=survey_run,
        counts=counts,
        batches=invitations.batches(survey_run),
        references=invitations.references(survey_run, page, PER_PAGE) if identified else None,
        page=page,
        pagination=pagination(
            page, counts.invited, PER_PAGE, lambda number: url_for(".invitations_page", run_id=run_id, page=number)
        ),
        mail_configured=mail.is_configured(),
        closed=runs.status(survey_run) == runs.CLOSED,
    )


@bp.route("/runs/<int:run_id>/invitations/upload", methods=["GET", "POST"])
@requires(Role.OFFICER)
def invitations_upload(run_id: int):
    survey_run = _invitation_run(run_id)
    form = UploadForm()
    refused = None
    if form.validate_on_submit():
        try:
            rows = invitations.read_file(form.file.data.read(), survey_run)
            batch, count = invitations.create(survey_run, rows)
        except invitations.InvitationFileRefused as problems:
            refused = problems
            form.file.errors = ["The file was not uploaded: correct the problems listed and upload it again"]
        else:
            return redirect(
                url_for(".invitations_created", run_id=survey_run.id, batch=batch.isoformat(), count=count), code=303
            )
    return _upload_page(survey_run, form, refused)


def _upload_page(survey_run: SurveyRun, form: UploadForm, refused=None, status: int = 200):
    return render_template(
        "officer/invitations_upload.html", run=survey_run, form=form, refused=refused, errors=error_list(form)
    ), status


@bp.errorhandler(413)
def _file_too_large(error):
    """An upload over the size limit is refused on the upload page, saying why; other requests as usual."""
    if request.endpoint != UPLOAD_ENDPOINT:
        return render_template("errors/413.html"), 413
    survey_run = _invitation_run(request.view_args["run_id"])
    form = UploadForm(formdata=None)
    form.file.errors = ["The file must be smaller than 1 MB. Split it into smaller files and upload each one"]
    return _upload_page(survey_run, form, status=413)


@bp.get("/runs/<int:run_id>/invitations/created")
@requires(Role.OFFICER)
def invitations_created(run_id: int):
    survey_run = _invitation_run(run_id)
    batch = _batch(request.args.get("batch", ""))
    count = dict(invitations.batches(survey_run)).get(batch) if batch else None
    if count is None:
        return redirect(url_for(".invitations_page", run_id=survey_run.id))
    return render_template(
        "officer/invitations_created.html",
        run=survey_run,
        count=count,
        form=DownloadForm(batch=batch.isoformat()),
    )


@bp.post("/runs/<int:run_id>/invitations/download")
@requires(Role.OFFICER)
def invitations_download(run_id: int):
    survey_run = _invitation_run(run_id)
    form = DownloadForm()
    if not form.validate_on_submit():
        abort(400)
    batch = _batch(form.batch.data) if form.batch.data else None
    if form.batch.data and batch is None:
        abort(400)
    text, _count = invitations.links_csv(survey_run, batch)
    name = f"invitation-links-{survey_run.slug}.csv"
    return Response(
        text.encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.post("/runs/<int:run_id>/invitations/email")
@requires(Role.OFFICER)
def invitations_email(run_id: int):
    survey_run = _invitation_run(run_id)
    form = EmailForm()
    if not form.validate_on_submit() or form.kind.data not in (invitations.INVITATION, invitations.REMINDER):
        abort(400)
    if not mail.is_configured():
        flash("Email is not set up for this service, so nothing was sent.")
    elif runs.status(survey_run) == runs.CLOSED:
        flash("This survey run has closed, so nothing was sent.")
    else:
        result = invitations.send_emails(survey_run, form.kind.data)
        _report(result, form.kind.data)
    return redirect(url_for(".invitations_page", run_id=survey_run.id), code=303)


def _report(result: invitations.Sent, kind: str) -> None:
    what = "invitation" if kind == invitations.INVITATION else "reminder"
    sent = f"{result.sent} {what}{'' if result.sent == 1 else 's'} sent."
    if result.failed:
        flash(
            f"{sent} {result.failed} could not be sent: the mail server refused them or could not be reached. "
            "They will be included if you send again."
        )
    else:
        flash(sent, "success")


def _batch(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None
