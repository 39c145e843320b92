"""Proportions, intervals, comparisons and sample sizes, checked against statsmodels, scipy and worked examples.

Most tests run over a few hundred counts drawn by a seeded generator, with
the awkward cases (0 of n, n of n, a base of 1) always included, and compare
the module with an independent implementation: statsmodels for the Wilson and
Newcombe intervals, the pooled z-test and the power calculation, scipy for
Fisher's exact and the exact binomial test. Published figures from Newcombe
(1998) and hand-worked arithmetic pin the results down without any library.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    proportion_effectsize,
    proportions_ztest,
)

from analysis.proportions import (
    BINOMIAL,
    FISHER,
    SMALL_EXPECTED_COUNT,
    Z_TEST,
    AgainstValue,
    Comparison,
    Interval,
    against_value,
    compare,
    difference_interval,
    expected_counts,
    proportion,
    responses_needed,
    wilson_interval,
)

# Exact limits are compared to within floating-point noise.
CLOSE = {"rel": 1e-9, "abs": 1e-12}

CONFIDENCES = [0.95, 0.95, 0.95, 0.8, 0.9, 0.99, 0.999]


def _count(rng: np.random.Generator) -> tuple[int, int]:
    """A base from small, middling or large surveys, and a number of positives often at or near the ends."""
    n = int(rng.integers(1, (20, 300, 20_000)[rng.integers(3)] + 1))
    if rng.random() < 0.25:
        return int(rng.choice([0, 1, n - 1, n])), n
    return int(rng.integers(0, n + 1)), n


def _one_sample_cases() -> list[tuple[int, int, float]]:
    rng = np.random.default_rng(20_240_501)
    edges = [(0, 1), (1, 1), (0, 2), (1, 2), (2, 2), (0, 19), (10, 19), (19, 19), (1, 5000), (0, 5000), (5000, 5000)]
    cases = [(x, n, 0.95) for x, n in edges]
    cases += [(*_count(rng), float(rng.choice(CONFIDENCES))) for _ in range(300)]
    return cases


def _two_sample_cases() -> list[tuple[int, int, int, int, float]]:
    rng = np.random.default_rng(20_240_502)
    edges = [
        (0, 1, 0, 1),
        (1, 1, 0, 1),
        (1, 1, 1, 1),
        (0, 10, 0, 20),
        (10, 10, 20, 20),
        (10, 10, 0, 20),
        (0, 50, 50, 50),
        (10, 19, 10, 19),
        (1, 2, 1, 2),
    ]
    cases = [(*edge, 0.95) for edge in edges]
    cases += [(*_count(rng), *_count(rng), float(rng.choice(CONFIDENCES))) for _ in range(300)]
    return cases


ONE_SAMPLE = _one_sample_cases()
TWO_SAMPLE = _two_sample_cases()


def _ids(cases):
    return [f"{'-'.join(map(str, case[:-1]))}@{case[-1]}" for case in cases]


# Wilson score interval for one proportion


@pytest.mark.parametrize(("x", "n", "confidence"), ONE_SAMPLE, ids=_ids(ONE_SAMPLE))
def test_wilson_interval_matches_statsmodels_and_scipy(x, n, confidence):
    low, high = proportion_confint(x, n, alpha=1 - confidence, method="wilson")
    scipy_interval = stats.binomtest(x, n).proportion_ci(confidence_level=confidence, method="wilson")

    got = wilson_interval(x, n, confidence)

    assert got.low == pytest.approx(low, **CLOSE)
    assert got.high == pytest.approx(high, **CLOSE)
    assert got.low == pytest.approx(scipy_interval.low, **CLOSE)
    assert got.high == pytest.approx(scipy_interval.high, **CLOSE)
    assert 0 <= got.low <= x / n <= got.high <= 1
    assert got.contains(x / n)


@pytest.mark.parametrize(("x", "n", "confidence"), ONE_SAMPLE, ids=_ids(ONE_SAMPLE))
def test_proportion_gives_the_share_and_its_wilson_interval(x, n, confidence):
    estimate = proportion(x, n, confidence)

    assert (estimate.positives, estimate.n) == (x, n)
    assert estimate.value == x / n
    assert estimate.interval == wilson_interval(x, n, confidence)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 19, 100, 999, 10_000, 1_000_000])
def test_wilson_limits_are_exactly_0_and_1_at_the_ends(n):
    # Analytically the lower limit of 0 of n is 0 and the upper limit of n of n is 1; rounding must not move them.
    assert wilson_interval(0, n).low == 0.0
    assert wilson_interval(n, n).high == 1.0
    assert 0 < wilson_interval(0, n).high < 1
    assert 0 < wilson_interval(n, n).low < 1


def test_wilson_interval_by_hand_for_10_of_19():
    # z = 1.959964, z^2 = 3.841459, p = 10/19 = 0.526316, z^2/n = 0.202182
    # centre = (p + z^2/2n) / (1 + z^2/n) = (0.526316 + 0.101091) / 1.202182 = 0.521890
    # half = z / (1 + z^2/n) * sqrt(p(1-p)/n + z^2/4n^2) = 1.630339 * sqrt(0.013120 + 0.002660) = 0.204812
    interval = wilson_interval(10, 19)
    assert interval.low == pytest.approx(0.521890 - 0.204812, abs=2e-6)
    assert interval.high == pytest.approx(0.521890 + 0.204812, abs=2e-6)


def test_wilson_interval_published_example():
    # Newcombe (1998), "Two-sided confidence intervals for the single proportion", Table I: 81/263, 0.2553 to 0.3662.
    interval = wilson_interval(81, 263)
    assert (round(interval.low, 4), round(interval.high, 4)) == (0.2553, 0.3662)


def test_wilson_interval_narrows_as_confidence_falls():
    wide, usual, narrow = (wilson_interval(10, 19, level) for level in (0.99, 0.95, 0.8))
    assert wide.low < usual.low < narrow.low < 10 / 19 < narrow.high < usual.high < wide.high


def test_a_base_of_zero_has_no_proportion():
    estimate = proportion(0, 0)
    assert (estimate.positives, estimate.n) == (0, 0)
    assert math.isnan(estimate.value)
    assert math.isnan(estimate.interval.low) and math.isnan(estimate.interval.high)
    assert math.isnan(wilson_interval(0, 0).low)


def test_worked_figure_10_of_19_is_52_6_percent():
    # The seeds' worked figure: 10 of 19 plans within 20 weeks = 52.6%, reported as 53% (10/19 = 0.526315...).
    # The whole-percent wording is survey_app.report_formats.whole_percent; nothing in analysis formats numbers.
    estimate = proportion(10, 19)
    assert estimate.value == pytest.approx(0.5263158, abs=1e-7)
    assert f"{estimate.value * 100:.1f}" == "52.6"
    assert round(estimate.value * 100) == 53
    assert estimate.interval.contains(0.53)


def test_whole_floats_and_numpy_integers_are_counts():
    assert proportion(3.0, 4.0) == proportion(3, 4)
    assert proportion(np.int64(3), np.int32(4)) == proportion(3, 4)
    assert isinstance(proportion(3.0, 4.0).positives, int)


# Newcombe's interval for a difference


@pytest.mark.parametrize(("x1", "n1", "x2", "n2", "confidence"), TWO_SAMPLE, ids=_ids(TWO_SAMPLE))
def test_difference_interval_matches_statsmodels_newcombe(x1, n1, x2, n2, confidence):
    # statsmodels' interval is for p1 - p2, the same way round as the module's.
    low, high = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff", alpha=1 - confidence)

    got = difference_interval(x1, n1, x2, n2, confidence)

    assert got.low == pytest.approx(low, **CLOSE)
    assert got.high == pytest.approx(high, **CLOSE)
    assert -1 <= got.low <= x1 / n1 - x2 / n2 <= got.high <= 1


@pytest.mark.parametrize(("x1", "n1", "x2", "n2", "confidence"), TWO_SAMPLE[:60], ids=_ids(TWO_SAMPLE[:60]))
def test_swapping_the_two_counts_mirrors_the_difference(x1, n1, x2, n2, confidence):
    forward = compare(x1, n1, x2, n2, confidence)
    backward = compare(x2, n2, x1, n1, confidence)

    assert backward.difference == pytest.approx(-forward.difference, abs=1e-15)
    assert backward.interval.low == pytest.approx(-forward.interval.high, **CLOSE)
    assert backward.interval.high == pytest.approx(-forward.interval.low, **CLOSE)
    assert backward.p_value == pytest.approx(forward.p_value, **CLOSE)
    assert backward.test == forward.test


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2", "low", "high"),
    [
        # Newcombe (1998), "Interval estimation for the difference between independent proportions",
        # Table II, method 10 (hybrid score interval), limits to four decimal places.
        (56, 70, 48, 80, 0.0524, 0.3339),
        (9, 10, 3, 10, 0.1705, 0.8090),
        (6, 7, 2, 7, 0.0582, 0.8062),
        (5, 56, 0, 29, -0.0381, 0.1926),
        (0, 10, 0, 20, -0.1611, 0.2775),
        (0, 10, 0, 10, -0.2775, 0.2775),
        (10, 10, 0, 20, 0.6791, 1.0000),
        (10, 10, 0, 10, 0.6075, 1.0000),
    ],
)
def test_difference_interval_published_examples(x1, n1, x2, n2, low, high):
    interval = difference_interval(x1, n1, x2, n2)
    assert (round(interval.low, 4), round(interval.high, 4)) == (low, high)


def test_the_difference_is_the_first_minus_the_second():
    # 9/10 - 3/10 = 0.6: the first count is the later period (or the group of interest).
    comparison = compare(9, 10, 3, 10)
    assert comparison.difference == pytest.approx(0.6)
    assert comparison.interval.low > 0
    assert compare(3, 10, 9, 10).difference == pytest.approx(-0.6)


@pytest.mark.parametrize(("x1", "n1", "x2", "n2"), [(0, 0, 3, 10), (3, 10, 0, 0), (0, 0, 0, 0)])
def test_no_comparison_without_a_base_on_both_sides(x1, n1, x2, n2):
    comparison = compare(x1, n1, x2, n2)
    assert math.isnan(comparison.difference) and math.isnan(comparison.p_value)
    assert math.isnan(comparison.interval.low) and math.isnan(comparison.interval.high)
    assert comparison.test == ""
    assert not comparison.significant()
    assert math.isnan(difference_interval(x1, n1, x2, n2).low)


# The test of a change: pooled z-test, or Fisher's exact test for small expected counts


@pytest.mark.parametrize(("x1", "n1", "x2", "n2", "confidence"), TWO_SAMPLE, ids=_ids(TWO_SAMPLE))
def test_expected_counts_match_scipy(x1, n1, x2, n2, confidence):
    table = np.array([[x1, n1 - x1], [x2, n2 - x2]])
    expected = stats.contingency.expected_freq(table).ravel()
    assert expected_counts(x1, n1, x2, n2) == pytest.approx(expected, **CLOSE)


@pytest.mark.parametrize(("x1", "n1", "x2", "n2", "confidence"), TWO_SAMPLE, ids=_ids(TWO_SAMPLE))
def test_compare_uses_the_z_test_or_fishers_exact_test_as_scipy_and_statsmodels_do(x1, n1, x2, n2, confidence):
    table = [[x1, n1 - x1], [x2, n2 - x2]]
    smallest_expected = stats.contingency.expected_freq(np.array(table)).min()

    comparison = compare(x1, n1, x2, n2, confidence)

    assert comparison.difference == pytest.approx(x1 / n1 - x2 / n2, abs=1e-15)
    assert comparison.interval == difference_interval(x1, n1, x2, n2, confidence)
    assert 0 <= comparison.p_value <= 1
    if smallest_expected < 5:
        assert comparison.test == FISHER
        assert comparison.p_value == pytest.approx(min(1.0, stats.fisher_exact(table).pvalue), **CLOSE)
    else:
        assert comparison.test == Z_TEST
        # proportions_ztest pools the two proportions for the variance by default (prop_var=False).
        statistic, p_value = proportions_ztest([x1, x2], [n1, n2])
        assert comparison.p_value == pytest.approx(p_value, **CLOSE)
        # The pooled z-test squared is the uncorrected chi-square test of the 2 x 2 table.
        chi_square = stats.chi2_contingency(table, correction=False)
        assert statistic**2 == pytest.approx(chi_square.statistic, rel=1e-9)
        assert comparison.p_value == pytest.approx(chi_square.pvalue, **CLOSE)


def test_the_random_cases_exercise_both_tests():
    tests = [compare(x1, n1, x2, n2).test for x1, n1, x2, n2, _ in TWO_SAMPLE]
    assert tests.count(FISHER) >= 50
    assert tests.count(Z_TEST) >= 50


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2", "test"),
    [
        # 10 of 20 positive in all: every expected count is 10 x 10/20 = 5, not under 5, so the z-test.
        (7, 10, 3, 10, Z_TEST),
        (5, 10, 5, 10, Z_TEST),
        # 9 of 20 positive: expected positives 10 x 9/20 = 4.5 in each group, under 5, so Fisher.
        (6, 10, 3, 10, FISHER),
        # 11 of 20: expected others 10 x 9/20 = 4.5.
        (8, 10, 3, 10, FISHER),
        # 20 of 40, bases 30 and 10: expected 15, 15, 5, 5, so the z-test.
        (18, 30, 2, 10, Z_TEST),
        # 19 of 40: expected positives in the second group 10 x 19/40 = 4.75, so Fisher.
        (17, 30, 2, 10, FISHER),
        # 21 of 40: expected others in the second group 10 x 19/40 = 4.75, so Fisher.
        (19, 30, 2, 10, FISHER),
    ],
)
def test_fishers_exact_test_takes_over_exactly_when_an_expected_count_is_under_5(x1, n1, x2, n2, test):
    assert SMALL_EXPECTED_COUNT == 5
    smallest = min(expected_counts(x1, n1, x2, n2))
    assert (smallest < 5) == (test == FISHER)
    assert compare(x1, n1, x2, n2).test == test


def test_z_test_by_hand():
    # 56/70 against 48/80: pooled p = 104/150 = 0.693333, se = sqrt(0.693333 x 0.306667 x (1/70 + 1/80)) = 0.075467,
    # z = 0.2 / 0.075467 = 2.6502, two-sided p = 2 x (1 - Phi(2.6502)) = 0.00805.
    comparison = compare(56, 70, 48, 80)
    assert comparison.test == Z_TEST
    assert comparison.p_value == pytest.approx(0.00805, abs=5e-5)
    assert comparison.significant()
    assert not comparison.significant(0.005)


def test_fishers_exact_test_by_hand():
    # 1 of 1 against 0 of 1: the only tables with these margins are [[1, 0], [0, 1]] and [[0, 1], [1, 0]],
    # each with probability 1/2, so the two-sided p-value is 1.
    comparison = compare(1, 1, 0, 1)
    assert comparison.test == FISHER
    assert comparison.p_value == pytest.approx(1.0)
    # 3 of 3 against 0 of 3: P = 1 / C(6, 3) = 1/20 for this table and the same for its mirror image: p = 0.1.
    assert compare(3, 3, 0, 3).p_value == pytest.approx(0.1)
    assert not compare(3, 3, 0, 3).significant()


def test_significance_is_strictly_below_the_level():
    assert Comparison(0.1, Interval(0, 0.2), 0.0499, Z_TEST).significant()
    assert not Comparison(0.1, Interval(0, 0.2), 0.05, Z_TEST).significant()
    assert Comparison(0.1, Interval(0, 0.2), 0.05, Z_TEST).significant(0.1)
    assert not Comparison(math.nan, Interval(math.nan, math.nan), math.nan, "").significant(1.0)


# Against a fixed figure: the exact binomial test


def _against_cases() -> list[tuple[int, int, float]]:
    rng = np.random.default_rng(20_240_503)
    cases = [(0, 1, 0.5), (1, 1, 0.5), (0, 5, 0.5), (5, 5, 0.5), (10, 19, 0.5), (0, 10, 0.0), (10, 10, 1.0)]
    cases += [(3, 10, 0.0), (3, 10, 1.0), (4, 10, 0.4)]
    for _ in range(250):
        x, n = _count(rng)
        value = float(rng.choice([rng.random(), round(rng.random(), 2), x / n]))
        cases.append((x, n, value))
    return cases


AGAINST = _against_cases()


@pytest.mark.parametrize(("x", "n", "value"), AGAINST, ids=[f"{x}-{n}-{v:.4f}" for x, n, v in AGAINST])
def test_against_value_matches_scipys_exact_binomial_test(x, n, value):
    tested = against_value(x, n, value)

    assert tested.p_value == pytest.approx(stats.binomtest(x, n, value, alternative="two-sided").pvalue, **CLOSE)
    assert tested.difference == pytest.approx(x / n - value, abs=1e-15)
    assert tested.value == value
    assert tested.test == BINOMIAL


def test_against_value_by_hand():
    # 0 of 5 against 50%: only 0 of 5 and 5 of 5 are as unlikely, each (1/2)^5, so p = 2/32 = 0.0625.
    assert against_value(0, 5, 0.5).p_value == pytest.approx(2 / 32)
    assert against_value(5, 5, 0.5).p_value == pytest.approx(2 / 32)
    # 0 of 10 against 50%: p = 2/1024, significant.
    assert against_value(0, 10, 0.5).p_value == pytest.approx(2 / 1024)
    assert against_value(0, 10, 0.5).significant()
    # 10 of 19 against 50%: P(X >= 10) = P(X <= 9) = 1/2 by symmetry, so p = 1.
    assert against_value(10, 19, 0.5).p_value == pytest.approx(1.0)
    assert against_value(10, 19, 0.5).difference == pytest.approx(10 / 19 - 0.5)
    # 3 of 10 against 0%: impossible under the figure, so p = 0.
    assert against_value(3, 10, 0.0).p_value == 0.0


def test_against_value_with_no_base():
    tested = against_value(0, 0, 0.4)
    assert tested == AgainstValue(0.4, tested.difference, tested.p_value)
    assert math.isnan(tested.difference) and math.isnan(tested.p_value)
    assert not tested.significant()


# Responses needed to tell the current figure from the target


def _needed_cases() -> list[tuple[float, float, float, float]]:
    rng = np.random.default_rng(20_240_504)
    cases = [(0.38, 0.85, 0.05, 0.8), (0.5, 0.6, 0.05, 0.8), (0.0, 1.0, 0.05, 0.8), (0.0, 0.05, 0.05, 0.8)]
    for _ in range(200):
        current, target = (round(float(value), 3) for value in rng.random(2))
        if current == target:
            continue
        significance = float(rng.choice([0.05, 0.05, 0.01, 0.1]))
        power = float(rng.choice([0.8, 0.8, 0.9, 0.5, 0.95]))
        cases.append((current, target, significance, power))
    return cases


NEEDED = _needed_cases()


@pytest.mark.parametrize(
    ("current", "target", "significance", "power"), NEEDED, ids=[f"{c}-{t}-a{s}-p{p}" for c, t, s, p in NEEDED]
)
def test_responses_needed_is_the_smallest_base_with_the_power_statsmodels_gives(current, target, significance, power):
    # The docstring's promise: Cohen's h, and the smallest base at which NormalIndPower(ratio=0) reaches the power.
    h = abs(proportion_effectsize(current, target))
    analysis = NormalIndPower()

    needed = responses_needed(current, target, significance, power)

    assert isinstance(needed, int) and needed >= 1
    assert analysis.power(h, needed, significance, ratio=0) >= power
    if needed > 1:
        assert analysis.power(h, needed - 1, significance, ratio=0) < power
    if needed >= 5:
        solved = analysis.solve_power(h, nobs1=None, alpha=significance, power=power, ratio=0)
        assert needed - 1 < solved <= needed + 1e-6


def test_responses_needed_by_hand():
    # From 38% to the target of 85%: h = 2 asin(sqrt 0.85) - 2 asin(sqrt 0.38) = 2 x (1.173097 - 0.664215) = 1.017763.
    # Roughly n = ((z_0.975 + z_0.8) / h)^2 = ((1.959964 + 0.841621) / 1.017763)^2 = 7.58, so 8 responses:
    # the power with 7 is Phi(1.017763 x sqrt 7 - 1.959964) = Phi(0.7328) = 0.768, under 0.8;
    # with 8 it is Phi(2.878669 - 1.959964) = Phi(0.9187) = 0.821.
    assert responses_needed(0.38, 0.85) == 8
    # 50% against 60%: h = 2 x (0.886077 - 0.785398) = 0.201358; (2.801585 / 0.201358)^2 = 193.58, so 194.
    assert responses_needed(0.5, 0.6) == 194


def test_responses_needed_behaves_as_a_sample_size_should():
    assert responses_needed(0.4, 0.6) == responses_needed(0.6, 0.4)
    assert responses_needed(0.4, 0.45) > responses_needed(0.4, 0.5) > responses_needed(0.4, 0.6)
    assert responses_needed(0.4, 0.5, power=0.9) > responses_needed(0.4, 0.5, power=0.8)
    assert responses_needed(0.4, 0.5, significance=0.01) > responses_needed(0.4, 0.5, significance=0.05)


@pytest.mark.parametrize("value", [0.0, 0.3, 1.0])
def test_no_base_can_tell_a_figure_from_itself(value):
    assert responses_needed(value, value) is None


# Bad input


@pytest.mark.parametrize(
    ("positives", "n", "message"),
    [
        (-1, 5, "The count's positives cannot be negative (-1)."),
        (2, -3, "The count's n cannot be negative (-3)."),
        (6, 5, "The count has more positives (6) than its base n (5)."),
        (1, 0, "The count has more positives (1) than its base n (0)."),
        (2.5, 5, "The count's positives must be a whole number, not 2.5."),
        (2, 5.5, "The count's n must be a whole number, not 5.5."),
        (math.nan, 5, "The count's positives must be a whole number, not nan."),
        (2, math.inf, "The count's n must be a whole number, not inf."),
        (True, 5, "The count's positives must be a whole number, not True."),
        (2, False, "The count's n must be a whole number, not False."),
        (np.True_, 5, "The count's positives must be a whole number, not np.True_."),
        (None, 5, "The count's positives must be a whole number, not None."),
        ("3", 5, "The count's positives must be a whole number, not '3'."),
    ],
)
def test_bad_counts_are_explained(positives, n, message):
    for function in (proportion, wilson_interval, against_value):
        arguments = (positives, n, 0.5) if function is against_value else (positives, n)
        with pytest.raises(ValueError) as raised:
            function(*arguments)
        assert str(raised.value) == message


def test_bad_counts_in_a_comparison_say_which_count():
    with pytest.raises(ValueError, match=r"^The first count has more positives \(6\) than its base n \(5\)\.$"):
        compare(6, 5, 1, 5)
    with pytest.raises(ValueError, match=r"^The second count's n cannot be negative \(-5\)\.$"):
        compare(1, 5, 1, -5)
    with pytest.raises(ValueError, match=r"^The second count's positives must be a whole number, not 0\.5\.$"):
        difference_interval(1, 5, 0.5, 5)


@pytest.mark.parametrize("confidence", [0, 1, 1.5, -0.1, math.nan])
def test_a_confidence_level_must_be_between_0_and_1(confidence):
    with pytest.raises(ValueError, match=r"^The confidence level must be between 0 and 1, not "):
        wilson_interval(3, 10, confidence)
    with pytest.raises(ValueError, match=r"^The confidence level must be between 0 and 1, not "):
        compare(3, 10, 4, 10, confidence)


@pytest.mark.parametrize("value", [-0.1, 1.5, math.nan, True, None, "0.5"])
def test_the_figure_compared_with_must_be_a_proportion(value):
    with pytest.raises(ValueError) as raised:
        against_value(3, 10, value)
    assert str(raised.value) == f"The figure compared with must be a proportion between 0 and 1, not {value!r}."


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ((1.2, 0.5), "The current proportion must be a proportion between 0 and 1, not 1.2."),
        ((0.5, -0.1), "The target must be a proportion between 0 and 1, not -0.1."),
        ((0.5, math.nan), "The target must be a proportion between 0 and 1, not nan."),
        ((0.5, 0.6, 0.05, 0), "The power must be between 0 and 1, not 0."),
        ((0.5, 0.6, 0.05, 1), "The power must be between 0 and 1, not 1."),
        ((0.5, 0.6, 0.05, math.nan), "The power must be between 0 and 1, not nan."),
        ((0.5, 0.6, 0, 0.8), "The significance level must be between 0 and 1, not 0."),
        ((0.5, 0.6, 1.5, 0.8), "The significance level must be between 0 and 1, not 1.5."),
        ((0.5, 0.6, math.nan, 0.8), "The significance level must be between 0 and 1, not nan."),
    ],
)
def test_bad_input_to_responses_needed_is_explained(arguments, message):
    with pytest.raises(ValueError) as raised:
        responses_needed(*arguments)
    assert str(raised.value) == message
