"""The trajectory from baseline through targets, the status rules, direction of travel and target assurance."""

from __future__ import annotations

from datetime import date

import pytest

from analysis import status
from analysis.measures import Polarity, Target
from analysis.proportions import Interval
from analysis.trajectory import expected_at, target_due

# "38% in Nov 2021, 85% by December 2023 (95% by February 2024)" (004_98254158bd74735f.txt).
BASELINE_DATE = date(2021, 11, 30)
TARGETS = (Target(0.85, date(2023, 12, 31)), Target(0.95, date(2024, 2, 29)))


def test_the_trajectory_runs_from_the_baseline_through_each_target():
    assert expected_at(BASELINE_DATE, 0.38, BASELINE_DATE, TARGETS) == pytest.approx(0.38)
    # 396 of the 761 days from 30 November 2021 to 31 December 2023.
    assert expected_at(date(2022, 12, 31), 0.38, BASELINE_DATE, TARGETS) == pytest.approx(0.38 + 0.47 * 396 / 761)
    assert expected_at(date(2023, 12, 31), 0.38, BASELINE_DATE, TARGETS) == pytest.approx(0.85)
    # Then 31 of the 60 days to 29 February 2024.
    assert expected_at(date(2024, 1, 31), 0.38, BASELINE_DATE, TARGETS) == pytest.approx(0.85 + 0.10 * 31 / 60)
    assert expected_at(date(2024, 2, 29), 0.38, BASELINE_DATE, TARGETS) == pytest.approx(0.95)


def test_after_the_final_target_the_plan_expects_it_and_before_the_baseline_nothing():
    assert expected_at(date(2026, 6, 1), 0.38, BASELINE_DATE, TARGETS) == pytest.approx(0.95)
    assert expected_at(date(2021, 11, 29), 0.38, BASELINE_DATE, TARGETS) is None
    assert expected_at(date(2022, 1, 1), 0.38, BASELINE_DATE, ()) is None


def test_a_falling_measure_has_a_falling_trajectory():
    # "Complaints about communication from 21% Nov 21 to 5% by September 2023."
    targets = (Target(0.05, date(2023, 9, 30)),)
    halfway = date(2022, 10, 30)
    expected = expected_at(halfway, 0.21, BASELINE_DATE, targets)
    assert expected == pytest.approx(0.21 - 0.16 * (halfway - BASELINE_DATE).days / 669)
    assert 0.05 < expected < 0.21


def test_targets_out_of_order_are_refused():
    with pytest.raises(ValueError, match="date order"):
        targets = (Target(0.9, date(2024, 6, 1)), Target(0.8, date(2024, 1, 1)))
        expected_at(date(2024, 1, 1), 0.38, BASELINE_DATE, targets)


def test_the_target_due_is_the_next_one_then_the_final_one():
    assert target_due(date(2022, 6, 30), TARGETS) == TARGETS[0]
    assert target_due(date(2023, 12, 31), TARGETS) == TARGETS[0]
    assert target_due(date(2024, 1, 1), TARGETS) == TARGETS[1]
    assert target_due(date(2025, 1, 1), TARGETS) == TARGETS[1]
    assert target_due(date(2025, 1, 1), ()) is None


HIGHER, LOWER = Polarity.HIGHER_IS_BETTER, Polarity.LOWER_IS_BETTER


@pytest.mark.parametrize(
    ("estimate", "interval", "trajectory", "improved", "expected"),
    [
        (0.62, Interval(0.5, 0.72), 0.60, False, status.GREEN),
        (0.60, Interval(0.5, 0.70), 0.60, False, status.GREEN),  # at the trajectory counts as on it
        (0.55, Interval(0.45, 0.65), 0.60, False, status.LIGHT_GREEN),
        (0.55, Interval(0.45, 0.60), 0.60, False, status.LIGHT_GREEN),  # the interval reaches it exactly
        (0.45, Interval(0.40, 0.50), 0.60, True, status.AMBER),
        (0.45, Interval(0.40, 0.50), 0.60, False, status.RED),
    ],
)
def test_rag_status_where_higher_is_better(estimate, interval, trajectory, improved, expected):
    assert status.rag_status(estimate, interval, trajectory, improved, HIGHER) == expected


@pytest.mark.parametrize(
    ("estimate", "interval", "trajectory", "improved", "expected"),
    [
        (0.08, Interval(0.04, 0.12), 0.10, False, status.GREEN),
        (0.12, Interval(0.08, 0.16), 0.10, False, status.LIGHT_GREEN),
        (0.20, Interval(0.15, 0.25), 0.10, True, status.AMBER),
        (0.20, Interval(0.15, 0.25), 0.10, False, status.RED),
    ],
)
def test_rag_status_where_lower_is_better(estimate, interval, trajectory, improved, expected):
    assert status.rag_status(estimate, interval, trajectory, improved, LOWER) == expected


def test_a_count_has_no_light_green():
    assert status.rag_status(2100, None, 2000, False, HIGHER) == status.GREEN
    assert status.rag_status(1990, None, 2000, True, HIGHER) == status.AMBER
    assert status.rag_status(1990, None, 2000, False, HIGHER) == status.RED


@pytest.mark.parametrize(
    ("difference", "significant", "polarity", "expected"),
    [
        (0.12, True, HIGHER, status.IMPROVING),
        (-0.12, True, HIGHER, status.DECLINING),
        (0.12, False, HIGHER, status.NO_SIGNIFICANT_CHANGE),
        (-0.12, True, LOWER, status.IMPROVING),
        (0.12, True, LOWER, status.DECLINING),
        (5.0, None, HIGHER, status.IMPROVING),
        (0.0, None, HIGHER, status.NO_CHANGE),
        (float("nan"), True, HIGHER, ""),
    ],
)
def test_direction_of_travel_only_moves_on_a_significant_change(difference, significant, polarity, expected):
    assert status.direction_of_travel(difference, significant, polarity) == expected


@pytest.mark.parametrize(
    ("interval", "target", "polarity", "expected"),
    [
        (Interval(0.86, 0.93), 0.85, HIGHER, status.MET_WITH_CONFIDENCE),
        (Interval(0.70, 0.84), 0.85, HIGHER, status.NOT_MET),
        (Interval(0.80, 0.90), 0.85, HIGHER, status.NOT_YET_CLEAR),
        (Interval(0.85, 0.90), 0.85, HIGHER, status.NOT_YET_CLEAR),  # the lower limit must be above it
        (Interval(0.01, 0.04), 0.05, LOWER, status.MET_WITH_CONFIDENCE),
        (Interval(0.06, 0.10), 0.05, LOWER, status.NOT_MET),
        (Interval(0.03, 0.07), 0.05, LOWER, status.NOT_YET_CLEAR),
    ],
)
def test_target_assurance(interval, target, polarity, expected):
    estimate = (interval.low + interval.high) / 2
    assert status.target_assurance(estimate, interval, target, polarity) == expected


def test_a_count_simply_meets_its_target_or_not():
    assert status.target_assurance(80, None, 75, HIGHER) == status.MET
    assert status.target_assurance(70, None, 75, HIGHER) == status.NOT_MET


def test_a_measure_for_information_only_is_not_rated():
    none = Polarity.NONE
    assert status.direction_of_travel(0.12, True, none) == status.NOT_RATED
    assert status.direction_of_travel(-62.0, None, none) == status.NOT_RATED
    with pytest.raises(ValueError, match="no better direction"):
        status.at_or_better(1, 0, none)


def test_a_target_whose_date_is_ahead_is_not_due_yet():
    # 30% against a target of 85% is not a failure while there is time to reach it.
    assert status.target_assurance(0.3, Interval(0.2, 0.4), 0.85, HIGHER, due=False) == status.NOT_DUE_YET
    assert status.target_assurance(70, None, 75, HIGHER, due=False) == status.NOT_DUE_YET
    assert status.target_assurance(0.3, Interval(0.2, 0.4), 0.85, HIGHER, due=True) == status.NOT_MET
