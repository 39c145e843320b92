"""Officers export a run's responses, as CSV or Excel, with a codebook."""

from __future__ import annotations

from flask import Response, abort, render_template, stream_with_context
from flask_login import current_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSubmitInput
from wtforms import RadioField, SelectChoice, SubmitField
from wtforms.validators import InputRequired

from ..access import requires
from ..models import Role, utcnow
from ..officer_forms import error_list
from ..services import exports, retention, runs
from . import bp


class ExportForm(FlaskForm):
    file_format = RadioField(
        "File format",
        choices=[
            SelectChoice(exports.XLSX, "Excel (XLSX): the responses and the codebook on two sheets"),
            SelectChoice(
                exports.CSV, "CSV: opens in any spreadsheet or statistics package; download the codebook separately"
            ),
        ],
        widget=GovRadioInput(),
        validators=[InputRequired("Choose a file format")],
    )
    submit = SubmitField("Download responses", widget=GovSubmitInput())


@bp.route("/runs/<int:run_id>/export", methods=["GET", "POST"])
@requires(Role.OFFICER)
def export(run_id: int):
    run = runs.run_by_id(run_id) or abort(404)
    form = ExportForm()
    if form.validate_on_submit():
        return download(exports.export_responses(run, form.file_format.data, by=current_user))
    ends = retention.retention_ends(run)
    return render_template(
        "officer/export.html",
        run=run,
        summary=exports.summary(run),
        retention_ends=ends,
        retention_ended=ends <= utcnow(),
        form=form,
        errors=error_list(form),
    )


@bp.get("/runs/<int:run_id>/export/codebook")
@requires(Role.OFFICER)
def export_codebook(run_id: int):
    run = runs.run_by_id(run_id) or abort(404)
    return download(exports.codebook_download(run))


def download(file: exports.Download) -> Response:
    """A file streamed as it is made, saved under its name rather than shown."""
    return Response(
        stream_with_context(file.chunks),
        mimetype=file.mimetype,
        headers={"Content-Disposition": f'attachment; filename="{file.filename}"'},
    )
