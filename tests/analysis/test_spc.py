"""Statistical process control: XmR charts and p-charts, the four rules, signals and assurance."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis.measures import Polarity
from analysis.spc import (
    BEYOND_LIMIT,
    COMMON_CAUSE,
    CONCERN,
    CONSISTENTLY_FAILS,
    CONSISTENTLY_PASSES,
    IMPROVEMENT,
    INCONSISTENT,
    MINIMUM_POINTS,
    SHIFT,
    SPECIAL_CAUSE,
    TREND,
    TWO_OF_THREE,
    SpcChart,
    p_chart,
    xmr_chart,
)

HIGHER, LOWER = Polarity.HIGHER_IS_BETTER, Polarity.LOWER_IS_BETTER
COLUMNS = [
    "value",
    "centre",
    "lower_limit",
    "upper_limit",
    "lower_near",
    "upper_near",
    "moving_range",
    "rules",
    "signal",
]
# A gentle wave around 0 with every moving range 1: limits at +/- 2.66, near limits at +/- 1.77.
# The rule tests put their constructed points into it.
WAVE = [0, 1, 0, -1] * 6


def xmr(values, polarity: Polarity = HIGHER, target: float | None = None) -> SpcChart:
    return xmr_chart(pd.DataFrame({"figure": values}), "figure", polarity, target)


def wave_with(start: int, inserted: list[float], polarity: Polarity = HIGHER) -> SpcChart:
    values = list(WAVE)
    values[start : start + len(inserted)] = inserted
    return xmr(values, polarity)


def flagged(chart: SpcChart, rule: str) -> list[int]:
    """The positions of the points that trigger ``rule``."""
    return [i for i, rules in enumerate(chart.points["rules"]) if rule in rules.split("; ")]


def limits(chart: SpcChart, position: int = 0) -> tuple[float, float, float, float]:
    row = chart.points.iloc[position]
    return row["lower_limit"], row["lower_near"], row["upper_near"], row["upper_limit"]


# XmR limits


def test_an_xmr_chart_worked_by_hand():
    values = [23, 27, 25, 30, 24, 26, 28, 22, 25, 29, 26, 24]
    chart = xmr(values)
    # Sum 309 over 12; moving ranges 4 2 5 6 2 2 6 3 4 3 2, sum 39 over 11, none above 3.267 x 39/11 = 11.6.
    moving_ranges = np.abs(np.diff(np.array(values, dtype=float)))
    assert moving_ranges.tolist() == [4, 2, 5, 6, 2, 2, 6, 3, 4, 3, 2]
    assert chart.chart == "XmR"
    assert chart.centre == pytest.approx(309 / 12)
    assert chart.average_moving_range == pytest.approx(39 / 11)
    spread = 2.66 * 39 / 11
    points = chart.points
    assert list(points.columns) == COLUMNS
    assert points["value"].tolist() == values
    assert points["centre"].tolist() == pytest.approx([25.75] * 12)
    assert points["lower_limit"].tolist() == pytest.approx([25.75 - spread] * 12)
    assert points["upper_limit"].tolist() == pytest.approx([25.75 + spread] * 12)
    assert points["lower_near"].tolist() == pytest.approx([25.75 - spread * 2 / 3] * 12)
    assert points["upper_near"].tolist() == pytest.approx([25.75 + spread * 2 / 3] * 12)
    assert points["upper_limit"].iloc[0] == pytest.approx(35.1809, abs=1e-4)
    assert math.isnan(points["moving_range"].iloc[0])
    assert points["moving_range"].iloc[1:].tolist() == moving_ranges.tolist()
    assert points["rules"].tolist() == [""] * 12
    assert points["signal"].tolist() == [COMMON_CAUSE] * 12
    assert chart.assurance is None


@pytest.mark.parametrize(
    ("values", "screened_average", "unscreened_average"),
    [
        # A step: one moving range of 29 among ten of 1; 3.267 x 39/11 = 11.6 leaves it out.
        ([10, 11, 10, 11, 10, 11, 40, 41, 40, 41, 40, 41], 1.0, 39 / 11),
        # A spike: moving ranges of 50 and 49 among nine of 1; both above 3.267 x 108/11 = 32.1.
        ([10, 11, 10, 11, 10, 60, 11, 10, 11, 10, 11, 10], 1.0, 108 / 11),
        # Moving ranges nine of 1, one of 10 and one of 100: only the 100 is above 3.267 x 119/11 = 35.3.
        # Without it the average is 19/10, and 10 is above 3.267 x 1.9, but there is only one pass.
        ([0, 1, 0, 1, 0, 1, 11, 10, 11, 10, 110, 109], 1.9, 119 / 11),
    ],
    ids=["step", "spike", "one pass"],
)
def test_huge_moving_ranges_are_screened_out_once(values, screened_average, unscreened_average):
    chart = xmr(values)
    mean = sum(values) / len(values)
    assert np.abs(np.diff(values)).mean() == pytest.approx(unscreened_average)
    assert chart.average_moving_range == pytest.approx(screened_average)
    assert chart.points["lower_limit"].iloc[0] == pytest.approx(mean - 2.66 * screened_average)
    assert chart.points["upper_limit"].iloc[0] == pytest.approx(mean + 2.66 * screened_average)
    assert chart.points["upper_near"].iloc[0] == pytest.approx(mean + 2 / 3 * 2.66 * screened_average)
    assert chart.points["upper_limit"].iloc[0] < mean + 2.66 * unscreened_average - 1
    # The points still show every moving range, screened or not.
    assert chart.points["moving_range"].iloc[1:].tolist() == np.abs(np.diff(values)).tolist()


def test_a_series_that_never_varies_has_its_limits_on_the_mean_and_no_signals():
    chart = xmr([5] * 12, target=5)
    assert chart.average_moving_range == 0
    assert limits(chart) == (5, 5, 5, 5)
    assert chart.points["signal"].tolist() == [COMMON_CAUSE] * 12
    # Every period meets a target equal to its value.
    assert chart.assurance == CONSISTENTLY_PASSES


def test_the_points_keep_the_index_they_were_given():
    periods = [f"2024-Q{quarter}" for quarter in range(1, 5)] + [f"2025-Q{quarter}" for quarter in range(1, 9)]
    data = pd.DataFrame({"figure": range(12)}, index=pd.Index(periods, name="period"))
    chart = xmr_chart(data, "figure", HIGHER)
    assert chart.points.index.equals(data.index)


# The rules


def test_the_wave_the_rule_tests_build_on_has_no_signals():
    chart = xmr(WAVE)
    assert (chart.centre, chart.average_moving_range) == (0, 1)
    assert chart.points["rules"].tolist() == [""] * len(WAVE)


@pytest.mark.parametrize(
    ("inserted", "expected"),
    [([4], [9]), ([-4], [9]), ([2.5], [])],
    ids=["above the upper limit", "below the lower limit", "within the limits"],
)
def test_a_point_beyond_a_limit(inserted, expected):
    chart = wave_with(9, inserted)
    lower, _, _, upper = limits(chart)
    assert (inserted[0] < lower or inserted[0] > upper) == bool(expected)
    assert flagged(chart, BEYOND_LIMIT) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        # Each series has mean 0.
        ([4, -4, 4, -4, 1, 1, 1, 1, 1, 1, 1, -7], list(range(4, 11))),
        ([-4, 4, -4, 4, -1, -1, -1, -1, -1, -1, -1, 7], list(range(4, 11))),
        ([4, -4, 4, -4, 1, 1, 1, 1, 1, 1, 1, 1, 1, -9], list(range(4, 13))),
        ([4, -4, 4, -4, -4, 1, 1, 1, 1, 1, 1, -2], []),
        # A point exactly on the mean breaks the run.
        ([4, -4, 4, -4, 1, 1, 1, 0, 1, 1, 1, -6], []),
    ],
    ids=["7 above", "7 below", "9 above", "6 above", "broken by a point on the mean"],
)
def test_seven_in_a_row_on_one_side_of_the_mean(values, expected):
    chart = xmr(values)
    assert chart.centre == 0
    assert flagged(chart, SHIFT) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([5, 3, 5, 1, 2, 3, 4, 5, 6, 7, 2, 4], list(range(3, 10))),
        ([-5, -3, -5, -1, -2, -3, -4, -5, -6, -7, -2, -4], list(range(3, 10))),
        ([5, 3, 5, 1, 2, 3, 4, 5, 6, 7, 8, 4], list(range(3, 11))),
        # 6 points rising are only 5 rises.
        ([5, 3, 5, 1, 2, 3, 4, 5, 6, 2, 4, 3], []),
        # An equal value breaks the run.
        ([5, 3, 5, 1, 2, 3, 4, 4, 5, 6, 7, 2], []),
    ],
    ids=["7 rising", "7 falling", "8 rising", "6 rising", "broken by an equal value"],
)
def test_seven_in_a_row_rising_or_falling(values, expected):
    assert flagged(xmr(values), TREND) == expected


@pytest.mark.parametrize(
    ("inserted", "expected"),
    [
        ([2.2, 2.2], [9, 10]),
        ([-2.2, -2.2], [9, 10]),
        # The third point is not flagged.
        ([2.2, 1.5, 2.2], [9, 11]),
        ([-2.2, -1.5, -2.2], [9, 11]),
        # One beyond each near limit.
        ([2.2, -2.2], []),
        # Two beyond the upper near limit, but not within 3 points in a row.
        ([2.2, 1.5, 1.5, 2.2], []),
    ],
    ids=["2 of 2 high", "2 of 2 low", "2 of 3 high", "2 of 3 low", "one each side", "2 of 4"],
)
def test_two_of_three_beyond_the_near_limit_on_the_same_side(inserted, expected):
    chart = wave_with(9, inserted)
    lower, lower_near, upper_near, upper = limits(chart)
    # The constructed points at +/- 2.2 are between the near limit and the
    # limit on their side (the limits move a little with what is inserted);
    # those at 1.5 are within the near limits.
    for value in inserted:
        if value == 2.2:
            assert upper_near < value < upper
        elif value == -2.2:
            assert lower < value < lower_near
        else:
            assert lower_near < value < upper_near
    assert flagged(chart, TWO_OF_THREE) == expected


def test_a_point_beyond_a_limit_counts_towards_two_of_three():
    chart = wave_with(9, [3.6, 2.4])
    lower, lower_near, upper_near, upper = limits(chart)
    assert upper_near < 2.4 < upper < 3.6
    assert chart.points["rules"].iloc[9] == f"{BEYOND_LIMIT}; {TWO_OF_THREE}"
    assert chart.points["rules"].iloc[10] == TWO_OF_THREE
    assert flagged(chart, TWO_OF_THREE) == [9, 10]


def test_the_rules_each_point_triggers_are_joined_in_the_order_they_are_listed():
    # A fall of 7 from above the upper limit, all above the mean.
    chart = wave_with(9, [4, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    rules = chart.points["rules"]
    assert rules.iloc[9] == f"{BEYOND_LIMIT}; {SHIFT}; {TREND}"
    assert rules.iloc[10:16].tolist() == [f"{SHIFT}; {TREND}"] * 6
    assert rules.iloc[16] == TREND
    assert rules.iloc[:9].tolist() == [""] * 9


# Signals


@pytest.mark.parametrize(
    ("start", "inserted", "position", "high"),
    [
        (9, [4], 9, True),
        (9, [-4], 9, False),
        (9, [2.2, 1.5, 2.2], 11, True),
        (9, [-2.2, -1.5, -2.2], 11, False),
        (9, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7], 9, True),
        (9, [0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1], 15, False),
    ],
    ids=["beyond upper", "beyond lower", "2 of 3 high", "2 of 3 low", "rising", "falling"],
)
@pytest.mark.parametrize("polarity", [HIGHER, LOWER])
def test_the_same_special_cause_is_an_improvement_for_one_polarity_and_a_concern_for_the_other(
    start, inserted, position, high, polarity
):
    chart = wave_with(start, inserted, polarity)
    assert chart.points["rules"].iloc[position] != ""
    good = high == (polarity is HIGHER)
    assert chart.points["signal"].iloc[position] == (IMPROVEMENT if good else CONCERN)
    assert chart.points["signal"].iloc[0] == COMMON_CAUSE


@pytest.mark.parametrize(
    ("start", "inserted", "position"),
    [(9, [4], 9), (9, [-4], 9), (9, [2.2, 1.5, 2.2], 11), (9, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7], 9)],
    ids=["beyond upper", "beyond lower", "2 of 3 high", "rising"],
)
def test_a_measure_for_information_only_has_special_cause_without_improvement_or_concern(start, inserted, position):
    chart = wave_with(start, inserted, Polarity.NONE)
    assert chart.points["rules"].iloc[position] != ""
    assert chart.points["signal"].iloc[position] == SPECIAL_CAUSE
    assert set(chart.points["signal"]) == {SPECIAL_CAUSE, COMMON_CAUSE}
    # The same rules flag the same points as for a rated measure.
    assert chart.points["rules"].tolist() == wave_with(start, inserted, HIGHER).points["rules"].tolist()
    counts = pd.DataFrame({"x": [40 + (5 if i == 9 else 0) for i in range(14)], "n": [50] * 14})
    assert set(p_chart(counts, "x", "n", "none").points["signal"]) <= {SPECIAL_CAUSE, COMMON_CAUSE}


def test_a_measure_for_information_only_has_no_target_to_assure():
    with pytest.raises(ValueError, match="for information only"):
        xmr(WAVE, Polarity.NONE, target=1)


def test_shift_and_a_point_beyond_a_limit_decide_the_direction_over_a_trend():
    # A fall of 7 from above the upper limit, all above the mean, then one more fall to 0 below it.
    chart = wave_with(9, [4, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    assert chart.points["signal"].iloc[9:16].tolist() == [IMPROVEMENT] * 7
    assert chart.points["signal"].iloc[16] == CONCERN
    assert chart.points["value"].iloc[16] < chart.centre


def test_two_of_three_decides_the_direction_over_a_trend():
    # A fall of 7 that starts beyond the upper near limit and crosses the mean after 4 points.
    chart = wave_with(9, [2.3, 2.2, 1.0, 0.2, -0.2, -0.5, -0.8])
    assert flagged(chart, SHIFT) == []
    assert flagged(chart, TWO_OF_THREE) == [9, 10]
    assert flagged(chart, TREND) == list(range(9, 16))
    assert chart.points["signal"].iloc[9:16].tolist() == [IMPROVEMENT] * 2 + [CONCERN] * 5


def test_a_peak_between_a_rise_and_a_fall_takes_the_direction_of_the_fall():
    chart = wave_with(6, [-0.7, -0.6, -0.5, -0.4, -0.3, -0.2, 0.4, -0.2, -0.3, -0.4, -0.5, -0.6, -0.7])
    assert flagged(chart, TREND) == list(range(6, 20))
    assert chart.points["rules"].iloc[12] == TREND
    assert chart.points["signal"].iloc[6:12].tolist() == [IMPROVEMENT] * 6
    assert chart.points["signal"].iloc[12:20].tolist() == [CONCERN] * 8


def test_a_polarity_may_be_given_by_its_name():
    chart = xmr_chart(pd.DataFrame({"figure": WAVE[:9] + [4] + WAVE[10:]}), "figure", "lower_is_better")
    assert chart.points["signal"].iloc[9] == CONCERN


def naive_rules(points: pd.DataFrame) -> list[str]:
    """The rules straight from their definitions, window by window."""
    values = points["value"].to_numpy()
    centre = points["centre"].to_numpy()
    count = len(values)
    high = values > points["upper_near"].to_numpy()
    low = values < points["lower_near"].to_numpy()
    shift, trend, two_of_three = set(), set(), set()
    for start in range(count - 6):
        window = range(start, start + 7)
        if all(values[i] > centre[i] for i in window) or all(values[i] < centre[i] for i in window):
            shift.update(window)
        if all(values[i] > values[i - 1] for i in window[1:]) or all(values[i] < values[i - 1] for i in window[1:]):
            trend.update(window)
    for start in range(count - 2):
        window = range(start, start + 3)
        for beyond in (high, low):
            if sum(beyond[i] for i in window) >= 2:
                two_of_three.update(i for i in window if beyond[i])
    rules = []
    for i in range(count):
        names = []
        if values[i] > points["upper_limit"].iloc[i] or values[i] < points["lower_limit"].iloc[i]:
            names.append(BEYOND_LIMIT)
        names += [name for name, where in ((SHIFT, shift), (TREND, trend), (TWO_OF_THREE, two_of_three)) if i in where]
        rules.append("; ".join(names))
    return rules


def random_series(rng: np.random.Generator) -> np.ndarray:
    """Whole numbers with ties, points on the mean, runs and trends."""
    count = int(rng.integers(MINIMUM_POINTS, 40))
    if rng.random() < 0.5:
        return rng.integers(0, 5, count).astype(float)
    steps = rng.choice([-1, 0, 1], size=count, p=rng.dirichlet([1, 1, 1]))
    return np.cumsum(steps).astype(float)


def test_the_rules_match_their_definitions_on_many_random_series():
    rng = np.random.default_rng(20240401)
    seen = dict.fromkeys((BEYOND_LIMIT, SHIFT, TREND, TWO_OF_THREE), 0)
    for _ in range(400):
        values = random_series(rng)
        if rng.random() < 0.5:
            chart = xmr(values)
        else:
            bases = rng.integers(5, 200, len(values))
            positives = np.minimum(bases, rng.binomial(bases, rng.uniform(0.05, 0.95)) + values.astype(int) % 3)
            chart = p_chart(pd.DataFrame({"positives": positives, "n": bases}), "positives", "n", HIGHER)
        assert chart.points["rules"].tolist() == naive_rules(chart.points)
        for rules in chart.points["rules"]:
            for rule in filter(None, rules.split("; ")):
                seen[rule] += 1
        signals = chart.points["signal"]
        assert ((signals == COMMON_CAUSE) == (chart.points["rules"] == "")).all()
    assert min(seen.values()) >= 20, seen


# p-charts

POSITIVES = [5, 14, 31, 58, 9, 25, 41, 19, 6, 37, 24, 22]
BASES = [20, 50, 100, 200, 40, 80, 150, 60, 30, 120, 90, 70]


def counts(positives, bases) -> pd.DataFrame:
    return pd.DataFrame({"positives": positives, "n": bases})


@pytest.mark.parametrize("complement", [False, True], ids=["clipped at 0", "clipped at 1"])
def test_a_p_chart_worked_by_hand(complement):
    positives = [n - x for x, n in zip(POSITIVES, BASES, strict=True)] if complement else POSITIVES
    chart = p_chart(counts(positives, BASES), "positives", "n", HIGHER)
    # 291 of 1010 in all (or the other 719).
    p_bar = (719 if complement else 291) / 1010
    assert chart.chart == "p-chart"
    assert chart.centre == pytest.approx(p_bar)
    assert chart.average_moving_range is None
    bases = np.array(BASES, dtype=float)
    sigma = np.sqrt(p_bar * (1 - p_bar) / bases)
    points = chart.points
    assert list(points.columns) == COLUMNS
    assert points["value"].to_numpy() == pytest.approx(np.array(positives) / bases)
    assert points["centre"].tolist() == pytest.approx([p_bar] * 12)
    assert points["lower_limit"].to_numpy() == pytest.approx(np.clip(p_bar - 3 * sigma, 0, 1))
    assert points["upper_limit"].to_numpy() == pytest.approx(np.clip(p_bar + 3 * sigma, 0, 1))
    assert points["lower_near"].to_numpy() == pytest.approx(np.clip(p_bar - 2 * sigma, 0, 1))
    assert points["upper_near"].to_numpy() == pytest.approx(np.clip(p_bar + 2 * sigma, 0, 1))
    assert points["moving_range"].isna().all()
    # At 20 responses three standard errors (3 x 0.10127) are more than the distance to the nearer end (0.288).
    sigma_20 = math.sqrt(p_bar * (1 - p_bar) / 20)
    assert sigma_20 == pytest.approx(0.10127, abs=1e-5)
    if complement:
        assert p_bar + 3 * sigma_20 > 1 and points["upper_limit"].iloc[0] == 1
        assert points["lower_limit"].iloc[0] == pytest.approx(p_bar - 3 * sigma_20)
    else:
        assert p_bar - 3 * sigma_20 < 0 and points["lower_limit"].iloc[0] == 0
        assert points["upper_limit"].iloc[0] == pytest.approx(p_bar + 3 * sigma_20)
    assert points["signal"].tolist() == [COMMON_CAUSE] * 12


def test_near_limits_are_clipped_too():
    # 1 in 10 over 12 periods: two standard errors at 10 (0.19) are more than p-bar.
    chart = p_chart(counts([1] * 12, [10] * 12), "positives", "n", LOWER)
    assert chart.centre == pytest.approx(0.1)
    assert chart.points["lower_near"].tolist() == [0.0] * 12
    assert chart.points["upper_near"].tolist() == pytest.approx([0.1 + 2 * math.sqrt(0.09 / 10)] * 12)


def test_a_p_chart_judges_each_point_by_its_own_base():
    # Alternating 45 and 55 in 100; 56% of 1000, 44% of 1000 and 56% of 25.
    positives = [45, 55, 45, 560, 55, 45, 440, 55, 14, 45, 55, 45, 55]
    bases = [100, 100, 100, 1000, 100, 100, 1000, 100, 25, 100, 100, 100, 100]
    chart = p_chart(counts(positives, bases), "positives", "n", HIGHER)
    p_bar = sum(positives) / sum(bases)
    assert chart.centre == pytest.approx(p_bar)
    assert chart.points["upper_limit"].iloc[3] == pytest.approx(p_bar + 3 * math.sqrt(p_bar * (1 - p_bar) / 1000))
    assert chart.points["upper_limit"].iloc[3] < 0.56 < chart.points["upper_near"].iloc[8]
    assert flagged(chart, BEYOND_LIMIT) == [3, 6]
    assert chart.points["signal"].iloc[[3, 6, 8]].tolist() == [IMPROVEMENT, CONCERN, COMMON_CAUSE]
    assert chart.points["rules"].iloc[8] == ""


def test_two_of_three_on_a_p_chart_uses_each_points_near_limit():
    # 62 in 100 is beyond the near limit at 100 (0.60) but not at 50 (0.641).
    positives = [50, 50, 62, 50, 62, 50, 50, 31, 50, 38, 50, 38, 50, 50]
    bases = [100, 100, 100, 100, 100, 100, 100, 50, 100, 100, 100, 100, 100, 100]
    chart = p_chart(counts(positives, bases), "positives", "n", HIGHER)
    assert chart.points["upper_near"].iloc[2] < 0.62 < chart.points["upper_near"].iloc[7] + 0.02
    assert flagged(chart, TWO_OF_THREE) == [2, 4, 9, 11]
    lower_near = chart.points["lower_near"]
    assert chart.points["value"].iloc[9] < lower_near.iloc[9] and chart.points["value"].iloc[7] > lower_near.iloc[7]


# Assurance


@pytest.mark.parametrize(
    ("where", "higher_is_better", "lower_is_better"),
    [
        ("below the lower limit", CONSISTENTLY_PASSES, CONSISTENTLY_FAILS),
        ("on the lower limit", CONSISTENTLY_PASSES, CONSISTENTLY_FAILS),
        ("on the mean", INCONSISTENT, INCONSISTENT),
        ("on the upper limit", CONSISTENTLY_FAILS, CONSISTENTLY_PASSES),
        ("above the upper limit", CONSISTENTLY_FAILS, CONSISTENTLY_PASSES),
    ],
)
@pytest.mark.parametrize("chart_kind", ["XmR", "p-chart"])
def test_assurance_against_a_target(where, higher_is_better, lower_is_better, chart_kind):
    def chart(polarity: Polarity, target: float | None) -> SpcChart:
        if chart_kind == "XmR":
            return xmr([23, 27, 25, 30, 24, 26, 28, 22, 25, 29, 26, 24], polarity, target)
        return p_chart(counts(POSITIVES, BASES), "positives", "n", polarity, target)

    plain = chart(HIGHER, None)
    lower, _, _, upper = limits(plain, -1)
    target = {
        "below the lower limit": lower - 0.01,
        "on the lower limit": lower,
        "on the mean": plain.centre,
        "on the upper limit": upper,
        "above the upper limit": upper + 0.01,
    }[where]
    assert plain.assurance is None
    assert chart(HIGHER, target).assurance == higher_is_better
    assert chart(LOWER, target).assurance == lower_is_better


@pytest.mark.parametrize(("polarity", "expected"), [(HIGHER, CONSISTENTLY_PASSES), (LOWER, CONSISTENTLY_FAILS)])
def test_a_p_chart_assures_by_the_limits_at_its_last_point(polarity, expected):
    # The last period has 1000 responses, the others 20: its limits are the narrowest.
    positives = [10] * 11 + [500]
    bases = [20] * 11 + [1000]
    plain = p_chart(counts(positives, bases), "positives", "n", polarity)
    first_lower, last_lower = plain.points["lower_limit"].iloc[0], plain.points["lower_limit"].iloc[-1]
    target = last_lower - 0.01
    assert first_lower < target < last_lower
    assert p_chart(counts(positives, bases), "positives", "n", polarity, target).assurance == expected


# Input


def test_fewer_than_twelve_points_are_refused():
    with pytest.raises(
        ValueError, match=r"^An SPC chart needs at least 12 points \(periods\), but there are only 11\.$"
    ):
        xmr(list(range(11)))
    with pytest.raises(ValueError, match="at least 12 points"):
        p_chart(counts([1] * 11, [2] * 11), "positives", "n", HIGHER)
    with pytest.raises(ValueError, match="there is only 1\\.$"):
        xmr([1])


def test_a_missing_column_is_named():
    with pytest.raises(ValueError, match="^The column 'rate' is missing.$"):
        xmr_chart(pd.DataFrame({"figure": range(12)}), "rate", HIGHER)
    with pytest.raises(ValueError, match="^The column 'n' is missing.$"):
        p_chart(pd.DataFrame({"positives": range(12)}), "positives", "n", HIGHER)


def test_a_missing_value_is_found_by_its_row():
    values = [float(value) for value in range(12)]
    values[3] = math.nan
    with pytest.raises(ValueError, match="^The figure is missing in row 3.$"):
        xmr(values)
    with pytest.raises(ValueError, match="^The n is missing in row 5.$"):
        p_chart(counts([1] * 12, [2] * 5 + [None] + [2] * 6), "positives", "n", HIGHER)
    with pytest.raises(ValueError, match="^The figure must be a number in row 0, not 'ten'.$"):
        xmr(["ten"] + [1] * 11)
    with pytest.raises(ValueError, match="^The figure must be a finite number in row 1, not inf.$"):
        xmr([1, math.inf] + [1] * 10)


@pytest.mark.parametrize(
    ("positives", "bases", "message"),
    [
        ([1] * 4 + [12] + [1] * 7, [10] * 12, r"^The positives cannot be more than n in row 4 \(12 out of 10\)\.$"),
        ([1] * 12, [10, 0] + [10] * 10, r"^The n must be more than 0 in row 1\.$"),
        ([1] * 12, [10, 10.5] + [10] * 10, r"^The n must be a whole number in row 1, not 10\.5\.$"),
        ([1, -1] + [1] * 10, [10] * 12, r"^The positives cannot be negative in row 1 \(-1\)\.$"),
    ],
    ids=["positives over n", "n of 0", "n not whole", "negative positives"],
)
def test_p_chart_counts_are_checked(positives, bases, message):
    with pytest.raises(ValueError, match=message):
        p_chart(counts(positives, bases), "positives", "n", HIGHER)


def test_targets_are_checked():
    with pytest.raises(
        ValueError, match=r"^The target of a p-chart must be a proportion between 0 and 1, not 45\.0\.$"
    ):
        p_chart(counts(POSITIVES, BASES), "positives", "n", HIGHER, 45)
    with pytest.raises(ValueError, match="^The target must be a number, not nan.$"):
        xmr(WAVE, target=math.nan)
    assert xmr(WAVE, target=45).assurance == CONSISTENTLY_FAILS
