"""The trajectory a plan expects: a straight line from the baseline through each target.

"38% in November 2021, 85% by December 2023, 95% by February 2024" means the
plan expects about 61% by the end of 2022: the value is interpolated by days
between the baseline and the first target, then between each target and the
next. After the final target the plan expects the final target; before the
baseline it expects nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from .measures import Target


def expected_at(day: date, baseline_value: float, baseline_date: date, targets: Sequence[Target]) -> float | None:
    """The value the plan expects on ``day``, or None before the baseline or with no targets."""
    if not targets or day < baseline_date:
        return None
    points = [(baseline_date, baseline_value), *((target.by, target.value) for target in targets)]
    pairs = list(zip(points, points[1:], strict=False))
    for (start, _), (end, _) in pairs:
        if end < start:
            raise ValueError(f"The targets must be in date order, after the baseline: {end} comes before {start}.")
    for (start, start_value), (end, end_value) in pairs:
        if day <= end:
            span = (end - start).days
            if span == 0:
                return end_value
            return start_value + (end_value - start_value) * (day - start).days / span
    return points[-1][1]


def target_due(day: date, targets: Sequence[Target]) -> Target | None:
    """The next target due on or after ``day``; the final target once every date has passed."""
    if not targets:
        return None
    return next((target for target in targets if target.by >= day), targets[-1])
