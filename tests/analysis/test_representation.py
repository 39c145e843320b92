"""Response rates and who responded, checked against statsmodels' Wilson interval and scipy's chi-square test.

``representativeness`` compares each group's share of the responses with its
share of the eligible population. The tests work each share, interval, label
and the goodness-of-fit test out independently for random surveys from a
seeded generator, and by hand for small examples.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from analysis.breakdowns import NOT_STATED
from analysis.representation import (
    COLUMNS,
    GOODNESS_OF_FIT,
    IN_LINE,
    OVER,
    UNDER,
    representativeness,
    response_rates,
)

CLOSE = {"rel": 1e-9, "abs": 1e-12}
SMALL_NOTE = (
    "Some groups would expect fewer than 5 responses, so the test may be unreliable; consider combining small groups."
)
NO_RESPONSES = "There are no responses from people who said which group they are in, so there is nothing to compare."
ONE_GROUP = "The population is all in one group, so there is nothing to compare."


def responses(counts: dict[str, int]) -> pd.DataFrame:
    return pd.DataFrame({"group": list(counts), "responses": list(counts.values())})


# Response rates


def _random_runs(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for wave in range(1, int(rng.integers(2, 12))):
        eligible = int(rng.integers(0, (5, 200, 30_000)[rng.integers(3)] + 1))
        answered = int(rng.integers(0, eligible + 1)) if rng.random() < 0.9 else 0
        known = rng.random() < 0.85
        rows.append(
            {"run": f"run {wave}", "wave": wave, "responses": answered, "eligible": eligible if known else None}
        )
    return pd.DataFrame(rows)


@pytest.mark.parametrize("seed", range(40))
def test_response_rates_match_statsmodels(seed):
    data = _random_runs(np.random.default_rng(20_240_800 + seed))
    before = data.copy()

    rated = response_rates(data)

    assert list(rated.columns) == ["run", "wave", "responses", "eligible", "rate", "ci_low", "ci_high"]
    pd.testing.assert_frame_equal(rated[before.columns], before)
    pd.testing.assert_frame_equal(data, before)  # the input is not changed
    for record in rated.to_dict("records"):
        eligible = record["eligible"]
        if pd.isna(eligible) or eligible == 0:
            assert math.isnan(record["rate"]) and math.isnan(record["ci_low"]) and math.isnan(record["ci_high"])
            continue
        low, high = proportion_confint(record["responses"], eligible, method="wilson")
        assert record["rate"] == record["responses"] / eligible
        assert record["ci_low"] == pytest.approx(low, **CLOSE)
        assert record["ci_high"] == pytest.approx(high, **CLOSE)


def test_response_rates_by_hand():
    data = pd.DataFrame(
        {"wave": ["2023", "2024", "2025", "2026"], "responses": [10, 0, 5, 40], "eligible": [19, 0, None, 40]}
    )
    rated = response_rates(data)
    # 10 of 19 eligible families answered: 52.6%, Wilson 31.7% to 72.7% (worked in test_proportions).
    assert rated.loc[0, "rate"] == pytest.approx(10 / 19)
    assert rated.loc[0, "ci_low"] == pytest.approx(0.31708, abs=1e-5)
    assert rated.loc[0, "ci_high"] == pytest.approx(0.72670, abs=1e-5)
    # Nobody eligible, or the eligible figure unknown: no rate.
    assert rated["rate"].isna().tolist() == [False, True, True, False]
    # Everyone answered: 100%, and the upper limit is exactly 1.
    assert (rated.loc[3, "rate"], rated.loc[3, "ci_high"]) == (1.0, 1.0)


def test_response_rates_use_the_confidence_level_and_custom_columns():
    data = pd.DataFrame({"answered": [30], "could_have": [120]})
    rated = response_rates(data, responses="answered", eligible="could_have", confidence=0.9)
    low, high = proportion_confint(30, 120, alpha=0.1, method="wilson")
    assert rated.loc[0, "rate"] == 0.25
    assert (rated.loc[0, "ci_low"], rated.loc[0, "ci_high"]) == pytest.approx((low, high), **CLOSE)


@pytest.mark.parametrize(
    ("answered", "eligible", "message"),
    [
        (
            [3, 30],
            [10, 20],
            "The responses cannot be more than eligible in row second (30 out of 20). "
            "A response rate over 100% means the eligible figure is wrong.",
        ),
        (
            [3, 1],
            [10, 0],
            "The responses cannot be more than eligible in row second (1 out of 0). "
            "A response rate over 100% means the eligible figure is wrong.",
        ),
        ([3, None], [10, 20], "The responses must be a whole number in row second, not None."),
        ([3, math.nan], [10, 20], "The responses must be a whole number in row second, not nan."),
        ([3.5, 1], [10, 20], "The responses must be a whole number in row first, not 3.5."),
        ([-3, 1], [10, 20], "The responses cannot be negative in row first (-3)."),
        ([3, 1], [10, -20], "The eligible cannot be negative in row second (-20)."),
        ([3, 1], [10.5, 20], "The eligible must be a whole number in row first, not 10.5."),
        ([3, 1], [True, 20], "The eligible must be a whole number in row first, not True."),
        ([3, 1], ["10", 20], "The eligible must be a whole number in row first, not '10'."),
    ],
)
def test_bad_response_figures_are_explained_with_their_row(answered, eligible, message):
    data = pd.DataFrame({"responses": answered, "eligible": eligible}, index=["first", "second"], dtype=object)
    with pytest.raises(ValueError) as raised:
        response_rates(data)
    assert str(raised.value) == message


def test_a_rate_over_100_percent_is_caught_after_rows_with_no_eligible_figure():
    # The row label is the frame's own, even when earlier rows have no eligible figure to check against.
    data = pd.DataFrame({"responses": [3, 4, 9], "eligible": [None, None, 8]}, index=[7, 8, 9])
    with pytest.raises(ValueError, match=r"in row 9 \(9 out of 8\)"):
        response_rates(data)


def test_response_rates_need_their_columns():
    with pytest.raises(ValueError, match=r"^The column 'eligible' is missing\.$"):
        response_rates(pd.DataFrame({"responses": [1]}))


# Who responded, against the eligible population


def _random_survey(rng: np.random.Generator) -> tuple[dict[str, int], dict[str, int]]:
    """Population sizes per group (some empty) and responses per group, sometimes with people who did not say."""
    groups = [f"group_{index}" for index in range(int(rng.integers(2, 7)))]
    sizes = {name: int(rng.integers(0, 5000)) if rng.random() < 0.9 else 0 for name in groups}
    if sum(sizes.values()) == 0:
        sizes[groups[0]] = 100
    shares = np.array(list(sizes.values()), dtype=float) / sum(sizes.values())
    if rng.random() < 0.5:
        # Some groups answer more readily than others (never a group nobody is in).
        shares = shares * rng.uniform(0.2, 3, len(shares))
        shares /= shares.sum()
    total = int(rng.integers(0, (10, 100, 3000)[rng.integers(3)] + 1))
    counts = dict(zip(groups, (int(count) for count in rng.multinomial(total, shares)), strict=True))
    # A group nobody answered may be left out of the responses; the people who did not say may be in them.
    counts = {name: count for name, count in counts.items() if count or rng.random() < 0.5}
    if rng.random() < 0.3:
        counts[NOT_STATED] = int(rng.integers(0, 50))
    return sizes, counts


SURVEYS = [_random_survey(np.random.default_rng(20_240_900 + seed)) for seed in range(200)]


@pytest.mark.parametrize(("population", "counts"), SURVEYS, ids=[f"survey{seed}" for seed in range(len(SURVEYS))])
def test_representativeness_matches_statsmodels_and_scipy(population, counts):
    answered = {name: counts.get(name, 0) for name in population}
    total = sum(answered.values())
    everyone = sum(population.values())

    result = representativeness(responses(counts), population)

    table = result.table
    assert list(table.columns) == COLUMNS
    assert list(table["group"]) == list(population)
    assert list(table["responses"]) == list(answered.values())
    assert list(table["population"]) == list(population.values())
    for record in table.to_dict("records"):
        population_share = population[record["group"]] / everyone
        assert record["population_share"] == pytest.approx(population_share, **CLOSE)
        if total == 0:
            assert math.isnan(record["share"]) and math.isnan(record["difference"])
            assert record["representation"] == ""
            continue
        low, high = proportion_confint(record["responses"], total, method="wilson")
        # At 0 responses the lower limit is exactly 0, and at all of them the upper limit is exactly 1; statsmodels
        # can leave rounding noise (2.8e-17 for 0 of 7, 0.9999999999999999 for 1315 of 1315) that would flip a label.
        low = 0.0 if record["responses"] == 0 else low
        high = 1.0 if record["responses"] == total else high
        assert record["share"] == pytest.approx(record["responses"] / total, **CLOSE)
        assert (record["ci_low"], record["ci_high"]) == pytest.approx((low, high), **CLOSE)
        assert record["difference"] == pytest.approx(record["responses"] / total - population_share, **CLOSE)
        expected_label = UNDER if high < population_share else OVER if low > population_share else IN_LINE
        assert record["representation"] == expected_label

    tested = [name for name, size in population.items() if size > 0]
    if total == 0:
        assert (result.test, result.note) == ("", NO_RESPONSES)
    elif len(tested) < 2:
        assert (result.test, result.note) == ("", ONE_GROUP)
    else:
        observed = np.array([answered[name] for name in tested])
        expected = np.array([population[name] / everyone * total for name in tested])
        scipy_result = stats.chisquare(observed, expected)
        by_hand = ((observed - expected) ** 2 / expected).sum()
        assert result.test == GOODNESS_OF_FIT
        assert result.statistic == pytest.approx(scipy_result.statistic, **CLOSE)
        assert result.statistic == pytest.approx(by_hand, rel=1e-9, abs=1e-9)
        assert result.p_value == pytest.approx(scipy_result.pvalue, **CLOSE)
        assert result.p_value == pytest.approx(stats.chi2.sf(by_hand, len(tested) - 1), rel=1e-6, abs=1e-12)
        assert result.dof == len(tested) - 1
        assert result.small_expected is bool(expected.min() < 5)
        assert result.note == (SMALL_NOTE if expected.min() < 5 else "")
    if result.test == "":
        assert math.isnan(result.statistic) and math.isnan(result.p_value)
        assert result.dof is None and result.small_expected is False


def test_the_random_surveys_exercise_every_label_and_branch():
    results = [representativeness(responses(counts), population) for population, counts in SURVEYS]
    labels = pd.concat([result.table["representation"] for result in results]).value_counts()
    assert min(labels.get(label, 0) for label in (UNDER, OVER, IN_LINE)) >= 20
    assert sum(result.test == GOODNESS_OF_FIT and result.small_expected for result in results) >= 10
    assert sum(result.test == GOODNESS_OF_FIT and not result.small_expected for result in results) >= 10
    assert sum(result.test == "" for result in results) >= 1


def test_representativeness_by_hand():
    # 500 of each of two groups could have answered; 80 of one answered and 20 of the other (7 did not say).
    # Expected 50 each: chi-square = (80 - 50)^2 / 50 + (20 - 50)^2 / 50 = 18 + 18 = 36 on 1 degree of freedom.
    result = representativeness(responses({"a": 80, "b": 20, NOT_STATED: 7}), {"a": 500, "b": 500})
    assert result.test == GOODNESS_OF_FIT
    assert result.statistic == pytest.approx(36.0)
    assert result.dof == 1
    assert result.p_value == pytest.approx(stats.chi2.sf(36, 1))
    assert result.p_value < 1e-8
    assert not result.small_expected and result.note == ""
    # 80 of 100 is 80%, Wilson 71.1% to 86.7%, all above the population's 50%: over-represented; 20% is under.
    assert list(result.table["share"]) == [0.8, 0.2]
    assert list(result.table["difference"]) == pytest.approx([0.3, -0.3])
    assert list(result.table["representation"]) == [OVER, UNDER]
    assert result.table.loc[0, "ci_low"] == pytest.approx(0.71117, abs=1e-5)


def test_a_close_match_is_in_line():
    # 52 and 48 against 50 each: chi-square = (4 + 4) / 50 = 0.16.
    result = representativeness(responses({"a": 52, "b": 48}), {"a": 1000, "b": 1000})
    assert result.statistic == pytest.approx(0.16)
    assert list(result.table["representation"]) == [IN_LINE, IN_LINE]


def test_a_group_with_no_responses_is_in_the_table():
    # Nobody from c answered. With 100 responses the upper limit of 0% is z^2 / (100 + z^2) = 3.8415 / 103.8415 = 3.7%,
    # below c's population share of 10%, so c is under-represented.
    result = representativeness(responses({"a": 60, "b": 40}), {"a": 450, "b": 450, "c": 100})
    row = result.table.set_index("group").loc["c"]
    assert (row["responses"], row["share"], row["ci_low"]) == (0, 0.0, 0.0)
    assert row["ci_high"] == pytest.approx(3.8415 / 103.8415, abs=1e-5)
    assert row["representation"] == UNDER
    assert result.dof == 2


def test_a_group_nobody_is_in_is_listed_but_left_out_of_the_test():
    with_empty = representativeness(responses({"a": 60, "b": 40}), {"a": 500, "b": 500, "c": 0})
    without = representativeness(responses({"a": 60, "b": 40}), {"a": 500, "b": 500})
    assert list(with_empty.table["group"]) == ["a", "b", "c"]
    assert with_empty.table.loc[2, "population_share"] == 0
    assert (with_empty.statistic, with_empty.dof, with_empty.p_value) == (without.statistic, 1, without.p_value)


def test_people_who_did_not_say_are_left_out_of_the_shares():
    plain = representativeness(responses({"a": 60, "b": 40}), {"a": 500, "b": 500})
    with_unknown = representativeness(responses({"a": 60, NOT_STATED: 900, "b": 40}), {"a": 500, "b": 500})
    pd.testing.assert_frame_equal(plain.table, with_unknown.table)
    assert plain.statistic == with_unknown.statistic


def test_small_expected_counts_are_flagged():
    # 12 responses across groups of 30%, 30% and 40%: expected 3.6, 3.6 and 4.8, all under 5.
    result = representativeness(responses({"a": 4, "b": 3, "c": 5}), {"a": 300, "b": 300, "c": 400})
    assert result.test == GOODNESS_OF_FIT
    assert result.small_expected
    assert result.note == SMALL_NOTE
    # With 24 responses the expected counts are 7.2, 7.2 and 9.6: none is under 5.
    assert not representativeness(responses({"a": 8, "b": 6, "c": 10}), {"a": 300, "b": 300, "c": 400}).small_expected


@pytest.mark.parametrize(
    ("counts", "population", "note"),
    [
        ({"a": 0, "b": 0}, {"a": 10, "b": 10}, NO_RESPONSES),
        ({NOT_STATED: 12}, {"a": 10, "b": 10}, NO_RESPONSES),
        ({}, {"a": 10, "b": 10}, NO_RESPONSES),
        ({"a": 12}, {"a": 10}, ONE_GROUP),
        ({"a": 12, "b": 0}, {"a": 10, "b": 0}, ONE_GROUP),
    ],
)
def test_cases_with_nothing_to_compare_are_not_tested_and_say_why(counts, population, note):
    result = representativeness(responses(counts), population)
    assert (result.test, result.note, result.dof, result.small_expected) == ("", note, None, False)
    assert math.isnan(result.statistic) and math.isnan(result.p_value)
    assert list(result.table["group"]) == list(population)


def test_with_no_responses_there_are_no_shares():
    result = representativeness(responses({NOT_STATED: 3}), {"a": 10, "b": 30})
    assert result.table["share"].isna().all() and result.table["difference"].isna().all()
    assert list(result.table["representation"]) == ["", ""]
    assert list(result.table["population_share"]) == [0.25, 0.75]


def test_custom_column_names_and_confidence():
    data = pd.DataFrame({"setting": ["school", "college"], "answered": [30, 10]})
    result = representativeness(
        data, {"school": 600, "college": 400}, group="setting", count="answered", confidence=0.9
    )
    low, high = proportion_confint(30, 40, alpha=0.1, method="wilson")
    assert (result.table.loc[0, "ci_low"], result.table.loc[0, "ci_high"]) == pytest.approx((low, high), **CLOSE)


def test_population_sizes_may_be_numpy_integers_or_whole_floats():
    expected = representativeness(responses({"a": 6, "b": 4}), {"a": 50, "b": 50})
    for sizes in ({"a": np.int64(50), "b": np.int32(50)}, {"a": 50.0, "b": 50.0}):
        result = representativeness(responses({"a": 6, "b": 4}), sizes)
        pd.testing.assert_frame_equal(result.table, expected.table)


@pytest.mark.parametrize(
    ("counts", "population", "message"),
    [
        (
            {"a": 1, "d": 2},
            {"a": 10, "b": 10},
            "The population has no figure for the group 'd'; it must cover every answer given.",
        ),
        ({"a": 1, "b": 2}, {"a": 10, "b": 0}, "The population has no one in the group 'b', but it has responses."),
        ({"a": 1}, {}, "The population has no one in it."),
        ({"a": 0}, {"a": 0, "b": 0}, "The population has no one in it."),
        ({"a": 1}, {NOT_STATED: 5, "a": 10}, "Each group of the population needs its answer code, not ''."),
        ({"a": 1}, {3: 5, "a": 10}, "Each group of the population needs its answer code, not 3."),
        ({"a": 1}, {"a": 10.5}, "The population of the group 'a' must be a whole number, 0 or more, not 10.5."),
        ({"a": 1}, {"a": -10}, "The population of the group 'a' must be a whole number, 0 or more, not -10."),
        ({"a": 1}, {"a": True}, "The population of the group 'a' must be a whole number, 0 or more, not True."),
        ({"a": 1}, {"a": math.nan}, "The population of the group 'a' must be a whole number, 0 or more, not nan."),
        ({"a": 1}, {"a": "10"}, "The population of the group 'a' must be a whole number, 0 or more, not '10'."),
        ({"a": 1}, {"a": None}, "The population of the group 'a' must be a whole number, 0 or more, not None."),
    ],
)
def test_bad_population_figures_are_explained(counts, population, message):
    with pytest.raises(ValueError) as raised:
        representativeness(responses(counts), population)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("groups", "counts", "message"),
    [
        (["a", "a"], [1, 2], "The group 'a' appears more than once in the responses."),
        (["a", None], [1, 2], "The group must be text in row second, not None."),
        (["a", 4], [1, 2], "The group must be text in row second, not 4."),
        (["a", "b"], [1, 2.5], "The responses must be a whole number in row second, not 2.5."),
        (["a", "b"], [-1, 2], "The responses cannot be negative in row first (-1)."),
        (["a", "b"], [None, 2], "The responses must be a whole number in row first, not None."),
        (["a", "b"], [False, 2], "The responses must be a whole number in row first, not False."),
    ],
)
def test_bad_responses_are_explained_with_their_row(groups, counts, message):
    data = pd.DataFrame({"group": groups, "responses": counts}, index=["first", "second"], dtype=object)
    with pytest.raises(ValueError) as raised:
        representativeness(data, {"a": 10, "b": 10})
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ({"group": ["a"]}, "The column 'responses' is missing."),
        ({"other": ["a"]}, "The columns 'group', 'responses' are missing."),
    ],
)
def test_representativeness_needs_its_columns(columns, message):
    with pytest.raises(ValueError) as raised:
        representativeness(pd.DataFrame(columns), {"a": 10})
    assert str(raised.value) == message
