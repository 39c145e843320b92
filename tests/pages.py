"""Reading pages as a person would, and checking each one as it loads.

Every page fetched through ``Browser`` is checked: one h1, a title naming the
service, unique ids, the footer links, and, where there are errors, an error
summary whose links each point at an element on the page and a title that
starts "Error: ".
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlsplit

from bs4 import BeautifulSoup

from questionnaires import Questionnaire
from questionnaires.examples import example_form_values

FOOTER_LINKS = {"/accessibility", "/privacy", "/cookies"}
# How a page title says there are errors, in each interface language.
ERROR_PREFIX = {"en": "Error: ", "cy": "Gwall: "}


@dataclass
class Page:
    response: object
    soup: BeautifulSoup

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def title(self) -> str:
        return self.soup.title.get_text(" ", strip=True)

    @property
    def h1(self) -> str:
        return self.soup.find("h1").get_text(" ", strip=True)

    @property
    def error_summary(self) -> list[tuple[str, str]]:
        """(text, href) of each error summary link."""
        return [
            (link.get_text(" ", strip=True), link["href"]) for link in self.soup.select(".govuk-error-summary__list a")
        ]

    @property
    def field_errors(self) -> list[str]:
        return [
            element.get_text(" ", strip=True).removeprefix("Error:").strip()
            for element in self.soup.select(".govuk-error-message")
        ]

    @property
    def text(self) -> str:
        return self.soup.get_text(" ", strip=True)

    def form(self, index: int | None = None) -> dict[str, list[str]]:
        """What the browser would send from a form as it stands (hidden, text, checked).

        By default the page's own form: the last one that posts back to the page.
        """
        forms = self.soup.find_all("form")
        form = forms[index] if index is not None else [f for f in forms if not f.get("action")][-1]
        data: dict[str, list[str]] = {}
        for element in form.find_all(["input", "textarea"]):
            name = element.get("name")
            if not name:
                continue
            if element.name == "textarea":
                data.setdefault(name, []).append(element.get_text())
            elif element.get("type") in ("radio", "checkbox"):
                if element.has_attr("checked"):
                    data.setdefault(name, []).append(element.get("value", "on"))
            else:
                data.setdefault(name, []).append(element.get("value", ""))
        return data

    def value_of(self, name: str) -> list[str]:
        return self.form().get(name, [])

    def link(self, text: str) -> str:
        for link in self.soup.find_all("a"):
            if link.get_text(" ", strip=True).startswith(text):
                return link["href"]
        raise AssertionError(f"No link starting {text!r} on {self.title!r}")


def check_page(response) -> Page:
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    page = Page(response, soup)
    headings = soup.find_all("h1")
    assert len(headings) == 1, f"expected one h1, found {len(headings)}"
    assert soup.title and page.title, "the page has no title"
    assert "–" in page.title, f"the title should name the service: {page.title!r}"
    ids = Counter(element["id"] for element in soup.find_all(id=True))
    duplicated = [id_ for id_, count in ids.items() if count > 1]
    assert not duplicated, f"ids used more than once: {duplicated}"
    assert soup.find("html").get("lang"), "the page has no language"
    footer_links = {a["href"] for a in soup.select("footer a")}
    assert FOOTER_LINKS <= footer_links, f"footer links missing: {FOOTER_LINKS - footer_links}"

    summary = soup.select_one(".govuk-error-summary")
    prefix = ERROR_PREFIX.get(soup.find("html")["lang"], ERROR_PREFIX["en"])
    if summary is not None:
        assert page.title.startswith(prefix), f"a page with errors must say so in its title: {page.title!r}"
        links = summary.select(".govuk-error-summary__list a")
        assert links, "the error summary has no links"
        for link in links:
            target = link["href"].removeprefix("#")
            assert soup.find(id=target), f"the error summary links to #{target}, which is not on the page"
    else:
        assert not page.title.startswith(prefix)
    return page


class Browser:
    """The Flask test client, checking every HTML page it receives."""

    def __init__(self, client):
        self.client = client

    def get(self, url: str, status: int = 200) -> Page:
        response = self.client.get(url)
        assert response.status_code == status, f"GET {url}: {response.status_code}, expected {status}"
        return check_page(response)

    def get_redirect(self, url: str) -> str:
        response = self.client.get(url)
        assert response.status_code in (302, 303), f"GET {url}: {response.status_code}, expected a redirect"
        return path_of(response.headers["Location"])

    def post(self, url: str, data: dict, status: int | None = None):
        """Post as the browser would, starting from the form on the page at ``url``."""
        page = self.get(url)
        form = page.form()
        form.update({key: value if isinstance(value, list) else [value] for key, value in data.items()})
        response = self.client.post(url, data=form)
        if status is not None:
            assert response.status_code == status, f"POST {url}: {response.status_code}, expected {status}"
        return response

    def press(self, url: str, action: str, data: dict | None = None, status: int | None = None):
        """Submit the form on the page at ``url`` that posts to ``action`` (a button such as "Disable")."""
        page = self.get(url)
        form = page.soup.select_one(f"form[action='{action}']")
        assert form is not None, f"no form posting to {action} on {url}"
        values: dict[str, list[str]] = {}
        for element in form.find_all(["input", "textarea"]):
            if element.get("name") and element.get("type") not in ("radio", "checkbox", "submit"):
                values.setdefault(element["name"], []).append(element.get("value", element.get_text()))
        values.update({key: value if isinstance(value, list) else [value] for key, value in (data or {}).items()})
        response = self.client.post(action, data=values)
        if status is not None:
            assert response.status_code == status, f"POST {action}: {response.status_code}, expected {status}"
        return response

    def post_page(self, url: str, data: dict) -> Page:
        """Post expecting the page again (with errors)."""
        return check_page(self.post(url, data, status=200))

    def post_redirect(self, url: str, data: dict) -> str:
        response = self.post(url, data)
        assert response.status_code in (302, 303), (
            f"POST {url}: {response.status_code}, expected a redirect; "
            f"errors: {check_page(response).error_summary if response.status_code == 200 else ''}"
        )
        return path_of(response.headers["Location"])


def path_of(location: str) -> str:
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def complete(
    browser: Browser,
    questionnaire: Questionnaire,
    slug: str,
    choose=example_form_values,
    *,
    start: str | None = None,
    until: str | None = None,
) -> str:
    """Answer every page shown, from the first (or ``start``), and return the check-answers path.

    With ``until``, stop on arriving at that page, without answering it, and
    return its path; the journey must reach it.
    """
    url = f"/surveys/{slug}/questions/{start or questionnaire.pages[0].key}"
    for _ in range(len(questionnaire.pages) + 1):
        if "/questions/" not in url:
            assert until is None, f"the journey reached {url} without showing the page {until!r}"
            return url
        page = browser.get(url)
        key = url.split("/questions/")[1].split("?")[0]
        if key == until:
            return url
        present = page.form()
        data = {}
        for question in questionnaire.page(key).questions:
            if question.key in present or page.soup.find(attrs={"name": question.key}):
                data[question.key] = choose(question)
        url = browser.post_redirect(url, data)
    raise AssertionError("the journey did not reach check answers")
