"""Officers read a run's comments (free-text answers), tag them, flag them for follow-up and redact them.

The comments page lists a page of comments at a time, each with its tags and
follow-up, and holds no form but its filters. Each comment has a page of its
own where it is tagged, flagged for follow-up or redacted. Young people's
comments with words that can mean a risk of harm come first, until someone
has followed them up. Every change goes back to where the officer was on the
comments page: the same filters, the same page number, the same comment.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea
from markupsafe import Markup, escape
from wtforms import SubmitField, TextAreaField

from ..access import requires
from ..models import Answer, Role
from ..officer_forms import error_list
from ..services import comments as comment_service
from ..services import text_checks
from ..services.questionnaires import questionnaire_of
from ..services.runs import run_by_id
from . import bp
from .paging import page_number, pagination

PER_PAGE = 20
# The query string arguments that say what the comments page shows. A
# comment's own page and its forms carry them, so that a change made there
# returns the officer to the same view of the comments page.
_KEPT = ("question", "tag", "follow_up", "page")


@dataclass(frozen=True)
class Problem:
    """A change refused, shown on the comment's own page with what was typed."""

    field: str
    message: str
    typed: str


def marked(text: str, findings: list[text_checks.Finding]) -> Markup:
    """A comment, escaped, with each personal detail found in <mark> and its lines kept."""
    parts, position = [], 0
    for finding in findings:
        parts.append(escape(text[position : finding.start]))
        parts.append(Markup("<mark>{}</mark>").format(text[finding.start : finding.end]))
        position = finding.end
    parts.append(escape(text[position:]))
    return Markup("").join(parts).replace("\n", Markup("<br>"))


def _kept_args() -> dict[str, str]:
    return {name: request.args[name] for name in _KEPT if request.args.get(name)}


def _filters(questions) -> comment_service.CommentFilters:
    question = request.args.get("question", "")
    follow_up = request.args.get("follow_up", "")
    return comment_service.CommentFilters(
        question=question if question in {q.key for q in questions} else "",
        tag=" ".join(request.args.get("tag", "").split())[: comment_service.TAG_MAX_LENGTH],
        follow_up=follow_up if follow_up in comment_service.FOLLOW_UP_FILTERS else "",
    )


@bp.get("/runs/<int:run_id>/comments")
@requires(Role.OFFICER)
def comments(run_id: int):
    run = run_by_id(run_id) or abort(404)
    questionnaire = questionnaire_of(run.questionnaire_version)
    questions = comment_service.comment_questions(questionnaire)
    filters = _filters(questions)
    risky = comment_service.risk_comments(run, questionnaire)
    page = page_number()
    # One page of the others, read with LIMIT and OFFSET.
    listed, total = comment_service.comments_page(
        run, questionnaire, filters, page, PER_PAGE, [comment.answer_id for comment in risky]
    )
    base = url_for(".comments", run_id=run.id)
    args = filters.as_args()

    def href(number: int) -> str:
        return f"{base}?{urlencode({**args, 'page': number})}" if number > 1 or args else base

    return render_template(
        "officer/comments.html",
        run=run,
        labels={question.key: question.label for question in questions},
        questions=questions,
        filters=filters,
        follow_up_filters=comment_service.FOLLOW_UP_FILTERS,
        risky=risky,
        page=page,
        first_page=href(1),
        listed=listed,
        total=total,
        pages=max(1, -(-total // PER_PAGE)),
        pagination=pagination(page, total, PER_PAGE, href),
        suggestions=comment_service.tag_suggestions(),
        kept={**args, **({"page": page} if page > 1 else {})},
        marked=marked,
    )


def _list_url(answer: Answer) -> str:
    """The comment's place on the comments page, as it was filtered and on the page it was on."""
    return url_for(".comments", run_id=answer.run_id, **_kept_args()) + f"#comment-{answer.id}"


def _comment_page(answer: Answer, problem: Problem | None = None):
    """A comment's own page: the comment, its tags, follow-up and redactions, and the forms to change them."""
    return render_template(
        "officer/comment.html",
        run=answer.response.run,
        comment=comment_service.comment_of(answer),
        question=comment_service.question_of(answer),
        suggestions=comment_service.tag_suggestions(),
        kept=_kept_args(),
        back=_list_url(answer),
        marked=marked,
        problem=problem,
        errors=[{"text": problem.message, "href": f"#{problem.field}"}] if problem else [],
    )


@bp.get("/comments/<int:answer_id>")
@requires(Role.OFFICER)
def comment(answer_id: int):
    answer = comment_service.comment_by_id(answer_id) or abort(404)
    return _comment_page(answer)


def _back_to(answer: Answer):
    """Back to where the officer was: the comment on the comments page, with its filters and page number."""
    return redirect(_list_url(answer), code=303)


def _refused(answer: Answer, field: str, refused: Exception, typed: str):
    """The comment's own page again, saying what was wrong and keeping what was typed."""
    return _comment_page(answer, Problem(field, str(refused), typed))


@bp.post("/comments/<int:answer_id>/tags")
@requires(Role.OFFICER)
def comment_tag_add(answer_id: int):
    answer = comment_service.comment_by_id(answer_id) or abort(404)
    typed = request.form.get("tag", "")
    try:
        tag = comment_service.add_tag(answer, typed, by=current_user)
    except comment_service.CommentChangeRefused as refused:
        return _refused(answer, "tag", refused, typed)
    flash(f"Tagged “{tag}”.", "success")
    return _back_to(answer)


@bp.post("/comments/<int:answer_id>/tags/remove")
@requires(Role.OFFICER)
def comment_tag_remove(answer_id: int):
    answer = comment_service.comment_by_id(answer_id) or abort(404)
    tag = request.form.get("tag", "")
    if comment_service.remove_tag(answer, tag, by=current_user):
        flash(f"Removed the tag “{tag}”.", "success")
    return _back_to(answer)


@bp.post("/comments/<int:answer_id>/follow-up")
@requires(Role.OFFICER)
def follow_up_flag(answer_id: int):
    answer = comment_service.comment_by_id(answer_id) or abort(404)
    typed = request.form.get("note", "")
    try:
        comment_service.flag_follow_up(answer, typed, by=current_user)
    except comment_service.CommentChangeRefused as refused:
        return _refused(answer, "note", refused, typed)
    flash("Flagged for follow-up.", "success")
    return _back_to(answer)


@bp.post("/comments/<int:answer_id>/follow-up/done")
@requires(Role.OFFICER)
def follow_up_resolve(answer_id: int):
    answer = comment_service.comment_by_id(answer_id) or abort(404)
    if comment_service.resolve_follow_up(answer, by=current_user):
        flash("Follow-up marked done.", "success")
    return _back_to(answer)


class RedactForm(FlaskForm):
    text = TextAreaField(
        "The comment as it will be kept",
        description="Each personal detail found is already replaced. Check the whole comment and change anything "
        "else that could identify someone.",
        widget=GovTextArea(),
    )
    submit = SubmitField("Redact comment", widget=GovSubmitInput())


@bp.route("/comments/<int:answer_id>/redact", methods=["GET", "POST"])
@requires(Role.OFFICER)
def redact(answer_id: int):
    answer = comment_service.comment_by_id(answer_id) or abort(404)
    form = RedactForm()
    if form.validate_on_submit():
        try:
            comment_service.redact(answer, form.text.data, by=current_user)
        except comment_service.CommentChangeRefused as refused:
            form.text.errors = [str(refused)]
        else:
            flash(f"The comment on response {answer.response.reference} was redacted.", "success")
            return _back_to(answer)
    elif request.method == "GET":
        form.text.data = comment_service.suggested_redaction(answer.value)
    findings = text_checks.personal_details(answer.value)
    return render_template(
        "officer/redact.html",
        answer=answer,
        question=comment_service.question_of(answer),
        original=marked(answer.value, findings),
        may_contain=text_checks.describe(findings),
        # Redaction is reached from the comment's own page; cancelling goes back there.
        back=url_for(".comment", answer_id=answer.id, **_kept_args()),
        form=form,
        errors=error_list(form),
    )
