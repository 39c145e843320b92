"""A run's results in Chromium: every chart drawn under the Content Security Policy, axe-core clean, no
sideways scrolling at 320 pixels, and all of it readable without JavaScript.

Screenshots of a chart at 320 pixels and at desktop width are taken every run and must stay small;
with ``UPDATE_SCREENSHOTS=1`` they are written to docs/screenshots/ for the README.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from survey_app.models import utcnow
from survey_app.services import demo, runs
from survey_app.services import questionnaires as questionnaire_service

from .helpers import axe_violations
from .test_officer import sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 320, "height": 640}
DESKTOP = {"width": 1280, "height": 800}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
LARGEST_SCREENSHOT = 150_000  # bytes


def closed_run_with_answers(key: str, slug: str, responses: int = 300):
    version = next(v for v in questionnaire_service.latest_versions() if v.key == key)
    now = utcnow()
    run = runs.open_run(version, slug, "Spring survey", now - timedelta(days=40), now - timedelta(days=10))
    demo.add_demo_responses([slug], per_run=responses)
    return run


@pytest.fixture
def results_path(survey_db) -> str:
    run = closed_run_with_answers("send_pathways_information", "pathways-spring")
    return f"/officer/runs/{run.id}/results"


@pytest.fixture
def plan_results_path(survey_db) -> str:
    run = closed_run_with_answers("ehc_plan_feedback", "plan-spring")
    return f"/officer/runs/{run.id}/results"


def expect_every_chart_drawn(page: Page) -> int:
    plots = page.locator(".app-chart__plot")
    count = plots.count()
    assert count > 1
    expect(page.locator(".app-chart--drawn")).to_have_count(count)
    expect(page.locator(".app-chart__plot .main-svg").first).to_be_visible()
    # The note for people without JavaScript is hidden once scripts run.
    expect(page.locator(".app-chart__no-js").first).to_be_hidden()
    return count


def test_the_charts_are_drawn_under_the_content_security_policy(page, users, results_path, plan_results_path):
    # The page fixture enforces the policy: a violation is a console error, which fails the test.
    sign_in(page, "viewer", goto=results_path)
    expect(page.locator("h1")).to_have_text("Results")
    assert expect_every_chart_drawn(page) >= 10
    page.goto(plan_results_path)
    expect_every_chart_drawn(page)
    # Several answers: a bar for each, with the answers' names written above the bars.
    bars = page.locator("#answers-needs-missing .app-chart__plot")
    expect(bars.locator(".annotation-text").first).to_be_visible()


def test_an_officer_switches_to_exact_counts(new_page, users, results_path):
    page = new_page()
    sign_in(page, "officer", goto=results_path)
    expect(page.locator(".govuk-warning-text")).to_have_count(0)
    page.get_by_label("Exact counts: not for publication").check()
    page.get_by_role("button", name="Show these figures").click()
    expect(page.locator(".govuk-warning-text")).to_contain_text("Not for publication")
    expect(page).to_have_title(re.compile(r"^Results: Spring survey \(exact counts, not for publication\) – "))
    expect_every_chart_drawn(page)
    with page.expect_download() as download_info:
        page.locator("#answers-pathways-information a[download]").click()
    assert download_info.value.suggested_filename.endswith("-not-for-publication.csv")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_no_axe_violations_nor_sideways_scrolling(new_page, users, results_path, plan_results_path, viewport, tmp_path):
    # axe is injected as a script, which the policy would refuse: this context bypasses it.
    page = new_page(viewport=viewport, bypass_csp=True)
    problems = []
    sign_in(page, "officer", goto=results_path)
    for path in (results_path, f"{results_path}?figures=exact", f"{results_path}?figures=nonsense", plan_results_path):
        page.goto(path)
        expect_every_chart_drawn(page)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > viewport["width"]:
            problems.append(f"{path} is {width} pixels wide in a {viewport['width']} pixel viewport")
        if violations := axe_violations(page):
            problems.append(f"{path}:\n{violations}")
    assert not problems, "\n".join(problems)

    page.goto(plan_results_path)
    expect_every_chart_drawn(page)
    name = "phone" if viewport is PHONE else "desktop"
    shots = {
        f"run-results-scale-{name}.png": "#answers-plan-reflects-needs",
        f"run-results-several-{name}.png": "#answers-needs-missing",
    }
    if viewport is DESKTOP:
        shots["run-results-per-day-desktop.png"] = "#daily-responses"
    folder = SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    for filename, selector in shots.items():
        figure = page.locator(selector)
        # The chart and what it says, without the whole of its table.
        box = figure.bounding_box()
        plot = figure.locator(".app-chart__plot").bounding_box()
        clip = {"x": box["x"], "y": box["y"], "width": box["width"], "height": plot["y"] + plot["height"] - box["y"]}
        path = folder / filename
        page.screenshot(path=path, clip=clip, full_page=True)
        assert path.stat().st_size < LARGEST_SCREENSHOT, f"{filename} is {path.stat().st_size} bytes"


def test_without_javascript_every_figure_is_in_its_sentence_and_table(new_page, users, results_path):
    page = new_page(java_script_enabled=False)
    sign_in(page, "viewer", goto=results_path)
    expect(page.locator("h1")).to_have_text("Results")
    figures = page.locator("figure.app-chart")
    count = figures.count()
    assert count >= 10
    plots = page.locator(".app-chart__plot")
    notes = page.locator(".app-chart__no-js")
    expect(notes).to_have_count(plots.count())
    expect(notes.first).to_be_visible()
    expect(notes.first).to_have_text(
        "The chart is drawn with JavaScript, which is off or did not load: its figures are all in the table below."
    )
    for index in range(count):
        figure = figures.nth(index)
        expect(figure.locator(".app-chart__summary")).not_to_be_empty()
        expect(figure.locator("table")).to_have_count(1)
    # Nothing is drawn, and the empty plots take no room.
    assert page.locator(".main-svg").count() == 0
    assert plots.first.bounding_box()["height"] < 20
