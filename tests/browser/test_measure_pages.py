"""The measures pages in Chromium: charts drawn under the Content-Security-Policy, axe-core, phones, no JavaScript.

Over the demo's data (its earlier waves, recorded figures and current responses, as ``flask demo`` makes them),
each page is loaded with the policy enforced: every chart must be drawn (plotly's SVG in place), with no console
error and no ``securitypolicyviolation`` event. axe-core (WCAG 2.2 A and AA) checks each page, at a desktop's
width and at 320 pixels, where nothing may scroll the page sideways. Screenshots of both widths are written to a
temporary folder, or to docs/screenshots for the README with ``UPDATE_SCREENSHOTS=1`` (made smaller with
pngquant where it is installed).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import expect

from survey_app.services import demo

from .helpers import axe_violations
from .test_officer import sign_in
from .test_small_screens import layout_problems

pytestmark = pytest.mark.browser

PHONE = {"width": 320, "height": 640}
DESKTOP = {"width": 1024, "height": 768}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# Each page, and the charts it draws.
PAGES = {
    "overview": ("/officer/measures", 0),
    "survey-measure": ("/officer/measures/pathways_information_good", 2),  # over time, by group
    "p-chart": ("/officer/measures/annual_reviews_in_timescale", 2),  # over time, SPC
    "xmr-chart": ("/officer/measures/open_ehc_plans", 2),
    "benchmarks": ("/officer/measures/plans_issued_within_20_weeks", 1),
}
# Records each Content-Security-Policy violation, before any of the page's own scripts run.
WATCH_POLICY = """
window.__policyViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const where = `${event.sourceFile}:${event.lineNumber}`;
  window.__policyViolations.push(`${event.violatedDirective} ${event.blockedURI} ${where}`);
});
"""


@pytest.fixture
def demo_data(survey_db):
    slugs = demo.demo_run_slugs()
    demo.add_demo_history(slugs)
    demo.add_demo_responses(slugs)


def test_every_chart_is_drawn_under_the_policy(new_page, users, demo_data):
    page = new_page(viewport=DESKTOP)
    page.add_init_script(WATCH_POLICY)
    sign_in(page, "officer", goto="/officer/measures")
    expect(page.locator("h1")).to_have_text("Measures")
    for name, (path, drawn) in PAGES.items():
        for exact in ("", "?exact=yes"):
            page.goto(path + exact)
            expect(page.locator(".app-chart--drawn")).to_have_count(drawn)
            assert page.locator(".app-chart--drawn svg.main-svg").count() >= drawn, name
            assert page.evaluate("window.__policyViolations") == [], f"{name}: the policy was violated"
            if drawn:
                # The figures themselves are drawn, not only the axes.
                assert page.locator("[data-app-chart] .scatterlayer .trace, [data-app-chart] .barlayer .trace").count()
    # plotly.js and its stylesheet come from the service, never a CDN (conftest fails any other request).
    assert page.locator("script[src$='build/plotly-basic.min.js']").count() == 1
    assert page.locator("link#plotly\\.js-style-global[href$='build/plotly.css']").count() == 1


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_no_axe_violations_and_no_sideways_scrolling(new_page, users, demo_data, viewport, tmp_path):
    page = new_page(viewport=viewport, bypass_csp=True)
    sign_in(page, "admin", goto="/officer/measures")
    folder = SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    problems = []
    for path, drawn in PAGES.values():
        page.goto(path)
        expect(page.locator(".app-chart--drawn")).to_have_count(drawn)
        if violations := axe_violations(page):
            problems.append(f"{path}:\n{violations}")
        problems += [f"{path}: {problem}" for problem in layout_problems(page, viewport["width"])]
    # A page with errors, and one of exact counts.
    page.goto("/officer/measures/pathways_information_good?as_of=31&as_of=2&as_of=2026&by=eye_colour")
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    page.goto("/officer/measures?exact=yes&as_of=31&as_of=2&as_of=2026")
    expect(page.locator(".govuk-warning-text")).to_contain_text("Not for publication")
    if violations := axe_violations(page):
        problems.append(f"exact counts with errors:\n{violations}")
    assert not problems, "\n".join(problems)

    width = "320" if viewport is PHONE else "desktop"
    page.goto(PAGES["overview"][0])
    _screenshot(page, folder / f"measures-{width}.png", viewport, "main", height=1300)
    page.goto(PAGES["survey-measure"][0])
    expect(page.locator(".app-chart--drawn")).to_have_count(2)
    _screenshot(page, folder / f"measure-{width}.png", viewport, "main", height=1800 if viewport is DESKTOP else 1400)
    page.goto(PAGES["p-chart"][0])
    expect(page.locator(".app-chart--drawn")).to_have_count(2)
    _screenshot(page, folder / f"measure-spc-{width}.png", viewport, "#spc", height=700)
    for shot in folder.glob(f"*-{width}.png"):
        _optimise(shot)
        limit = 150_000 if shutil.which("pngquant") else 400_000
        assert 0 < shot.stat().st_size < limit, f"{shot.name} is {shot.stat().st_size:,} bytes"


def _optimise(path: Path) -> None:
    """Fewer colours (pngquant, where installed): a page's text and flat colours lose nothing a reader sees."""
    if pngquant := shutil.which("pngquant"):
        subprocess.run(  # noqa: S603 - a program found on the path, and our own file
            [pngquant, "--quality=60-90", "--speed=1", "--force", "--strip", "--output", str(path), str(path)],
            check=True,
        )


def _screenshot(page, path: Path, viewport: dict, selector: str, height: int = 1500) -> None:
    """The element's top ``height`` CSS pixels, at the viewport's width: small enough for the README."""
    box = page.locator(selector).first.bounding_box()
    clip = {
        "x": 0 if viewport is PHONE else box["x"] - 8,
        "y": box["y"] - 8,
        "width": viewport["width"] if viewport is PHONE else box["width"] + 16,
        "height": min(box["height"] + 16, height),
    }
    page.screenshot(path=str(path), clip=clip, full_page=True, animations="disabled", caret="hide")


def test_without_javascript_each_chart_is_its_sentence_and_its_table(new_page, users, demo_data):
    page = new_page(java_script_enabled=False, viewport=DESKTOP)
    sign_in(page, "viewer", goto="/officer/measures/annual_reviews_in_timescale")
    expect(page.locator("h1")).to_have_text("Annual reviews held in timescale")
    for chart_id in ("over-time", "spc"):
        chart = page.locator(f"figure#{chart_id}")
        expect(chart.locator(".app-chart__no-js")).to_be_visible()
        expect(chart.locator(f"#{chart_id}-summary")).to_be_visible()
        expect(chart.locator("table")).to_be_visible()
        assert chart.locator("svg.main-svg").count() == 0
