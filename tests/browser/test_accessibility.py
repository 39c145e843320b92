"""axe-core finds no WCAG 2.2 A or AA failure on any page a respondent can reach."""

from __future__ import annotations

import pytest

from .helpers import axe_violations
from .scenarios import scenario_params

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("scenario", scenario_params())
def test_no_axe_violations(new_page, make_run, scenario):
    page = new_page(bypass_csp=True)
    scenario(page, make_run)
    violations = axe_violations(page)
    assert not violations, f"axe found problems on {page.url}:\n{violations}"
