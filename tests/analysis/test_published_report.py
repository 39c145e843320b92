"""The published report gives nothing away about a withheld count.

The guarantee is tested as a property: for every hidden count that is
consistent with what is shown, the published report (every field of every
row, which fields are withheld, the benchmark comparisons, and the CSV,
JSON and table made from it) is the same. If any derived figure (a
direction of travel, the name of a test, a status, an SPC signal, a
response count) still depended on the hidden count, some value would change
it, and the test would say which field.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from analysis import spc, status
from analysis.disclosure import SUPPRESSED, DisclosureRules
from analysis.measures import (
    Accumulation,
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
from analysis.periods import parse_period
from analysis.report import COLUMNS, measure_report, publish
from survey_app import report_formats

AS_OF = date(2030, 1, 1)
RULES = DisclosureRules()
QUARTERS = [f"{year}-{str(year + 1)[2:]} Q{quarter}" for year in range(2021, 2026) for quarter in (1, 2, 3, 4)]
HIDDEN = QUARTERS[6]  # 2022-23 Q3
FIGURES = [(key, 45 + 3 * i, 100) for i, key in enumerate(QUARTERS[:14])]


def survey_measure(key: str = "pathways", questionnaire: str = "send_pathways_information", **fields) -> Measure:
    source = SurveySource(questionnaires=(questionnaire,), question="pathways_information", positive=("good",))
    fields.setdefault("polarity", Polarity.HIGHER_IS_BETTER)
    return Measure(key=key, title=key.title(), definition="Rated good.", source=source, **fields)


PLANNED = {
    "baseline": Baseline(value=0.4, date=date(2021, 3, 31), n=400),
    "targets": (Target(0.8, date(2025, 3, 31)),),
    "benchmarks": (Benchmark("National", 0.5, date(2020, 12, 31), "DfE"),),
}


def counts(measure: str, figures: list[tuple], responses: dict[str, int] | None = None) -> pd.DataFrame:
    """(period, positives, n) per row; responses per period where given."""
    rows = []
    for key, positives, n in figures:
        period = parse_period(key)
        rows.append(
            {
                "measure": measure,
                "period": period.key,
                "period_label": period.label,
                "period_start": period.start,
                "period_end": period.end,
                "positives": positives,
                "n": n,
                "value": None,
                "responses": (responses or {}).get(key),
                "eligible": 150 if responses and key in responses else None,
            }
        )
    return pd.DataFrame(rows)


def with_hidden(figures: list[tuple], period: str, positives: int, n: int) -> list[tuple]:
    return [(key, positives, n) if key == period else (key, *rest) for key, *rest in figures]


def published_forms(report, measures: MeasureSet) -> dict[str, object]:
    """Everything that leaves the officer area from one published report."""
    published = publish(report, RULES)
    return {
        "rows": published.rows,
        "withheld": published.withheld,
        "benchmarks": published.benchmarks.reset_index(drop=True),
        "csv": report_formats.to_csv(published.rows),
        "json": report_formats.to_json(published, {}),
        "table": report_formats.to_table(published, measures, ""),
    }


def assert_same_published(forms: dict[object, dict[str, object]]) -> None:
    """Every hidden value gives the same published report; on failure, name the field that gave it away."""
    (first_value, first), *others = forms.items()
    for value, other in others:
        for name in ("rows", "withheld"):
            left, right = first[name], other[name]
            for column in left.columns:
                differs = [
                    (left.loc[i, "period"] if "period" in left else i, left.loc[i, column], right.loc[i, column])
                    for i in left.index
                    if not _same(left.loc[i, column], right.loc[i, column])
                ]
                assert not differs, f"{name}.{column} differs between {first_value} and {value}: {differs}"
        pd.testing.assert_frame_equal(first["benchmarks"], other["benchmarks"])
        for name in ("csv", "json", "table"):
            assert first[name] == other[name], f"the {name} differs between {first_value} and {value}"


def _same(left, right) -> bool:
    if isinstance(left, float) and isinstance(right, float) and pd.isna(left) and pd.isna(right):
        return True
    if left is None or right is None:
        return left is right
    return bool(left == right) and type(left) is type(right)


# 4 positives of 9, as the outside testing found it.


def test_a_withheld_count_shows_no_direction_test_status_or_signal():
    measure = survey_measure(**PLANNED)
    measures = MeasureSet((measure,))
    figures = with_hidden(FIGURES, HIDDEN, 4, 9)
    report = measure_report(counts(measure.key, figures), measures, as_of=AS_OF)
    before = report.rows.set_index("period")
    # Before disclosure control the row has every figure the tester saw.
    assert before.loc[HIDDEN, "direction_of_travel"] and before.loc[HIDDEN, "since_baseline"]
    assert before.loc[HIDDEN, "change_since_previous_test"] == "Fisher's exact test"
    published = publish(report, RULES)
    row = published.rows.set_index("period").loc[HIDDEN]
    assert (row["positives"], row["n"]) == (SUPPRESSED, 9)
    for column in (
        "percent",
        "change_since_previous",
        "change_since_previous_p",
        "change_since_previous_test",
        "direction_of_travel",
        "change_since_baseline",
        "change_since_baseline_test",
        "since_baseline",
        "gap_to_trajectory",
        "responses_needed",
        "benchmarks",
        "spc_lower_limit",
        "spc_upper_limit",
        "spc_rules",
        "spc_signal",
    ):
        assert row[column] == SUPPRESSED, column
    # A base of 9 is under the minimum for a status whatever the count: that may be said. Nor does the count
    # decide that the target (by 31 March 2025) is not due yet, or the trajectory drawn from the baseline.
    assert row["status"] == status.INSUFFICIENT_DATA
    assert row["target_assurance"] == status.NOT_DUE_YET
    assert row["trajectory"] == pytest.approx(before.loc[HIDDEN, "trajectory"])
    # The next period's change is from the withheld one: withheld too, with its direction and test.
    after = published.rows.set_index("period").loc[QUARTERS[7]]
    for column in ("change_since_previous", "change_since_previous_test", "direction_of_travel"):
        assert after[column] == SUPPRESSED, column
    assert after["percent"] == pytest.approx(0.66) and after["since_baseline"] == status.IMPROVING
    # The withheld state is explicit, field by field, for anything that draws the report.
    withheld = published.withheld.set_index(published.rows["period"])
    assert withheld.loc[HIDDEN, "direction_of_travel"] and withheld.loc[HIDDEN, "positives"]
    assert not withheld.loc[HIDDEN, "n"] and not withheld.loc[HIDDEN, "status"]
    assert not withheld.loc[QUARTERS[0], "previous_period"]
    assert published.withheld.columns.tolist() == [*COLUMNS, "suppression", "baseline_suppression"]


@pytest.mark.parametrize(
    ("n", "hidden"),
    [
        # 4 of 9: anything from 1 to 8 shows as "c of 9"; 0 and 9 do not.
        (9, list(range(1, 9))),
        # A base of 20 takes a status, and the final target (80%, 16 of 20) can be met by the withheld period,
        # which would make the next period Completed.
        (20, [*range(1, 6), *range(15, 20)]),
    ],
)
def test_no_published_field_depends_on_the_withheld_count(n, hidden):
    measure = survey_measure(**PLANNED)
    measures = MeasureSet((measure,))
    # The target is met in the two periods after the withheld one.
    base = [(key, 85, 100) if key in QUARTERS[7:9] else (key, x, total) for key, x, total in FIGURES]
    forms, raw = {}, {}
    for positives in hidden:
        report = measure_report(counts(measure.key, with_hidden(base, HIDDEN, positives, n)), measures, as_of=AS_OF)
        raw[positives] = report.rows
        forms[positives] = published_forms(report, measures)
    assert_same_published(forms)
    # Not a vacuous test: before disclosure control the rows differ in what is now withheld.
    for column in ("direction_of_travel", "since_baseline", "spc_signal", "spc_upper_limit"):
        assert len({str(rows[column].tolist()) for rows in raw.values()}) > 1, column
    if n == 20:
        statuses = {rows.set_index("period").loc[QUARTERS[7], "status"] for rows in raw.values()}
        assert statuses == {status.COMPLETED, status.GREEN}
        assert forms[hidden[0]]["rows"].set_index("period").loc[QUARTERS[7], "status"] == status.GREEN
        assert forms[hidden[0]]["rows"].set_index("period").loc[QUARTERS[8], "status"] == status.COMPLETED
    # And a count that would be shown gives a different report.
    for shown in (0, n):
        report = measure_report(counts(measure.key, with_hidden(base, HIDDEN, shown, n)), measures, as_of=AS_OF)
        assert published_forms(report, measures)["csv"] != forms[hidden[0]]["csv"]


def test_the_spc_chart_is_drawn_from_the_published_periods_alone():
    """p-bar is all the positives over all the bases: with one period withheld, the chart's centre and every
    base would give its positives away by subtraction."""
    measure = survey_measure(**PLANNED)
    measures = MeasureSet((measure,))
    figures = with_hidden(FIGURES, HIDDEN, 4, 9)
    rows = publish(measure_report(counts(measure.key, figures), measures, as_of=AS_OF), RULES).rows
    shown = [(key, x, total) for key, x, total in figures if key != HIDDEN]
    chart = spc.p_chart(
        pd.DataFrame(shown, columns=["period", "positives", "n"]), "positives", "n", Polarity.HIGHER_IS_BETTER, 0.8
    )
    assert chart.centre == pytest.approx(sum(x for _, x, _ in shown) / sum(t for _, _, t in shown))
    on_chart = rows[rows["period"] != HIDDEN]
    assert on_chart["spc_centre"].tolist() == pytest.approx([chart.centre] * 13)
    assert on_chart["spc_upper_limit"].tolist() == pytest.approx(chart.points["upper_limit"].tolist())
    assert on_chart["spc_signal"].tolist() == chart.points["signal"].tolist()
    assert (rows["spc_assurance"] == chart.assurance).all()
    hidden_row = rows.set_index("period").loc[HIDDEN]
    assert hidden_row["spc_signal"] == SUPPRESSED and hidden_row["spc_centre"] == pytest.approx(chart.centre)


def test_with_fewer_than_12_published_periods_the_chart_is_withheld():
    measure = survey_measure(**PLANNED)
    measures = MeasureSet((measure,))
    figures = [(key, 3, 40) if i % 4 == 0 else (key, x, total) for i, (key, x, total) in enumerate(FIGURES)]
    rows = publish(measure_report(counts(measure.key, figures), measures, as_of=AS_OF), RULES).rows
    assert (rows["spc_chart"] == "p-chart").all()
    for column in ("spc_centre", "spc_lower_limit", "spc_signal", "spc_assurance"):
        assert (rows[column] == SUPPRESSED).all(), column


def test_a_withheld_first_wave_baseline_withholds_the_trajectory_and_what_it_decides():
    """The trajectory is drawn from the baseline: shown beside the targets, it would give the baseline away."""
    measure = survey_measure(baseline=Baseline(first_wave=True), targets=(Target(0.8, date(2025, 3, 31)),))
    measures = MeasureSet((measure,))
    forms = {}
    for positives in range(1, 9):
        baselines = pd.DataFrame(
            [
                {
                    "measure": measure.key,
                    "period": "Autumn 2020",
                    "period_end": date(2020, 11, 30),
                    "positives": positives,
                    "n": 9,
                }
            ]
        )
        report = measure_report(counts(measure.key, FIGURES), measures, as_of=AS_OF, baselines=baselines)
        forms[positives] = published_forms(report, measures)
    assert_same_published(forms)
    row = forms[1]["rows"].iloc[5]
    for column in ("baseline", "trajectory", "gap_to_trajectory", "change_since_baseline", "since_baseline", "status"):
        assert row[column] == SUPPRESSED, column
    assert row["baseline_n"] == 9 and row["baseline_suppression"] == "fewer than 10 responses"
    assert row["percent"] == pytest.approx(0.6)
    assert "Baseline (Autumn 2020) withheld: fewer than 10 responses." in forms[1]["table"]
    assert "Baseline: c" not in forms[1]["table"]


def test_a_first_wave_baseline_of_3_hides_its_base():
    measure = survey_measure(baseline=Baseline(first_wave=True))
    baselines = pd.DataFrame(
        [{"measure": measure.key, "period": "Autumn 2020", "period_end": date(2020, 11, 30), "positives": 3, "n": 3}]
    )
    report = measure_report(counts(measure.key, FIGURES[:2]), MeasureSet((measure,)), as_of=AS_OF, baselines=baselines)
    row = publish(report, RULES).rows.iloc[0]
    assert (row["baseline"], row["baseline_n"]) == (SUPPRESSED, SUPPRESSED)


def test_a_recorded_count_from_1_to_5_gives_nothing_away():
    source = RecordedSource(RecordedKind.COUNT, PeriodKind.QUARTER, Accumulation.PERIOD)
    measure = Measure(
        key="tribunals",
        title="Tribunal appeals",
        definition="Appeals lodged.",
        polarity=Polarity.LOWER_IS_BETTER,
        source=source,
        baseline=Baseline(value=20, date=date(2021, 3, 31)),
        targets=(Target(5, date(2025, 3, 31)),),
    )
    measures = MeasureSet((measure,))
    forms = {}
    for hidden in range(1, 6):
        frame = counts(measure.key, [(key, None, None) for key in QUARTERS[:14]])
        frame["value"] = [hidden if key == HIDDEN else 20 - i % 5 for i, key in enumerate(QUARTERS[:14])]
        forms[hidden] = published_forms(measure_report(frame, measures, as_of=AS_OF), measures)
    assert_same_published(forms)
    row = forms[1]["rows"].set_index("period").loc[HIDDEN]
    for column in (
        "value",
        "change_since_previous",
        "direction_of_travel",
        "gap_to_trajectory",
        "status",
        "spc_signal",
    ):
        assert row[column] == SUPPRESSED, column
    assert row["trajectory"] != SUPPRESSED


# Responses beside n.


def test_22_responses_beside_an_n_of_20_is_withheld_as_it_would_give_away_2():
    first = survey_measure("first")
    second = survey_measure("second")  # the same questionnaire, so the same responses
    other = survey_measure("other", questionnaire="annual_review")
    measures = MeasureSet((first, second, other))
    forms = {}
    for left_out in range(1, 6):
        responses = {"2022-23 Q1": 20 + left_out}
        frame = pd.concat(
            [
                counts("first", [("2022-23 Q1", 12, 20)], responses),
                counts("second", [("2022-23 Q1", 9, 15)], responses),
                counts("other", [("2022-23 Q1", 30, 40)], {"2022-23 Q1": 50}),
            ],
            ignore_index=True,
        )
        forms[left_out] = published_forms(measure_report(frame, measures, as_of=AS_OF), measures)
    assert_same_published(forms)
    rows = forms[2]["rows"].set_index("measure")
    for key in ("first", "second"):
        assert (rows.loc[key, "responses"], rows.loc[key, "response_rate"]) == (SUPPRESSED, SUPPRESSED), key
        assert rows.loc[key, "n"] != SUPPRESSED and rows.loc[key, "percent"] != SUPPRESSED
    assert rows.loc["first", "suppression"].startswith("responses withheld")
    assert rows.loc["other", "responses"] == 50
    assert forms[2]["withheld"].set_index(forms[2]["rows"]["measure"]).loc["first", "responses"]


@pytest.mark.parametrize(("responses", "withheld"), [(20, False), (26, False), (21, True), (25, True)])
def test_responses_are_withheld_only_when_those_left_out_number_1_to_5(responses, withheld):
    frame = counts("first", [("2022-23 Q1", 12, 20)], {"2022-23 Q1": responses})
    row = publish(measure_report(frame, MeasureSet((survey_measure("first"),)), as_of=AS_OF), RULES).rows.iloc[0]
    assert (row["responses"] == SUPPRESSED) is withheld


def test_a_small_number_of_responses_beside_a_hidden_base_is_withheld():
    # 1 response and a hidden base would say the base is 1.
    frame = counts("first", [("2022-23 Q1", 1, 1)], {"2022-23 Q1": 1})
    row = publish(measure_report(frame, MeasureSet((survey_measure("first"),)), as_of=AS_OF), RULES).rows.iloc[0]
    assert (row["n"], row["responses"]) == (SUPPRESSED, SUPPRESSED)
    assert row["status"] == status.INSUFFICIENT_DATA
