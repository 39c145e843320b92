"""Statistical process control: which changes in a measure are signals and which are noise.

The charts and rules are NHS England's "Making Data Count", as the NHS-R
package NHSRplotthedots draws them, for measures with at least 12 periods
(fewer give limits too unsteady to judge by).

- An XmR chart for a figure with no base of its own (a count, an average).
  Its limits come from the moving ranges, the differences between successive
  periods, so they measure the short-term, period-to-period variation and are
  not widened by the very shifts and trends the chart is looking for, as a
  standard deviation of all the points would be. One huge jump (a change of
  system, a data error) would still inflate the average moving range and hide
  every other signal, so moving ranges above 3.267 times the average (the
  upper limit for a moving range of two points) are left out once before the
  limits are set, as NHSRplotthedots does.
- A p-chart for a proportion whose base changes from period to period. How
  far a proportion varies by chance depends on its base, so each period gets
  its own limits from the binomial standard error: wide for a period with
  few responses, narrow for one with many. An XmR chart of the percentages
  would judge a period of 8 responses by the same limits as one of 800.

Each point is then tested against four rules of special cause: a point
beyond a limit; 7 or more in a row on one side of the mean; 7 or more in a
row each rising (or each falling); 2 of 3 in a row beyond the same near
limit (two-thirds of the way from the mean to a limit). A point a rule flags
is an improvement or a concern depending on the measure's polarity, or
plainly special cause for a measure reported for information only (polarity
none), which has no better direction; any other point is common cause
variation, noise to leave alone.

Assurance says whether the process, as it runs, will meet a target: when
the target is beyond the limits on the good side every period will pass,
beyond them on the bad side every period will fail; within them, passing is
down to chance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real

import numpy as np
import pandas as pd

from .breakdowns import check_columns, check_no_more_than, whole_counts
from .measures import Polarity

MINIMUM_POINTS = 12

BEYOND_LIMIT = "a point beyond a limit"
SHIFT = "7 in a row on one side of the mean"
TREND = "7 in a row rising or falling"
TWO_OF_THREE = "2 of 3 beyond two-thirds of the way to a limit"
# The order the rules are listed in a point's ``rules``.
RULES = (BEYOND_LIMIT, SHIFT, TREND, TWO_OF_THREE)
# When a point's rules disagree about its direction (a falling trend that
# starts above the upper limit), the first of these decides.
DIRECTION_PRIORITY = (BEYOND_LIMIT, TWO_OF_THREE, SHIFT, TREND)

IMPROVEMENT, CONCERN, COMMON_CAUSE = "improvement", "concern", "common cause"
# A signal with no value judgement, for a measure with no better direction.
SPECIAL_CAUSE = "special cause"
CONSISTENTLY_PASSES, CONSISTENTLY_FAILS, INCONSISTENT = "consistently passes", "consistently fails", "inconsistent"

XMR = "XmR"
P_CHART = "p-chart"

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

# 3 / d2, where d2 = 1.128 turns an average moving range of two points into a
# standard deviation: the XmR limits are the mean +/- 3 sigma.
XMR_LIMIT = 2.66
# D4 for ranges of two points: a moving range above this times the average is itself out of control.
MOVING_RANGE_SCREEN = 3.267
P_CHART_SIGMAS = 3
# The near limits are two-thirds of the way from the mean to a limit (2 sigma).
NEAR = 2 / 3
RUN = 7


@dataclass(frozen=True)
class SpcChart:
    chart: str  # XMR or P_CHART
    centre: float  # the mean (XmR) or p-bar (p-chart)
    average_moving_range: float | None  # XmR only: after screening
    points: pd.DataFrame  # the input's index, COLUMNS
    assurance: str | None  # against the target; None when no target was given


def xmr_chart(data: pd.DataFrame, value: str, polarity: Polarity, target: float | None = None) -> SpcChart:
    """An XmR chart of the column ``value``, one row per period in period order.

    The centre is the mean of the values. The moving ranges are the absolute
    differences between each value and the one before (none for the first).
    Those above 3.267 times their average are left out, in one pass, and the
    average of the rest (the screened average moving range, mR) sets the
    limits at the mean +/- 2.66 mR and the near limits at the mean +/-
    (2/3) x 2.66 mR. ``moving_range`` in the points is every moving range,
    screened or not.

    With a ``target``, assurance compares it with the chart's one pair of
    limits: for a measure where higher is better a target at or below the
    lower limit is consistently passed and one at or above the upper limit
    consistently failed; the other way round where lower is better. A target
    on both limits at once (a series that never varies) is passed.
    """
    polarity = Polarity(polarity)
    check_columns(data, [value])
    _check_length(data)
    values = _numbers(data, value)
    if target is not None:
        target = _check_target(target, polarity)
    moving_ranges = np.abs(np.diff(values))
    kept = moving_ranges[moving_ranges <= MOVING_RANGE_SCREEN * moving_ranges.mean()]
    average_moving_range = float(kept.mean())
    centre = float(values.mean())
    count = len(values)
    points = _points(data.index, values, centre, np.full(count, XMR_LIMIT * average_moving_range), polarity)
    points["moving_range"] = np.concatenate([[math.nan], moving_ranges])
    return SpcChart(XMR, centre, average_moving_range, points, _assurance(points, polarity, target))


def p_chart(data: pd.DataFrame, positives: str, n: str, polarity: Polarity, target: float | None = None) -> SpcChart:
    """A p-chart of ``positives`` out of ``n``, one row per period in period order.

    The centre p-bar is all the positives over all the bases (the periods
    weighted by their base, not the mean of their proportions). Each
    period's standard error is sqrt(p-bar (1 - p-bar) / n), its limits
    p-bar +/- 3 standard errors and its near limits p-bar +/- 2, each kept
    within 0 to 1. ``moving_range`` is NaN throughout.

    With a ``target`` (a proportion from 0 to 1), assurance compares it with
    the limits at the last period, the ones the next period of a similar base
    would be judged by: for a measure where higher is better a target at or
    below the lower limit is consistently passed and one at or above the
    upper limit consistently failed; the other way round where lower is
    better.
    """
    polarity = Polarity(polarity)
    check_columns(data, [positives, n])
    _check_length(data)
    for column in (positives, n):
        _numbers(data, column)
    counts = whole_counts(data, positives)
    bases = whole_counts(data, n)
    empty = bases == 0
    if empty.any():
        raise ValueError(f"The {n} must be more than 0 in row {data.index[int(np.flatnonzero(empty)[0])]}.")
    check_no_more_than(data, positives, n, counts, bases)
    if target is not None:
        target = _check_target(target, polarity)
        if not 0 <= target <= 1:
            raise ValueError(f"The target of a p-chart must be a proportion between 0 and 1, not {target!r}.")
    centre = float(counts.sum() / bases.sum())
    sigma = np.sqrt(centre * (1 - centre) / bases)
    points = _points(data.index, counts / bases, centre, P_CHART_SIGMAS * sigma, polarity, within_0_and_1=True)
    return SpcChart(P_CHART, centre, None, points, _assurance(points, polarity, target))


def _points(
    index: pd.Index,
    values: np.ndarray,
    centre: float,
    spread: np.ndarray,
    polarity: Polarity,
    *,
    within_0_and_1: bool = False,
) -> pd.DataFrame:
    """The points with their limits (centre +/- spread), near limits, rules and signal."""
    limits = {
        "lower_limit": centre - spread,
        "upper_limit": centre + spread,
        "lower_near": centre - NEAR * spread,
        "upper_near": centre + NEAR * spread,
    }
    if within_0_and_1:
        limits = {name: np.clip(limit, 0, 1) for name, limit in limits.items()}
    points = pd.DataFrame(
        {
            "value": values,
            "centre": centre,
            **limits,
            "moving_range": np.full(len(values), math.nan),
            "rules": "",
            "signal": "",
        },
        index=index,
        columns=COLUMNS,
    )
    points["rules"], points["signal"] = _rules_and_signals(points, polarity)
    return points


def _rules_and_signals(points: pd.DataFrame, polarity: Polarity) -> tuple[list[str], list[str]]:
    """Each point's rules ("; "-joined) and signal."""
    directions = _special_causes(points)
    rules = ["; ".join(rule for rule in RULES if directions[rule][i]) for i in range(len(points))]
    signals = []
    for i in range(len(points)):
        direction = next((directions[rule][i] for rule in DIRECTION_PRIORITY if directions[rule][i]), 0)
        if not polarity.is_rated:
            signals.append(SPECIAL_CAUSE if direction else COMMON_CAUSE)
            continue
        signed = direction * polarity.sign
        signals.append(IMPROVEMENT if signed > 0 else CONCERN if signed < 0 else COMMON_CAUSE)
    return rules, signals


def _special_causes(points: pd.DataFrame) -> dict[str, np.ndarray]:
    """For each rule, each point's direction: +1 flagged high, -1 flagged low, 0 not flagged."""
    values = points["value"].to_numpy()
    side = np.sign(values - points["centre"].to_numpy()).astype(int)
    beyond = _beyond(values, points["lower_limit"].to_numpy(), points["upper_limit"].to_numpy())
    beyond_near = _beyond(values, points["lower_near"].to_numpy(), points["upper_near"].to_numpy())

    shift = np.zeros(len(values), dtype=int)
    for start, stop, direction in _runs(side):
        if direction and stop - start >= RUN:
            shift[start:stop] = direction

    # A run of RUN points rising is RUN - 1 rises in a row. A peak (or trough)
    # ends one run and starts the next; the later run gives its direction.
    trend = np.zeros(len(values), dtype=int)
    for start, stop, direction in _runs(np.sign(np.diff(values)).astype(int)):
        if direction and stop - start >= RUN - 1:
            trend[start : stop + 1] = direction

    # A point beyond a near limit is flagged when another beyond the same one
    # is within two places of it: the two then fit in three points in a row.
    two_of_three = np.zeros(len(values), dtype=int)
    for i, direction in enumerate(beyond_near):
        neighbours = np.concatenate([beyond_near[max(0, i - 2) : i], beyond_near[i + 1 : i + 3]])
        if direction and (neighbours == direction).any():
            two_of_three[i] = direction

    return {BEYOND_LIMIT: beyond, SHIFT: shift, TREND: trend, TWO_OF_THREE: two_of_three}


def _beyond(values: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """+1 strictly above ``upper``, -1 strictly below ``lower``, 0 otherwise."""
    return np.where(values > upper, 1, np.where(values < lower, -1, 0))


def _runs(labels: np.ndarray) -> list[tuple[int, int, int]]:
    """(start, stop, label) for each run of equal consecutive labels."""
    runs = []
    start = 0
    for i in range(1, len(labels) + 1):
        if i == len(labels) or labels[i] != labels[start]:
            runs.append((start, i, int(labels[start])))
            start = i
    return runs


def _assurance(points: pd.DataFrame, polarity: Polarity, target: float | None) -> str | None:
    """Assurance against the limits at the last point (the only pair on an XmR chart)."""
    if target is None:
        return None
    lower, upper = points["lower_limit"].iloc[-1], points["upper_limit"].iloc[-1]
    if polarity is Polarity.HIGHER_IS_BETTER:
        passes, fails = target <= lower, target >= upper
    else:
        passes, fails = target >= upper, target <= lower
    if passes:
        return CONSISTENTLY_PASSES
    return CONSISTENTLY_FAILS if fails else INCONSISTENT


def _check_length(data: pd.DataFrame) -> None:
    if len(data) < MINIMUM_POINTS:
        raise ValueError(
            f"An SPC chart needs at least {MINIMUM_POINTS} points (periods), but there "
            f"{'is only 1' if len(data) == 1 else f'are only {len(data)}'}."
        )


def _numbers(data: pd.DataFrame, column: str) -> np.ndarray:
    """The column as finite floats, or a ValueError naming the first row that is not."""
    for label, value in data[column].items():
        if pd.api.types.is_scalar(value) and pd.isna(value):
            raise ValueError(f"The {column} is missing in row {label}.")
        if isinstance(value, bool | np.bool_) or not isinstance(value, Real):
            raise ValueError(f"The {column} must be a number in row {label}, not {value!r}.")
        if not math.isfinite(value):
            raise ValueError(f"The {column} must be a finite number in row {label}, not {value!r}.")
    return data[column].to_numpy(dtype=float)


def _check_target(target: float, polarity: Polarity) -> float:
    if not polarity.is_rated:
        raise ValueError("A measure for information only (polarity none) has no target to give assurance against.")
    if isinstance(target, bool | np.bool_) or not isinstance(target, Real) or not math.isfinite(target):
        raise ValueError(f"The target must be a number, not {target!r}.")
    return float(target)
