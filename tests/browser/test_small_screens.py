"""Every page reflows to 320 CSS pixels wide (WCAG 1.4.10) without scrolling sideways."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .helpers import MY_PLAN, PATHWAYS, answer_until, axe_violations, expect_question, first_page, page_after, submit
from .officer_pages import every_officer_page, page_endpoints
from .scenarios import scenario_params
from .test_officer import sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 320, "height": 640}
DESKTOP = {"width": 1280, "height": 800}
# Room between the navigation and the "Signed in as" bar, in CSS pixels.
BAR_GAP = 10

# Measures the page: its width, the signed-in bar against the navigation, and
# each table against its column (a table must fit, or scroll in a region that
# can take keyboard focus).
MEASURE = """() => {
  const box = (selector) => {
    const element = document.querySelector(selector);
    return element ? element.getBoundingClientRect().toJSON() : null;
  };
  const tables = [...document.querySelectorAll("main table")].map((table) => {
    const region = table.closest(".app-table-scroll");
    const column = (region || table).parentElement;
    return {
      caption: (table.caption ? table.caption.textContent : table.textContent).trim().slice(0, 60),
      inRegion: Boolean(region),
      fits: table.getBoundingClientRect().width <= column.clientWidth + 0.5,
      regionScrolls: region ? region.scrollWidth > region.clientWidth : false,
      regionFocusable: region ? region.tabIndex === 0 && region.getAttribute("role") === "region"
        && Boolean(region.getAttribute("aria-label")) : false,
    };
  });
  return {
    width: document.documentElement.scrollWidth,
    navigation: box(".govuk-service-navigation"),
    bar: box(".app-account-bar"),
    tables,
  };
}"""


def layout_problems(page, viewport_width: int) -> list[str]:
    measured = page.evaluate(MEASURE)
    problems = []
    if measured["width"] > viewport_width:
        problems.append(f"the page is {measured['width']} CSS pixels wide")
    navigation, bar = measured["navigation"], measured["bar"]
    if navigation is None or bar is None:
        problems.append("the navigation or the signed-in bar is missing")
    elif bar["top"] < navigation["bottom"] + BAR_GAP:
        problems.append(
            f"the signed-in bar (top {bar['top']:.0f}) is squeezed against the navigation "
            f"(bottom {navigation['bottom']:.0f})"
        )
    for table in measured["tables"]:
        if not table["inRegion"] and not table["fits"]:
            problems.append(f"the table “{table['caption']}” is wider than its column and not in a scrolling region")
        if table["regionScrolls"] and not table["regionFocusable"]:
            problems.append(f"the table “{table['caption']}” scrolls in a region that cannot take keyboard focus")
    return problems


@pytest.mark.parametrize("scenario", scenario_params())
def test_no_horizontal_scrolling_at_320_pixels(new_page, make_run, scenario):
    # Only the layout is in question here; test_content_security_policy checks the policy on the same pages.
    page = new_page(viewport=PHONE, bypass_csp=True)
    scenario(page, make_run)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"{page.url} is {width} CSS pixels wide in a 320 pixel viewport"


def test_every_officer_page_fits_320_pixels(new_page, app, users):
    """Every type of officer page, as an admin (who sees every table): nothing scrolls the page sideways.

    Tables fit their column or scroll in their own region, which can take
    keyboard focus, and the "Signed in as" bar sits below the navigation with
    room between them.
    """
    pages = every_officer_page(users)
    assert set(pages) == page_endpoints(app), "add the new officer page to tests/browser/officer_pages.py"
    page = new_page(viewport=PHONE, bypass_csp=True)
    sign_in(page, "admin")
    expect(page.locator("h1")).to_have_text("Surveys")
    problems, scrolled = [], 0
    for endpoint, path in pages.items():
        reply = page.goto(path)
        assert reply.status == 200, f"{path}: {reply.status}"
        problems += [f"{endpoint} ({path}): {problem}" for problem in layout_problems(page, PHONE["width"])]
        # At this width, what scrolls sideways must be reachable by keyboard (scrollable-region-focusable).
        if violations := axe_violations(page):
            problems.append(f"{endpoint} ({path}): axe at 320 pixels:\n{violations}")
        scrolled += sum(table["regionScrolls"] for table in page.evaluate(MEASURE)["tables"])
    # A form with errors: the new run form sent empty.
    page.goto(pages["officer.run_new"])
    page.get_by_role("button", name="Open the survey run").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    problems += [f"new run with errors: {problem}" for problem in layout_problems(page, PHONE["width"])]
    assert not problems, "\n".join(problems)
    assert scrolled >= 3, "the wide tables (surveys, users, audit log...) should scroll in their regions"


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_signed_in_bar_sits_below_the_navigation(new_page, users, viewport):
    page = new_page(viewport=viewport, bypass_csp=True)
    sign_in(page, "admin", goto="/officer/users")
    expect(page.locator("h1")).to_have_text("Users")
    assert not layout_problems(page, viewport["width"])
    if viewport is PHONE:
        # The navigation opened from its Menu button pushes the bar down rather than covering it.
        page.get_by_role("button", name="Menu").click()
        expect(page.get_by_role("link", name="Audit log")).to_be_visible()
        assert not layout_problems(page, viewport["width"])
    sign_out = page.get_by_role("button", name="Sign out").bounding_box()
    bar = page.locator(".app-account-bar").bounding_box()
    assert bar["x"] <= sign_out["x"] and sign_out["x"] + sign_out["width"] <= bar["x"] + bar["width"] + 0.5


@pytest.mark.parametrize("slug", [PATHWAYS, MY_PLAN], ids=["pathways", "easy-read"])
def test_continue_where_you_left_off_is_on_the_first_screen_of_a_phone(new_page, slug):
    """The return link opens the start page; on a phone, its way on is before the introduction."""
    saving = new_page(viewport=PHONE, bypass_csp=True)
    stop = page_after(slug, first_page(slug))
    answer_until(saving, slug, stop)
    submit(saving, "Save and come back later")
    link = saving.locator("#return-link").inner_text()

    phone = new_page(viewport=PHONE, bypass_csp=True)  # another device
    phone.goto(link)
    expect(phone.locator(".govuk-notification-banner")).to_contain_text("Welcome back")
    button = phone.get_by_role("button", name="Continue where you left off")
    expect(button).to_have_count(1)
    box = button.bounding_box()
    assert box["y"] + box["height"] <= PHONE["height"], (
        f"“Continue where you left off” is {box['y']:.0f} pixels down a {PHONE['height']} pixel screen"
    )
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    with phone.expect_navigation():
        button.click()
    expect_question(phone, slug, stop)


def test_a_table_region_takes_keyboard_focus_only_while_its_table_scrolls(new_page, users):
    """Without JavaScript every region is focusable; with it, only one with something to scroll."""
    page = new_page(viewport=DESKTOP)
    sign_in(page, "admin", goto="/officer/users")
    region = page.get_by_role("region", name="Everyone who can sign in to the officer area")
    expect(region).not_to_have_attribute("tabindex", "0")
    page.set_viewport_size(PHONE)
    expect(region).to_have_attribute("tabindex", "0")
    page.set_viewport_size(DESKTOP)
    expect(region).not_to_have_attribute("tabindex", "0")

    without_javascript = new_page(viewport=DESKTOP, java_script_enabled=False)
    sign_in(without_javascript, "admin", goto="/officer/users")
    expect(
        without_javascript.get_by_role("region", name="Everyone who can sign in to the officer area")
    ).to_have_attribute("tabindex", "0")
