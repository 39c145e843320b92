"""Breakdowns by a context answer: which groups are being left behind.

A measure split by a context answer (age group, type of need, the setting
the child attends) gives a proportion per group with its Wilson interval,
and one test of whether the groups differ at all. With two groups that is
the chi-square test without continuity correction, which is the pooled
two-proportion z-test squared (the same p-value as ``proportions.compare``).
Fisher's exact test takes over when an expected count is under 5. With more
groups it is the chi-square test of the 2 x k table. When an expected count
there is under 5 the result is flagged as possibly unreliable rather than
replaced, because merging groups is a judgement for the analyst.

People who did not answer the context question, or preferred not to say
(``NOT_STATED``), stay in the output with their own percentage, so the
groups still add up to the whole. They are left out of the test: they are
not a group that policy can reach.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .proportions import CONFIDENCE, FISHER, SMALL_EXPECTED_COUNT, proportion

NOT_STATED = ""  # respondents who did not answer the context question (or preferred not to say)

CHI_SQUARE = "chi-square test"

TEST_COLUMNS = ["test", "statistic", "dof", "p_value", "small_expected", "note"]
COLUMNS = ["group", "n", "positives", "percent", "ci_low", "ci_high", *TEST_COLUMNS]


@dataclass(frozen=True)
class GroupTest:
    test: str  # CHI_SQUARE or FISHER, "" when not tested
    statistic: float  # the chi-square statistic (NaN for Fisher's exact test or when not tested)
    dof: int | None
    p_value: float
    small_expected: bool  # an expected count under 5 in a table bigger than 2 x 2: the chi-square may be unreliable
    note: str  # why it was not tested, or the caution, in plain English


def test_groups(data: pd.DataFrame, *, group: str = "group", positives: str = "positives", n: str = "n") -> GroupTest:
    """Whether the proportion differs between the groups of one breakdown (one row per group).

    Groups with no one in them, and the people who did not say, are left out.
    """
    check_columns(data, [group, positives, n])
    counts = _counts(data, group, positives, n)
    _check_groups_once(data[group])
    tested = [(x, total - x) for name, x, total in counts if name != NOT_STATED and total > 0]
    if len(tested) < 2:
        return _not_tested("Fewer than two groups had answers, so there is nothing to compare.")
    table = np.array(tested).T  # row 0: positives, row 1: the rest; one column per group
    if (table.sum(axis=1) == 0).any():
        return _not_tested("Every group gave the same answer, so there is nothing to compare.")
    expected = stats.contingency.expected_freq(table)
    small = bool(expected.min() < SMALL_EXPECTED_COUNT)
    if small and len(tested) == 2:
        p_value = float(stats.fisher_exact(table).pvalue)
        return GroupTest(FISHER, math.nan, None, min(1.0, p_value), False, "")
    result = stats.chi2_contingency(table, correction=False)
    note = (
        "Some expected counts are under 5, so the chi-square test may be unreliable; consider combining small groups."
        if small
        else ""
    )
    return GroupTest(CHI_SQUARE, float(result.statistic), int(result.dof), float(result.pvalue), small, note)


# Its name starts with "test", so pytest would collect it wherever a test module imports it.
test_groups.__test__ = False


def breakdown(
    data: pd.DataFrame,
    *,
    by: list[str],
    group: str = "group",
    positives: str = "positives",
    n: str = "n",
    confidence: float = CONFIDENCE,
) -> pd.DataFrame:
    """One row per group of each breakdown, with its proportion, interval and the breakdown's test.

    Each set of ``by`` values (such as measure and period) is one breakdown.
    The columns are ``by`` then ``COLUMNS``; percent and its interval are
    proportions from 0 to 1, NaN when a group has no one in it. The test's
    columns are repeated on each row of the breakdown.
    """
    check_columns(data, [*by, group, positives, n])
    _counts(data, group, positives, n)
    tables = [data] if not by else [table for _, table in data.groupby(by, sort=False, dropna=False)]
    rows = []
    for table in tables:
        tested = test_groups(table, group=group, positives=positives, n=n)
        for record in table.to_dict("records"):
            estimate = proportion(record[positives], record[n], confidence)
            rows.append(
                {
                    **{column: record[column] for column in by},
                    "group": record[group],
                    "n": estimate.n,
                    "positives": estimate.positives,
                    "percent": estimate.value,
                    "ci_low": estimate.interval.low,
                    "ci_high": estimate.interval.high,
                    **{column: getattr(tested, column) for column in TEST_COLUMNS},
                }
            )
    result = pd.DataFrame(rows, columns=[*by, *COLUMNS])
    result["dof"] = result["dof"].astype("Int64")
    result["small_expected"] = result["small_expected"].astype(bool)
    return result


def _not_tested(note: str) -> GroupTest:
    return GroupTest("", math.nan, None, math.nan, False, note)


def check_columns(data: pd.DataFrame, columns: list[str]) -> None:
    """Every column a function is told to use must be there."""
    missing = [column for column in dict.fromkeys(columns) if column not in data.columns]
    if len(missing) == 1:
        raise ValueError(f"The column {missing[0]!r} is missing.")
    if missing:
        raise ValueError(f"The columns {', '.join(repr(column) for column in missing)} are missing.")


def whole_counts(data: pd.DataFrame, column: str, *, missing_allowed: bool = False) -> np.ndarray:
    """The column as whole numbers, 0 or more, as floats (NaN where a figure may be missing and is)."""
    for label, value in data[column].items():
        if missing_allowed and (value is None or (_is_number(value) and math.isnan(value))):
            continue
        if not _is_number(value) or math.isnan(value) or not float(value).is_integer():
            raise ValueError(f"The {column} must be a whole number in row {label}, not {value!r}.")
        if value < 0:
            raise ValueError(f"The {column} cannot be negative in row {label} ({value!r}).")
    return data[column].to_numpy(dtype=float, na_value=math.nan)


def check_no_more_than(data: pd.DataFrame, part: str, whole: str, parts: np.ndarray, wholes: np.ndarray) -> None:
    """A count cannot be more than the count it is part of (positives and n, responses and eligible)."""
    over = parts > wholes
    if over.any():
        row = int(np.flatnonzero(over)[0])
        raise ValueError(
            f"The {part} cannot be more than {whole} in row {data.index[row]} "
            f"({parts[row]:.0f} out of {wholes[row]:.0f})."
        )


def _is_number(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float | np.integer | np.floating)


def _counts(data: pd.DataFrame, group: str, positives: str, n: str) -> list[tuple[str, int, int]]:
    """(group, positives, n) for each row, checked."""
    xs, totals = whole_counts(data, positives), whole_counts(data, n)
    check_no_more_than(data, positives, n, xs, totals)
    for label, name in data[group].items():
        if not isinstance(name, str):
            raise ValueError(
                f"The {group} must be text in row {label}, not {name!r} ({NOT_STATED!r} is for not stated)."
            )
    return list(zip(data[group], xs.astype(int).tolist(), totals.astype(int).tolist(), strict=True))


def _check_groups_once(groups: pd.Series) -> None:
    repeated = groups[groups.duplicated()]
    if not repeated.empty:
        name = repeated.iloc[0]
        what = "the group for people who did not say" if name == NOT_STATED else f"the group {name!r}"
        raise ValueError(f"Each breakdown needs one row per group, but {what} appears more than once.")
