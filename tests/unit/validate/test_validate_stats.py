"""Equivalence statistics: exact intervals, the three decisions, budgets and detectable deviations."""

from __future__ import annotations

import pytest
from scipy import stats as scipy_stats

from toolkit.validate.stats import (
    Decision,
    clopper_pearson,
    detection_power,
    equivalence_budget,
    goodness_of_fit,
    judge_share,
    look_points,
    per_test_alpha,
    smallest_detectable,
)


def test_clopper_pearson_matches_the_beta_quantiles() -> None:
    low, high = clopper_pearson(30, 100, 0.05)
    assert low == pytest.approx(scipy_stats.beta.ppf(0.025, 30, 71))
    assert high == pytest.approx(scipy_stats.beta.ppf(0.975, 31, 70))
    assert clopper_pearson(0, 50, 0.05)[0] == 0.0 and clopper_pearson(50, 50, 0.05)[1] == 1.0


def test_a_share_near_its_expectation_with_many_requests_is_inside() -> None:
    assert judge_share("a", 500, 1000, 0.5, 0.1, 0.01).decision is Decision.INSIDE


def test_a_share_far_from_its_expectation_is_outside_in_both_directions() -> None:
    assert judge_share("a", 900, 1000, 0.5, 0.1, 0.01).decision is Decision.OUTSIDE
    assert judge_share("a", 100, 1000, 0.5, 0.1, 0.01).decision is Decision.OUTSIDE


def test_few_requests_leave_it_undecided_rather_than_passing() -> None:
    # 5 of 10 is exactly the expected share, but 10 requests cannot show it is within 10%.
    assert judge_share("a", 5, 10, 0.5, 0.1, 0.05).decision is Decision.UNDECIDED


def test_a_member_expected_to_get_nothing() -> None:
    assert judge_share("w", 0, 200, 0.0, 0.1, 0.01).decision is Decision.INSIDE
    assert judge_share("w", 60, 200, 0.0, 0.1, 0.01).decision is Decision.OUTSIDE


def test_budget_grows_with_confidence_power_and_a_tighter_tolerance() -> None:
    base = equivalence_budget([0.5, 0.5, 0.0], 0.1, 0.05, 0.95, 4)
    assert equivalence_budget([0.5, 0.5, 0.0], 0.05, 0.05, 0.95, 4) > 3 * base
    assert equivalence_budget([0.5, 0.5, 0.0], 0.1, 0.01, 0.95, 4) > base
    assert equivalence_budget([0.5, 0.5, 0.0], 0.1, 0.05, 0.99, 4) > base
    assert 400 < base < 900


def test_alpha_is_split_over_members_and_looks() -> None:
    assert per_test_alpha(0.05, 3, 4) == pytest.approx(0.05 / 12)


def test_look_points_end_at_the_budget() -> None:
    assert look_points(400, 4) == [100, 200, 300, 400]
    assert look_points(30, 4)[-1] == 30


def test_goodness_of_fit_reports_a_skew_and_requests_to_unexpected_members() -> None:
    fair = goodness_of_fit({"a": 50, "b": 50}, {"a": 0.5, "b": 0.5, "c": 0.0})
    skewed = goodness_of_fit({"a": 90, "b": 10, "c": 7}, {"a": 0.5, "b": 0.5, "c": 0.0})
    assert fair.p_value > 0.9 and skewed.p_value < 1e-6
    assert skewed.unexpected == 7 and fair.dof == 1


def test_detection_power_rises_with_the_deviation() -> None:
    assert detection_power(600, 0.5, 0.12, 0.1, 0.004) < 0.2
    assert detection_power(600, 0.5, 0.3, 0.1, 0.004) > 0.99
    deviation = smallest_detectable(600, 0.5, 0.1, 0.004)
    assert deviation is not None and 0.1 < deviation < 0.25
