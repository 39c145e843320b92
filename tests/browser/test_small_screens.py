"""Every page reflows to 320 CSS pixels wide (WCAG 1.4.10) without scrolling sideways."""

from __future__ import annotations

import pytest

from .scenarios import scenario_params

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("scenario", scenario_params())
def test_no_horizontal_scrolling_at_320_pixels(new_page, make_run, scenario):
    # Only the layout is in question here; test_content_security_policy checks the policy on the same pages.
    page = new_page(viewport={"width": 320, "height": 640}, bypass_csp=True)
    scenario(page, make_run)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"{page.url} is {width} CSS pixels wide in a 320 pixel viewport"
