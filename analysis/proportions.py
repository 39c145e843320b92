"""Proportions and their uncertainty: intervals, comparisons and sample sizes.

The methods are those public health analysts use in England (OHID's
"Technical guide: confidence intervals"): the Wilson score interval for one
proportion, Newcombe's hybrid score interval for a difference between two
independent proportions, the pooled two-proportion z-test (Fisher's exact
test when an expected count is under 5) for a change, and the exact binomial
test against a fixed value such as a national figure. Every function checks
its input and says plainly what is wrong with it.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from statistics import NormalDist

from scipy import stats

CONFIDENCE = 0.95
SIGNIFICANCE = 0.05
POWER = 0.8
# Fisher's exact test is used when an expected count of the 2x2 table is under this.
SMALL_EXPECTED_COUNT = 5

Z_TEST = "two-proportion z-test"
FISHER = "Fisher's exact test"
BINOMIAL = "exact binomial test"


def check_counts(positives: float, n: float, what: str = "count") -> tuple[int, int]:
    """Whole, non-negative counts with no more positives than the base."""
    for name, value in (("positives", positives), ("n", n)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not float(value).is_integer():
            raise ValueError(f"The {what}'s {name} must be a whole number, not {value!r}.")
        if value < 0:
            raise ValueError(f"The {what}'s {name} cannot be negative ({value!r}).")
    if positives > n:
        raise ValueError(f"The {what} has more positives ({int(positives)}) than its base n ({int(n)}).")
    return int(positives), int(n)


def _check_proportion(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= float(value) <= 1:
        raise ValueError(f"The {name} must be a proportion between 0 and 1, not {value!r}.")
    return float(value)


# The standard normal from the standard library: scipy.stats.norm gives the
# same figures but costs about half a millisecond a call, and a report makes
# thousands of calls.
NORMAL = NormalDist()


def _upper_tail(z: float) -> float:
    """P(Z > z), accurate far into the tail (1 - cdf would round to 0)."""
    return 0.5 * math.erfc(z / math.sqrt(2))


def _two_sided(z: float) -> float:
    return 2 * _upper_tail(abs(z))


def _z(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError(f"The confidence level must be between 0 and 1, not {confidence!r}.")
    return NORMAL.inv_cdf(1 - (1 - confidence) / 2)


@dataclass(frozen=True)
class Interval:
    low: float
    high: float

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


@dataclass(frozen=True)
class Proportion:
    positives: int
    n: int
    value: float
    interval: Interval


def proportion(positives: float, n: float, confidence: float = CONFIDENCE) -> Proportion:
    """The proportion positives/n with its Wilson score interval (NaN when n is 0)."""
    positives, n = check_counts(positives, n)
    if n == 0:
        return Proportion(0, 0, math.nan, Interval(math.nan, math.nan))
    return Proportion(positives, n, positives / n, wilson_interval(positives, n, confidence))


def wilson_interval(positives: float, n: float, confidence: float = CONFIDENCE) -> Interval:
    """The Wilson score interval for positives/n.

    Unlike the normal approximation it never leaves 0 to 1 and stays sound
    for small bases and for proportions near 0% or 100%.
    """
    positives, n = check_counts(positives, n)
    if n == 0:
        return Interval(math.nan, math.nan)
    z = _z(confidence)
    p = positives / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    # At 0 and n the exact limit is 0 or 1; rounding must not push it past.
    low = 0.0 if positives == 0 else max(0.0, centre - half)
    high = 1.0 if positives == n else min(1.0, centre + half)
    return Interval(low, high)


@dataclass(frozen=True)
class Comparison:
    """A change from proportion 2 (earlier, or the other group) to proportion 1."""

    difference: float  # p1 - p2
    interval: Interval  # Newcombe's hybrid score interval for the difference
    p_value: float
    test: str

    def significant(self, level: float = SIGNIFICANCE) -> bool:
        return not math.isnan(self.p_value) and self.p_value < level


def difference_interval(
    positives1: float, n1: float, positives2: float, n2: float, confidence: float = CONFIDENCE
) -> Interval:
    """Newcombe's hybrid score interval (his method 10) for p1 - p2, from the two Wilson intervals."""
    x1, n1 = check_counts(positives1, n1, "first count")
    x2, n2 = check_counts(positives2, n2, "second count")
    if n1 == 0 or n2 == 0:
        return Interval(math.nan, math.nan)
    p1, p2 = x1 / n1, x2 / n2
    one, two = wilson_interval(x1, n1, confidence), wilson_interval(x2, n2, confidence)
    difference = p1 - p2
    low = difference - math.sqrt((p1 - one.low) ** 2 + (two.high - p2) ** 2)
    high = difference + math.sqrt((one.high - p1) ** 2 + (p2 - two.low) ** 2)
    return Interval(low, high)


def expected_counts(positives1: int, n1: int, positives2: int, n2: int) -> list[float]:
    """The four expected counts of the 2x2 table under no difference."""
    total = n1 + n2
    if total == 0:
        return [0.0] * 4
    positive_share = (positives1 + positives2) / total
    return [n1 * positive_share, n1 * (1 - positive_share), n2 * positive_share, n2 * (1 - positive_share)]


def compare(positives1: float, n1: float, positives2: float, n2: float, confidence: float = CONFIDENCE) -> Comparison:
    """Whether two independent proportions differ: the difference, its interval and a two-sided test.

    The pooled two-proportion z-test, or Fisher's exact test when any
    expected count is under 5, where the normal approximation fails.
    """
    x1, n1 = check_counts(positives1, n1, "first count")
    x2, n2 = check_counts(positives2, n2, "second count")
    if n1 == 0 or n2 == 0:
        return Comparison(math.nan, Interval(math.nan, math.nan), math.nan, "")
    difference = x1 / n1 - x2 / n2
    interval = difference_interval(x1, n1, x2, n2, confidence)
    if min(expected_counts(x1, n1, x2, n2)) < SMALL_EXPECTED_COUNT:
        p_value = float(stats.fisher_exact([[x1, n1 - x1], [x2, n2 - x2]]).pvalue)
        return Comparison(difference, interval, min(1.0, p_value), FISHER)
    pooled = (x1 + x2) / (n1 + n2)
    standard_error = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z = difference / standard_error
    return Comparison(difference, interval, _two_sided(z), Z_TEST)


@dataclass(frozen=True)
class AgainstValue:
    """How a local proportion compares with a fixed figure (a benchmark or a baseline with no known base)."""

    value: float
    difference: float  # local - value
    p_value: float
    test: str = BINOMIAL

    def significant(self, level: float = SIGNIFICANCE) -> bool:
        return not math.isnan(self.p_value) and self.p_value < level


def against_value(positives: float, n: float, value: float) -> AgainstValue:
    """The exact binomial test of positives out of n against the proportion ``value`` (two-sided)."""
    x, n = check_counts(positives, n)
    value = _check_proportion(value, "figure compared with")
    if n == 0:
        return AgainstValue(value, math.nan, math.nan)
    p_value = float(stats.binomtest(x, n, value).pvalue)
    return AgainstValue(value, x / n - value, p_value)


def responses_needed(
    current: float, target: float, significance: float = SIGNIFICANCE, power: float = POWER
) -> int | None:
    """How many responses a period needs to tell ``current`` from ``target`` (a two-sided test).

    Cohen's effect size h for proportions, and the smallest base at which a
    test at ``significance`` would detect the difference with the given
    power, as statsmodels' ``NormalIndPower(ratio=0)`` works it out. None
    when the two are equal: no base could tell them apart.
    """
    current = _check_proportion(current, "current proportion")
    target = _check_proportion(target, "target")
    if not 0 < significance < 1:
        raise ValueError(f"The significance level must be between 0 and 1, not {significance!r}.")
    if not 0 < power < 1:
        raise ValueError(f"The power must be between 0 and 1, not {power!r}.")
    h = abs(2 * math.asin(math.sqrt(current)) - 2 * math.asin(math.sqrt(target)))
    if h == 0:
        return None
    critical = NORMAL.inv_cdf(1 - significance / 2)

    def reached(n: float) -> bool:
        shift = h * math.sqrt(n)
        return _upper_tail(critical - shift) + _upper_tail(critical + shift) >= power

    n = max(1, math.floor(((critical + NORMAL.inv_cdf(power)) / h) ** 2))
    while not reached(n):
        n += 1
    while n > 1 and reached(n - 1):
        n -= 1
    return n
