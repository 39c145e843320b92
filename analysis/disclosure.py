"""Disclosure control: what may leave the officer area, and what is shown as "c".

This is the council's data protection policy for published figures, in code.
Every table that leaves the officer area (a board paper, a published report,
an export to partners) goes through ``suppress``, so that no respondent can
be singled out from small numbers.

Each row counts ``positives`` out of a base ``n``. The rest, ``others = n -
positives``, is not shown, but anyone can work it out, so it is protected as
if it were. A breakdown by a context answer (age group, type of need...)
adds one more kind of sum: each count over the groups adds up to the count
in the total row. When the table has no total row the total is published
anyway (the headline report shows it), so it is taken as known.

1. Primary suppression: a count from 1 to the threshold (5) is hidden,
   whether it is the positives, the others or the base. 0 is shown, because
   learning that nobody gave an answer does not single anyone out.
2. Complement: if the positives and the base were both shown, the others
   could be worked out by subtraction. So when 38 of 40 answered yes, the 2
   who did not are protected by hiding the 38 as well, and the base stays.
3. Secondary suppression: if exactly one count in a sum is hidden, it can be
   worked out by subtraction. The sums are positives + others = n in every
   row, and each count over the groups = the total. In that case the
   smallest other count in the sum that is not 0 is hidden too. A total (or
   a row's base) is hidden only when no group count can be, and a 0 only
   when nothing else can. This repeats until every sum has either no hidden
   count or at least two. A row has only three counts (positives, others,
   n), and with so few columns this also stops anyone combining several sums
   to pin a hidden count down.
4. Percentages: a row's percentage, and anything else worked out from its
   counts (interval limits, changes, gaps to a target), is withheld when any
   of the row's counts is hidden or when its base is under the minimum (10).
   A percentage of three people is not a finding, and it would give the
   counts away.

A breakdown with only one group that anyone is in, and no total row, is the
headline table itself, so it is suppressed just as the headline is. The
headline goes through ``suppress`` on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .breakdowns import NOT_STATED, check_columns, check_no_more_than, whole_counts

SUPPRESSED = "c"  # the GSS symbol for a confidential figure
# The group value of a table's total row. Answer codes are lower case, so it
# can never be a group's code, nor breakdowns.NOT_STATED ("").
TOTAL = "Total"

SMALL_COUNT = "small count"
SECONDARY = "hidden so that another cannot be worked out"

# The three counts of a row, in the order they are held here.
POSITIVES, OTHERS, BASE = 0, 1, 2


@dataclass(frozen=True)
class DisclosureRules:
    threshold: int = 5  # counts from 1 to the threshold (inclusive) are hidden; 0 is shown
    minimum_base: int = 10  # no percentage on a base under this

    def __post_init__(self) -> None:
        for name in ("threshold", "minimum_base"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"The {name} must be a whole number, 0 or more, not {value!r}.")


def suppress(
    data: pd.DataFrame,
    rules: DisclosureRules,
    *,
    tables: list[str],
    group: str | None = None,
    positives: str = "positives",
    n: str = "n",
    derived: Sequence[str] = (),
) -> pd.DataFrame:
    """A copy of ``data`` fit to publish: hidden counts and withheld figures show as "c".

    The rows that share the values of the ``tables`` columns (such as measure
    and period) make up one table. Without ``group`` every table is a single
    row. With ``group`` its rows are the groups of one breakdown (people who
    did not say among them), and the row whose group is ``TOTAL`` is the
    total, which the groups must add up to. The ``positives``, ``n`` and
    ``derived`` columns become object columns holding the number or "c".
    A ``suppression`` column gives the reason in plain English ("" when
    nothing in the row is hidden).
    """
    derived = list(derived)
    check_columns(data, [*tables, *([group] if group else []), positives, n, *derived])
    counts = _cells(data, positives, n)
    if group is not None and data[group].isna().any():
        raise ValueError(f"The group is missing in row {data.index[data[group].isna().to_numpy()][0]}.")

    primary = np.zeros((len(data), 3), dtype=bool)
    hidden = np.zeros((len(data), 3), dtype=bool)
    for key, positions in _tables(data, tables, single_rows=group is None):
        order, has_total = positions, False
        if group is not None:
            order, has_total = _breakdown_order(data, group, positions, tables, key)
            if has_total:
                _check_adds_up(counts[order], data, tables, key)
        table_primary, table_hidden = _suppress_table(counts[order], has_total, rules.threshold)
        primary[order], hidden[order] = table_primary, table_hidden

    any_hidden = hidden.any(axis=1)
    small_base = counts[:, BASE] < rules.minimum_base
    withheld = any_hidden | small_base
    published = data.copy()
    for column, mask in ((positives, hidden[:, POSITIVES]), (n, hidden[:, BASE])):
        published[column] = _withheld(published[column], mask)
    for column in derived:
        published[column] = _withheld(published[column], withheld)
    reasons = np.where(
        primary.any(axis=1),
        SMALL_COUNT,
        np.where(any_hidden, SECONDARY, np.where(small_base & bool(derived), f"base under {rules.minimum_base}", "")),
    )
    published["suppression"] = pd.Series(reasons, index=data.index, dtype=object)
    return published


def _suppress_table(cells: np.ndarray, has_total: bool, threshold: int) -> tuple[np.ndarray, np.ndarray]:
    """Which of one table's counts are hidden: (small counts, every hidden count), shaped like ``cells``.

    ``cells`` holds (positives, others, n) for each group, then the total
    row when ``has_total``. Without one, the total is the groups' sum and is
    known: it is never hidden.
    """
    groups = len(cells) - int(has_total)
    grid = np.vstack([cells, cells.sum(axis=0)]) if not has_total else cells.copy()
    can_hide = np.ones(grid.shape, dtype=bool)
    if not has_total:
        can_hide[-1] = False
    # A group nobody is in adds nothing to a sum, and hiding its zeros would
    # hide nothing: anyone can see from its base that they are zeros.
    answered = [row for row in range(groups) if grid[row, BASE] > 0]
    can_hide[[row for row in range(groups) if row not in answered]] = False
    primary = (grid >= 1) & (grid <= threshold) & can_hide
    hidden = primary.copy()

    # Each sum as (the cells that add up, the cell they add up to).
    sums = [([(row, POSITIVES), (row, OTHERS)], (row, BASE)) for row in range(len(cells))]
    if len(answered) >= 2 or (has_total and answered):
        total = len(grid) - 1
        sums += [([(row, column) for row in answered], (total, column)) for column in (POSITIVES, OTHERS, BASE)]

    changed = True
    while changed:
        changed = False
        for parts, whole in sums:
            if sum(hidden[cell] for cell in [*parts, whole]) != 1:
                continue
            cell = _next_to_hide(grid, hidden, can_hide, parts, whole)
            if cell is not None:
                hidden[cell] = True
                changed = True
    return primary[: len(cells)], hidden[: len(cells)]


def _next_to_hide(
    grid: np.ndarray, hidden: np.ndarray, can_hide: np.ndarray, parts: list[tuple[int, int]], whole: tuple[int, int]
) -> tuple[int, int] | None:
    """The cell to hide so that a sum's one hidden cell cannot be worked out.

    The smallest shown part that is not 0 loses the least; then the whole
    (a base or a total); a 0 only as a last resort, when the parts that are
    not 0 are all hidden and the whole is known from elsewhere.
    """
    shown = [cell for cell in parts if not hidden[cell] and can_hide[cell]]
    not_zero = [cell for cell in shown if grid[cell] > 0]
    if not_zero:
        return min(not_zero, key=lambda cell: grid[cell])
    if can_hide[whole] and not hidden[whole]:
        return whole
    return shown[0] if shown else None


def _tables(data: pd.DataFrame, tables: list[str], *, single_rows: bool) -> list[tuple[tuple, np.ndarray]]:
    """Each table's key and row positions.

    With ``single_rows`` (no breakdown) a headline figure shares no sum with
    another row, so each row is a table of its own; two rows with the same
    ``tables`` values would be the same figure twice, which is a mistake in
    the counts.
    """
    if not tables:
        if single_rows:
            return [((), np.array([row])) for row in range(len(data))]
        return [((), np.arange(len(data)))]
    grouped = data.groupby(tables, sort=False, dropna=False).indices
    found = [(key if isinstance(key, tuple) else (key,), positions) for key, positions in grouped.items()]
    if single_rows:
        for key, positions in found:
            if len(positions) > 1:
                raise ValueError(
                    f"Rows {data.index[positions[0]]} and {data.index[positions[1]]} are both in "
                    f"{_describe(tables, key)}; a breakdown needs its group column."
                )
    return found


def _breakdown_order(
    data: pd.DataFrame, group: str, positions: np.ndarray, tables: list[str], key: tuple
) -> tuple[np.ndarray, bool]:
    """The table's positions with the total row (if any) last, after checking each group appears once."""
    groups = data[group].to_numpy()[positions]
    seen: set = set()
    for value in groups:
        if value in seen:
            what = "total row" if value == TOTAL else f"group {value!r}"
            raise ValueError(f"The {what} appears more than once in {_describe(tables, key)}.")
        seen.add(value)
    is_total = groups == TOTAL
    return np.concatenate([positions[~is_total], positions[is_total]]), bool(is_total.any())


def _check_adds_up(cells: np.ndarray, data: pd.DataFrame, tables: list[str], key: tuple) -> None:
    """The groups must add up to the total row, or the sums that suppression protects are not the real ones."""
    groups, total = cells[:-1].sum(axis=0), cells[-1]
    for column, name in ((POSITIVES, "positives"), (BASE, "n")):
        if groups[column] != total[column]:
            raise ValueError(
                f"In {_describe(tables, key)} the groups' {name} add up to {groups[column]}, "
                f"but the total row (group {TOTAL!r}) has {total[column]}. Every respondent must be in "
                "exactly one group; people who did not say are a group of their own "
                f"({NOT_STATED!r})."
            )


def _describe(tables: list[str], key: tuple) -> str:
    if not tables:
        return "the table"
    return "the table for " + ", ".join(f"{column} {value!r}" for column, value in zip(tables, key, strict=True))


def _cells(data: pd.DataFrame, positives: str, n: str) -> np.ndarray:
    """(positives, others, n) for every row, as whole numbers, after checking them."""
    xs, totals = whole_counts(data, positives), whole_counts(data, n)
    check_no_more_than(data, positives, n, xs, totals)
    xs, totals = xs.astype(np.int64), totals.astype(np.int64)
    return np.column_stack([xs, totals - xs, totals])


def _withheld(column: pd.Series, mask: np.ndarray) -> pd.Series:
    published = column.astype(object)
    published[mask] = SUPPRESSED
    return published
