"""Thin views: read the request, call the journey service, render or redirect."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, make_response, redirect, render_template, request, session, url_for
from markupsafe import Markup

from questionnaires import Page, routing
from questionnaires.schema import ENGLISH, Section

from .. import languages
from ..access import public
from ..forms import page_form
from ..services import invitations, journey, runs
from ..services.questionnaires import questionnaire_for
from . import bp

# Keys of the signed session cookie. Only random tokens and references are
# kept there; answers stay on the server.
DRAFTS = "drafts"
SUBMITTED = "submitted"
RETURN_LINKS = "return_links"
# The hash of the invitation link's token, for invitation-only runs.
INVITATIONS = "invitations"


def session_entry(name: str, run: runs.Run) -> str | None:
    return session.get(name, {}).get(str(run.id))


def set_session_entry(name: str, run: runs.Run, value: str | None) -> None:
    if session.get(name, {}).get(str(run.id)) == value:
        return  # unchanged: the cookie need not be sent again
    entries = dict(session.get(name, {}))
    if value is None:
        entries.pop(str(run.id), None)
    else:
        entries[str(run.id)] = value
    session[name] = entries
    session.permanent = True


def run_for_answering(slug: str):
    """The run and its questionnaire, or the page explaining why it cannot be answered."""
    run = runs.run_by_slug(slug)
    if run is None:
        abort(404)
    state = journey.run_state(run, has_draft=session_entry(DRAFTS, run) is not None)
    if state == "not_open_yet":
        abort(make_response(render_template("respondent/not_open.html", run=run), 404))
    if state == "closed":
        abort(make_response(render_template("respondent/closed.html", run=run), 410))
    if state == "paused":
        # Answers in progress are kept: the draft is not touched here.
        abort(make_response(render_template("respondent/paused.html", run=run), 503))
    language = languages.use_for_page(questionnaire_for(run).languages)
    return run, questionnaire_for(run, language)


def invitation_for(run: runs.Run, progress: journey.Progress) -> int | None:
    """The invitation these answers are for, in an invitation-only run; None in an open run.

    The draft's own invitation comes first (a return link opened on another
    device carries it); otherwise the one whose link this browser opened.
    Without one, the page explaining that the survey is by invitation is
    shown; with a used one, the page saying the answers were already sent.
    """
    if not run.access.by_invitation:
        return None
    if progress.invitation_id is not None:
        found = invitations.pass_for_id(run.id, progress.invitation_id)
    else:
        found = invitations.pass_for_hash(run.id, session_entry(INVITATIONS, run))
    if found is None:
        abort(make_response(render_template("respondent/by_invitation.html", run=run), 403))
    if found.used:
        abort(make_response(already_answered_page(run), 200))
    return found.id


def already_answered_page(run: runs.Run) -> str:
    return render_template("respondent/already_answered.html", run=run, reference=session_entry(SUBMITTED, run))


def _change_mode() -> bool:
    return request.args.get("change") == "1"


def _page_url(run: runs.Run, page: Page, change: bool = False) -> str:
    return url_for("respondent.question", slug=run.slug, page_key=page.key, change="1" if change else None)


def in_language(run: runs.Run, language: str) -> bool:
    """Whether the run's questionnaire can be read and answered in ``language``."""
    return language in questionnaire_for(run).languages


@bp.app_template_global()
def survey_title(run: runs.Run) -> str | Markup:
    """A survey's title as a page in the person's language names it.

    In English, the run's title. In another language, its questionnaire's
    title in that language, or, for a questionnaire without it, the run's
    English title marked as English.
    """
    language = languages.current()
    if language == ENGLISH:
        return run.title
    if in_language(run, language):
        return questionnaire_for(run, language).title
    return Markup('<span lang="en">{}</span>').format(run.title)


@bp.get("/")
@public
def index():
    """The surveys open to everyone. A page in Welsh lists those with a Welsh
    version first, and those without it under a heading of their own."""
    language = languages.current()
    listed = runs.open_runs(listed_only=True)
    return render_template(
        "respondent/index.html",
        runs=[run for run in listed if in_language(run, language)],
        english_only=[run for run in listed if not in_language(run, language)],
    )


@bp.get("/surveys/<slug>")
@public
def start(slug: str):
    run, questionnaire = run_for_answering(slug)
    progress = journey.load_progress(run, session_entry(DRAFTS, run))
    invitation_for(run, progress)
    resume = routing.first_unfinished_page(questionnaire, progress.answers, progress.completed_pages)
    return render_template(
        "respondent/start.html",
        run=run,
        questionnaire=questionnaire,
        linked_to_plan=journey.links_to_plan(run),
        first_page=questionnaire.pages[0],
        resume_page=resume if progress.submission_key else None,
        has_progress=progress.submission_key is not None,
        submitted_reference=session_entry(SUBMITTED, run),
        resumed=request.args.get("resumed") == "1" and progress.submission_key is not None,
        other_languages=[
            (code, languages.offer(code), languages.direction(code))
            for code in questionnaire.languages
            if code != questionnaire.language
        ],
    )


@bp.route("/surveys/<slug>/questions/<page_key>", methods=["GET", "POST"])
@public
def question(slug: str, page_key: str):
    run, questionnaire = run_for_answering(slug)
    page = questionnaire.page(page_key)
    if page is None:
        abort(404)
    token = session_entry(DRAFTS, run)
    progress = journey.load_progress(run, token)
    invitation_id = invitation_for(run, progress)
    answers = progress.answers

    # Pages are answered in order: skipped or hidden pages send the person
    # to the page they should be on.
    gap = routing.first_unfinished_page(questionnaire, answers, progress.completed_pages, before=page.key)
    if gap is not None:
        return redirect(_page_url(run, gap))
    if not page.is_shown(answers):
        following = routing.first_unfinished_page(questionnaire, answers, progress.completed_pages)
        return redirect(_page_url(run, following) if following else url_for(".check_answers", slug=run.slug))

    form = page_form(page, answers, questionnaire, formdata=request.form if request.method == "POST" else None)
    if request.method == "POST":
        valid = form.validate()
        leaving_for = request.form.get("change_language")
        action = request.form.get("action")
        if leaving_for or action == "save_for_later":
            # Keep what was given on this page, valid or not yet finished.
            token, progress = journey.save_page(
                run,
                questionnaire,
                token,
                progress,
                page,
                form.answers_kept(answers),
                complete=False,
                invitation_id=invitation_id,
            )
            set_session_entry(DRAFTS, run, token)
            if leaving_for:
                languages.choose(leaving_for)
                return redirect(_page_url(run, page, change=_change_mode()), code=303)
            set_session_entry(RETURN_LINKS, run, journey.create_return_link(progress))
            return redirect(url_for(".saved", slug=run.slug), code=303)
        if action == "skip_section" and page.section is Section.EQUALITY:
            token, progress = journey.skip_section(
                run, questionnaire, token, progress, Section.EQUALITY, invitation_id=invitation_id
            )
            set_session_entry(DRAFTS, run, token)
            following = routing.first_unfinished_page(questionnaire, progress.answers, progress.completed_pages)
            return redirect(_page_url(run, following) if following else url_for(".check_answers", slug=run.slug))
        if valid:
            token, progress = journey.save_page(
                run, questionnaire, token, progress, page, form.answers(), invitation_id=invitation_id
            )
            set_session_entry(DRAFTS, run, token)
            return redirect(_after_page(run, questionnaire, page, progress))

    previous = routing.previous_page(questionnaire, answers, page.key)
    if _change_mode():
        back_url = url_for(".check_answers", slug=run.slug)
    elif previous is not None:
        back_url = _page_url(run, previous)
    else:
        back_url = url_for(".start", slug=run.slug)
    return render_template(
        "respondent/question.html",
        run=run,
        questionnaire=questionnaire,
        page=page,
        form=form,
        errors=form.error_list(),
        back_url=back_url,
        progress=routing.progress(questionnaire, answers, page.key),
        answers=answers,
    )


def _after_page(run, questionnaire, page, progress) -> str:
    if _change_mode():
        # A change may reveal questions not yet answered: ask those, then
        # return to the answers.
        unfinished = routing.first_unfinished_page(questionnaire, progress.answers, progress.completed_pages)
        if unfinished is not None:
            return _page_url(run, unfinished, change=True)
        return url_for(".check_answers", slug=run.slug)
    following = routing.next_page(questionnaire, progress.answers, page.key)
    return _page_url(run, following) if following else url_for(".check_answers", slug=run.slug)


@dataclass(frozen=True)
class AnswerSection:
    """One part of the check-answers page: a heading (or none) and one summary list."""

    pages: tuple[Page, ...]
    # A group's title; None for questions asked one to a page.
    title: str | None = None
    equality: bool = False


def answer_sections(pages: list[Page]) -> list[AnswerSection]:
    """The pages shown, in order, as the check-answers page's sections.

    Questions asked one to a page share a section while they follow one
    another; each group is a section under its title; the equality
    monitoring pages are one section, last. Each section is one summary list,
    as in the GOV.UK check answers pattern.
    """
    sections: list[AnswerSection] = []
    singles: list[Page] = []
    for page in pages:
        if page.section is Section.EQUALITY:
            continue
        if not page.is_group:
            singles.append(page)
            continue
        if singles:
            sections.append(AnswerSection(tuple(singles)))
            singles = []
        sections.append(AnswerSection((page,), title=page.title))
    if singles:
        sections.append(AnswerSection(tuple(singles)))
    equality = tuple(page for page in pages if page.section is Section.EQUALITY)
    if equality:
        sections.append(AnswerSection(equality, equality=True))
    return sections


@bp.route("/surveys/<slug>/check-answers", methods=["GET", "POST"])
@public
def check_answers(slug: str):
    run, questionnaire = run_for_answering(slug)
    token = session_entry(DRAFTS, run)
    if request.method == "POST":
        # Sending checks the draft's invitation itself, in the transaction
        # that stores the answers; a repeated send of the same answers gets
        # the same confirmation.
        try:
            reference = journey.submit(run, questionnaire, token, request.form.get("submission_key", ""))
        except journey.NotInvited:
            return render_template("respondent/by_invitation.html", run=run), 403
        except journey.AlreadyAnswered:
            return already_answered_page(run), 409
        except journey.Unfinished as unfinished:
            return redirect(_page_url(run, unfinished.page))
        except journey.NothingToSubmit:
            if session_entry(SUBMITTED, run):
                return redirect(url_for(".confirmation", slug=run.slug), code=303)
            return redirect(url_for(".start", slug=run.slug), code=303)
        set_session_entry(SUBMITTED, run, reference)
        set_session_entry(DRAFTS, run, None)
        return redirect(url_for(".confirmation", slug=run.slug), code=303)

    progress = journey.load_progress(run, token)
    invitation_for(run, progress)
    if progress.submission_key is None:
        if session_entry(SUBMITTED, run):
            return redirect(url_for(".confirmation", slug=run.slug))
        return redirect(url_for(".start", slug=run.slug))
    unfinished = routing.first_unfinished_page(questionnaire, progress.answers, progress.completed_pages)
    if unfinished is not None:
        return redirect(_page_url(run, unfinished))
    pages = routing.visible_pages(questionnaire, progress.answers)
    return render_template(
        "respondent/check_answers.html",
        run=run,
        questionnaire=questionnaire,
        sections=answer_sections(pages),
        last_page=pages[-1],
        answers=progress.answers,
        submission_key=progress.submission_key,
    )


@bp.get("/surveys/<slug>/confirmation")
@public
def confirmation(slug: str):
    run = runs.run_by_slug(slug)
    if run is None:
        abort(404)
    reference = session_entry(SUBMITTED, run)
    if reference is None:
        return redirect(url_for(".start", slug=run.slug))
    language = languages.use_for_page(questionnaire_for(run).languages)
    return render_template(
        "respondent/confirmation.html",
        run=run,
        linked_to_plan=journey.links_to_plan(run),
        questionnaire=questionnaire_for(run, language),
        reference=reference,
    )
