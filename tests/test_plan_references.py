"""Plan references: only from identified invitations, never typed, never a young person's.

A reference someone types could be anyone's (so anyone could attach their
answers to another family's plan), and in an anonymous survey it would
identify a child. So no questionnaire asks for one, the journey stores only
the invitation's, the Plans page joins only those, a young people's run
cannot be by identified invitation, and the start page says what is linked.
"""

from __future__ import annotations

import copy
import os
import textwrap
from datetime import timedelta

import pytest
from flask_migrate import upgrade
from sqlalchemy import select, text

from questionnaires import load_directory
from questionnaires.examples import example_form_values
from questionnaires.loader import DIRECTORY, load_file
from questionnaires.schema import Audience
from questionnaires.shared import load_shared
from survey_app import create_app
from survey_app.database import begin_write
from survey_app.extensions import db
from survey_app.models import Access, Answer, QuestionnaireVersion, Response, SurveyRun, utcnow
from survey_app.services import questionnaires as questionnaire_service
from survey_app.services import runs

from .pages import Browser, check_page, complete, path_of
from .test_invitations import SLUG, answer_through, invitation_run, invited
from .test_loader import assert_problem, default_localities, line_of, problems_of
from .test_runs import NEW, good_run, version_of

FORGED = "EHC-FORGED-1"


def page_labels(page) -> str:
    return " ".join(element.get_text(" ", strip=True) for element in page.soup.select("label, legend, h1")).lower()


# --- The library and the loader -------------------------------------------------------


def test_no_shipped_questionnaire_asks_for_a_plan_reference():
    library = load_directory(localities=default_localities())
    assert library.questionnaires, "the library loaded nothing"
    for questionnaire in library.questionnaires.values():
        keys = [question.key for question in questionnaire.questions]
        assert "plan_reference" not in keys, questionnaire.key
        for question in questionnaire.questions:
            assert "plan number" not in question.label.lower(), (questionnaire.key, question.key)
            assert "plan reference" not in question.label.lower(), (questionnaire.key, question.key)


def test_the_loader_refuses_a_plan_reference_question_with_its_line(tmp_path):
    asked = textwrap.dedent(
        """\
        key: sample
        version: 1
        title: A sample questionnaire
        audience: parent_carer
        estimated_minutes: 2
        intro: What this is about.
        questions:
          - key: rating
            type: likert
            scale: agree5
            label: The plan is right for my child
          - use: plan_reference
          - key: plan_reference
            type: short_text
            label: Your EHC plan number
            required: false
        """
    )
    problems = problems_of(tmp_path, asked)
    assert_problem(problems, line_of(asked, "use: plan_reference"), "questions[1].use", "never asked", "invitation")
    assert_problem(problems, line_of(asked, "key: plan_reference"), "questions[2].key", "never asked", "invitation")


def test_the_shared_context_file_cannot_define_a_plan_reference(tmp_path):
    for name in ("scales.yaml", "equality.yaml"):
        (tmp_path / name).write_text((DIRECTORY / name).read_text(encoding="utf-8"), encoding="utf-8")
    context = (DIRECTORY / "context.yaml").read_text(encoding="utf-8")
    added = context + "\nplan_reference:\n  type: short_text\n  label: EHC plan reference number\n  required: false\n"
    (tmp_path / "context.yaml").write_text(added, encoding="utf-8")
    _shared, problems = load_shared(tmp_path, default_localities())
    [problem] = [p for p in problems if p.field == "plan_reference"]
    assert problem.file.endswith("context.yaml")
    assert problem.line == len(added.splitlines()) - 3
    assert "never asked" in problem.message


def test_a_version_published_with_a_plan_reference_question_no_longer_asks_it(survey_db, browser):
    """Versions published before this change asked for one: their runs stop asking, and store nothing typed."""
    shared, problems = load_shared(DIRECTORY, default_localities())
    assert not problems
    legacy = copy.deepcopy(version_of("ehc_plan_feedback").definition)
    legacy["version"] = 99
    legacy["pages"].insert(
        1,
        {
            "key": "plan_reference",
            "title": None,
            "hint": None,
            "translations": {},
            "questions": [
                {
                    "key": "plan_reference",
                    "type": "short_text",
                    "label": "EHC plan reference number",
                    "hint": None,
                    "required": False,
                    "required_message": None,
                    "options": [],
                    "scale": None,
                    "show_if": [],
                    "max_length": 30,
                    "min": None,
                    "max": None,
                    "whole_number": True,
                    "suffix": None,
                    "section": "context",
                    "translations": {},
                }
            ],
        },
    )
    begin_write()
    version = QuestionnaireVersion(
        key=legacy["key"],
        version=99,
        title=legacy["title"],
        audience=legacy["audience"],
        definition=legacy,
        definition_hash="legacy-with-plan-reference",
    )
    db.session.add(version)
    db.session.commit()
    now = utcnow()
    run = runs.open_run(version, "legacy-plan-feedback", "Legacy", now, now + timedelta(days=5))
    read_back = questionnaire_service.questionnaire_of(version)
    assert "plan_reference" not in [question.key for question in read_back.questions]
    assert "plan_reference" not in [page.key for page in read_back.pages]

    browser.get(f"/surveys/{run.slug}/questions/plan_reference", status=404)
    check = complete(browser, read_back, run.slug)
    assert browser.post_redirect(check, {}).endswith("/confirmation")
    db.session.rollback()
    response = db.session.scalars(select(Response).where(Response.run_id == run.id)).one()
    assert response.plan_reference is None


# --- The journey ------------------------------------------------------------------------


@pytest.mark.parametrize("access", list(Access))
def test_no_run_asks_for_a_plan_reference_and_a_typed_one_is_never_stored(access, signed_in, browser):
    run = (
        invitation_run(access)
        if access.by_invitation
        else runs.open_run(version_of("ehc_plan_feedback"), SLUG, "Open", utcnow(), utcnow() + timedelta(days=5))
    )
    questionnaire = questionnaire_service.questionnaire_of(run.questionnaire_version)
    if access.by_invitation:
        [link] = invited(signed_in("officer"), run, "reference", "EHC-2024-0042")
        browser.get_redirect(path_of(link["link"]))
    # Every page, with a typed plan reference slipped into each post.
    url = f"/surveys/{SLUG}/questions/{questionnaire.pages[0].key}"
    while "/questions/" in url:
        page = browser.get(url)
        assert "plan reference" not in page_labels(page) and "plan number" not in page_labels(page)
        key = url.split("/questions/")[1].split("?")[0]
        data = {q.key: example_form_values(q) for q in questionnaire.page(key).questions}
        data["plan_reference"] = FORGED
        url = browser.post_redirect(url, data)
    assert browser.post_redirect(url, {}).endswith("/confirmation")
    db.session.rollback()
    response = db.session.scalars(select(Response).where(Response.run_id == run.id)).one()
    expected = "EHC-2024-0042" if access is Access.IDENTIFIED_INVITATIONS else None
    assert response.plan_reference == expected
    assert db.session.scalar(select(Answer.id).where(Answer.value == FORGED)) is None
    assert db.session.scalar(select(Answer.id).where(Answer.question_key == "plan_reference")) is None


def test_the_start_page_says_exactly_what_is_linked(signed_in, browser, app):
    open_page = browser.get("/surveys/ehc-plan-feedback")
    linked = open_page.soup.find(id="what-is-linked")
    assert linked is not None and linked.get_text(strip=True) == "What your answers are linked to"
    section = linked.find_next("p").get_text(" ", strip=True)
    assert section.startswith("Nothing. Your answers are anonymous")
    assert "EHC plan number" in section
    assert "equality questions at the end are kept apart" in open_page.text

    anonymous = invitation_run(Access.ANONYMOUS_INVITATIONS)
    [link] = invited(signed_in("officer"), anonymous, "reference", "EHC-1")
    other = Browser(app.test_client())
    page = other.get(other.get_redirect(path_of(link["link"])))
    section = page.soup.find(id="what-is-linked").find_next("p").get_text(" ", strip=True)
    assert section.startswith("Nothing. Your link is personal")
    assert "not which answers came through it" in section

    identified = invitation_run(Access.IDENTIFIED_INVITATIONS, slug="plan-identified")
    [link] = invited(signed_in("officer"), identified, "reference", "EHC-2")
    third = Browser(app.test_client())
    page = third.get(third.get_redirect(path_of(link["link"])))
    section = page.soup.find(id="what-is-linked").find_next("p").get_text(" ", strip=True)
    assert "linked to the EHC plan reference on your invitation" in section
    assert "you will not be asked to type it" in section
    assert "Nothing else is linked" in page.text


def test_the_start_page_in_welsh_says_what_is_linked(browser):
    browser.get_redirect("/change-language?to=cy&next=/surveys/send-pathways-information")
    page = browser.get("/surveys/send-pathways-information")
    heading = page.soup.find(id="what-is-linked")
    assert heading is not None
    assert heading.get_text(strip=True) != "What your answers are linked to"
    assert not heading.find_next("p").get_text(" ", strip=True).startswith("Nothing.")


def test_an_identified_response_keeps_the_invitations_reference_whatever_was_posted(signed_in, browser):
    run = invitation_run(Access.IDENTIFIED_INVITATIONS)
    [link] = invited(signed_in("officer"), run, "reference", "EHC-2024-0099")
    text_of_confirmation = answer_through(browser, link["link"])
    assert "EHC plan reference on your invitation" in text_of_confirmation
    db.session.rollback()
    response = db.session.scalars(select(Response).where(Response.run_id == run.id)).one()
    assert response.plan_reference == "EHC-2024-0099"


# --- Runs -----------------------------------------------------------------------------


YOUNG_PEOPLE = ("my_plan_my_review", "outcomes_young_person", "information_young_person")


@pytest.mark.parametrize("key", YOUNG_PEOPLE)
def test_a_young_peoples_survey_cannot_be_by_identified_invitation(key, signed_in):
    officer = signed_in("officer")
    data = good_run(questionnaire=str(version_of(key).id), access="identified_invitations", title=f"Views {key}")
    response = officer.post(NEW, data, status=200)
    page = check_page(response)
    assert page.error_summary[0][0].startswith("A young people's survey cannot be by identified invitation")
    assert page.value_of("title") == [f"Views {key}"], "the other answers are kept"
    db.session.rollback()
    assert db.session.scalar(select(SurveyRun).where(SurveyRun.title == f"Views {key}")) is None
    # Anonymous invitations are fine.
    officer.post_redirect(NEW, {**data, "access": "anonymous_invitations"})


def test_the_services_refuse_it_too(survey_db, users):
    version = version_of("my_plan_my_review")
    now = utcnow()
    with pytest.raises(runs.AccessRefused):
        runs.open_run(
            version, "yp-identified", "YP", now, now + timedelta(days=3), access=Access.IDENTIFIED_INVITATIONS
        )
    details = runs.RunDetails(
        title="Young people by invitation",
        audience_description="",
        opens_at=now + timedelta(days=1),
        closes_at=now + timedelta(days=9),
        expected_eligible=None,
        retention_months=24,
        version_id=version.id,
        access=Access.IDENTIFIED_INVITATIONS,
    )
    with pytest.raises(runs.AccessRefused):
        runs.create_run(details, by=users["officer"])
    details.access = Access.ANONYMOUS_INVITATIONS
    run = runs.create_run(details, by=users["officer"])
    details.access = Access.IDENTIFIED_INVITATIONS
    with pytest.raises(runs.AccessRefused):
        runs.change_run(run, details, by=users["officer"])
    db.session.rollback()
    assert db.session.get(SurveyRun, run.id).access == Access.ANONYMOUS_INVITATIONS


def test_changing_an_identified_run_to_a_young_peoples_questionnaire_is_refused(signed_in):
    officer = signed_in("officer")
    officer.post_redirect(NEW, good_run(access="identified_invitations", title="Plans by invitation"))
    db.session.rollback()
    run = db.session.scalars(select(SurveyRun).where(SurveyRun.title == "Plans by invitation")).one()
    edit = f"/officer/runs/{run.id}/edit"
    page = check_page(officer.post(edit, {"questionnaire": str(version_of("my_plan_my_review").id)}, status=200))
    assert page.error_summary[0][0].startswith("A young people's survey cannot be by identified invitation")


def test_the_invitation_upload_page_says_what_the_reference_is_for(signed_in):
    officer = signed_in("officer")
    identified = invitation_run(Access.IDENTIFIED_INVITATIONS)
    page = officer.get(f"/officer/runs/{identified.id}/invitations/upload")
    assert "In this run it is the EHC plan's reference" in page.text
    assert "never asked to type it" in page.text
    anonymous = invitation_run(Access.ANONYMOUS_INVITATIONS, slug="anonymous-invitations")
    page = officer.get(f"/officer/runs/{anonymous.id}/invitations/upload")
    assert "responses do not carry it" in page.text


# --- The migration of data typed before ----------------------------------------------


def _migration_url(tmp_path, dialect: str) -> str:
    if dialect == "sqlite":
        return f"sqlite:///{tmp_path / 'migration.db'}"
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("PostgreSQL tests run when TEST_DATABASE_URL is set (.ci/run sets it)")
    return url + ("&" if "?" in url else "?") + "options=-csearch_path%3Dplan_migration"


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_the_migration_removes_typed_references_and_restores_the_invitations(dialect, tmp_path):
    url = _migration_url(tmp_path, dialect)
    app = create_app({"APP_ENV": "testing", "SECRET_KEY": "test-secret-key", "DATABASE_URL": url})
    with app.app_context():
        if dialect == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA IF EXISTS plan_migration CASCADE"))
                connection.execute(text("CREATE SCHEMA plan_migration"))
        upgrade(revision="0004_measures")
        rows = """
            INSERT INTO questionnaire_version (id, key, version, title, audience, definition, definition_hash,
                                               published_at)
            VALUES (1, 'feedback', 1, 'Feedback', 'parent_carer', '{}', 'a', '2026-01-01'),
                   (2, 'young', 1, 'Young', 'young_person', '{}', 'b', '2026-01-01');
            INSERT INTO survey_run (id, slug, title, questionnaire_version_id, opens_at, closes_at, created_at, access)
            VALUES (1, 'open', 'Open', 1, '2026-01-01', '2026-02-01', '2026-01-01', 'open'),
                   (2, 'identified', 'Identified', 1, '2026-01-01', '2026-02-01', '2026-01-01',
                    'identified_invitations'),
                   (3, 'young', 'Young', 2, '2026-01-01', '2026-02-01', '2026-01-01', 'identified_invitations');
            INSERT INTO invitation (id, run_id, token_hash, link_salt, reference, created_at, used, reminders_sent)
            VALUES (1, 2, 'h1', 's1', 'EHC-FROM-INVITATION', '2026-01-01', true, 0),
                   (2, 3, 'h2', 's2', 'EHC-YOUNG', '2026-01-01', true, 0);
            INSERT INTO response (id, reference, submission_key, run_id, questionnaire_version_id, audience, language,
                                  submitted_at, invitation_id, plan_reference)
            VALUES (1, 'AAAAA-AAAAA', 'k1', 1, 1, 'parent_carer', 'en', '2026-01-05', NULL, 'EHC-TYPED'),
                   (2, 'BBBBB-BBBBB', 'k2', 2, 1, 'parent_carer', 'en', '2026-01-05', 1, 'EHC-TYPED-AGAIN'),
                   (3, 'CCCCC-CCCCC', 'k3', 3, 2, 'young_person', 'en', '2026-01-05', 2, 'EHC-YOUNG');
            INSERT INTO answer (response_id, run_id, questionnaire_version_id, question_key, value, audience, language,
                                submitted_at)
            VALUES (1, 1, 1, 'plan_reference', 'EHC-TYPED', 'parent_carer', 'en', '2026-01-05'),
                   (1, 1, 1, 'felt_involved', 'agree', 'parent_carer', 'en', '2026-01-05'),
                   (2, 2, 1, 'plan_reference', 'EHC-TYPED-AGAIN', 'parent_carer', 'en', '2026-01-05');
        """
        with db.engine.begin() as connection:
            for statement in filter(str.strip, rows.split(";")):
                connection.execute(text(statement))
        upgrade(revision="0005_plan_references")
        with db.engine.connect() as connection:
            references = dict(connection.execute(text("SELECT id, plan_reference FROM response ORDER BY id")).all())
            invitations = dict(connection.execute(text("SELECT id, invitation_id FROM response ORDER BY id")).all())
            answers = connection.execute(text("SELECT question_key FROM answer ORDER BY id")).scalars().all()
            access = dict(connection.execute(text("SELECT id, access FROM survey_run ORDER BY id")).all())
        assert references == {1: None, 2: "EHC-FROM-INVITATION", 3: None}
        assert invitations == {1: None, 2: 1, 3: None}
        assert answers == ["felt_involved"]
        assert access == {1: "open", 2: "identified_invitations", 3: "anonymous_invitations"}
        if dialect == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA plan_migration CASCADE"))
        db.engine.dispose()


def test_audiences_of_a_plan_leave_out_young_people():
    from survey_app.services.responses import AUDIENCE_ORDER

    assert Audience.YOUNG_PERSON not in AUDIENCE_ORDER


def test_load_file_of_every_shipped_questionnaire_still_loads():
    shared, problems = load_shared(DIRECTORY, default_localities())
    assert not problems
    for path in sorted(DIRECTORY.glob("*.yaml")):
        if path.name in ("scales.yaml", "context.yaml", "equality.yaml"):
            continue
        questionnaire, file_problems = load_file(path, shared)
        assert questionnaire is not None and not file_problems, (path.name, file_problems)
