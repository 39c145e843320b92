"""Breakdowns by a context answer: each group's proportion and one test of whether the groups differ.

The per-group intervals are checked against statsmodels' Wilson interval,
and the test against scipy: the chi-square test of the 2 x k table without
Yates's correction, or Fisher's exact test for two groups when an expected
count is under 5. Random breakdowns come from a seeded generator.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from analysis.breakdowns import CHI_SQUARE, COLUMNS, NOT_STATED, TEST_COLUMNS, GroupTest, breakdown, test_groups
from analysis.proportions import FISHER, compare

FEWER_THAN_TWO = "Fewer than two groups had answers, so there is nothing to compare."
SAME_ANSWER = "Every group gave the same answer, so there is nothing to compare."
SMALL_NOTE = (
    "Some expected counts are under 5, so the chi-square test may be unreliable; consider combining small groups."
)

CLOSE = {"rel": 1e-9, "abs": 1e-12}


def frame(rows, **columns) -> pd.DataFrame:
    """A breakdown from (group, positives, n) rows."""
    data = pd.DataFrame(rows, columns=["group", "positives", "n"])
    for name, values in columns.items():
        data[name] = values
    return data


def _random_breakdown(rng: np.random.Generator) -> list[tuple[str, int, int]]:
    groups = int(rng.integers(2, 7))
    rows = []
    for index in range(groups):
        size = int(rng.integers(0, (8, 60, 2000)[rng.integers(3)] + 1))
        rows.append((f"group_{index}", int(rng.integers(0, size + 1)), size))
    if rng.random() < 0.3:
        size = int(rng.integers(0, 30))
        rows.insert(int(rng.integers(0, len(rows) + 1)), (NOT_STATED, int(rng.integers(0, size + 1)), size))
    return rows


RANDOM = [_random_breakdown(np.random.default_rng(20_240_600 + seed)) for seed in range(200)]


def _scipy_test(rows) -> GroupTest:
    """The test the module's docstring describes, worked out with scipy."""
    tested = [(x, n - x) for name, x, n in rows if name != NOT_STATED and n > 0]
    if len(tested) < 2:
        return GroupTest("", math.nan, None, math.nan, False, FEWER_THAN_TWO)
    table = np.array(tested).T
    if (table.sum(axis=1) == 0).any():
        return GroupTest("", math.nan, None, math.nan, False, SAME_ANSWER)
    small = stats.contingency.expected_freq(table).min() < 5
    if small and len(tested) == 2:
        return GroupTest(FISHER, math.nan, None, min(1.0, stats.fisher_exact(table).pvalue), False, "")
    result = stats.chi2_contingency(table, correction=False)
    return GroupTest(CHI_SQUARE, result.statistic, result.dof, result.pvalue, bool(small), SMALL_NOTE if small else "")


def assert_same_test(got: GroupTest, expected: GroupTest) -> None:
    assert (got.test, got.dof, got.small_expected, got.note) == (
        expected.test,
        expected.dof,
        expected.small_expected,
        expected.note,
    )
    for name in ("p_value", "statistic"):
        if math.isnan(getattr(expected, name)):
            assert math.isnan(getattr(got, name))
        else:
            assert getattr(got, name) == pytest.approx(getattr(expected, name), **CLOSE)


# The test of whether groups differ


@pytest.mark.parametrize("rows", RANDOM, ids=[f"breakdown{seed}" for seed in range(len(RANDOM))])
def test_test_groups_matches_scipy(rows):
    expected = _scipy_test(rows)

    assert_same_test(test_groups(frame(rows)), expected)


def test_the_random_breakdowns_exercise_every_branch():
    tests = [test_groups(frame(rows)) for rows in RANDOM]
    assert sum(t.test == CHI_SQUARE and not t.small_expected for t in tests) >= 15
    assert sum(t.test == CHI_SQUARE and t.small_expected for t in tests) >= 20
    assert sum(t.test == FISHER for t in tests) >= 5
    assert sum(any(name == NOT_STATED for name, _, _ in rows) for rows in RANDOM) >= 20


def test_chi_square_by_hand_without_continuity_correction():
    # 10 of 19 against 3 of 12: 13 positives and 18 others in 31.
    # Expected: 19 x 13/31 = 7.9677, 19 x 18/31 = 11.0323, 12 x 13/31 = 5.0323, 12 x 18/31 = 6.9677.
    # Every observed count is 2.0323 from its expected count, so
    # chi-square = 2.0323^2 x (1/7.9677 + 1/11.0323 + 1/5.0323 + 1/6.9677) = 4.1302 x 0.55839 = 2.3062.
    tested = test_groups(frame([("a", 10, 19), ("b", 3, 12)]))
    assert tested.test == CHI_SQUARE
    assert tested.statistic == pytest.approx(2.3062, abs=1e-4)
    assert tested.dof == 1
    assert tested.p_value == pytest.approx(stats.chi2.sf(2.3062, 1), abs=1e-4)
    # Yates's correction would give a smaller statistic: the module does not use it.
    corrected = stats.chi2_contingency([[10, 3], [9, 9]], correction=True).statistic
    assert corrected < 2.0
    assert not tested.small_expected and tested.note == ""


def _two_group_cases() -> list[tuple[int, int, int, int]]:
    """Pairs of groups with something to compare: every group has answers and not everyone gave the same one."""
    rng = np.random.default_rng(20_240_650)
    cases = []
    while len(cases) < 100:
        (_, x1, n1), (_, x2, n2) = [row for row in _random_breakdown(rng) if row[0] != NOT_STATED][:2]
        if n1 and n2 and 0 < x1 + x2 < n1 + n2:
            cases.append((x1, n1, x2, n2))
    return cases


@pytest.mark.parametrize(("x1", "n1", "x2", "n2"), _two_group_cases())
def test_two_groups_give_the_same_test_and_p_value_as_compare(x1, n1, x2, n2):
    # The docstring's promise: with two groups the test is the one proportions.compare makes.
    tested = test_groups(frame([("a", x1, n1), ("b", x2, n2)]))
    comparison = compare(x1, n1, x2, n2)
    assert tested.p_value == pytest.approx(comparison.p_value, **CLOSE)
    assert (tested.test == FISHER) == (comparison.test == FISHER)


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2"), [(30, 50, 20, 60), (80, 100, 60, 100), (5, 10, 5, 10), (12, 40, 25, 41)]
)
def test_two_groups_give_the_same_p_value_as_compare_by_construction(x1, n1, x2, n2):
    tested = test_groups(frame([("a", x1, n1), ("b", x2, n2)]))
    assert tested.test == CHI_SQUARE
    assert tested.p_value == pytest.approx(compare(x1, n1, x2, n2).p_value, **CLOSE)


@pytest.mark.parametrize(
    ("rows", "test"),
    [
        # 10 of 20 positive: every expected count is 10 x 10/20 = 5, not under 5: chi-square.
        ([("a", 7, 10), ("b", 3, 10)], CHI_SQUARE),
        # 9 of 20: expected positives 4.5 in each group: Fisher's exact test.
        ([("a", 6, 10), ("b", 3, 10)], FISHER),
        # 11 of 20: expected others 4.5: Fisher's exact test.
        ([("a", 8, 10), ("b", 3, 10)], FISHER),
    ],
)
def test_fishers_exact_test_takes_over_for_two_groups_when_an_expected_count_is_under_5(rows, test):
    tested = test_groups(frame(rows))
    table = [[x for _, x, _ in rows], [n - x for _, x, n in rows]]
    assert tested.test == test
    if test == FISHER:
        assert tested.p_value == pytest.approx(stats.fisher_exact(table).pvalue, **CLOSE)
        assert math.isnan(tested.statistic) and tested.dof is None
        assert not tested.small_expected and tested.note == ""
    else:
        assert tested.p_value == pytest.approx(stats.chi2_contingency(table, correction=False).pvalue, **CLOSE)


def test_fishers_exact_test_by_hand():
    # 3 of 3 against 0 of 3: 1/C(6,3) = 1/20 for this table and 1/20 for its mirror, so p = 0.1.
    tested = test_groups(frame([("a", 3, 3), ("b", 0, 3)]))
    assert tested.test == FISHER
    assert tested.p_value == pytest.approx(0.1)


@pytest.mark.parametrize(
    ("positives", "small"),
    [
        # Three groups of 10 with 15 positives: every expected count is 10 x 15/30 = 5: not small.
        ([5, 5, 5], False),
        ([9, 4, 2], False),
        # 14 positives: expected positives 10 x 14/30 = 4.67 in each group: small.
        ([9, 4, 1], True),
    ],
)
def test_more_than_two_groups_keep_the_chi_square_test_and_flag_small_expected_counts(positives, small):
    rows = [(name, x, 10) for name, x in zip("abc", positives, strict=True)]
    tested = test_groups(frame(rows))
    result = stats.chi2_contingency([positives, [10 - x for x in positives]], correction=False)
    assert tested.test == CHI_SQUARE
    assert tested.dof == 2
    assert tested.statistic == pytest.approx(result.statistic, **CLOSE)
    assert tested.p_value == pytest.approx(result.pvalue, **CLOSE)
    assert tested.small_expected is small
    assert tested.note == (SMALL_NOTE if small else "")


@pytest.mark.parametrize(
    ("rows", "note"),
    [
        ([], FEWER_THAN_TWO),
        ([("a", 3, 10)], FEWER_THAN_TWO),
        ([("a", 3, 10), ("b", 0, 0)], FEWER_THAN_TWO),
        ([("a", 0, 0), ("b", 0, 0)], FEWER_THAN_TWO),
        ([("a", 3, 10), (NOT_STATED, 5, 8)], FEWER_THAN_TWO),
        ([(NOT_STATED, 5, 8)], FEWER_THAN_TWO),
        ([("a", 10, 10), ("b", 4, 4), ("c", 0, 0)], SAME_ANSWER),
        ([("a", 0, 10), ("b", 0, 4), (NOT_STATED, 2, 3)], SAME_ANSWER),
    ],
)
def test_cases_with_nothing_to_compare_are_not_tested_and_say_why(rows, note):
    tested = test_groups(frame(rows))
    assert tested.test == ""
    assert math.isnan(tested.statistic) and math.isnan(tested.p_value)
    assert tested.dof is None
    assert tested.small_expected is False
    assert tested.note == note


def test_people_who_did_not_say_are_left_out_of_the_test():
    groups = [("a", 30, 50), ("b", 20, 60), ("c", 40, 45)]
    without = test_groups(frame(groups))
    for not_stated in [(NOT_STATED, 0, 0), (NOT_STATED, 1, 2), (NOT_STATED, 90, 100)]:
        assert test_groups(frame([*groups, not_stated])) == without
    # A group that happens to be called "not stated" is a group like any other.
    assert test_groups(frame([*groups, ("not_stated", 90, 100)])).dof == 3


def test_empty_groups_are_left_out_of_the_test():
    groups = [("a", 30, 50), ("b", 20, 60)]
    assert test_groups(frame([*groups, ("c", 0, 0)])) == test_groups(frame(groups))


def test_custom_column_names():
    data = pd.DataFrame({"setting": ["early_years", "school"], "yes": [30, 20], "base": [50, 60]})
    tested = test_groups(data, group="setting", positives="yes", n="base")
    assert tested == test_groups(frame([("early_years", 30, 50), ("school", 20, 60)]))


def test_test_groups_is_not_collected_as_a_test():
    assert test_groups.__test__ is False


# The breakdown table


def _random_report(rng: np.random.Generator) -> pd.DataFrame:
    frames = []
    for measure in ("information", "plans"):
        for period in ("2023-24 Q4", "2024-25 Q1", "2024-25 Q2"):
            rows = _random_breakdown(rng)
            frames.append(frame(rows, measure=measure, period=period))
    data = pd.concat(frames, ignore_index=True)
    return data.sample(frac=1, random_state=int(rng.integers(1_000_000)))  # rows in any order, labels shuffled


@pytest.mark.parametrize("seed", range(20))
def test_breakdown_gives_each_groups_share_its_wilson_interval_and_its_breakdowns_test(seed):
    data = _random_report(np.random.default_rng(20_240_700 + seed))

    result = breakdown(data, by=["measure", "period"])

    assert list(result.columns) == ["measure", "period", *COLUMNS]
    assert len(result) == len(data)
    assert str(result["dof"].dtype) == "Int64"
    assert result["small_expected"].dtype == bool
    # Each breakdown's rows stay in their order.
    for key, rows in data.groupby(["measure", "period"], sort=False):
        assert list(result.loc[(result["measure"] == key[0]) & (result["period"] == key[1]), "group"]) == list(
            rows["group"]
        )
    for record in result.to_dict("records"):
        x, n = record["positives"], record["n"]
        if n == 0:
            assert math.isnan(record["percent"]) and math.isnan(record["ci_low"]) and math.isnan(record["ci_high"])
        else:
            low, high = proportion_confint(x, n, method="wilson")
            assert record["percent"] == x / n
            assert record["ci_low"] == pytest.approx(low, **CLOSE)
            assert record["ci_high"] == pytest.approx(high, **CLOSE)
        same = data[(data["measure"] == record["measure"]) & (data["period"] == record["period"])]
        rows = list(same[["group", "positives", "n"]].itertuples(index=False, name=None))
        expected = _scipy_test(rows)
        dof = None if pd.isna(record["dof"]) else int(record["dof"])
        got = GroupTest(
            record["test"], record["statistic"], dof, record["p_value"], record["small_expected"], record["note"]
        )
        assert_same_test(got, expected)


def test_breakdown_by_hand_with_people_who_did_not_say():
    data = frame([("a", 10, 19), ("b", 3, 12), (NOT_STATED, 2, 5)])

    result = breakdown(data, by=[])

    # 10 of 19 is 52.6%; the people who did not say keep their own row (2 of 5, 40%), so the rows add up to the whole.
    assert list(result["group"]) == ["a", "b", NOT_STATED]
    assert list(result["percent"]) == pytest.approx([10 / 19, 3 / 12, 2 / 5])
    assert result["n"].sum() == 36 and result["positives"].sum() == 15
    # The test is the a-against-b chi-square worked by hand above, without the people who did not say.
    assert set(result["test"]) == {CHI_SQUARE}
    assert result["statistic"].tolist() == pytest.approx([2.3062] * 3, abs=1e-4)


def test_breakdown_of_nothing_is_an_empty_table():
    result = breakdown(frame([], measure=[]), by=["measure"])
    assert result.empty
    assert list(result.columns) == ["measure", *COLUMNS]


def test_breakdown_keeps_a_breakdown_whose_by_value_is_missing():
    data = frame([("a", 30, 50), ("b", 20, 60), ("a", 3, 10)], period=["2024-25 Q1", "2024-25 Q1", None])
    result = breakdown(data, by=["period"])
    assert len(result) == 3
    assert list(result["test"]) == [CHI_SQUARE, CHI_SQUARE, ""]


def test_breakdown_repeats_the_test_on_every_row_of_its_breakdown():
    data = frame([("a", 30, 50), ("b", 20, 60), ("a", 3, 3), ("b", 0, 3)], measure=["m", "m", "k", "k"])
    result = breakdown(data, by=["measure"])
    for measure, rows in [("m", data.iloc[:2]), ("k", data.iloc[2:])]:
        tested = test_groups(rows)
        for column in TEST_COLUMNS:
            values = result.loc[result["measure"] == measure, column].tolist()
            expected = getattr(tested, column)
            if isinstance(expected, float) and math.isnan(expected):
                assert all(math.isnan(value) for value in values)
            elif expected is None:
                assert all(pd.isna(value) for value in values)
            else:
                assert values == [expected, expected]
    assert list(result["test"]) == [CHI_SQUARE, CHI_SQUARE, FISHER, FISHER]


def test_breakdown_uses_the_confidence_level():
    data = frame([("a", 10, 19), ("b", 3, 12)])
    result = breakdown(data, by=[], confidence=0.9)
    low, high = proportion_confint(10, 19, alpha=0.1, method="wilson")
    assert result.loc[0, "ci_low"] == pytest.approx(low, **CLOSE)
    assert result.loc[0, "ci_high"] == pytest.approx(high, **CLOSE)


def test_breakdown_counts_may_be_whole_floats():
    floats = frame([("a", 10.0, 19.0), ("b", 3.0, 12.0)])
    result = breakdown(floats, by=[])
    assert result["n"].tolist() == [19, 12]
    assert result.equals(breakdown(frame([("a", 10, 19), ("b", 3, 12)]), by=[]))


# Bad input, with the row it is in


def labelled(rows, labels=("first", "second", "third")) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["group", "positives", "n"], index=list(labels[: len(rows)]), dtype=object)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("a", 1, 5), ("b", 2.5, 5)], "The positives must be a whole number in row second, not 2.5."),
        ([("a", 1, 5), ("b", math.nan, 5)], "The positives must be a whole number in row second, not nan."),
        ([("a", True, 5), ("b", 1, 5)], "The positives must be a whole number in row first, not True."),
        ([("a", "1", 5), ("b", 1, 5)], "The positives must be a whole number in row first, not '1'."),
        ([("a", None, 5), ("b", 1, 5)], "The positives must be a whole number in row first, not None."),
        ([("a", 1, 5), ("b", 1, -5)], "The n cannot be negative in row second (-5)."),
        ([("a", -1, 5), ("b", 1, 5)], "The positives cannot be negative in row first (-1)."),
        ([("a", 1, 5), ("b", 6, 5)], "The positives cannot be more than n in row second (6 out of 5)."),
        ([("a", 1, 5), (None, 1, 5)], "The group must be text in row second, not None ('' is for not stated)."),
        ([("a", 1, 5), (3, 1, 5)], "The group must be text in row second, not 3 ('' is for not stated)."),
        (
            [("a", 1, 5), ("b", 1, 5), ("a", 2, 5)],
            "Each breakdown needs one row per group, but the group 'a' appears more than once.",
        ),
        (
            [(NOT_STATED, 1, 5), ("b", 1, 5), (NOT_STATED, 2, 5)],
            "Each breakdown needs one row per group, but the group for people who did not say appears more than once.",
        ),
    ],
)
def test_bad_input_is_explained_with_its_row(rows, message):
    data = labelled(rows)
    with pytest.raises(ValueError) as raised:
        test_groups(data)
    assert str(raised.value) == message
    with pytest.raises(ValueError) as raised:
        breakdown(data, by=[])
    assert str(raised.value) == message


def test_bad_input_in_a_later_breakdown_names_its_row():
    data = frame([("a", 1, 5), ("b", 2, 5), ("a", 1, 5), ("b", 7, 5)], measure=["m", "m", "k", "k"])
    data.index = [101, 102, 103, 104]
    with pytest.raises(ValueError, match=r"^The positives cannot be more than n in row 104 \(7 out of 5\)\.$"):
        breakdown(data, by=["measure"])


def test_the_same_group_may_appear_once_in_each_breakdown_but_not_twice_in_one():
    data = frame([("a", 1, 5), ("b", 2, 5), ("a", 1, 5), ("b", 2, 5)], measure=["m", "m", "k", "k"])
    assert len(breakdown(data, by=["measure"])) == 4
    with pytest.raises(ValueError, match="the group 'a' appears more than once"):
        breakdown(data, by=[])


def test_bad_input_names_custom_columns():
    data = pd.DataFrame({"setting": ["school", "college"], "yes": [3, 9], "base": [5, 8]})
    with pytest.raises(ValueError, match=r"^The yes cannot be more than base in row 1 \(9 out of 8\)\.$"):
        breakdown(data, by=[], group="setting", positives="yes", n="base")


@pytest.mark.parametrize(
    ("drop", "by", "message"),
    [
        (["n"], [], "The column 'n' is missing."),
        (["group", "n"], [], "The columns 'group', 'n' are missing."),
        ([], ["period"], "The column 'period' is missing."),
        (["positives"], ["period", "measure"], "The columns 'period', 'measure', 'positives' are missing."),
    ],
)
def test_missing_columns_are_named(drop, by, message):
    data = frame([("a", 1, 5)]).drop(columns=drop)
    with pytest.raises(ValueError) as raised:
        breakdown(data, by=by)
    assert str(raised.value) == message
    if not by:
        with pytest.raises(ValueError) as raised:
            test_groups(data)
        assert str(raised.value) == message
