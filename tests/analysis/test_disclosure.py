"""Disclosure control: small counts hidden, and nothing hidden can be worked out from what is shown."""

import random

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from analysis.breakdowns import NOT_STATED
from analysis.disclosure import SECONDARY, SMALL_COUNT, SUPPRESSED, TOTAL, DisclosureRules, suppress

RULES = DisclosureRules()
C = SUPPRESSED


def one_row(positives, n, rules=RULES):
    frame = pd.DataFrame({"measure": ["m"], "positives": [positives], "n": [n], "percent": [positives / n if n else 0]})
    return suppress(frame, rules, tables=["measure"], derived=["percent"]).iloc[0]


# A reader's view of one breakdown: the shown counts, the sums they must satisfy, and what follows.


def reader_view(published: pd.DataFrame, true: list[tuple[int, int]], has_total: bool):
    """What a reader knows of each cell (positives, others, n) of each row, the total row last.

    The others are never shown, only worked out. With no total row the
    total is known from the headline report.
    """
    rows = len(true)
    known = {}
    for row, (_, record) in enumerate(published.iterrows()):
        if record["positives"] != C:
            known[row, 0] = record["positives"]
        if record["n"] != C:
            known[row, 2] = record["n"]
    if not has_total:
        known[rows, 0] = sum(x for x, _ in true)
        known[rows, 1] = sum(n - x for x, n in true)
        known[rows, 2] = sum(n for _, n in true)
        groups = rows
    else:
        groups = rows - 1
    last = groups  # the total row
    sums = [{(row, 0): 1, (row, 1): 1, (row, 2): -1} for row in range(last + 1)]
    for column in range(3):
        sums.append({**{(row, column): 1 for row in range(groups)}, (last, column): -1})
    return known, sums, last + 1


def recovered_by_subtraction(known: dict, sums: list[dict]) -> dict:
    """Every cell a reader can work out by subtraction along the sums, again and again."""
    known = dict(known)
    changed = True
    while changed:
        changed = False
        for equation in sums:
            unknown = [cell for cell in equation if cell not in known]
            if len(unknown) == 1:
                cell = unknown[0]
                rest = sum(coefficient * known[other] for other, coefficient in equation.items() if other != cell)
                known[cell] = -rest / equation[cell]
                changed = True
    return known


def pinned_down(known: dict, sums: list[dict], rows: int) -> set:
    """The cells whose value the sums and "no count is negative" fix, by linear programming.

    The sums of a two-way table make a totally unimodular system, so a cell
    whose lowest and highest possible values differ has at least two whole
    values it could be.
    """
    unknown = [(row, column) for row in range(rows) for column in range(3) if (row, column) not in known]
    if not unknown:
        return set()
    place = {cell: i for i, cell in enumerate(unknown)}
    left, right = [], []
    for equation in sums:
        coefficients = np.zeros(len(unknown))
        constant = 0.0
        for cell, coefficient in equation.items():
            if cell in place:
                coefficients[place[cell]] = coefficient
            else:
                constant -= coefficient * known[cell]
        if coefficients.any():
            left.append(coefficients)
            right.append(constant)
    fixed = set()
    for cell in unknown:
        objective = np.zeros(len(unknown))
        objective[place[cell]] = 1
        low = linprog(objective, A_eq=np.array(left), b_eq=right, bounds=(0, None))
        high = linprog(-objective, A_eq=np.array(left), b_eq=right, bounds=(0, None))
        assert low.status == 0
        if high.status == 0 and abs(-high.fun - low.fun) < 1e-7:
            fixed.add(cell)
    return fixed


def protected_cells(published: pd.DataFrame, true: list[tuple[int, int]], threshold: int, has_total: bool) -> set:
    """The cells a reader must not learn: those shown as "c", and small "others" that are never shown."""
    cells = set()
    for row, ((x, n), (_, record)) in enumerate(zip(true, published.iterrows(), strict=True)):
        if record["positives"] == C:
            cells.add((row, 0))
        if record["n"] == C:
            cells.add((row, 2))
        if 1 <= n - x <= threshold:
            cells.add((row, 1))
    return cells


def random_breakdown(rng: random.Random) -> list[tuple[int, int]]:
    groups = []
    for _ in range(rng.randint(2, 6)):
        n = rng.choice([0, rng.randint(1, 8), rng.randint(1, 25), rng.randint(5, 90)])
        x = rng.choice([0, n, rng.randint(0, n), min(n, rng.randint(0, 4)), max(0, n - rng.randint(0, 4))])
        groups.append((x, n))
    return groups


def breakdown_frame(groups: list[tuple[int, int]], has_total: bool) -> pd.DataFrame:
    rows = [(f"group_{i}", x, n) for i, (x, n) in enumerate(groups)]
    if has_total:
        rows.append((TOTAL, sum(x for x, _ in groups), sum(n for _, n in groups)))
    frame = pd.DataFrame(rows, columns=["group", "positives", "n"])
    frame["percent"] = [x / n if n else np.nan for _, x, n in rows]
    return frame


# Primary suppression.


@pytest.mark.parametrize("positives", range(8))
def test_counts_from_1_to_the_threshold_are_hidden_and_0_is_shown(positives):
    row = one_row(positives, 100)
    if 1 <= positives <= 5:
        assert row["positives"] == C
        assert row["percent"] == C
        assert row["suppression"] == SMALL_COUNT
    else:
        assert row["positives"] == positives
        assert row["percent"] == positives / 100
        assert row["suppression"] == ""
    assert row["n"] == 100


@pytest.mark.parametrize(("positives", "hidden"), [(0, False), (1, True), (9, True), (10, False), (11, False)])
def test_the_threshold_can_be_set(positives, hidden):
    row = one_row(positives, 50, DisclosureRules(threshold=9))
    assert (row["positives"] == C) is hidden


def test_a_small_base_is_hidden_with_what_would_give_it_away():
    row = one_row(0, 4)
    # 0 is shown, but the 4 who answered otherwise are a small count, and so is the base.
    assert (row["positives"], row["n"], row["percent"]) == (0, C, C)
    assert row["suppression"] == SMALL_COUNT
    row = one_row(3, 3)
    assert (row["positives"], row["n"], row["percent"]) == (C, C, C)


# The complement: the others are never shown, but they can be worked out.


def test_a_small_complement_hides_the_positives_and_keeps_the_base():
    row = one_row(38, 40)
    assert row["positives"] == C
    assert row["n"] == 40
    assert row["percent"] == C
    assert row["suppression"] == SMALL_COUNT


def test_hiding_the_positives_keeps_the_base():
    row = one_row(3, 40)
    assert (row["positives"], row["n"], row["percent"]) == (C, 40, C)


# Percentages on a small base.


def test_a_percentage_on_a_base_under_the_minimum_is_withheld_but_its_counts_are_shown():
    frame = pd.DataFrame({"positives": [10, 12], "n": [25, 30], "percent": [0.4, 0.4], "ci_low": [0.2, 0.2]})
    published = suppress(frame, DisclosureRules(minimum_base=30), tables=[], derived=["percent", "ci_low"])
    assert published["positives"].tolist() == [10, 12]
    assert published["n"].tolist() == [25, 30]
    assert published["percent"].tolist() == [C, 0.4]
    assert published["ci_low"].tolist() == [C, 0.2]
    assert published["suppression"].tolist() == ["base under 30", ""]


def test_a_base_of_0_shows_its_zeros_and_withholds_the_percentage():
    frame = pd.DataFrame({"positives": [0], "n": [0], "percent": [np.nan]})
    published = suppress(frame, RULES, tables=[], derived=["percent"])
    assert published.iloc[0].tolist() == [0, 0, C, "base under 10"]


def test_a_small_base_with_nothing_derived_hides_nothing():
    published = suppress(pd.DataFrame({"positives": [0], "n": [8]}), RULES, tables=[])
    assert published.iloc[0].tolist() == [0, 8, ""]


# Breakdowns: the groups add up to the total.


def test_a_hidden_base_in_a_breakdown_hides_a_second_group_so_neither_can_be_worked_out():
    groups = [(0, 4), (10, 30), (12, 40)]
    frame = breakdown_frame(groups, has_total=True)
    published = suppress(frame, RULES, tables=[], group="group", derived=["percent"])
    # The 4 (its base and its others) is hidden; the bases 4 + 30 would give
    # it away from the total's 74 - 40, so the 30 goes too. The 10 positives
    # stay: without the base of 30, its 20 others are unknown as well.
    assert published["n"].tolist() == [C, C, 40, 74]
    assert published["positives"].tolist() == [0, 10, 12, 22]
    assert published["percent"].tolist() == [C, C, 12 / 40, 22 / 74]
    assert published["suppression"].tolist() == [SMALL_COUNT, SECONDARY, "", ""]
    true = [*groups, (22, 74)]
    known, sums, rows = reader_view(published, true, has_total=True)
    protected = protected_cells(published, true, RULES.threshold, has_total=True)
    assert protected == {(0, 1), (0, 2), (1, 2)}
    assert not protected & recovered_by_subtraction(known, sums).keys()
    assert not protected & pinned_down(known, sums, rows)


def test_without_a_total_row_the_total_is_taken_as_known():
    frame = breakdown_frame([(3, 20), (15, 30)], has_total=False)
    published = suppress(frame, RULES, tables=[], group="group")
    # The headline shows 18 positives, so hiding the 3 alone would give it away.
    assert published["positives"].tolist() == [C, C]
    assert published["n"].tolist() == [20, 30]
    assert published["suppression"].tolist() == [SMALL_COUNT, SECONDARY]


def test_a_total_row_that_is_itself_a_small_count_is_hidden_as_one():
    frame = breakdown_frame([(3, 20), (0, 30)], has_total=True)
    published = suppress(frame, RULES, tables=[], group="group")
    # The other group has no positives, so the total is the same 3; the 0 stays.
    assert published["positives"].tolist() == [C, 0, C]
    assert published["n"].tolist() == [20, 30, 50]
    assert published["suppression"].tolist() == [SMALL_COUNT, "", SMALL_COUNT]


def test_a_zero_is_hidden_only_when_nothing_else_can_be():
    # The headline shows 20 positives; with the other groups' zeros shown the
    # first group's 20 (and so its 3 others) would be known.
    frame = breakdown_frame([(20, 23), (0, 7), (0, 12)], has_total=False)
    published = suppress(frame, RULES, tables=[], group="group")
    assert published["positives"].tolist() == [C, C, 0]
    assert published["n"].tolist() == [23, 7, 12]
    assert published["suppression"].tolist() == [SMALL_COUNT, SECONDARY, ""]


def test_a_group_with_no_one_in_it_is_never_hidden():
    frame = breakdown_frame([(3, 20), (0, 0), (15, 30)], has_total=False)
    published = suppress(frame, RULES, tables=[], group="group")
    assert published.loc[1, ["positives", "n", "suppression"]].tolist() == [0, 0, ""]


def test_a_breakdown_with_one_group_is_suppressed_as_the_headline_is():
    for x, n in [(3, 40), (38, 40), (0, 4), (20, 30)]:
        alone = suppress(breakdown_frame([(x, n)], has_total=False), RULES, tables=[], group="group")
        headline = suppress(pd.DataFrame({"positives": [x], "n": [n]}), RULES, tables=[])
        assert alone[["positives", "n", "suppression"]].equals(headline)


@pytest.mark.parametrize("has_total", [True, False])
def test_no_hidden_count_in_a_random_breakdown_can_be_worked_out(has_total):
    rng = random.Random(20240401 + has_total)
    checked = hidden = 0
    for _ in range(400):
        groups = random_breakdown(rng)
        if not has_total and sum(1 for _, n in groups if n) < 2:
            continue  # one group is the headline itself (tested above)
        rules = DisclosureRules(threshold=rng.choice([3, 5, 9]))
        frame = breakdown_frame(groups, has_total)
        published = suppress(frame, rules, tables=[], group="group", derived=["percent"])
        true = [*groups, (sum(x for x, _ in groups), sum(n for _, n in groups))] if has_total else groups
        known, sums, rows = reader_view(published, true, has_total)
        protected = protected_cells(published, true, rules.threshold, has_total)
        assert not protected & recovered_by_subtraction(known, sums).keys(), (groups, published)
        assert not protected & pinned_down(known, sums, rows), (groups, published)
        for (x, n), (_, record) in zip(true, published.iterrows(), strict=True):
            shown = [value for value in (record["positives"], record["n"]) if value != C]
            assert not any(1 <= value <= rules.threshold for value in shown)
            if record["positives"] != C and record["n"] != C:
                assert not 1 <= n - x <= rules.threshold
            withheld = C in (record["positives"], record["n"]) or n < rules.minimum_base
            assert (record["percent"] == C) is withheld
            if record["positives"] == C or record["n"] == C:
                assert record["suppression"] in (SMALL_COUNT, SECONDARY)
        checked += 1
        hidden += bool(protected)
    assert checked > 300 and hidden > 200


def test_a_breakdown_with_nothing_small_hides_nothing():
    frame = breakdown_frame([(10, 30), (20, 45), (0, 12)], has_total=True)
    published = suppress(frame, RULES, tables=[], group="group", derived=["percent"])
    assert published["positives"].tolist() == [10, 20, 0, 30]
    assert published["suppression"].tolist() == ["", "", "", ""]


def test_people_who_did_not_say_are_a_group_of_the_breakdown():
    frame = breakdown_frame([(3, 20), (15, 30)], has_total=True)
    frame.loc[1, "group"] = NOT_STATED
    published = suppress(frame, RULES, tables=[], group="group")
    assert published["positives"].tolist() == [C, C, 18]


# Several tables in one frame.


def test_each_measure_and_period_is_its_own_table():
    frame = pd.DataFrame(
        {
            "measure": ["a", "a", "b", "b"],
            "period": ["2024-25 Q1", "2024-25 Q2", "2024-25 Q1", "2024-25 Q2"],
            "positives": [3, 30, 38, 8],
            "n": [40, 40, 40, 8],
            "percent": [3 / 40, 30 / 40, 38 / 40, 8 / 8],
        }
    )
    published = suppress(frame, RULES, tables=["measure", "period"], derived=["percent"])
    assert published["positives"].tolist() == [C, 30, C, 8]
    assert published["percent"].tolist() == [C, 0.75, C, C]
    assert published["suppression"].tolist() == [SMALL_COUNT, "", SMALL_COUNT, "base under 10"]


def test_breakdowns_in_different_periods_are_suppressed_independently():
    first = breakdown_frame([(3, 20), (15, 30)], has_total=True).assign(period="Q1")
    second = breakdown_frame([(10, 20), (15, 30)], has_total=True).assign(period="Q2")
    frame = pd.concat([first, second], ignore_index=True)
    published = suppress(frame, RULES, tables=["period"], group="group")
    assert published["positives"].tolist() == [C, C, 18, 10, 15, 25]


def test_the_total_row_can_come_anywhere_in_its_table():
    frame = breakdown_frame([(0, 4), (10, 30), (12, 40)], has_total=True).iloc[[3, 1, 0, 2]]
    published = suppress(frame, RULES, tables=[], group="group")
    assert published["n"].tolist() == [74, C, C, 40]
    assert published.index.tolist() == [3, 1, 0, 2]


# The frame that comes back.


def test_the_input_is_unchanged_and_the_output_keeps_its_index_and_columns():
    frame = pd.DataFrame(
        {
            "measure": ["a", "b"],
            "positives": [3, 20],
            "n": [40, 40],
            "percent": [3 / 40, 0.5],
            "title": ["First", "Second"],
        },
        index=[10, 20],
    )
    before = frame.copy(deep=True)
    published = suppress(frame, RULES, tables=["measure"], derived=["percent"])
    pd.testing.assert_frame_equal(frame, before)
    assert published.index.tolist() == [10, 20]
    assert published.columns.tolist() == [*frame.columns, "suppression"]
    for column in ("positives", "n", "percent"):
        assert published[column].dtype == object
    assert published["title"].tolist() == ["First", "Second"]
    assert published.loc[20, "positives"] == 20 and published.loc[20, "percent"] == 0.5


def test_whole_numbers_held_as_floats_are_accepted():
    published = suppress(pd.DataFrame({"positives": [3.0, 20.0], "n": [40.0, 40.0]}), RULES, tables=[])
    assert published["positives"].tolist() == [C, 20.0]


# Input checks.


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"positives": [1]}), "The columns 'measure', 'n', 'percent' are missing."),
        (pd.DataFrame({"positives": [1], "n": [2]}), "The columns 'measure', 'percent' are missing."),
        (pd.DataFrame({"measure": ["a"], "positives": [-1], "n": [2], "percent": [0]}), "cannot be negative in row 0"),
        (pd.DataFrame({"measure": ["a"], "positives": [1.5], "n": [2], "percent": [0]}), "whole number in row 0"),
        (pd.DataFrame({"measure": ["a"], "positives": [1], "n": [np.nan], "percent": [0]}), "whole number in row 0"),
        (pd.DataFrame({"measure": ["a"], "positives": ["1"], "n": [2], "percent": [0]}), "whole number in row 0"),
        (
            pd.DataFrame({"measure": ["a", "b"], "positives": [1, 12], "n": [2, 10], "percent": [0, 0]}, index=[5, 7]),
            "The positives cannot be more than n in row 7 (12 out of 10).",
        ),
        (
            pd.DataFrame({"measure": ["a", "a"], "positives": [1, 1], "n": [2, 3], "percent": [0, 0]}),
            "Rows 0 and 1 are both in the table for measure 'a'; a breakdown needs its group column.",
        ),
    ],
)
def test_bad_input_is_named(frame, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        suppress(frame, RULES, tables=["measure"], derived=["percent"])


def test_a_group_appearing_twice_is_an_error():
    frame = breakdown_frame([(3, 20), (15, 30)], has_total=True)
    frame.loc[1, "group"] = "group_0"
    with pytest.raises(ValueError, match="The group 'group_0' appears more than once in the table"):
        suppress(frame, RULES, tables=[], group="group")


def test_groups_that_do_not_add_up_to_the_total_are_an_error():
    frame = breakdown_frame([(3, 20), (15, 30)], has_total=True)
    frame.loc[2, "n"] = 60
    with pytest.raises(ValueError, match="the groups' n add up to 50, but the total row"):
        suppress(frame, RULES, tables=[], group="group")


def test_a_missing_group_is_an_error():
    frame = breakdown_frame([(3, 20), (15, 30)], has_total=False)
    frame.loc[1, "group"] = None
    with pytest.raises(ValueError, match="The group is missing in row 1."):
        suppress(frame, RULES, tables=[], group="group")


@pytest.mark.parametrize("rules", [{"threshold": -1}, {"minimum_base": 2.5}, {"threshold": True}])
def test_the_rules_must_be_whole_numbers(rules):
    with pytest.raises(ValueError, match="must be a whole number, 0 or more"):
        DisclosureRules(**rules)
