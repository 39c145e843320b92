"""Every page of the officer area, reached by following its links as each role.

Each page is checked as it loads (one h1, a title, unique ids, a valid error
summary), every form that posts carries a CSRF token, and a post without
the token is refused. A viewer's crawl never reaches a page of individual
responses or free text.
"""

from __future__ import annotations

from urllib.parse import urldefrag, urlsplit

import pytest

from survey_app.services import demo

from .pages import check_page

# Each comment has a page of its own (and a redaction page): about 405 pages in all for an admin.
PAGE_LIMIT = 600
# Pages of individual responses, free text or rows: officers and admins only.
NOT_FOR_VIEWERS = ("/responses", "/comments", "/plans", "/export", "/records", "/users", "/audit-log")


@pytest.fixture
def responses(survey_db):
    demo.add_demo_responses(demo.demo_run_slugs(), per_run=6)


def crawl(client, start: str = "/officer/"):
    """Visit every officer page linked from ``start``; returns {path: page} and the post forms seen."""
    seen: dict[str, object] = {}
    forms: dict[str, object] = {}
    queue = [start]
    while queue and len(seen) < PAGE_LIMIT:
        url = queue.pop(0)
        if url in seen:
            continue
        response = client.get(url)
        assert response.status_code == 200, f"GET {url}: {response.status_code}"
        if not response.mimetype == "text/html":
            seen[url] = None
            continue
        page = check_page(response)
        seen[url] = page
        for form in page.soup.select("form"):
            if form.get("method", "get").lower() != "post":
                continue
            assert form.select_one("input[name=csrf_token]"), f"a form on {url} posts without a CSRF token"
            forms.setdefault(form.get("action") or urlsplit(url).path, form)
        for link in page.soup.select("a[href]"):
            href = urldefrag(link["href"])[0]
            if href.startswith("/officer") and href not in seen:
                queue.append(href)
    return seen, forms


@pytest.mark.parametrize("role", ["admin", "officer", "viewer"])
def test_every_officer_page_reached_by_links_is_well_formed(signed_in, responses, role):
    browser = signed_in(role)
    seen, forms = crawl(browser.client)
    assert len(seen) > 3
    if role == "viewer":
        # By whole parts of the path: /officer/measures/plans_issued_within_20_weeks is not /officer/plans.
        reached = [
            url for url in seen if any(part.strip("/") in urlsplit(url).path.split("/") for part in NOT_FOR_VIEWERS)
        ]
        assert not reached, f"a viewer reached pages of individual responses: {reached}"
    else:
        assert any("/responses" in url for url in seen), "the responses pages are linked"
        assert forms, "an officer has forms to post"


def test_every_form_refuses_a_post_without_its_csrf_token(signed_in, responses):
    browser = signed_in("admin")
    _, forms = crawl(browser.client)
    assert len(forms) > 3
    for action in forms:
        response = browser.client.post(action, data={})
        assert response.status_code == 400, f"POST {action} without a CSRF token: {response.status_code}"
        assert "Traceback" not in response.get_data(as_text=True)
