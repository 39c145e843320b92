"""Every route declares who may open it, and the declaration is enforced.

The first test reads the app's URL map: a route added without ``@public`` or
``@requires(role)`` fails it. The others request every officer route as
each role and check the answer: sign in first, refused (403), or let through.
"""

from __future__ import annotations

import re

import pytest
from werkzeug.routing import Rule

from survey_app.access import PUBLIC, access_rule
from survey_app.models import Role

from .conftest import sign_in

# The respondent journey, the footer's pages, signing in and out, and the health check.
EXPECTED_PUBLIC_PREFIXES = ("respondent.", "site.", "auth.sign_in", "auth.sign_out", "static")
ROLES = [None, *Role]  # None: not signed in


def _rules(app) -> list[Rule]:
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]


def test_every_route_declares_who_may_open_it(app):
    undeclared = [rule.rule for rule in _rules(app) if access_rule(app.view_functions[rule.endpoint]) is None]
    assert not undeclared, f"routes with no access rule: {undeclared}"


def test_only_the_respondent_journey_and_site_pages_are_public(app):
    public = [rule.endpoint for rule in _rules(app) if access_rule(app.view_functions[rule.endpoint]) == PUBLIC]
    assert public, "the respondent journey must be public"
    unexpected = [endpoint for endpoint in public if not endpoint.startswith(EXPECTED_PUBLIC_PREFIXES)]
    assert not unexpected, f"public routes outside the respondent journey and site pages: {unexpected}"
    officer = [rule.endpoint for rule in _rules(app) if rule.rule.startswith("/officer")]
    assert officer and all(access_rule(app.view_functions[endpoint]) != PUBLIC for endpoint in officer)


def _url(rule: Rule) -> str:
    """The rule's address with made-up values: the access check comes before any lookup."""
    values = {"int": "999999", "path": "NO-SUCH-REF", "default": "no-such-thing"}

    def fill(match: re.Match) -> str:
        converter = match.group(1) or "default"
        return values.get(converter, values["default"])

    return re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?\w+>", fill, rule.rule)


def _officer_routes(app) -> list[tuple[str, str, Role]]:
    routes = []
    for rule in _rules(app):
        needed = access_rule(app.view_functions[rule.endpoint])
        if needed == PUBLIC:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((method, _url(rule), Role(needed)))
    return routes


@pytest.mark.parametrize("role", ROLES, ids=lambda role: role.value if role else "signed-out")
def test_each_officer_route_enforces_its_role(app, users, role):
    routes = _officer_routes(app)
    assert len(routes) > 10
    client = app.test_client()
    if role is not None:
        assert sign_in(client, f"{role.value}@example.gov.uk").status_code == 303
    # The role check must hold on its own, so the CSRF check (which would
    # refuse these posts first) is left out here; test_csrf covers it.
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        for method, url, needed in routes:
            response = client.open(url, method=method)
            where = f"{method} {url} as {role.value if role else 'signed out'} (needs {needed.value})"
            if role is None:
                assert response.status_code == 302, where
                assert "/sign-in" in response.headers["Location"], where
            elif not role.allows(needed):
                assert response.status_code == 403, where
            else:
                assert response.status_code not in (401, 403, 500), f"{where}: {response.status_code}"
                if response.status_code in (301, 302, 303, 307, 308):
                    assert "/sign-in" not in response.headers["Location"], where
    finally:
        app.config["WTF_CSRF_ENABLED"] = True
