"""The measures' charts, built from report rows: withheld figures are gaps, free text is escaped, words match."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd

from analysis import charts, measure_charts, periods
from analysis.disclosure import DisclosureRules
from analysis.measures import (
    Baseline,
    Benchmark,
    Measure,
    MeasureSet,
    PeriodKind,
    Polarity,
    RecordedKind,
    RecordedSource,
    SurveySource,
    Target,
)
from analysis.report import measure_report, publish

HOSTILE = "</script><script>alert(1)</script> <b>x</b> & <img src=x onerror=alert(2)>"
QUARTERS = [periods.quarter(2024, number) for number in (1, 2, 3, 4)]


def proportion_measure(**changes) -> Measure:
    defaults = dict(
        key="rating_good",
        title="Rating good",
        definition="Good out of all.",
        polarity=Polarity.HIGHER_IS_BETTER,
        source=SurveySource(("send_pathways_information",), "pathways_information", ("good",)),
        baseline=Baseline(value=0.4, date=date(2024, 3, 31), n=100),
        targets=(Target(0.8, date(2026, 3, 31)),),
        benchmarks=(Benchmark(f"Region {HOSTILE}", 0.5, date(2023, 12, 31), HOSTILE),),
    )
    return Measure(**{**defaults, **changes})


def counts(figures: list[tuple[int, int]], key: str = "rating_good", labels: list[str] | None = None) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "measure": key,
                "period": period.key,
                "period_label": (labels or [])[i] if labels else period.label,
                "period_start": period.start,
                "period_end": period.end,
                "positives": positives,
                "n": n,
            }
            for i, (period, (positives, n)) in enumerate(zip(QUARTERS, figures, strict=False))
        ]
    )


def published(measure: Measure, figures: list[tuple[int, int]], **options):
    report = measure_report(counts(figures, measure.key, **options), MeasureSet((measure,)), as_of=date(2025, 3, 31))
    return publish(report, DisclosureRules(threshold=5, minimum_base=10))


def test_a_withheld_period_is_a_gap_in_the_chart_and_c_in_its_table():
    measure = proportion_measure()
    report = published(measure, [(30, 60), (3, 12), (40, 70)])
    chart = measure_charts.measure_chart(measure, report.rows, PeriodKind.QUARTER)
    result = next(trace for trace in charts.points(chart.figure) if trace["name"].startswith("Result"))
    assert result["y"] == [50.0, None, 57.1]
    rows = {row[0]: row for row in chart.table.rows}
    assert rows["2024-25 Q2"][2:7] == ("c", "c", "c", "c", "12")
    encoded = chart.figure_json()
    for hidden in ("25.0", "8.9", "53.2"):
        assert hidden not in encoded
    sparkline = measure_charts.sparkline(measure, report.rows.to_dict("records"))
    assert len(sparkline.lines) == 0 and len(sparkline.dots) == 2, "a withheld period breaks the line"


def test_free_text_in_labels_and_hover_text_is_escaped():
    measure = proportion_measure()
    labels = [f"Wave {HOSTILE}", "Two", "Three"]
    report = published(measure, [(30, 60), (35, 60), (40, 70)], labels=labels)
    chart = measure_charts.measure_chart(measure, report.rows, PeriodKind.WAVE)
    encoded = chart.figure_json()
    assert "<" not in encoded and ">" not in encoded
    data = json.loads(encoded)["data"]
    text = json.dumps(data)
    assert "<script>" not in text and "<img" not in text and "<b>" not in text
    assert "Wave &lt;/script&gt;&lt;script&gt;alert(1)" in text
    assert "Region &lt;/script&gt;" in " ".join(trace["name"] for trace in data)
    # The table holds the text as written: the page escapes it (Jinja).
    assert chart.table.rows[0][0] == f"Wave {HOSTILE}"


def test_a_breakdowns_group_names_are_escaped_and_wrapped_for_a_phone():
    measure = proportion_measure()
    table = pd.DataFrame(
        [
            {
                "group": "a",
                "group_label": HOSTILE,
                "n": 40,
                "positives": 20,
                "percent": 0.5,
                "ci_low": 0.35,
                "ci_high": 0.65,
                "test": "chi-square test",
                "p_value": 0.2,
                "note": "",
            },
            {
                "group": "b",
                "group_label": "Post-16 (sixth form, college or training, age 16 to 18)",
                "n": 30,
                "positives": "c",
                "percent": "c",
                "ci_low": "c",
                "ci_high": "c",
                "test": "chi-square test",
                "p_value": 0.2,
                "note": "",
            },
        ]
    )
    period = {"period": "2024-25 Q1", "period_label": "2024-25 Q1 (April to June 2024)"}
    chart = measure_charts.breakdown_chart(measure, table, "Stage of education", period)
    data = json.loads(chart.figure_json())["data"]
    labels = data[0]["y"]
    assert all("<script" not in label and "<img" not in label for label in labels)
    assert labels[1] == "Post-16 (sixth<br>form, college o…"
    assert data[0]["x"] == [50.0, None]
    assert chart.table.rows[1] == ("Post-16 (sixth form, college or training, age 16 to 18)", "c", "c", "c", "c", "30")
    assert "No significant difference between the groups (chi-square test, p=0.200)." in chart.summary


def test_the_arrow_shows_the_way_the_figure_went_and_the_words_whether_that_is_better():
    fell = {"direction_of_travel": "improving", "change_since_previous": -0.12}
    assert measure_charts.direction(fell) == measure_charts.Direction("↓", "Improving")
    level = {"direction_of_travel": "no significant change", "change_since_previous": 0.03}
    assert measure_charts.direction(level) == measure_charts.Direction("→", "No significant change")
    assert measure_charts.direction({"direction_of_travel": "c", "change_since_previous": "c"}).words == "Withheld"
    rose = {"direction_of_travel": "not rated: for information", "change_since_previous": 40}
    assert measure_charts.direction(rose) == measure_charts.Direction("↑", "Rose (not rated: for information)")


def test_a_count_is_drawn_without_intervals_and_its_summary_uses_whole_numbers():
    measure = Measure(
        key="open_plans",
        title="Open plans",
        definition="Open plans.",
        polarity=Polarity.NONE,
        source=RecordedSource(RecordedKind.COUNT, PeriodKind.QUARTER),
    )
    frame = counts([(0, 1)] * 3, "open_plans").drop(columns=["positives", "n"]).assign(value=[2039.0, 2101.0, 2160.0])
    report = publish(measure_report(frame, MeasureSet((measure,)), as_of=date(2025, 3, 31)), DisclosureRules(5, 10))
    chart = measure_charts.measure_chart(measure, report.rows, PeriodKind.QUARTER)
    result = next(trace for trace in json.loads(chart.figure_json())["data"] if trace["name"] == "Result")
    assert result["y"] == [2039.0, 2101.0, 2160.0] and "error_y" not in result
    assert chart.summary == "Rose from 2,039 in 2024-25 Q1 to 2,160 in 2024-25 Q3."
    assert chart.table.columns == ("Period", "Ends", "Result", "Trajectory", "Status")
