"""Every page: security headers, the council's own branding, footer pages, health."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from questionnaires.loader import questionnaire_files
from survey_app import create_app
from survey_app.config import ROOT
from survey_app.services import questionnaires as questionnaire_service

from .pages import check_page

PAGES = [
    "/",
    "/surveys/ehc-plan-feedback",
    "/surveys/ehc-plan-feedback/questions/plan_received",
    "/accessibility",
    "/privacy",
    "/cookies",
    "/no-such-page",
]


@pytest.mark.parametrize("url", [*PAGES, "/healthz", "/static/build/app.css"])
def test_every_response_carries_the_security_headers(browser, url):
    response = browser.client.get(url)
    headers = response.headers
    policy = headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("url", PAGES)
def test_the_only_inline_script_carries_the_pages_nonce(browser, url):
    response = browser.client.get(url)
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    page = check_page(response)
    inline = [script for script in page.soup.find_all("script") if not script.get("src")]
    assert inline and all(script.get("nonce") == nonce for script in inline)
    assert response.headers["Cache-Control"] == "no-store"


def test_a_new_nonce_for_every_response(browser):
    first = browser.client.get("/").headers["Content-Security-Policy"]
    second = browser.client.get("/").headers["Content-Security-Policy"]
    assert first != second


@pytest.mark.parametrize("url", PAGES)
def test_pages_carry_the_councils_name_and_no_government_branding(browser, url):
    response = browser.client.get(url)
    page = check_page(response)
    assert page.soup.select_one(".govuk-generic-header").get_text(strip=True) == "Example Council"
    html = response.get_data(as_text=True)
    assert "GOV.UK" not in html
    assert "govuk-logo" not in html and "crown" not in html.lower()
    assert "nationalarchives" not in html and "Open Government Licence" not in html


def test_the_stylesheet_uses_arial_and_no_font_files(browser):
    css = browser.client.get("/static/build/app.css").get_data(as_text=True)
    assert "arial" in css
    assert "GDS Transport" not in css
    assert "@font-face" not in css
    assert browser.client.get("/assets/fonts/light-94a07e06a1-v2.woff2").status_code == 404


def test_the_council_is_configured(app, tmp_path):
    configured = create_app(
        {
            "APP_ENV": "testing",
            "SECRET_KEY": "k",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'other.db'}",
            "COUNCIL_NAME": "Northshire Council",
            "DATA_CONTROLLER": "Northshire Council and Northshire ICB",
            "DATA_PROTECTION_OFFICER_EMAIL": "dpo@northshire.example",
            "RESPONSE_RETENTION_MONTHS": 18,
        }
    )
    client = configured.test_client()
    page = check_page(client.get("/privacy"))
    assert page.title == "Privacy notice – Have your say about SEND – Northshire Council"
    assert "Northshire Council and Northshire ICB is the data controller" in page.text
    assert "dpo@northshire.example" in page.text
    assert "We keep individual answers for 18 months" in page.text
    assert "Article 6(1)(e)" in page.text


def test_the_privacy_notice_covers_what_people_need_to_know(browser):
    page = browser.get("/privacy")
    for words in [
        "is the data controller",
        "Why we can use your information",
        "Who sees your answers",
        "How long we keep your answers",
        "ask us to delete them",
        "Information Commissioner",
    ]:
        assert words in page.text


def test_the_cookies_page_lists_the_one_essential_cookie(browser):
    page = browser.get("/cookies")
    rows = page.soup.select("tbody tr")
    assert len(rows) == 1 and rows[0].find("td").get_text(strip=True) == "session"
    assert "we do not need to ask for your permission" in page.text
    assert not page.soup.select(".govuk-cookie-banner")


def test_the_accessibility_statement(browser):
    page = browser.get("/accessibility")
    assert page.h1 == "Accessibility statement for Have your say about SEND"
    assert "WCAG" in page.text and "Enforcement procedure" in page.text


def test_the_health_check_reports_the_app_and_database(browser):
    response = browser.client.get("/healthz")
    assert response.status_code == 200
    library_size = len(questionnaire_service.library().questionnaires)
    assert library_size == len(questionnaire_files()), "every shipped questionnaire file is in the library"
    assert response.json == {
        "status": "ok",
        "app": "ok",
        "database": "ok",
        "questionnaires": {"valid": library_size, "problems": 0},
    }


def test_the_health_check_says_when_the_database_is_unreachable(tmp_path):
    broken = create_app(
        {
            "APP_ENV": "testing",
            "SECRET_KEY": "k",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'missing-folder' / 'survey.db'}",
        }
    )
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unavailable" and response.json["status"] == "unavailable"


def test_a_server_error_shows_a_plain_page_without_details(tmp_path):
    app = create_app({"APP_ENV": "testing", "SECRET_KEY": "k", "DATABASE_URL": f"sqlite:///{tmp_path / 'x' / 'y.db'}"})
    response = app.test_client().get("/")  # the database cannot be opened
    assert response.status_code == 500
    page = check_page(response)
    assert page.h1 == "Sorry, there is a problem with the service"
    assert "Traceback" not in response.get_data(as_text=True) and "sqlite" not in page.text.lower()


def test_a_method_that_is_not_allowed(browser):
    response = browser.client.post("/privacy")
    assert response.status_code == 405
    assert check_page(response).h1 == "This page cannot be used that way"


def test_production_refuses_to_start_without_a_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="Set the SECRET_KEY"):
        create_app({"APP_ENV": "production"})


def test_production_marks_the_cookie_secure_and_sends_hsts(tmp_path):
    app = create_app({"APP_ENV": "production", "SECRET_KEY": "k", "DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    response = app.test_client().get("/accessibility")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_no_font_or_crest_is_served():
    static = Path(ROOT / "survey_app" / "static")
    served = {path.suffix for path in static.rglob("*") if path.is_file()}
    assert not served & {".woff", ".woff2", ".ttf"}
    assert not list(static.rglob("*crest*")) and not list(static.rglob("*crown*"))


@pytest.mark.parametrize("refused", ["csrf", "too_large"])
def test_a_refused_request_still_gets_a_working_nonce(browser, refused):
    url = "/surveys/ehc-plan-feedback/questions/plan_received"
    data = {"csrf_token": "stale"} if refused == "csrf" else {"x": "y" * (2 * 1024 * 1024)}
    response = browser.client.post(url, data=data)
    assert response.status_code == (400 if refused == "csrf" else 413)
    nonce = re.search(r"'nonce-([^']*)'", response.headers["Content-Security-Policy"]).group(1)
    assert nonce
    inline = [s for s in check_page(response).soup.find_all("script") if not s.get("src")]
    assert all(script.get("nonce") == nonce for script in inline)
