"""Every page runs its scripts under the Content Security Policy.

The policy allows scripts from the service itself and the one inline script
that carries the request's nonce (GOV.UK Frontend's, which marks the body as
supported). A violation is a console error, which fails the test; the body
class and an initialised skip link show the scripts really ran.
"""

from __future__ import annotations

import pytest

from .scenarios import scenario_params

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("scenario", scenario_params())
def test_scripts_run_under_the_policy(page, make_run, scenario):
    scenario(page, make_run)
    # The page has loaded, so its scripts (inline, then the deferred module) have run.
    assert page.locator("body.govuk-frontend-supported").count(), "the inline script did not run"
    assert page.locator(".govuk-skip-link[data-govuk-skip-link-init]").count(), "GOV.UK Frontend did not start"
