"""Status (the RAG rating), direction of travel and target assurance for one measure in one period.

The default rules (``StatusRules``), for a measure where higher is better
(every comparison is reversed where lower is better):

- Insufficient data: the base is under the minimum (10 unless set otherwise).
- Completed: the final target is met in two consecutive periods.
- Green: the estimate is at or above the trajectory.
- Light green: below the trajectory, but its 95% interval still includes it.
- Amber: significantly below the trajectory, but significantly better than the baseline.
- Red: significantly below the trajectory and not significantly better than the baseline.

A count (a recorded figure such as the number of open plans) has no sampling
error, so it is Green at or above the trajectory, Amber below it but better
than the baseline, and Red otherwise.

Direction of travel is "improving" or "declining" only when the change since
the previous period is significant; otherwise "no significant change", so a
board is not told that noise from 40 responses is progress.

A measure for information only (polarity none, such as the number of open
plans) is never rated: its changes are "not rated: for information" and its
status is "For information".

Target assurance is for a target whose date has come: before then, the
target is "not due yet", and the status says whether the measure is on track
for it (against the trajectory).
"""

from __future__ import annotations

import math

from .measures import Polarity
from .proportions import Interval

GREEN = "Green"
LIGHT_GREEN = "Light green"
AMBER = "Amber"
RED = "Red"
COMPLETED = "Completed"
INSUFFICIENT_DATA = "Insufficient data"
BASELINE = "Baseline"
NO_TARGET = "No target set"
NO_BASELINE = "No baseline yet"  # the baseline is the first wave, not yet surveyed
NO_BASELINE_SET = "No baseline set"  # targets, but nothing to draw the trajectory from
FOR_INFORMATION = "For information"  # a measure with no better direction (polarity none)
# The statuses that say nothing about the estimate: a published report may show them beside a withheld one.
NOT_FROM_THE_ESTIMATE = (INSUFFICIENT_DATA, BASELINE, NO_TARGET, NO_BASELINE, NO_BASELINE_SET, FOR_INFORMATION)

IMPROVING = "improving"
DECLINING = "declining"
NO_SIGNIFICANT_CHANGE = "no significant change"
NO_CHANGE = "no change"
NOT_RATED = "not rated: for information"

MET_WITH_CONFIDENCE = "met with confidence"
NOT_MET = "not met"
NOT_YET_CLEAR = "not yet clear"
MET = "met"
NOT_DUE_YET = "not due yet"


def at_or_better(value: float, reference: float, polarity: Polarity) -> bool:
    return polarity.sign * (value - reference) >= 0


def better(value: float, reference: float, polarity: Polarity) -> bool:
    return polarity.sign * (value - reference) > 0


def direction_of_travel(difference: float, significant: bool | None, polarity: Polarity) -> str:
    """Improving, declining or no (significant) change; ``significant`` is None for a count with no test.

    A measure for information only is not rated, whatever the change.
    """
    if math.isnan(difference):
        return ""
    if not polarity.is_rated:
        return NOT_RATED
    if significant is None:
        if difference == 0:
            return NO_CHANGE
        return IMPROVING if better(difference, 0, polarity) else DECLINING
    if not significant:
        return NO_SIGNIFICANT_CHANGE
    return IMPROVING if better(difference, 0, polarity) else DECLINING


def rag_status(
    estimate: float,
    interval: Interval | None,
    trajectory: float,
    better_than_baseline: bool,
    polarity: Polarity,
) -> str:
    """Green, Light green, Amber or Red against the trajectory (``interval`` is None for a count)."""
    if at_or_better(estimate, trajectory, polarity):
        return GREEN
    if interval is not None:
        reaching_side = interval.high if polarity is Polarity.HIGHER_IS_BETTER else interval.low
        if at_or_better(reaching_side, trajectory, polarity):
            return LIGHT_GREEN
    return AMBER if better_than_baseline else RED


def target_assurance(
    estimate: float, interval: Interval | None, target: float, polarity: Polarity, *, due: bool = True
) -> str:
    """Met with confidence when the whole interval is on the right side of the target; not met when it is all on
    the wrong side; otherwise not yet clear. A count is simply met or not met. A target whose date is still ahead
    (``due`` False) is not due yet: a figure below it then is no failure."""
    if not due:
        return NOT_DUE_YET
    if interval is None:
        return MET if at_or_better(estimate, target, polarity) else NOT_MET
    low, high = (
        (interval.low, interval.high) if polarity is Polarity.HIGHER_IS_BETTER else (-interval.high, -interval.low)
    )
    goal = target * polarity.sign
    if low > goal:
        return MET_WITH_CONFIDENCE
    if high < goal:
        return NOT_MET
    return NOT_YET_CLEAR
