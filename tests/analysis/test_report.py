"""The measures report: each figure per measure and period, checked against statsmodels, scipy and the seeds.

The counts are built here as the service layer hands them over (one row per
measure and period), so each test says exactly what a board would be shown
for them.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint, proportions_ztest

from analysis import status
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
from analysis.recorded import recorded_counts
from analysis.report import COLUMNS, measure_report, publish
from survey_app.report_formats import to_table, whole_percent

AS_OF = date(2030, 1, 1)
RULES = DisclosureRules()


def survey_measure(key: str = "pathways", polarity: Polarity = Polarity.HIGHER_IS_BETTER, **fields) -> Measure:
    source = SurveySource(
        questionnaires=("send_pathways_information",), question="pathways_information", positive=("good",)
    )
    return Measure(key=key, title="Pathways", definition="Rated good.", polarity=polarity, source=source, **fields)


def recorded_measure(key: str, kind: RecordedKind, accumulation: Accumulation, **fields) -> Measure:
    source = RecordedSource(kind=kind, frequency=PeriodKind.QUARTER, accumulation=accumulation)
    return Measure(
        key=key, title=key, definition="Recorded.", polarity=Polarity.HIGHER_IS_BETTER, source=source, **fields
    )


def counts(measure: str, figures: list[tuple[str, int, int]]) -> pd.DataFrame:
    """Counts for ``measure``: (period key, positives, n) in each row."""
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
            }
        )
    return pd.DataFrame(rows)


def rows_of(measure: Measure, figures: list[tuple[str, int, int]], **options) -> pd.DataFrame:
    report = measure_report(counts(measure.key, figures), MeasureSet((measure,)), as_of=AS_OF, **options)
    return report.rows.set_index("period")


QUARTERS = [f"{year}-{str(year + 1)[2:]} Q{quarter}" for year in range(2021, 2026) for quarter in (1, 2, 3, 4)]


# The seeds' worked figures.


def test_10_of_19_plans_in_20_weeks_is_52_6_percent_reported_as_53_percent():
    # SEND6 is cumulative over the financial year: 3 of 10 in Q1, then 7 of 9 more in Q2.
    send6 = recorded_measure("plans_issued_within_20_weeks", RecordedKind.PROPORTION, Accumulation.CUMULATIVE_YEAR)
    figures = pd.DataFrame(
        {
            "measure": [send6.key, send6.key],
            "period": ["2024-25 Q1", "2024-25 Q2"],
            "numerator": [3, 7],
            "denominator": [10, 9],
            "value": [None, None],
        }
    )
    measures = MeasureSet((send6,))
    counted = recorded_counts(figures, measures, PeriodKind.QUARTER)
    report = measure_report(counted, measures, as_of=AS_OF)
    q2 = report.rows.set_index("period").loc["2024-25 Q2"]
    assert (q2["positives"], q2["n"]) == (10, 19)
    assert round(q2["percent"] * 100, 1) == 52.6
    assert whole_percent(q2["percent"]) == "53%"
    low, high = proportion_confint(10, 19, method="wilson")
    assert (q2["ci_low"], q2["ci_high"]) == pytest.approx((low, high))
    published = publish(report, RULES).rows.set_index("period")
    # Q1's 3 of 10 is a small count; Q2 is shown.
    assert published.loc["2024-25 Q1", "positives"] == SUPPRESSED
    assert published.loc["2024-25 Q1", "percent"] == SUPPRESSED
    assert published.loc["2024-25 Q2", "positives"] == 10 and published.loc["2024-25 Q2", "percent"] == 10 / 19


def test_a_trajectory_from_38_percent_in_november_2021_to_85_percent_on_31_december_2023():
    measure = survey_measure(
        baseline=Baseline(value=0.38, date=date(2021, 11, 30)),
        targets=(Target(0.85, date(2023, 12, 31)), Target(0.95, date(2024, 2, 29))),
    )
    rows = rows_of(measure, [("2022-23 Q4", 60, 100), ("2023-24 Q3", 85, 100), ("2023-24 Q4", 95, 100)])
    # 30 Nov 2021 to 31 Mar 2023 is 486 days of the 761 to 31 Dec 2023.
    assert (date(2023, 3, 31) - date(2021, 11, 30)).days == 486
    assert (date(2023, 12, 31) - date(2021, 11, 30)).days == 761
    expected = 0.38 + (0.85 - 0.38) * 486 / 761
    assert rows.loc["2022-23 Q4", "trajectory"] == pytest.approx(expected)
    assert round(expected * 100, 1) == 68.0
    assert rows.loc["2022-23 Q4", "gap_to_trajectory"] == pytest.approx(0.60 - expected)
    # On 31 December 2023 the plan expects the first target exactly, and after the final target the final one.
    assert rows.loc["2023-24 Q3", "trajectory"] == pytest.approx(0.85)
    assert rows.loc["2023-24 Q4", "trajectory"] == pytest.approx(0.95)
    assert rows.loc["2022-23 Q4", "target"] == 0.85 and rows.loc["2023-24 Q4", "target"] == 0.95


# Status against the trajectory.


def statuses(figures, baseline_n: int | None = 400, polarity=Polarity.HIGHER_IS_BETTER) -> pd.Series:
    """Status per period for a measure from 40% (of ``baseline_n``) on 31 March 2021 to 80% by 31 March 2025."""
    value = 0.4 if polarity is Polarity.HIGHER_IS_BETTER else 0.6
    target = 0.8 if polarity is Polarity.HIGHER_IS_BETTER else 0.2
    measure = survey_measure(
        polarity=polarity,
        baseline=Baseline(value=value, date=date(2021, 3, 31), n=baseline_n),
        targets=(Target(target, date(2025, 3, 31)),),
    )
    return rows_of(measure, figures)["status"]


def test_each_status_follows_its_rule():
    # By the end of 2022-23 (31 March 2023) the trajectory is 60%.
    trajectory = 0.4 + 0.4 * (date(2023, 3, 31) - date(2021, 3, 31)).days / (date(2025, 3, 31) - date(2021, 3, 31)).days
    assert trajectory == pytest.approx(0.6, abs=0.001)
    cases = {
        "green": (61, 100),  # at or above the trajectory
        "light green": (52, 100),  # below it, but the interval reaches it
        "amber": (210, 400),  # significantly below it, significantly above the baseline
        "red": (41, 100),  # significantly below it, no better than the baseline
        "insufficient": (5, 9),
    }
    # The rules checked independently with statsmodels.
    low, high = proportion_confint(52, 100, method="wilson")
    assert 52 / 100 < trajectory < high
    # The baseline is 40% of 400: 160.
    _, high = proportion_confint(210, 400, method="wilson")
    assert high < trajectory
    assert proportions_ztest([210, 160], [400, 400])[1] < 0.05
    _, high = proportion_confint(41, 100, method="wilson")
    assert high < trajectory
    assert proportions_ztest([41, 160], [100, 400])[1] > 0.05
    expected = {
        "green": status.GREEN,
        "light green": status.LIGHT_GREEN,
        "amber": status.AMBER,
        "red": status.RED,
        "insufficient": status.INSUFFICIENT_DATA,
    }
    for name, (positives, n) in cases.items():
        assert statuses([("2022-23 Q4", positives, n)]).iloc[0] == expected[name], name


def test_where_lower_is_better_every_comparison_is_reversed():
    # From 60% to 20%: the trajectory is 40% at the end of 2022-23.
    got = {
        figures: statuses([("2022-23 Q4", *figures)], polarity=Polarity.LOWER_IS_BETTER).iloc[0]
        for figures in [(39, 100), (48, 100), (190, 400), (59, 100)]
    }
    assert got == {
        (39, 100): status.GREEN,
        (48, 100): status.LIGHT_GREEN,
        (190, 400): status.AMBER,
        (59, 100): status.RED,
    }


def test_a_baseline_with_no_known_base_is_tested_as_a_fixed_figure():
    # 49 of 100 against a fixed 40%: the exact binomial test, not a two-sample one.
    measure = survey_measure(baseline=Baseline(value=0.4, date=date(2021, 3, 31)), targets=(Target(0.8, AS_OF),))
    row = rows_of(measure, [("2022-23 Q4", 49, 100)]).iloc[0]
    assert row["change_since_baseline_p"] == pytest.approx(stats.binomtest(49, 100, 0.4).pvalue)
    assert row["change_since_baseline_test"] == "exact binomial test"
    low, high = proportion_confint(49, 100, method="wilson")
    assert (row["change_since_baseline_low"], row["change_since_baseline_high"]) == pytest.approx(
        (low - 0.4, high - 0.4)
    )


def test_completed_when_the_final_target_is_met_in_two_consecutive_periods():
    got = statuses([("2022-23 Q1", 85, 100), ("2022-23 Q2", 70, 100), ("2022-23 Q3", 82, 100), ("2022-23 Q4", 80, 100)])
    # Met in Q1 alone (Green), missed in Q2, then met in Q3 and Q4: Q4 completes it.
    assert got.tolist() == [status.GREEN, status.GREEN, status.GREEN, status.COMPLETED]


def test_the_baseline_period_itself_is_the_baseline():
    measure = survey_measure(baseline=Baseline(value=0.4, date=date(2021, 5, 15), n=100), targets=(Target(0.8, AS_OF),))
    rows = rows_of(measure, [("2021-22 Q1", 40, 100), ("2021-22 Q2", 50, 100)])
    assert rows.loc["2021-22 Q1", "status"] == status.BASELINE
    assert pd.isna(rows.loc["2021-22 Q1", "change_since_baseline"])
    assert rows.loc["2021-22 Q2", "change_since_baseline"] == pytest.approx(0.1)


def test_a_first_wave_baseline_comes_from_the_wave_counts():
    measure = survey_measure(baseline=Baseline(first_wave=True), targets=(Target(0.8, AS_OF),))
    baselines = pd.DataFrame(
        [{"measure": measure.key, "period": "Autumn 2021", "period_end": date(2021, 11, 30), "positives": 30, "n": 80}]
    )
    rows = rows_of(measure, [("2021-22 Q3", 30, 80), ("2022-23 Q3", 45, 90)], baselines=baselines)
    # The quarter the wave fell in is the baseline, not a change from it.
    assert rows.loc["2021-22 Q3", "status"] == status.BASELINE
    assert pd.isna(rows.loc["2021-22 Q3", "change_since_baseline"])
    later = rows.loc["2022-23 Q3"]
    assert later["baseline"] == pytest.approx(30 / 80) and later["baseline_n"] == 80
    assert later["change_since_baseline_p"] == pytest.approx(proportions_ztest([45, 30], [90, 80])[1])


def test_with_targets_and_no_baseline_the_status_says_so():
    measure = survey_measure(targets=(Target(0.8, AS_OF),))
    assert rows_of(measure, [("2022-23 Q4", 50, 100)]).iloc[0]["status"] == status.NO_BASELINE_SET


# Change and direction of travel.


def test_changes_match_statsmodels_on_random_counts():
    rng = np.random.default_rng(20211130)
    measure = survey_measure()
    for _ in range(60):
        n1, n2 = (int(value) for value in rng.integers(20, 400, 2))
        x1, x2 = int(rng.integers(0, n1 + 1)), int(rng.integers(0, n2 + 1))
        row = rows_of(measure, [("2022-23 Q1", x1, n1), ("2022-23 Q2", x2, n2)]).loc["2022-23 Q2"]
        assert row["previous_period"] == "2022-23 Q1"
        assert row["change_since_previous"] == pytest.approx(x2 / n2 - x1 / n1)
        low, high = confint_proportions_2indep(x2, n2, x1, n1, method="newcomb", compare="diff")
        assert (row["change_since_previous_low"], row["change_since_previous_high"]) == pytest.approx((low, high))
        expected = [n2 * (x1 + x2) / (n1 + n2), n1 * (x1 + x2) / (n1 + n2)]
        expected += [n2 - expected[0], n1 - expected[1]]
        if min(expected) < 5:
            assert row["change_since_previous_test"] == "Fisher's exact test"
            p_value = stats.fisher_exact([[x2, n2 - x2], [x1, n1 - x1]]).pvalue
        else:
            assert row["change_since_previous_test"] == "two-proportion z-test"
            p_value = proportions_ztest([x2, x1], [n2, n1])[1]
        assert row["change_since_previous_p"] == pytest.approx(min(1.0, p_value), abs=1e-12)
        significant = p_value < 0.05
        if not significant:
            assert row["direction_of_travel"] == status.NO_SIGNIFICANT_CHANGE
        else:
            assert row["direction_of_travel"] == (status.IMPROVING if x2 / n2 > x1 / n1 else status.DECLINING)


def test_a_rise_is_declining_where_lower_is_better():
    measure = survey_measure(polarity=Polarity.LOWER_IS_BETTER)
    row = rows_of(measure, [("2022-23 Q1", 20, 100), ("2022-23 Q2", 45, 100)]).loc["2022-23 Q2"]
    assert row["direction_of_travel"] == status.DECLINING


def test_a_cumulative_figure_is_compared_with_the_same_period_a_year_before():
    send6 = recorded_measure("send6", RecordedKind.PROPORTION, Accumulation.CUMULATIVE_YEAR)
    rows = rows_of(send6, [("2023-24 Q1", 20, 40), ("2023-24 Q2", 40, 80), ("2024-25 Q1", 30, 40)])
    # Q2 includes Q1's plans, so the two are not compared.
    assert pd.isna(rows.loc["2023-24 Q2", "previous_period"])
    assert rows.loc["2024-25 Q1", "previous_period"] == "2023-24 Q1"
    assert rows.loc["2024-25 Q1", "change_since_previous"] == pytest.approx(0.25)


# Target assurance and benchmarks.


def test_target_assurance_reads_the_interval():
    # The target is due on the last day of the period.
    measure = survey_measure(targets=(Target(0.5, date(2023, 3, 31)),))
    got = {
        figures: rows_of(measure, [("2022-23 Q4", *figures)]).iloc[0]["target_assurance"]
        for figures in [(70, 100), (30, 100), (52, 100)]
    }
    # 70 of 100: Wilson 60.4% to 78.1%, all above 50%; 30: all below; 52: either side.
    assert proportion_confint(70, 100, method="wilson")[0] > 0.5
    assert proportion_confint(30, 100, method="wilson")[1] < 0.5
    assert got == {(70, 100): status.MET_WITH_CONFIDENCE, (30, 100): status.NOT_MET, (52, 100): status.NOT_YET_CLEAR}


def test_benchmarks_are_compared_with_the_exact_binomial_test():
    # The seed's 58.0% national and 59.8% regional figures.
    measure = survey_measure(
        benchmarks=(
            Benchmark("National", 0.58, date(2022, 12, 31), "DfE"),
            Benchmark("Regional", 0.598, date(2022, 12, 31), "DfE"),
        )
    )
    report = measure_report(counts(measure.key, [("2023-24 Q1", 45, 100)]), MeasureSet((measure,)), as_of=AS_OF)
    benchmarks = report.benchmarks.set_index("benchmark")
    for name, value in (("National", 0.58), ("Regional", 0.598)):
        assert benchmarks.loc[name, "p_value"] == pytest.approx(stats.binomtest(45, 100, value).pvalue)
        assert benchmarks.loc[name, "difference"] == pytest.approx(0.45 - value)
    assert stats.binomtest(45, 100, 0.58).pvalue < 0.05
    assert "National 2022: significantly lower (worse)" in report.rows.iloc[0]["benchmarks"]


# Statistical process control.


def test_spc_needs_12_periods():
    measure = survey_measure()
    eleven = rows_of(measure, [(key, 40, 100) for key in QUARTERS[:11]])
    twelve = rows_of(measure, [(key, 40 + i % 3, 100) for i, key in enumerate(QUARTERS[:12])])
    assert eleven["spc_chart"].isna().all()
    assert (twelve["spc_chart"] == "p-chart").all()
    p_bar = sum(40 + i % 3 for i in range(12)) / 1200
    assert twelve["spc_centre"].tolist() == pytest.approx([p_bar] * 12)
    assert twelve["spc_upper_limit"].iloc[0] == pytest.approx(p_bar + 3 * np.sqrt(p_bar * (1 - p_bar) / 100))


def test_cumulative_quarters_get_no_spc_chart():
    send6 = recorded_measure("send6", RecordedKind.PROPORTION, Accumulation.CUMULATIVE_YEAR)
    rows = rows_of(send6, [(key, 40, 100) for key in QUARTERS[:12]])
    assert rows["spc_chart"].isna().all()


# Disclosure control of the report.


def test_publishing_withholds_small_counts_and_what_they_give_away():
    measure = survey_measure(
        baseline=Baseline(value=0.4, date=date(2021, 3, 31)), targets=(Target(0.8, date(2022, 9, 30)),)
    )
    report = measure_report(
        counts(measure.key, [("2022-23 Q1", 30, 60), ("2022-23 Q2", 3, 40), ("2022-23 Q3", 20, 40)]),
        MeasureSet((measure,)),
        as_of=AS_OF,
    )
    published = publish(report, RULES).rows.set_index("period")
    q2, q3 = published.loc["2022-23 Q2"], published.loc["2022-23 Q3"]
    assert q2["positives"] == SUPPRESSED and q2["n"] == 40
    for column in (
        "percent",
        "ci_low",
        "ci_high",
        "change_since_previous",
        "change_since_baseline",
        "target_assurance",
    ):
        assert q2[column] == SUPPRESSED, column
    # Q3 is shown, but its change from the hidden Q2 would give Q2 away.
    assert q3["positives"] == 20 and q3["percent"] == 0.5
    assert q3["change_since_previous"] == SUPPRESSED and q3["change_since_previous_p"] == SUPPRESSED
    assert q3["change_since_baseline"] == pytest.approx(0.1)
    assert published.loc["2022-23 Q1", "suppression"] == ""
    assert q2["suppression"] == "small count"
    # 3 appears nowhere in the published row.
    assert 3 not in [value for value in q2.tolist() if isinstance(value, int)]


def test_a_base_under_the_minimum_shows_counts_without_a_percentage():
    report = measure_report(counts("pathways", [("2022-23 Q1", 7, 7)]), MeasureSet((survey_measure(),)), as_of=AS_OF)
    row = publish(report, RULES).rows.iloc[0]
    assert (row["positives"], row["n"]) == (7, 7)
    assert row["percent"] == SUPPRESSED
    assert row["status"] == status.INSUFFICIENT_DATA


def test_recorded_counts_from_1_to_5_are_hidden():
    plans = recorded_measure("tribunals", RecordedKind.COUNT, Accumulation.PERIOD)
    frame = counts("tribunals", [("2022-23 Q1", 0, 0), ("2022-23 Q2", 0, 0)]).assign(
        positives=None, n=None, value=[4.0, 12.0]
    )
    report = measure_report(frame, MeasureSet((plans,)), as_of=AS_OF)
    published = publish(report, RULES).rows.set_index("period")
    assert published.loc["2022-23 Q1", "value"] == SUPPRESSED
    assert published.loc["2022-23 Q2", "value"] == 12.0


# The report's shape and its input checks.


def test_every_column_in_order_and_later_periods_left_out():
    measure = survey_measure()
    frame = counts(measure.key, [("2022-23 Q1", 30, 60), ("2022-23 Q2", 30, 60)])
    report = measure_report(frame, MeasureSet((measure,)), as_of=date(2022, 6, 30))
    assert report.rows.columns.tolist() == COLUMNS
    assert report.rows["period"].tolist() == ["2022-23 Q1"]


def test_measures_with_no_counts_are_listed():
    columns = ["measure", "period", "period_label", "period_start", "period_end", "positives", "n", "value"]
    report = measure_report(pd.DataFrame(columns=columns), MeasureSet((survey_measure(),)), as_of=AS_OF)
    assert report.rows.empty and report.without_data == ("pathways",)


def test_counts_for_an_unknown_measure_are_refused():
    with pytest.raises(ValueError, match="The counts name measures that are not defined: elsewhere."):
        measure_report(counts("elsewhere", [("2022-23 Q1", 1, 2)]), MeasureSet((survey_measure(),)), as_of=AS_OF)


def test_counts_without_their_columns_are_refused():
    with pytest.raises(ValueError, match="period_end"):
        measure_report(pd.DataFrame({"measure": [], "period": [], "period_start": []}), MeasureSet(()), as_of=AS_OF)


def test_figures_that_do_not_exist_stay_empty_when_a_row_is_withheld():
    # The first period has nothing before it, no trajectory and no benchmark: there is nothing to hide.
    report = measure_report(counts("pathways", [("2022-23 Q1", 3, 40)]), MeasureSet((survey_measure(),)), as_of=AS_OF)
    row = publish(report, RULES).rows.iloc[0]
    assert row["percent"] == SUPPRESSED
    for column in ("change_since_previous", "change_since_previous_p", "gap_to_trajectory", "target_assurance"):
        assert pd.isna(row[column]), column
    assert row["benchmarks"] in ("", None)


# A measure for information only, targets not yet due, and the unit of "responses needed".


def test_a_count_for_information_only_has_no_direction_status_or_value_judgement():
    """Open plans rise every quarter: that is neither declining nor a concern, and it has no status."""
    plans = Measure(
        key="open_ehc_plans",
        title="Open EHC plans",
        definition="Open plans at the end of each quarter.",
        polarity=Polarity.NONE,
        source=RecordedSource(RecordedKind.COUNT, PeriodKind.QUARTER, Accumulation.SNAPSHOT),
        baseline=Baseline(value=2400, date=date(2021, 3, 31)),
        benchmarks=(Benchmark("Statistical neighbours", 2500, date(2021, 3, 31), "DfE"),),
        unit="plans",
    )
    frame = counts(plans.key, [(key, 0, 0) for key in QUARTERS[:14]]).assign(
        positives=None, n=None, value=[2480.0 + 40 * i for i in range(14)]
    )
    report = measure_report(frame, MeasureSet((plans,)), as_of=AS_OF)
    rows = report.rows
    assert set(rows["direction_of_travel"].dropna()) == {status.NOT_RATED}
    assert set(rows["since_baseline"]) == {status.NOT_RATED}
    assert set(rows["status"]) == {status.FOR_INFORMATION}
    assert rows["target_assurance"].isna().all() and rows["trajectory"].isna().all()
    assert set(rows["polarity"]) == {"none"} and set(rows["unit"]) == {"plans"}
    # A steady rise is special cause (a trend, a shift), but not a concern.
    assert set(rows["spc_signal"]) == {"special cause"}
    assert "higher" in rows["benchmarks"].iloc[-1] and "better" not in rows["benchmarks"].iloc[-1]
    published = publish(report, RULES).rows
    assert "declining" not in published.to_csv() and "concern" not in published.to_csv()


def test_a_target_whose_date_is_ahead_is_not_due_yet_and_the_status_reads_the_trajectory():
    measure = survey_measure(
        baseline=Baseline(value=0.4, date=date(2021, 3, 31), n=400), targets=(Target(0.8, date(2025, 3, 31)),)
    )
    rows = rows_of(measure, [("2022-23 Q4", 45, 100), ("2024-25 Q4", 45, 100)])
    early, due = rows.loc["2022-23 Q4"], rows.loc["2024-25 Q4"]
    # 45% two years before the target is behind the trajectory (60% by then), not a target missed.
    assert early["target_assurance"] == status.NOT_DUE_YET
    assert early["trajectory"] == pytest.approx(0.6, abs=0.001)
    assert early["status"] == status.RED
    # On the target's date it is assessed.
    assert due["target_assurance"] == status.NOT_MET


def test_responses_needed_is_in_the_measure_s_unit_and_not_given_for_a_count():
    send6 = Measure(
        key="send6",
        title="Plans in 20 weeks",
        definition="Recorded.",
        polarity=Polarity.HIGHER_IS_BETTER,
        source=RecordedSource(RecordedKind.PROPORTION, PeriodKind.QUARTER, Accumulation.PERIOD),
        targets=(Target(0.5, date(2023, 3, 31)),),
        unit="plans",
    )
    survey = survey_measure(targets=(Target(0.5, date(2023, 3, 31)),))
    measures = MeasureSet((send6, survey))
    frame = pd.concat([counts("send6", [("2022-23 Q4", 52, 100)]), counts("pathways", [("2022-23 Q4", 52, 100)])])
    report = publish(measure_report(frame, measures, as_of=AS_OF), RULES)
    needed = report.rows.set_index("measure")["responses_needed"]
    assert needed["send6"] == needed["pathways"] > 1000
    table = to_table(report, measures, "")
    assert f"(about {needed['send6']:,} plans would tell)" in table
    assert f"(about {needed['pathways']:,} responses would tell)" in table
    tribunals = recorded_measure("tribunals", RecordedKind.COUNT, Accumulation.PERIOD, targets=(Target(5, AS_OF),))
    frame = counts("tribunals", [("2022-23 Q1", 0, 0)]).assign(positives=None, n=None, value=[12.0])
    row = measure_report(frame, MeasureSet((tribunals,)), as_of=AS_OF).rows.iloc[0]
    assert pd.isna(row["responses_needed"]) and row["unit"] == "cases"
