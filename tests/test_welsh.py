"""The Welsh interface has no English left in it: the confirmation page's
"What happens next", the areas of the locality question, the service's and
council's names in every title, header and footer, the texts the footer
pages take from the settings, and a home page that puts the surveys without
Welsh under a heading of their own."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from questionnaires import load_directory
from questionnaires.examples import example_form_values
from questionnaires.schema import DONT_KNOW
from questionnaires.shared import locality_names, locality_options
from survey_app import create_app
from survey_app.config import DEFAULTS, WELSH_DEFAULTS, build_config, text_in
from survey_app.extensions import db
from survey_app.models import Answer, Response

from .pages import Browser, check_page, complete, path_of

PATHWAYS = "send_pathways_information"
ENGLISH_ONLY = "ehc_plan_feedback"
WELSH_SERVICE = "Dweud eich dweud am AAA"
WELSH_COUNCIL = "Cyngor Enghreifftiol"
WELSH_ENDING = f" – {WELSH_SERVICE} – {WELSH_COUNCIL}"


def library():
    return load_directory(localities=DEFAULTS["LOCALITIES"].split(",")).questionnaires


def slug(key: str) -> str:
    return key.replace("_", "-")


def in_welsh(browser: Browser, back_to: str = "/") -> None:
    assert browser.get_redirect(f"/change-language?to=cy&next={back_to}") == back_to


def send_in_welsh(browser: Browser, key: str = PATHWAYS, choose=None) -> Browser:
    in_welsh(browser, f"/surveys/{slug(key)}")
    questionnaire = library()[key].localised("cy")
    check = complete(browser, questionnaire, slug(key), **({"choose": choose} if choose else {}))
    location = browser.post_redirect(check, {})
    assert location == f"/surveys/{slug(key)}/confirmation"
    return browser


def paragraphs_of(page) -> list[str]:
    return [p.get_text(" ", strip=True) for p in page.soup.select("main p")]


# --- the confirmation page ------------------------------------------------------


def test_what_happens_next_is_in_welsh_on_the_welsh_confirmation_page(browser):
    send_in_welsh(browser)
    page = browser.get(f"/surveys/{slug(PATHWAYS)}/confirmation")
    assert page.soup.find("html")["lang"] == "cy"
    headings = [h.get_text(strip=True) for h in page.soup.select("main h2")]
    assert "Beth sy'n digwydd nesaf" in headings and "What happens next" not in headings
    assert WELSH_DEFAULTS["RESULTS_TEXT"] in paragraphs_of(page)
    assert DEFAULTS["RESULTS_TEXT"] not in page.text
    assert page.title == "Atebion wedi'u hanfon" + WELSH_ENDING


def test_a_councils_own_results_text_is_shown_in_welsh_when_it_has_a_welsh_version(app, browser, monkeypatch):
    monkeypatch.setitem(app.config, "RESULTS_TEXT", "Our board reads a summary every quarter.")
    monkeypatch.setitem(app.config, "RESULTS_TEXT_CY", "Mae ein bwrdd yn darllen crynodeb bob chwarter.")
    send_in_welsh(browser)
    page = browser.get(f"/surveys/{slug(PATHWAYS)}/confirmation")
    assert "Mae ein bwrdd yn darllen crynodeb bob chwarter." in paragraphs_of(page)
    assert "Our board" not in page.text


def test_a_councils_own_results_text_without_welsh_is_marked_as_english(app, browser, monkeypatch):
    monkeypatch.setitem(app.config, "RESULTS_TEXT", "Our board reads a summary every quarter.")
    monkeypatch.setitem(app.config, "RESULTS_TEXT_CY", "")
    send_in_welsh(browser)
    page = browser.get(f"/surveys/{slug(PATHWAYS)}/confirmation")
    english = page.soup.select_one("main [lang=en]")
    assert english is not None and english.get_text(" ", strip=True) == "Our board reads a summary every quarter."


# --- titles, header and footer --------------------------------------------------


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/", 200),
        (f"/surveys/{slug(PATHWAYS)}", 200),
        ("/privacy", 200),
        ("/accessibility", 200),
        ("/cookies", 200),
        ("/no-such-page", 404),
    ],
)
def test_welsh_page_titles_header_and_footer_use_the_welsh_names(browser, url, status):
    in_welsh(browser)
    page = browser.get(url, status=status)
    assert page.soup.find("html")["lang"] == "cy"
    assert page.title.endswith(WELSH_ENDING), page.title
    assert "Have your say about SEND" not in page.title and "Example Council" not in page.title
    assert page.soup.select_one(".govuk-generic-header").get_text(strip=True) == WELSH_COUNCIL
    assert page.soup.select_one(".govuk-service-navigation__service-name").get_text(strip=True) == WELSH_SERVICE
    footer = page.soup.select_one("footer").get_text(" ", strip=True)
    assert f"{WELSH_COUNCIL} sy'n rhedeg {WELSH_SERVICE}." in footer


def test_a_welsh_question_page_title_ends_with_the_welsh_names(browser):
    in_welsh(browser, f"/surveys/{slug(PATHWAYS)}")
    first = library()[PATHWAYS].localised("cy").pages[0]
    page = browser.get(f"/surveys/{slug(PATHWAYS)}/questions/{first.key}")
    assert page.title == f"{first.questions[0].label}{WELSH_ENDING}"


def test_english_pages_keep_the_english_names(browser):
    page = browser.get("/")
    assert page.title == "Surveys open now – Have your say about SEND – Example Council"
    assert page.soup.select_one(".govuk-generic-header").get_text(strip=True) == "Example Council"


# --- the footer pages' configured texts ------------------------------------------


def welsh_client(settings: dict, tmp_path: Path):
    configured = create_app(
        {"APP_ENV": "testing", "SECRET_KEY": "k", "DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}", **settings}
    )
    client = configured.test_client()
    client.get("/change-language?to=cy&next=/privacy")
    return client


def test_the_welsh_privacy_notice_and_accessibility_statement_have_no_english_left(tmp_path):
    client = welsh_client({}, tmp_path)
    privacy = check_page(client.get("/privacy"))
    assert WELSH_DEFAULTS["LAWFUL_BASIS"] in paragraphs_of(privacy)
    assert "We collect your answers" not in privacy.text
    assert f"{WELSH_COUNCIL} yw'r rheolydd data" in privacy.text
    accessibility = check_page(client.get("/accessibility"))
    assert accessibility.h1 == f"Datganiad hygyrchedd ar gyfer {WELSH_SERVICE}"
    assert "23 Tachwedd 2026" in accessibility.text and "November" not in accessibility.text


def test_a_councils_own_names_and_texts_use_their_welsh_versions(tmp_path):
    client = welsh_client(
        {
            "COUNCIL_NAME": "Northshire Council",
            "COUNCIL_NAME_CY": "Cyngor Swydd y Gogledd",
            "SERVICE_NAME": "Your say on SEND",
            "SERVICE_NAME_CY": "Eich barn am AAA",
            "DATA_CONTROLLER": "Northshire Council and Northshire ICB",
            "DATA_CONTROLLER_CY": "Cyngor Swydd y Gogledd a BGI Swydd y Gogledd",
            "LAWFUL_BASIS": "Our own lawful basis.",
            "LAWFUL_BASIS_CY": "Ein sail gyfreithlon ein hunain.",
        },
        tmp_path,
    )
    page = check_page(client.get("/privacy"))
    assert page.title == "Hysbysiad preifatrwydd – Eich barn am AAA – Cyngor Swydd y Gogledd"
    assert "Cyngor Swydd y Gogledd a BGI Swydd y Gogledd yw'r rheolydd data" in page.text
    assert "Ein sail gyfreithlon ein hunain." in paragraphs_of(page)
    assert "Northshire" not in page.text and "Our own" not in page.text


def test_a_councils_own_texts_without_welsh_are_shown_in_english_marked_as_english(tmp_path):
    client = welsh_client(
        {"COUNCIL_NAME": "Northshire Council", "SERVICE_NAME": "Your say on SEND", "LAWFUL_BASIS": "Our basis."},
        tmp_path,
    )
    page = check_page(client.get("/privacy"))
    # Not the Welsh of the shipped defaults, which would name another council.
    assert page.title == "Hysbysiad preifatrwydd – Your say on SEND – Northshire Council"
    assert WELSH_COUNCIL not in page.text and WELSH_SERVICE not in page.text
    marked = [element.get_text(" ", strip=True) for element in page.soup.select("main [lang=en]")]
    assert "Our basis." in marked and "Northshire Council" in marked


def test_welsh_versions_of_the_settings_default_only_with_the_shipped_english(tmp_path):
    shipped = build_config(tmp_path, {"APP_ENV": "testing", "SECRET_KEY": "k"})
    assert shipped["SERVICE_NAME_CY"] == WELSH_SERVICE and shipped["COUNCIL_NAME_CY"] == WELSH_COUNCIL
    assert shipped["DATA_CONTROLLER_CY"] == WELSH_COUNCIL
    assert text_in(shipped, "RESULTS_TEXT", "cy") == (WELSH_DEFAULTS["RESULTS_TEXT"], "cy")
    assert text_in(shipped, "RESULTS_TEXT", "en") == (DEFAULTS["RESULTS_TEXT"], "en")
    own = build_config(tmp_path, {"APP_ENV": "testing", "SECRET_KEY": "k", "RESULTS_TEXT": "Ours."})
    assert own["RESULTS_TEXT_CY"] == "" and text_in(own, "RESULTS_TEXT", "cy") == ("Ours.", "en")


def test_an_accessibility_statement_date_that_is_not_a_date_is_refused(tmp_path):
    with pytest.raises(RuntimeError, match="ACCESSIBILITY_STATEMENT_DATE"):
        build_config(tmp_path, {"APP_ENV": "testing", "SECRET_KEY": "k", "ACCESSIBILITY_STATEMENT_DATE": "last year"})


# --- the areas ---------------------------------------------------------------------


def locality_page(key: str = PATHWAYS) -> str:
    return next(page.key for page in library()[key].pages if any(q.key == "locality" for q in page.questions))


def test_the_areas_are_in_welsh_on_welsh_pages_with_their_codes_unchanged(browser):
    in_welsh(browser, f"/surveys/{slug(PATHWAYS)}")
    questionnaire = library()[PATHWAYS].localised("cy")
    url = complete(browser, questionnaire, slug(PATHWAYS), until=locality_page())
    page = browser.get(url)
    radios = page.soup.select("input[name=locality]")
    codes = [radio["value"] for radio in radios]
    labels = [page.soup.find("label", attrs={"for": radio["id"]}).get_text(strip=True) for radio in radios]
    assert codes == ["north", "south", "east", "west", DONT_KNOW]
    assert labels == ["Gogledd", "De", "Dwyrain", "Gorllewin", "Ddim yn siŵr"]


def test_an_area_chosen_in_welsh_is_stored_with_the_same_code_as_in_english(browser):
    def choose(question):
        return ["north"] if question.key == "locality" else example_form_values(question)

    send_in_welsh(browser, choose=choose)
    db.session.rollback()
    response = db.session.scalars(select(Response).order_by(Response.id.desc())).first()
    assert response.language == "cy"
    stored = db.session.scalars(select(Answer.value).filter_by(response_id=response.id, question_key="locality"))
    assert list(stored) == ["north"]


def test_an_area_keeps_its_code_whether_or_not_it_has_a_welsh_name():
    english_only = locality_options(["North", "Ynys Môn"])
    bilingual = locality_options(["North|Gogledd", "Ynys Môn"])
    assert [o.value for o in english_only] == [o.value for o in bilingual] == ["north", "ynys_m_n"]
    north, island = bilingual
    assert (north.label, north.localised("cy").label) == ("North", "Gogledd")
    # A place with one name in both languages is not an error: it is shown as it is.
    assert island.translations == {} and island.localised("cy").label == "Ynys Môn"
    assert locality_names(" North | Gogledd ") == ("North", "Gogledd")
    assert locality_names("Cardiff|Cardiff") == ("Cardiff", None)


def test_the_shipped_areas_have_welsh_names():
    options = locality_options(DEFAULTS["LOCALITIES"].split(","))
    assert [(o.value, o.label, o.localised("cy").label) for o in options] == [
        ("north", "North", "Gogledd"),
        ("south", "South", "De"),
        ("east", "East", "Dwyrain"),
        ("west", "West", "Gorllewin"),
    ]


@pytest.mark.parametrize(
    ("localities", "message"),
    [
        ("North|Gogledd, South|", "'South|' has an empty name"),
        ("North|Gogledd, |De", "'|De' has an empty name"),
        ("North|Gogledd|Nord, South", "'North|Gogledd|Nord' has more than one '|'"),
    ],
)
def test_an_area_written_wrongly_is_refused_at_start_up(tmp_path, localities, message):
    with pytest.raises(RuntimeError, match="LOCALITIES") as refused:
        create_app(
            {
                "APP_ENV": "testing",
                "SECRET_KEY": "k",
                "DATABASE_URL": f"sqlite:///{tmp_path / 'l.db'}",
                "LOCALITIES": localities,
            }
        )
    assert message in str(refused.value) and "North|Gogledd" in str(refused.value)


# --- the home page and the survey's own pages ----------------------------------------


def survey_lists(page) -> list[tuple[str, list]]:
    """Each heading of the list of surveys, with the links under it."""
    found = []
    for heading in page.soup.select("main h2"):
        listing = heading.find_next_sibling("ul")
        found.append((heading.get_text(strip=True), listing.select("h3 a") if listing else []))
    return found


def test_the_welsh_home_page_lists_surveys_without_welsh_under_their_own_heading(browser):
    in_welsh(browser)
    page = browser.get("/")
    lists = survey_lists(page)
    assert [heading for heading, _ in lists] == ["Arolygon sydd ar agor nawr", "Arolygon yn Saesneg yn unig"]
    welsh, english = lists[0][1], lists[1][1]
    questionnaires = library()
    bilingual = {key for key, q in questionnaires.items() if "cy" in q.languages}
    assert {path_of(a["href"]) for a in welsh} == {f"/surveys/{slug(key)}" for key in bilingual}
    assert {a.get_text(strip=True) for a in welsh} == {questionnaires[key].localised("cy").title for key in bilingual}
    assert all(not a.select("[lang]") for a in welsh)
    assert {path_of(a["href"]) for a in english} == {
        f"/surveys/{slug(key)}" for key in questionnaires if key not in bilingual
    }
    for link in english:
        title = link.select_one("[lang=en]")
        assert title is not None and title.get_text(strip=True) == link.get_text(strip=True)
    assert f"/surveys/{slug(ENGLISH_ONLY)}" in {path_of(a["href"]) for a in english}


def test_the_english_home_page_lists_every_survey_under_one_heading(browser):
    page = browser.get("/")
    lists = survey_lists(page)
    assert [heading for heading, _ in lists] == ["Surveys open now"]
    assert len(lists[0][1]) == len(library())
    assert "Surveys in English only" not in page.text


def test_a_closed_survey_is_named_in_welsh_or_marked_as_english(browser, make_run):
    make_run(PATHWAYS, "closed-pathways", -timedelta(days=10), -timedelta(days=1))
    make_run(ENGLISH_ONLY, "closed-plans", -timedelta(days=10), -timedelta(days=1))
    in_welsh(browser)
    welsh = browser.get("/surveys/closed-pathways", status=410)
    assert welsh.h1 == "Mae'r arolwg hwn wedi cau"
    assert f"Caeodd “{library()[PATHWAYS].localised('cy').title}” am" in welsh.text
    assert library()[PATHWAYS].title not in welsh.text
    english = browser.get("/surveys/closed-plans", status=410)
    marked = english.soup.select_one("main [lang=en]")
    assert marked is not None and marked.get_text(strip=True) == library()[ENGLISH_ONLY].title


def test_the_officer_area_stays_in_english_after_a_respondent_chose_welsh(browser):
    in_welsh(browser)
    page = browser.get("/sign-in")
    assert page.soup.find("html")["lang"] == "en"
    assert page.title == "Sign in – Have your say about SEND – Example Council"
