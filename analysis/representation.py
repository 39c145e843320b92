"""Response rates and who responded: can the answers speak for everyone eligible?

Local SEND surveys often hear from a few per cent of families, so the
response rate belongs beside every result, and so does a check that the
people who answered look like the people who could have. If one group
answered far more than another, an overall figure mostly describes that
group.

``representativeness`` compares each group's share of the responses (with
its Wilson interval) with its share of the eligible population, and tests
the whole make-up with the chi-square goodness-of-fit test. People who did
not answer the context question are left out of the shares: nothing says
which group they are in.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .breakdowns import NOT_STATED, check_columns, check_no_more_than, whole_counts
from .proportions import CONFIDENCE, SMALL_EXPECTED_COUNT, wilson_interval

GOODNESS_OF_FIT = "chi-square goodness of fit"

UNDER = "under-represented"
OVER = "over-represented"
IN_LINE = "in line"

COLUMNS = [
    "group",
    "responses",
    "share",
    "ci_low",
    "ci_high",
    "population",
    "population_share",
    "difference",
    "representation",
]


@dataclass(frozen=True)
class Representativeness:
    table: pd.DataFrame  # one row per group of the population, with COLUMNS
    test: str  # GOODNESS_OF_FIT, or "" when not tested
    statistic: float
    dof: int | None
    p_value: float
    small_expected: bool  # an expected count under 5: the test may be unreliable
    note: str  # why it was not tested, or the caution, in plain English


def response_rates(
    data: pd.DataFrame, *, responses: str = "responses", eligible: str = "eligible", confidence: float = CONFIDENCE
) -> pd.DataFrame:
    """A copy of ``data`` with each row's response rate and its Wilson interval (``rate, ci_low, ci_high``).

    The rate is NaN when the eligible figure is missing or 0. Other columns
    (the run, the wave) are kept.
    """
    check_columns(data, [responses, eligible])
    answered = whole_counts(data, responses)
    could_have = whole_counts(data, eligible, missing_allowed=True)
    known = ~np.isnan(could_have)
    try:
        check_no_more_than(data[known], responses, eligible, answered[known], could_have[known])
    except ValueError as error:
        raise ValueError(f"{error} A response rate over 100% means the eligible figure is wrong.") from None
    intervals = [
        wilson_interval(x, total, confidence) if not math.isnan(total) and total > 0 else None
        for x, total in zip(answered, could_have, strict=True)
    ]
    rated = data.copy()
    rated["rate"] = [
        x / total if interval else math.nan for x, total, interval in zip(answered, could_have, intervals, strict=True)
    ]
    rated["ci_low"] = [interval.low if interval else math.nan for interval in intervals]
    rated["ci_high"] = [interval.high if interval else math.nan for interval in intervals]
    return rated


def representativeness(
    responses: pd.DataFrame,
    population: Mapping[str, int],
    *,
    group: str = "group",
    count: str = "responses",
    confidence: float = CONFIDENCE,
) -> Representativeness:
    """How the responses (one row per group) are spread across groups, against the eligible population.

    A group is under-represented when the upper limit of its share's
    interval is below its population share, over-represented when the lower
    limit is above it, and in line otherwise. Every group of the population
    is in the table, with 0 if nobody in it responded; a group that responded
    but is not in the population is an error, as the population figures
    must cover every answer.
    """
    check_columns(responses, [group, count])
    counts = _responses_by_group(responses, group, count)
    sizes = _population(population)
    unknown = [name for name in counts if name not in sizes]
    if unknown:
        raise ValueError(
            f"The population has no figure for the group {unknown[0]!r}; it must cover every answer given."
        )
    empty = [name for name, size in sizes.items() if size == 0 and counts.get(name, 0) > 0]
    if empty:
        raise ValueError(f"The population has no one in the group {empty[0]!r}, but it has responses.")

    total = sum(counts.values())
    everyone = sum(sizes.values())
    rows = []
    for name, size in sizes.items():
        answered = counts.get(name, 0)
        population_share = size / everyone
        if total:
            interval = wilson_interval(answered, total, confidence)
            share, low, high = answered / total, interval.low, interval.high
        else:
            share = low = high = math.nan
        rows.append(
            {
                "group": name,
                "responses": answered,
                "share": share,
                "ci_low": low,
                "ci_high": high,
                "population": size,
                "population_share": population_share,
                "difference": share - population_share,
                "representation": _representation(low, high, population_share),
            }
        )
    table = pd.DataFrame(rows, columns=COLUMNS)
    return _goodness_of_fit(table, total)


def _goodness_of_fit(table: pd.DataFrame, total: int) -> Representativeness:
    if total == 0:
        return _not_tested(
            table,
            "There are no responses from people who said which group they are in, so there is nothing to compare.",
        )
    # A group nobody is in can have no responses either: it adds nothing to the test.
    tested = table[table["population"] > 0]
    if len(tested) < 2:
        return _not_tested(table, "The population is all in one group, so there is nothing to compare.")
    expected = tested["population_share"].to_numpy() * total
    result = stats.chisquare(tested["responses"].to_numpy(), expected)
    small = bool(expected.min() < SMALL_EXPECTED_COUNT)
    note = (
        "Some groups would expect fewer than 5 responses, so the test may be unreliable; "
        "consider combining small groups."
        if small
        else ""
    )
    return Representativeness(
        table, GOODNESS_OF_FIT, float(result.statistic), len(tested) - 1, float(result.pvalue), small, note
    )


def _not_tested(table: pd.DataFrame, note: str) -> Representativeness:
    return Representativeness(table, "", math.nan, None, math.nan, False, note)


def _representation(low: float, high: float, population_share: float) -> str:
    if math.isnan(low):
        return ""
    if high < population_share:
        return UNDER
    if low > population_share:
        return OVER
    return IN_LINE


def _responses_by_group(responses: pd.DataFrame, group: str, count: str) -> dict[str, int]:
    """Responses per group, leaving out the people who did not say."""
    numbers = whole_counts(responses, count)
    counts: dict[str, int] = {}
    for label, name, number in zip(responses.index, responses[group], numbers, strict=True):
        if not isinstance(name, str):
            raise ValueError(f"The {group} must be text in row {label}, not {name!r}.")
        if name in counts:
            raise ValueError(f"The group {name!r} appears more than once in the responses.")
        if name != NOT_STATED:
            counts[name] = int(number)
    return counts


def _population(population: Mapping[str, int]) -> dict[str, int]:
    sizes = {}
    for name, size in population.items():
        if not isinstance(name, str) or name == NOT_STATED:
            raise ValueError(f"Each group of the population needs its answer code, not {name!r}.")
        if isinstance(size, bool) or not isinstance(size, numbers.Real) or not float(size).is_integer() or size < 0:
            raise ValueError(f"The population of the group {name!r} must be a whole number, 0 or more, not {size!r}.")
        sizes[name] = int(size)
    if not sizes or sum(sizes.values()) == 0:
        raise ValueError("The population has no one in it.")
    return sizes
