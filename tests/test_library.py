"""The questionnaire library as respondents meet it: every questionnaire in
every language it declares, switching language, easy read, equality
monitoring kept apart, completed with support, piping, and save and return."""

from __future__ import annotations

import re
import shutil
from datetime import timedelta
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, text, update

from questionnaires import Audience, QuestionType, load_directory
from questionnaires.examples import example_form_values
from questionnaires.loader import DIRECTORY
from questionnaires.questions import COMPLETED_WITH_SUPPORT
from questionnaires.schema import Section
from survey_app import create_app
from survey_app.config import DEFAULTS
from survey_app.extensions import db
from survey_app.models import Answer, Draft, EqualityAnswer, EqualityMonitoring, Response, utcnow
from survey_app.services.questionnaires import questionnaire_for
from survey_app.services.runs import run_by_slug

from . import smtp
from .pages import Browser, check_page, complete, path_of

STATIC = Path(__file__).resolve().parent.parent / "survey_app" / "static"
PATHWAYS = "send_pathways_information"
smtp_server = smtp.smtp_server


@cache
def library():
    """The shipped questionnaires, as the app loads them with its default settings."""
    return load_directory(localities=DEFAULTS["LOCALITIES"].split(",")).questionnaires


def slug(key: str) -> str:
    return key.replace("_", "-")


def question_url(key: str, page: str) -> str:
    return f"/surveys/{slug(key)}/questions/{page}"


def choose_language(browser: Browser, code: str, key: str) -> None:
    location = browser.get_redirect(f"/change-language?to={code}&next=/surveys/{slug(key)}")
    assert location == f"/surveys/{slug(key)}"


def submit(browser: Browser, key: str) -> Response:
    location = browser.post_redirect(f"/surveys/{slug(key)}/check-answers", {})
    assert location == f"/surveys/{slug(key)}/confirmation"
    db.session.rollback()
    return db.session.scalars(select(Response).order_by(Response.id.desc())).first()


# --- every questionnaire, every language ---------------------------------------


def declared_languages():
    return [(key, language) for key, q in sorted(library().items()) for language in q.languages]


@pytest.mark.parametrize(("key", "language"), declared_languages())
def test_every_questionnaire_completes_in_every_language_it_declares(browser, key, language):
    english = library()[key]
    choose_language(browser, language, key)
    start = browser.get(f"/surveys/{slug(key)}")
    assert start.soup.find("html")["lang"] == language
    localised = english.localised(language)
    assert start.h1 == localised.title
    check = complete(browser, localised, slug(key))
    page = browser.get(check)
    assert page.soup.find("html")["lang"] == language
    response = submit(browser, key)
    assert response.language == language
    assert {answer.language for answer in response.answers} == {language}


def test_the_library_has_what_each_audience_needs():
    questionnaires = library()
    assert len(questionnaires) >= 11
    audiences = {q.audience for q in questionnaires.values()}
    assert audiences == set(Audience)
    assert "cy" in questionnaires[PATHWAYS].languages
    for questionnaire in questionnaires.values():
        keys = [question.key for question in questionnaire.questions]
        assert questionnaire.estimated_minutes and questionnaire.intro
        free_text = [q for q in questionnaire.questions if q.type is QuestionType.LONG_TEXT]
        assert free_text and not any(q.required for q in free_text), questionnaire.key
        if questionnaire.audience is Audience.YOUNG_PERSON:
            assert questionnaire.easy_read
            assert keys[0] == COMPLETED_WITH_SUPPORT
            assert not questionnaire.has_equality_section, "young people are not asked equality questions"
        elif questionnaire.audience is Audience.PARENT_CARER:
            assert questionnaire.has_equality_section, questionnaire.key
        context = [q for q in questionnaire.questions if q.section is Section.CONTEXT]
        assert context, f"{questionnaire.key} asks no context questions"


def test_matched_questionnaires_use_the_same_keys_for_the_same_questions():
    parents, young_people = library()["outcomes_parent_carer"], library()["outcomes_young_person"]
    areas = {"learning", "communication", "friendships", "independence", "feeling_safe", "the_future"}
    assert areas <= {q.key for q in parents.questions} & {q.key for q in young_people.questions}


def test_every_picture_in_the_library_exists_and_has_alt_text():
    pictures = [
        option
        for questionnaire in library().values()
        for question in questionnaire.questions
        for option in question.options
        if option.image
    ]
    assert pictures, "the faces scale should have pictures"
    for option in pictures:
        assert (STATIC / "images" / option.image).is_file(), option.image
        assert option.image_alt


# --- languages ---------------------------------------------------------------


def test_the_interface_is_in_welsh_when_welsh_is_chosen(browser):
    choose_language(browser, "cy", PATHWAYS)
    first = library()[PATHWAYS].pages[0].key
    page = browser.get(question_url(PATHWAYS, first))
    assert page.soup.find("html")["lang"] == "cy"
    assert page.soup.select_one("button.govuk-button").get_text(strip=True) == "Parhau"
    assert page.soup.select_one(".govuk-back-link").get_text(strip=True) == "Yn ôl"
    welsh = library()[PATHWAYS].localised("cy")
    assert page.h1 == welsh.pages[0].questions[0].label
    footer = page.soup.select_one("footer").get_text(" ", strip=True)
    assert "Preifatrwydd" in footer or "preifatrwydd" in footer


def test_a_questionnaire_without_welsh_is_shown_in_english_with_an_english_interface(browser):
    choose_language(browser, "cy", "ehc_plan_feedback")
    page = browser.get("/surveys/ehc-plan-feedback")
    assert page.soup.find("html")["lang"] == "en"
    assert page.h1 == library()["ehc_plan_feedback"].title
    assert "Start now" in page.text
    assert not page.soup.select(".app-language-switcher"), "no choice to offer"


def test_the_start_page_offers_each_language_of_the_questionnaire(browser):
    page = browser.get(f"/surveys/{slug(PATHWAYS)}")
    switcher = page.soup.select_one(".app-language-switcher")
    assert switcher is not None
    assert switcher.select_one("[aria-current]").get_text(strip=True) == "English"
    link = switcher.find("a", hreflang="cy")
    assert link.get_text(strip=True) == "Cymraeg" and link["lang"] == "cy"
    assert page.link("Cymraeg: darllen ac ateb yr arolwg hwn"), "the offer is written in Welsh"


def test_switching_language_part_way_keeps_every_answer_including_the_page_being_typed(browser):
    questionnaire = library()[PATHWAYS]
    first, second = questionnaire.pages[0], questionnaire.pages[1]
    assert browser.post_redirect(question_url(PATHWAYS, first.key), {first.key: "yes"}) == question_url(
        PATHWAYS, second.key
    )
    # On the second page, choose an answer and then press "Cymraeg" instead of Continue.
    page = browser.get(question_url(PATHWAYS, second.key))
    button = page.soup.find("button", attrs={"name": "change_language", "value": "cy"})
    assert button["form"] == "page-form" and button.get_text(strip=True) == "Cymraeg"
    form = page.form()
    form[second.key] = [second.questions[0].options[0].value]
    form["change_language"] = ["cy"]
    response = browser.client.post(question_url(PATHWAYS, second.key), data=form)
    assert response.status_code == 303
    assert path_of(response.headers["Location"]) == question_url(PATHWAYS, second.key)

    welsh = browser.get(question_url(PATHWAYS, second.key))
    assert welsh.soup.find("html")["lang"] == "cy"
    assert welsh.value_of(second.key) == [second.questions[0].options[0].value], "the unsent answer is kept"
    back = browser.get(question_url(PATHWAYS, first.key))
    assert back.value_of(first.key) == ["yes"]


def test_the_language_link_only_goes_to_pages_on_this_site(browser):
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"):
        response = browser.client.get("/change-language", query_string={"to": "cy", "next": target})
        assert response.status_code == 303
        assert response.headers["Location"] in ("/", "http://localhost/")


def test_an_unknown_language_is_ignored(browser):
    browser.client.get("/change-language?to=xx&next=/")
    assert browser.get("/").soup.find("html")["lang"] == "en"


def test_welsh_errors_are_in_welsh_and_keep_the_answer(browser):
    choose_language(browser, "cy", PATHWAYS)
    questionnaire = library()[PATHWAYS].localised("cy")
    first = questionnaire.pages[0].questions[0]
    response = browser.post(question_url(PATHWAYS, first.key), {}, status=200)
    page = check_page(response)
    assert page.title.startswith("Gwall: ")
    assert page.error_summary[0][0] == first.required_message
    assert page.soup.select_one(".govuk-error-summary__title").get_text(strip=True) == "Mae problem wedi codi"


# --- easy read -----------------------------------------------------------------


def test_easy_read_pages_show_faces_with_words_and_a_read_aloud_control(browser):
    key = "my_plan_my_review"
    questionnaire = library()[key]
    first = questionnaire.pages[0]
    page = browser.get(question_url(key, first.key))
    assert page.soup.select_one(".app-easy-read")
    read_aloud = page.soup.select_one('[data-module="app-read-aloud"]')
    assert read_aloud is not None and read_aloud.has_attr("hidden"), "hidden until JavaScript can speak"
    browser.post_redirect(question_url(key, first.key), {first.key: "alone"})
    faces_page = next(p for p in questionnaire.pages if p.questions[0].scale == "faces3")
    complete_up_to(browser, key, faces_page.key)
    page = browser.get(question_url(key, faces_page.key))
    radios = page.soup.select_one(".govuk-radios.app-radios--images")
    assert radios is not None
    pictures = radios.select("img")
    assert [img["alt"] for img in pictures] and all(img["alt"] for img in pictures)
    words = [span.get_text(strip=True) for span in radios.select(".app-choice-image__text")]
    assert words == ["Happy", "OK", "Sad"]
    assert "I don't know" in radios.get_text(" ", strip=True)


def complete_up_to(browser: Browser, key: str, page_key: str) -> None:
    questionnaire = library()[key]
    url = question_url(key, questionnaire.pages[0].key)
    while not url.endswith(f"/questions/{page_key}"):
        current = questionnaire.page(url.split("/questions/")[1].split("?")[0])
        url = browser.post_redirect(url, {q.key: example_form_values(q) for q in current.questions})


def test_every_young_persons_response_records_who_answered(browser):
    for key, questionnaire in library().items():
        if questionnaire.audience is not Audience.YOUNG_PERSON:
            continue
        first = questionnaire.pages[0]
        empty = browser.post_page(question_url(key, first.key), {})
        assert empty.error_summary, "who answered must be recorded"
        complete(
            browser,
            questionnaire,
            slug(key),
            choose=lambda q: ["with_help"] if q.key == COMPLETED_WITH_SUPPORT else example_form_values(q),
        )
        response = submit(browser, key)
        assert [a.value for a in response.answers if a.question_key == COMPLETED_WITH_SUPPORT] == ["with_help"]


# --- equality monitoring -------------------------------------------------------


def equality_pages(key: str):
    return [page for page in library()[key].pages if page.section is Section.EQUALITY]


def test_the_equality_questions_can_be_skipped_in_one_click(browser):
    sections = equality_pages(PATHWAYS)
    first = sections[0]
    complete_up_to(browser, PATHWAYS, first.key)
    page = browser.get(question_url(PATHWAYS, first.key))
    skip = page.soup.find("button", attrs={"name": "action", "value": "skip_section"})
    assert skip is not None and skip.get_text(strip=True) == "Skip these questions"
    form = page.form()
    form["action"] = ["skip_section"]
    response = browser.client.post(question_url(PATHWAYS, first.key), data=form)
    assert path_of(response.headers["Location"]) == f"/surveys/{slug(PATHWAYS)}/check-answers"
    submit(browser, PATHWAYS)
    assert db.session.scalar(select(db.func.count()).select_from(EqualityMonitoring)) == 0


def test_equality_answers_are_stored_apart_with_nothing_linking_them_to_the_response(browser):
    complete(browser, library()[PATHWAYS], slug(PATHWAYS))
    response = submit(browser, PATHWAYS)
    equality_keys = {q.key for page in equality_pages(PATHWAYS) for q in page.questions}
    assert not equality_keys & {answer.question_key for answer in response.answers}
    [monitoring] = db.session.scalars(select(EqualityMonitoring)).all()
    stored = {answer.question_key for answer in monitoring.answers}
    assert stored and stored <= equality_keys
    assert re.fullmatch(r"[0-9a-f]{32}", monitoring.id), "a random id, so rows cannot be matched by order"
    assert monitoring.submitted_month.day == 1, "only the month is kept"
    columns = {column.name for column in EqualityMonitoring.__table__.columns} | {
        column.name for column in EqualityAnswer.__table__.columns
    }
    assert not columns & {"response_id", "reference", "submission_key", "submitted_at"}


# --- piping ----------------------------------------------------------------------


def test_an_earlier_answer_is_shown_in_a_later_question_and_escaped(browser):
    key = "ehc_plan_feedback_setting"
    questionnaire = library()[key]
    piped = next(q for q in questionnaire.questions if "${setting_name" in q.label)
    name = '<script>alert("x")</script> Primary'

    def choose(question):
        return [name] if question.key == "setting_name" else example_form_values(question)

    url = question_url(key, questionnaire.pages[0].key)
    target = next(page.key for page in questionnaire.pages if piped in page.questions)
    while not url.endswith(f"/questions/{target}"):
        current = questionnaire.page(url.split("/questions/")[1])
        url = browser.post_redirect(url, {q.key: choose(q) for q in current.questions})
    response = browser.client.get(url)
    html = response.get_data(as_text=True)
    assert "<script>alert" not in html
    page = check_page(response)
    assert name in page.text, "the setting's name appears in the question, as text"


# --- save and come back later ------------------------------------------------


def save_for_later(browser: Browser, key: str, page_key: str, data: dict) -> str:
    """Press "Save and come back later" on a page; returns the return link's path."""
    page = browser.get(question_url(key, page_key))
    form = page.form()
    form.update({name: value if isinstance(value, list) else [value] for name, value in data.items()})
    form["action"] = ["save_for_later"]
    response = browser.client.post(question_url(key, page_key), data=form)
    assert path_of(response.headers["Location"]) == f"/surveys/{slug(key)}/saved"
    saved = browser.get(f"/surveys/{slug(key)}/saved")
    assert saved.h1 == "Your answers have been saved"
    link = saved.soup.select_one("#return-link")["href"]
    assert link.startswith("http://localhost/surveys/")
    return urlsplit(link).path + "?" + urlsplit(link).query


def test_save_and_return_restores_every_answer_on_another_device(app, browser):
    questionnaire = library()[PATHWAYS]
    first, second = questionnaire.pages[0], questionnaire.pages[1]
    browser.post_redirect(question_url(PATHWAYS, first.key), {first.key: "yes"})
    link = save_for_later(browser, PATHWAYS, second.key, {second.key: "no"})

    elsewhere = Browser(app.test_client())
    assert elsewhere.get_redirect(link) == f"/surveys/{slug(PATHWAYS)}?resumed=1"
    start = elsewhere.get(f"/surveys/{slug(PATHWAYS)}?resumed=1")
    assert "Welcome back" in start.text
    assert elsewhere.get(question_url(PATHWAYS, first.key)).value_of(first.key) == ["yes"]
    assert elsewhere.get(question_url(PATHWAYS, second.key)).value_of(second.key) == ["no"]
    # The second page was saved but not finished: it is where the person carries on.
    assert start.link("Continue where you left off") == question_url(PATHWAYS, second.key)


def test_the_return_link_keeps_the_draft_for_the_configured_days(browser, app):
    first = library()[PATHWAYS].pages[0]
    save_for_later(browser, PATHWAYS, first.key, {first.key: "yes"})
    [draft] = db.session.scalars(select(Draft)).all()
    days = app.config["RETURN_LINK_DAYS"]
    assert timedelta(days=days - 1) < draft.expires_at - utcnow() <= timedelta(days=days)
    # Answering another page later does not shorten it.
    browser.post_redirect(question_url(PATHWAYS, first.key), {first.key: "yes"})
    db.session.rollback()
    assert db.session.scalar(select(Draft.expires_at)) >= draft.expires_at


def test_an_expired_or_used_return_link_does_not_work(app, browser):
    first = library()[PATHWAYS].pages[0]
    link = save_for_later(browser, PATHWAYS, first.key, {first.key: "yes"})
    db.session.execute(update(Draft).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    page = Browser(app.test_client()).get(link, status=404)
    assert page.h1 == "This link does not work"

    wrong = Browser(app.test_client()).get(f"/surveys/{slug(PATHWAYS)}/resume?code=not-a-real-code", status=404)
    assert wrong.h1 == "This link does not work"


def test_a_return_link_stops_working_once_the_answers_are_sent(app, browser):
    questionnaire = library()[PATHWAYS]
    link = save_for_later(browser, PATHWAYS, questionnaire.pages[0].key, {})
    complete(browser, questionnaire, slug(PATHWAYS))
    submit(browser, PATHWAYS)
    Browser(app.test_client()).get(link, status=404)


def test_only_the_hash_of_the_return_link_is_stored(browser):
    first = library()[PATHWAYS].pages[0]
    link = save_for_later(browser, PATHWAYS, first.key, {first.key: "yes"})
    code = link.split("code=")[1]
    draft = db.session.scalars(select(Draft)).one()
    assert draft.return_token_hash and code not in draft.return_token_hash


def test_without_a_mail_server_the_email_option_is_not_offered(browser):
    first = library()[PATHWAYS].pages[0]
    save_for_later(browser, PATHWAYS, first.key, {})
    page = browser.get(f"/surveys/{slug(PATHWAYS)}/saved")
    assert page.soup.find("input", attrs={"name": "email"}) is None


@pytest.fixture
def mail_app(app, smtp_server):
    app.config.update(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port)
    yield app
    app.config.update(MAIL_SERVER="", MAIL_PORT=25)


def test_the_return_link_is_emailed_and_the_address_is_not_kept(mail_app, survey_db, smtp_server):
    browser = Browser(mail_app.test_client())
    first = library()[PATHWAYS].pages[0]
    link = save_for_later(browser, PATHWAYS, first.key, {first.key: "yes"})
    saved_url = f"/surveys/{slug(PATHWAYS)}/saved"

    refused = browser.post_page(saved_url, {"email": "not an address"})
    assert refused.error_summary == [("Enter an email address in the correct format, like name@example.com", "#email")]
    assert refused.value_of("email") == ["not an address"]

    page = browser.post_page(saved_url, {"email": "parent@example.com"})
    assert "We have sent the link to parent@example.com" in page.text
    [message] = smtp_server.messages
    assert message["To"] == "parent@example.com"
    assert link.split("code=")[1] in message.get_content()

    dumps = []
    for table in db.metadata.sorted_tables:
        dumps.extend(str(row) for row in db.session.execute(text(f"SELECT * FROM {table.name}")))  # noqa: S608
    assert not any("parent@example.com" in row for row in dumps)


def test_when_the_mail_server_fails_the_link_is_still_shown(app, survey_db):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=9, MAIL_TIMEOUT_SECONDS=2)
    try:
        browser = Browser(app.test_client())
        save_for_later(browser, PATHWAYS, library()[PATHWAYS].pages[0].key, {})
        page = browser.post_page(f"/surveys/{slug(PATHWAYS)}/saved", {"email": "parent@example.com"})
        assert "We could not send the email just now" in page.text
        assert page.soup.select_one("#return-link")
    finally:
        app.config.update(MAIL_SERVER="", MAIL_PORT=25, MAIL_TIMEOUT_SECONDS=10)


def test_answers_in_progress_are_stored_against_the_run_not_the_address(browser):
    first = library()[PATHWAYS].pages[0]
    save_for_later(browser, PATHWAYS, first.key, {first.key: "yes"})
    run = run_by_slug(slug(PATHWAYS))
    assert questionnaire_for(run).key == PATHWAYS
    assert db.session.scalar(select(db.func.count()).select_from(Answer)) == 0, "nothing is stored as an answer yet"


def test_the_translation_check_lists_what_is_missing_with_file_and_line(app, tmp_path):
    directory = tmp_path / "questionnaires"
    shutil.copytree(DIRECTORY, directory, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    path = directory / f"{PATHWAYS}.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    number = next(n for n, line in enumerate(lines, 1) if line.lstrip().startswith("hint::cy:"))
    lines[number - 1] = ""
    path.write_text("".join(lines), encoding="utf-8")
    english_line = number - 1  # the English hint is on the line before its Welsh
    app.config["QUESTIONNAIRE_DIR"] = str(directory)
    try:
        runner = app.test_cli_runner()
        result = runner.invoke(args=["questionnaires", "check", "--translations"])
        assert result.exit_code == 1, result.output
        [line] = [line for line in result.stdout.splitlines() if "translation" in line]
        assert line.startswith(f"{path}:{english_line}: ") or f"{PATHWAYS}.yaml:{english_line}: " in line
        assert line.endswith("no Welsh (cy) translation; English is shown")
        plain = runner.invoke(args=["questionnaires", "check"])
        assert plain.exit_code == 0, "a missing translation falls back to English, so it is not an error"
    finally:
        app.config["QUESTIONNAIRE_DIR"] = str(DIRECTORY)


def test_the_app_falls_back_to_english_for_a_missing_translation(tmp_path):
    directory = tmp_path / "questionnaires"
    shutil.copytree(DIRECTORY, directory, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    path = directory / f"{PATHWAYS}.yaml"
    source = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"(?m)^\s*title::cy:.*\n", "", source, count=1), encoding="utf-8")
    app = create_app(
        {
            "APP_ENV": "testing",
            "SECRET_KEY": "x",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
            "QUESTIONNAIRE_DIR": str(directory),
        }
    )
    questionnaire = app.extensions["questionnaire_library"].get(PATHWAYS)
    assert questionnaire.localised("cy").title == questionnaire.title


def test_the_welsh_interface_catalogue_is_complete_and_keeps_every_placeholder():
    from babel.messages.pofile import read_po

    catalogue = Path(__file__).resolve().parent.parent / "survey_app/translations/cy/LC_MESSAGES/messages.po"
    with catalogue.open("rb") as po:
        messages = [message for message in read_po(po, locale="cy") if message.id]
    placeholders = re.compile(r"%\(\w+\)[sd]|%\{count\}")
    for message in messages:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings) and not message.fuzzy, f"untranslated: {ids[0]!r}"
        wanted = set(placeholders.findall(ids[-1])) - {"%(num)s", "%(num)d"}
        for string in strings:
            assert wanted <= set(placeholders.findall(string)), f"{ids[0]!r} loses a placeholder: {string!r}"


def test_check_answers_can_be_saved_for_later_too(app, browser):
    questionnaire = library()[PATHWAYS]
    check = complete(browser, questionnaire, slug(PATHWAYS))
    page = browser.get(check)
    forms = page.soup.find_all("form")
    saving = next(form for form in forms if form.get("action", "").endswith("/save-for-later"))
    response = browser.client.post(saving["action"], data={"csrf_token": saving.find("input")["value"]})
    assert path_of(response.headers["Location"]) == f"/surveys/{slug(PATHWAYS)}/saved"
    saved = browser.get(f"/surveys/{slug(PATHWAYS)}/saved")
    link = urlsplit(saved.soup.select_one("#return-link")["href"])
    elsewhere = Browser(app.test_client())
    elsewhere.get_redirect(f"{link.path}?{link.query}")
    assert elsewhere.get(check).h1 == page.h1, "the other device carries on at check answers"
