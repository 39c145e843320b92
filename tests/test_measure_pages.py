"""The measures pages: the overview, a page per measure, their charts and downloads, as each role sees them.

The figures on the pages are those ``flask measures report`` gives for the same filters; each chart's JSON
holds the same points as the table beside it; viewers only ever get published figures (a withheld count is
in none of the page, its charts, or any download); free text reaches the charts escaped; bad filters are
explained on the page, never a 500.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest

from analysis import measure_charts
from analysis.measures import PeriodKind
from analysis.measures_file import DEFAULT_FILE
from survey_app import report_formats
from survey_app.services import measures as measure_service

from .conftest import reset_database  # noqa: F401  (the database the fixtures below fill)
from .test_measure_counts import INFORMATION, make_wave, respond, survey_run

AS_OF = date(2025, 3, 31)
AS_OF_ARGS = [("as_of", "31"), ("as_of", "3"), ("as_of", "2025")]
INFORMATION_GOOD = "pathways_information_good"
REVIEWS = "annual_reviews_in_timescale"
OPEN_PLANS = "open_ehc_plans"
TIMELINESS = "plans_issued_within_20_weeks"
# 14 quarters of annual reviews, enough for an SPC chart: 2021-22 Q3 to 2024-25 Q4.
REVIEW_QUARTERS = [f"{year}-{(year + 1) % 100:02d} Q{q}" for year in range(2021, 2025) for q in (1, 2, 3, 4)][2:]
# 2024-25 Q2: 3 of 12 rated the information good. 3 is a small count: 25%, and its interval, are withheld.
HIDDEN_PERCENT, HIDDEN_LOW, HIDDEN_HIGH = 25.0, 8.9, 53.2


def url(path: str, *pairs: tuple[str, str], **args: str) -> str:
    query = urlencode([*AS_OF_ARGS, *pairs, *args.items()])
    return f"{path}?{query}"


def record(key: str, period: str, **figure) -> None:
    measures = measure_service.measure_set()
    measure_service.save_figures([measure_service.check_figure(measures, key, period, **figure)])


@pytest.fixture
def figures(survey_db):
    """Survey answers in three quarters (a small count in the second), and 14 quarters of recorded figures."""
    wave = make_wave("Spring 2024", baseline=True)
    spring = survey_run(INFORMATION, "information-spring-2024", datetime(2024, 4, 1), datetime(2024, 6, 30), wave)
    run = survey_run(INFORMATION, "information-2024", datetime(2024, 7, 1), datetime(2025, 3, 31))
    localities = ("north", "south", "east")
    # 2024-25 Q1 (the baseline wave): 10 of 16 good. Q2: 3 of 12. Q3: 20 of 30, of whom 5 in the east (3 good).
    for number in range(16):
        respond(
            spring,
            datetime(2024, 5, 1 + number, 9),
            pathways_information="good" if number < 10 else "poor",
            locality=localities[number % 2],
        )
    for number in range(12):
        respond(run, datetime(2024, 8, 1 + number, 9), pathways_information="good" if number < 3 else "poor")
    for number in range(30):
        locality = "east" if number < 5 else localities[number % 2]
        good = number < 3 or (number >= 5 and number < 22)
        respond(
            run,
            datetime(2024, 11, 1 + number % 28, 9),
            pathways_information="good" if good else "poor",
            locality=locality,
        )
    for number, period in enumerate(REVIEW_QUARTERS):
        record(REVIEWS, period, numerator=100 + (number * 7) % 23, denominator=180 + (number * 5) % 17)
        record(OPEN_PLANS, period, value=2500 + 40 * number)
    record(TIMELINESS, "2024-25 Q1", numerator=12, denominator=19)
    return run


def figure_of(page, chart_id: str) -> dict:
    return json.loads(page.soup.find("script", id=f"{chart_id}-figure").string)


def table_of(page, chart_id: str) -> list[dict[str, str]]:
    table = page.soup.select_one(f"figure#{chart_id} table")
    headings = [cell.get_text(" ", strip=True) for cell in table.select("thead th")]
    return [
        dict(zip(headings, [cell.get_text(" ", strip=True) for cell in row.select("th, td")], strict=True))
        for row in table.select("tbody tr")
    ]


def trace(figure: dict, starts: str) -> dict:
    return next(trace for trace in figure["data"] if (trace.get("name") or "").startswith(starts))


def numbers_in(value) -> list[float]:
    """Every number anywhere in a JSON value."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        return [float(value)]
    if isinstance(value, dict):
        return [n for item in value.values() for n in numbers_in(item)]
    if isinstance(value, list):
        return [n for item in value for n in numbers_in(item)]
    return []


def cli_csv(app, *options: str) -> str:
    result = app.test_cli_runner().invoke(args=["measures", "report", "--format", "csv", *options])
    assert result.exit_code == 0, result.output
    return result.stdout


def cli_json(app, *options: str) -> dict:
    result = app.test_cli_runner().invoke(args=["measures", "report", "--format", "json", *options])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# Who sees what ---------------------------------------------------------------------------


PAGES = [
    "/officer/measures",
    f"/officer/measures/{INFORMATION_GOOD}",
    "/officer/measures.csv",
    "/officer/measures.json",
    f"/officer/measures/{INFORMATION_GOOD}/charts/over-time.csv",
]


def test_signed_out_every_measures_address_sends_to_sign_in(app, survey_db):
    client = app.test_client()
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"], path


@pytest.mark.parametrize("role", ["viewer", "officer", "admin"])
def test_every_role_sees_the_measures_and_only_officers_may_switch_to_exact_counts(signed_in, figures, role):
    browser = signed_in(role)
    overview = browser.get(url("/officer/measures"))
    assert overview.h1 == "Measures"
    assert "Measures" in [a.get_text(strip=True) for a in overview.soup.select(".govuk-service-navigation a")]
    switch = overview.soup.find("a", string=re.compile("Show exact counts"))
    page = browser.get(url(f"/officer/measures/{INFORMATION_GOOD}"))
    comments = page.soup.select("a[href*='/comments']")
    if role == "viewer":
        assert switch is None and "Not for publication" not in overview.text
        assert not comments, "a viewer is never linked to free text"
    else:
        assert switch is not None and "exact=yes" in switch["href"]
        assert comments and f"/officer/runs/{figures.id}/comments" in [a["href"] for a in comments]
    for path in PAGES[2:]:
        assert browser.client.get(url(path)).status_code == 200, path


def test_unknown_measures_and_charts_are_not_found(signed_in, figures):
    browser = signed_in("officer")
    browser.get("/officer/measures/no_such_measure", status=404)
    for path in (
        "/officer/measures/no_such_measure/charts/over-time.csv",
        f"/officer/measures/{INFORMATION_GOOD}/charts/no-such-chart.csv",
        f"/officer/measures/{INFORMATION_GOOD}/charts/spc.csv",  # 3 quarters: no SPC chart
        "/officer/measures.csv?measure=no_such_measure",
    ):
        assert browser.client.get(path).status_code == 404, path


# Bad filters ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message", "target"),
    [
        (
            [("as_of", "31"), ("as_of", "2"), ("as_of", "2025")],
            "The date must be a real date, like 27 3 2026",
            "#as_of-day",
        ),
        ([("as_of", "31"), ("as_of", ""), ("as_of", "2025")], "The date must include a month", "#as_of-day"),
        ([("as_of", "1"), ("as_of", "1"), ("as_of", "2999")], "The date must be today or in the past", "#as_of-day"),
        (
            [("period", "fortnight")],
            "Choose financial-year quarters, months, calendar years or survey waves",
            "#period",
        ),
        ([("audience", "martians")], "Choose whose views to show, or every measure", "#audience"),
    ],
)
def test_a_bad_filter_is_explained_on_the_page(signed_in, figures, args, message, target):
    browser = signed_in("viewer")
    # Whose views is a filter of the overview only.
    paths = ["/officer/measures"] + ([f"/officer/measures/{INFORMATION_GOOD}"] if target != "#audience" else [])
    for path in paths:
        page = browser.get(f"{path}?{urlencode(args)}")
        assert page.error_summary == [(message, target)], path
        assert page.title.startswith("Error: ")
        assert page.soup.select_one("table"), "the figures are shown with the filter's default"


@pytest.mark.parametrize(
    ("args", "message", "target"),
    [
        ([("by", "eye_colour")], "Choose a question that this measure's surveys ask", "#by"),
        ([("by", "locality"), ("group_period", "1999-00 Q1")], "Choose a period that has figures", "#group_period"),
    ],
)
def test_a_bad_breakdown_is_explained_on_the_page(signed_in, figures, args, message, target):
    page = signed_in("viewer").get(url(f"/officer/measures/{INFORMATION_GOOD}", *args))
    assert page.error_summary == [(message, target)]
    assert page.soup.select_one("figure#by-group"), "the default breakdown is still shown"


def test_a_measure_with_no_figures_says_so(signed_in, figures):
    browser = signed_in("viewer")
    page = browser.get(url("/officer/measures/assessment_satisfied"))
    assert "This measure has no figures yet" in page.text
    assert "There are no figures for this measure yet." in page.text
    overview = browser.get(url("/officer/measures"))
    row = overview.soup.find("a", string=re.compile("satisfied with the EHC needs assessment")).find_parent("tr")
    assert "No figures yet" in row.get_text(" ", strip=True)


# The figures are the report's --------------------------------------------------------------------


def test_the_overview_shows_each_measures_latest_figures_from_the_report(signed_in, figures, app):
    page = signed_in("viewer").get(url("/officer/measures"))
    report = measure_service.published_report(measure_service.measure_set(), PeriodKind.QUARTER, AS_OF)
    latest = report.rows.groupby("measure").tail(1)
    assert len(latest) == 4
    for row in latest.to_dict("records"):
        link = page.soup.find("a", href=re.compile(f"/officer/measures/{row['measure']}(\\?|$)"))
        text = link.find_parent("tr").get_text(" ", strip=True)
        if row["value"] is not None and row["value"] == row["value"]:
            assert f"{row['value']:,.0f}" in text
        else:
            assert report_formats.whole_percent(row["percent"]) in text
            assert f"{row['positives']} of {row['n']}" in text
            assert (
                f"{report_formats.whole_percent(row['ci_low'])} to {report_formats.whole_percent(row['ci_high'])}"
                in text
            )
        assert row["status"] in text
    information = page.soup.find("a", href=re.compile(INFORMATION_GOOD)).find_parent("tr").get_text(" ", strip=True)
    assert "67% 20 of 30 49% to 81% (95% interval)" in information


def test_the_measure_table_holds_the_reports_figures_and_the_chart_the_tables_points(signed_in, figures, app):
    page = signed_in("officer").get(url(f"/officer/measures/{INFORMATION_GOOD}"))
    reported = {
        row["period_label"]: row
        for row in csv.DictReader(io.StringIO(cli_csv(app, "--as-of", AS_OF.isoformat())))
        if row["measure"] == INFORMATION_GOOD
    }
    rows = [row for row in table_of(page, "over-time") if row["Period"].startswith("2024-25")]
    assert [row["Period"] for row in rows] == ["2024-25 Q1", "2024-25 Q2", "2024-25 Q3"]
    for row, expected in zip(rows, reported.values(), strict=True):
        assert row["Result (%)"] == expected["percent"]
        assert row["Lower 95% limit (%)"] == expected["ci_low"]
        assert row["Upper 95% limit (%)"] == expected["ci_high"]
        assert row["Positives"] == expected["positives"] and row["Base"] == expected["n"]
        assert row["Trajectory (%)"] == expected["trajectory"]
        assert row["Status"] == (expected["status"] if expected["status"] != "c" else "Withheld")
    assert rows[1]["Result (%)"] == "c"

    result = trace(figure_of(page, "over-time"), "Result")
    assert result["y"] == [float(row["Result (%)"]) if row["Result (%)"] != "c" else None for row in rows]
    shown = [
        (y, low, high)
        for y, low, high in zip(result["y"], result["error_y"]["arrayminus"], result["error_y"]["array"], strict=True)
        if y is not None
    ]
    expected_limits = [
        (float(r["Lower 95% limit (%)"]), float(r["Upper 95% limit (%)"])) for r in rows if r["Result (%)"] != "c"
    ]
    assert [(round(y - low, 1), round(y + high, 1)) for y, low, high in shown] == expected_limits
    assert [date.fromisoformat(x) for x in result["x"]] == [
        datetime.strptime(row["Ends"], "%d %b %Y").date() for row in rows
    ]
    baseline = trace(figure_of(page, "over-time"), "Baseline")
    assert baseline["y"] == [62.5] and "Baseline (Spring 2024)" in [
        row["Period"] for row in table_of(page, "over-time")
    ]
    targets = trace(figure_of(page, "over-time"), "Target")
    assert targets["y"] == [85.0, 95.0]


def test_the_spc_chart_holds_the_tables_points_and_limits(signed_in, figures, app):
    page = signed_in("viewer").get(url(f"/officer/measures/{REVIEWS}"))
    rows = table_of(page, "spc")
    assert len(rows) == 14
    figure = figure_of(page, "spc")
    points = [t for t in figure["data"] if t.get("mode") == "markers"]
    charted = sorted((x, y) for t in points for x, y in zip(t["x"], t["y"], strict=True))
    assert [y for _, y in charted] == [float(row["Result (%)"]) for row in rows]
    upper = trace(figure, "Upper")
    assert upper["y"] == [float(row["Upper limit (%)"]) for row in rows]
    reported = [r for r in cli_json(app, "--as-of", AS_OF.isoformat())["rows"] if r["measure"] == REVIEWS]
    assert [row["Signal"] for row in rows] == [r["spc_signal"] for r in reported]
    assert [float(row["Upper limit (%)"]) for row in rows] == [r["spc_upper_limit"] for r in reported]
    csv_text = signed_in("viewer").client.get(url(f"/officer/measures/{REVIEWS}/charts/spc.csv")).get_data(as_text=True)
    assert len(list(csv.DictReader(io.StringIO(csv_text)))) == 14
    # Open plans is a count: an XmR chart.
    page = signed_in("viewer").get(url(f"/officer/measures/{OPEN_PLANS}"))
    assert "XmR chart" in page.soup.select_one("figure#spc figcaption").get_text()


def test_the_downloads_are_what_measures_report_writes(signed_in, figures, app):
    client = signed_in("viewer").client
    response = client.get(url("/officer/measures.csv"))
    assert response.get_data(as_text=True) == cli_csv(app, "--as-of", AS_OF.isoformat())
    assert 'filename="measures-2025-03-31-quarter.csv"' in response.headers["Content-Disposition"]
    assert client.get(url("/officer/measures.json")).get_json() == cli_json(app, "--as-of", AS_OF.isoformat())
    monthly = client.get(url("/officer/measures.json", period="month")).get_json()
    assert monthly == cli_json(app, "--as-of", AS_OF.isoformat(), "--period", "month")


# Disclosure ----------------------------------------------------------------------------------------


def viewer_outputs(client) -> dict[str, str]:
    paths = {
        "overview": url("/officer/measures"),
        "page": url(f"/officer/measures/{INFORMATION_GOOD}"),
        "page by locality in Q3": url(
            f"/officer/measures/{INFORMATION_GOOD}", by="locality", group_period="2024-25 Q3"
        ),
        "csv": url("/officer/measures.csv"),
        "json": url("/officer/measures.json"),
        "chart csv": url(f"/officer/measures/{INFORMATION_GOOD}/charts/over-time.csv"),
        "group csv": url(
            f"/officer/measures/{INFORMATION_GOOD}/charts/by-group.csv", by="locality", group_period="2024-25 Q3"
        ),
    }
    # The sign-out form's CSRF token and the script nonce are new on each page; nothing else may differ.
    return {
        name: re.sub(r'(name="csrf_token" value|nonce)="[^"]*"', "", client.get(path).get_data(as_text=True))
        for name, path in paths.items()
    }


@pytest.mark.parametrize("exact", ["", "yes"], ids=["published", "asking-for-exact"])
def test_a_viewer_never_gets_a_withheld_figure(signed_in, figures, exact):
    client = signed_in("viewer").client
    outputs = (
        viewer_outputs(client)
        if not exact
        else {name: text for name, text in viewer_outputs(_WithExact(client)).items()}
    )
    assert outputs == viewer_outputs(client), "asking for exact counts changes nothing for a viewer"
    for name, text in outputs.items():
        assert "not for publication" not in text.lower(), name
        for hidden in ("25.0", "8.9", "53.2", "25%", "3 of 12"):
            assert not re.search(rf"(?<![\d.,]){re.escape(hidden)}(?![\d])", text), f"{hidden} in the viewer's {name}"
    # The chart's JSON has a gap where the figure is withheld, not the figure.
    page = outputs["page"]
    data = json.loads(re.search(r'id="over-time-figure">(.*?)</script>', page, re.S).group(1))
    for hidden in (
        HIDDEN_PERCENT,
        HIDDEN_LOW,
        HIDDEN_HIGH,
        round(HIDDEN_PERCENT - HIDDEN_LOW, 1),
        round(HIDDEN_HIGH - HIDDEN_PERCENT, 1),
    ):
        assert hidden not in numbers_in(data["data"]), hidden
    assert trace(data, "Result")["y"][1] is None
    # East in 2024-25 Q3 is 3 of 5: withheld, with whatever would give it away.
    groups = json.loads(
        re.search(r'id="by-group-figure">(.*?)</script>', outputs["page by locality in Q3"], re.S).group(1)
    )
    assert 60.0 not in numbers_in(groups["data"])
    east = next(row for row in csv.DictReader(io.StringIO(outputs["group csv"])) if row["Group"] == "East")
    assert east["Result (%)"] == "c" and east["Positives"] == "c"


class _WithExact:
    """A client that adds exact=yes to every address."""

    def __init__(self, client):
        self.client = client

    def get(self, path: str):
        return self.client.get(f"{path}&exact=yes")


def test_officers_may_see_exact_counts_labelled_not_for_publication(signed_in, figures):
    client = signed_in("officer").client
    page = signed_in("officer").get(url(f"/officer/measures/{INFORMATION_GOOD}", exact="yes"))
    assert "Not for publication" in page.soup.select_one(".govuk-warning-text").get_text()
    assert "not for publication" in page.title
    q2 = next(row for row in table_of(page, "over-time") if row["Period"] == "2024-25 Q2")
    assert (q2["Result (%)"], q2["Positives"], q2["Lower 95% limit (%)"]) == ("25.0", "3", "8.9")
    assert trace(figure_of(page, "over-time"), "Result")["y"][1] == HIDDEN_PERCENT

    response = client.get(url(f"/officer/measures/{INFORMATION_GOOD}/charts/over-time.csv", exact="yes"))
    assert "not-for-publication" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][0] == "Not for publication"
    assert all(row[0].startswith("NOT FOR PUBLICATION") for row in rows[1:])

    response = client.get(url("/officer/measures.csv", exact="yes"))
    assert "not-for-publication" in response.headers["Content-Disposition"]
    report = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert all(row["not_for_publication"].startswith("NOT FOR PUBLICATION") for row in report)
    row = next(r for r in report if r["measure"] == INFORMATION_GOOD and r["period"] == "2024-25 Q2")
    assert (row["positives"], row["percent"]) == ("3", "25.0")
    data = client.get(url("/officer/measures.json", exact="yes")).get_json()
    assert data["not_for_publication"].startswith("NOT FOR PUBLICATION") and data["disclosure"] is None


# Free text reaches the charts escaped ------------------------------------------------------------------

HOSTILE = "<script>alert(1)</script> <b>bold</b> & <img src=x onerror=alert(2)>"


def test_hostile_text_in_a_title_benchmark_and_wave_is_shown_as_written(signed_in, figures, app, tmp_path, monkeypatch):
    text = Path(DEFAULT_FILE).read_text(encoding="utf-8")
    text = text.replace(
        "    title: Parent carers rating the information about SEND pathways good\n",
        f"    title: {json.dumps(HOSTILE)}\n",
    ).replace(
        "      - value: 95%\n        by: 2028-03-31\n",
        "      - value: 95%\n        by: 2028-03-31\n    benchmarks:\n"
        f"      - name: {json.dumps('Region ' + HOSTILE)}\n        value: 50%\n        date: 2024-03-31\n"
        f"        source: {json.dumps('</script><script>alert(3)</script>')}\n",
        1,
    )
    hostile_file = tmp_path / "measures.yaml"
    hostile_file.write_text(text, encoding="utf-8")
    monkeypatch.setitem(app.config, "MEASURES_FILE", str(hostile_file))
    wave = make_wave(f"Wave {HOSTILE}")
    run = survey_run(INFORMATION, "information-hostile", datetime(2024, 10, 1), datetime(2024, 10, 31), wave)
    for number in range(12):
        respond(run, datetime(2024, 10, 1 + number, 9), pathways_information="good" if number < 8 else "poor")

    browser = signed_in("officer")
    for path in (url(f"/officer/measures/{INFORMATION_GOOD}", period="wave"), url("/officer/measures")):
        html = browser.client.get(path).get_data(as_text=True)
        assert "<script>alert" not in html and "<img src=x" not in html and "<b>bold</b>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    page = browser.get(url(f"/officer/measures/{INFORMATION_GOOD}", period="wave"))
    raw = page.soup.find("script", id="over-time-figure").string
    assert "<" not in raw and ">" not in raw
    figure = json.loads(raw)
    hover = " ".join(" ".join(t.get("hovertext") or []) for t in figure["data"])
    names = " ".join(t.get("name") or "" for t in figure["data"])
    assert "Wave &lt;script&gt;alert(1)&lt;/script&gt; &lt;b&gt;bold&lt;/b&gt; &amp; &lt;img" in hover
    assert "&lt;/script&gt;&lt;script&gt;alert(3)" in hover
    assert "Region &lt;script&gt;" in names
    assert "<script>" not in hover and "<img" not in names
    assert any(row["Period"].startswith("Wave <script>") for row in table_of(page, "over-time"))


# Without JavaScript ----------------------------------------------------------------------------------------


def test_without_javascript_the_summary_table_and_a_note_are_on_the_page(signed_in, figures):
    page = signed_in("viewer").get(url(f"/officer/measures/{REVIEWS}"))
    for chart_id in ("over-time", "spc"):
        chart = page.soup.select_one(f"figure#{chart_id}")
        assert chart.select_one("figcaption").get_text(strip=True)
        summary = chart.select_one(f"#{chart_id}-summary").get_text(strip=True)
        assert summary and chart.select_one("[role=img]")["aria-labelledby"] == f"{chart_id}-summary"
        assert "its figures are all in the table below" in chart.select_one(".app-chart__no-js").get_text()
        assert len(chart.select("tbody tr")) >= 14
        assert "Download these figures as CSV" in chart.select_one(f"a[href*='/charts/{chart_id}.csv']").get_text()
    # The overview has no plotly at all: its trends are drawn in SVG, hidden from screen readers, and said in words.
    overview = signed_in("viewer").get(url("/officer/measures"))
    assert not overview.soup.select("script[src*=plotly]")
    svg = overview.soup.select_one("svg.app-sparkline")
    assert svg["aria-hidden"] == "true" and not svg.get("style")
    said = svg.find_next_sibling("span", class_="govuk-visually-hidden").get_text()
    assert said == "Over 3 quarters: 63% in 2024-25 Q1, 67% in 2024-25 Q3"


def test_the_summary_says_what_the_chart_shows(signed_in, figures):
    page = signed_in("viewer").get(url(f"/officer/measures/{INFORMATION_GOOD}"))
    summary = page.soup.select_one("#over-time-summary").get_text(" ", strip=True)
    assert summary == (
        "Rose from 63% in 2024-25 Q1 to 67% in 2024-25 Q3 (1 quarter withheld); "
        "the trajectory expects 66% by then; the target is 85% by December 2027."
    )
    assert measure_charts.SPC_MINIMUM == 12
