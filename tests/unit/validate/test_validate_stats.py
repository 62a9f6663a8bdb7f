"""Equivalence statistics: exact intervals, the three decisions, budgets and detectable deviations."""

from __future__ import annotations

import math

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


def test_clopper_pearson_agrees_with_scipys_exact_binomial_interval() -> None:
    for count, total, alpha in ((3, 10, 0.05), (1, 1, 0.05), (0, 1, 0.2), (7, 9, 0.01), (199, 200, 0.004)):
        reference = scipy_stats.binomtest(count, total).proportion_ci(1 - alpha, method="exact")
        assert clopper_pearson(count, total, alpha) == pytest.approx((reference.low, reference.high), abs=1e-9)
    assert clopper_pearson(0, 0, 0.05) == (0.0, 1.0)  # no requests: every share is possible


def _judged(monkeypatch: pytest.MonkeyPatch, low: float, high: float, expected: float, tolerance: float) -> Decision:
    """The decision for an interval (low, high), chosen exactly (dyadic), so that the band's edges compare exactly."""
    monkeypatch.setattr("toolkit.validate.stats.clopper_pearson", lambda *_: (low, high))
    return judge_share("a", 1, 2, expected, tolerance, 0.05).decision


def test_an_interval_on_the_bands_edges_is_inside_and_one_touching_it_from_outside_is_undecided(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert _judged(monkeypatch, 0.25, 0.75, 0.5, 0.25) is Decision.INSIDE  # both ends on the edges
    assert _judged(monkeypatch, 0.25, 0.5, 0.5, 0.25) is Decision.INSIDE  # the low end on the edge
    assert _judged(monkeypatch, 0.5, 0.75, 0.5, 0.25) is Decision.INSIDE  # the high end on the edge
    # Outside only when the whole interval is strictly beyond an edge: touching it is undecided.
    assert _judged(monkeypatch, 0.0, 0.25, 0.5, 0.25) is Decision.UNDECIDED
    assert _judged(monkeypatch, 0.75, 1.0, 0.5, 0.25) is Decision.UNDECIDED
    assert _judged(monkeypatch, 0.0, 0.125, 0.5, 0.25) is Decision.OUTSIDE
    assert _judged(monkeypatch, 0.875, 1.0, 0.5, 0.25) is Decision.OUTSIDE


def test_a_judgement_carries_its_figures() -> None:
    judgement = judge_share("eastus", 30, 100, 0.25, 0.1, 0.05)
    assert (judgement.name, judgement.count, judgement.total, judgement.expected) == ("eastus", 30, 100, 0.25)
    assert (judgement.low, judgement.high) == clopper_pearson(30, 100, 0.05)
    assert judgement.share == 0.3 and judge_share("a", 0, 0, 0.5, 0.1, 0.05).share == 0.0


def test_per_test_alpha_counts_at_least_one_member_and_one_look() -> None:
    assert per_test_alpha(0.05, 1, 1) == 0.05
    assert per_test_alpha(0.05, 0, 0) == 0.05
    assert per_test_alpha(0.05, 2, 1) == 0.025 and per_test_alpha(0.05, 1, 2) == 0.025


def _documented_budget(expected: list[float], tolerance: float, alpha: float, power: float, looks: int) -> int:
    """n = (z_a + z_b)^2 p(1 - p) / tolerance^2: z_a two-sided at alpha split over members and looks, z_b at the
    power's miss split over the members expected to serve, p(1 - p) the worst member's (0.25 when none varies)."""
    z_alpha = scipy_stats.norm.isf(alpha / max(1, len(expected)) / max(1, looks) / 2)
    z_beta = scipy_stats.norm.isf((1 - power) / 2 / max(1, sum(p > 0 for p in expected)))
    variance = max([p * (1 - p) for p in expected], default=0.0) or 0.25
    return int(math.ceil((z_alpha + z_beta) ** 2 * variance / tolerance ** 2))


@pytest.mark.parametrize(("expected", "tolerance", "alpha", "power", "looks"), [
    ([0.5, 0.5, 0.0], 0.1, 0.05, 0.95, 4),
    ([0.8, 0.2], 0.05, 0.01, 0.8, 1),
    ([1.0], 0.1, 0.05, 0.9, 2),          # one member that takes everything: p(1 - p) = 0, the worst case used
    ([1.0, 0.0, 0.0], 0.1, 0.05, 0.9, 3),
    ([], 0.1, 0.05, 0.9, 1),             # nothing expected: the worst case, one member
])
def test_the_budget_is_the_documented_normal_approximation(expected: list[float], tolerance: float, alpha: float,
                                                           power: float, looks: int) -> None:
    assert equivalence_budget(expected, tolerance, alpha, power, looks) == \
        _documented_budget(expected, tolerance, alpha, power, looks)


def test_the_first_look_waits_for_the_minimum_of_twenty_requests() -> None:
    assert look_points(30, 4) == [20, 23, 30]
    assert look_points(10, 2) == [20]  # a budget under the minimum: one look at the minimum


def test_goodness_of_fit_is_pearsons_chi_square_and_the_g_test_over_the_expected_members() -> None:
    counts, expected = {"a": 71, "b": 20, "c": 10, "d": 4}, {"a": 0.5, "b": 0.25, "c": 0.25, "d": 0.0}
    fit = goodness_of_fit(counts, expected)
    wanted = [50.5, 25.25, 25.25]
    chi = scipy_stats.chisquare([71, 20, 10], wanted)
    g = scipy_stats.power_divergence([71, 20, 10], wanted, lambda_="log-likelihood")
    assert fit.chi_square == round(float(chi.statistic), 4) and fit.chi_square != round(float(chi.statistic), 3)
    assert fit.g_statistic == round(float(g.statistic), 4) and fit.p_value == pytest.approx(g.pvalue, rel=1e-12)
    assert (fit.dof, fit.unexpected) == (2, 4)
    # Expected shares need not add up to 1: they are scaled to the requests observed.
    assert goodness_of_fit({"a": 1, "b": 0}, {"a": 2.0, "b": 2.0}).chi_square == 1.0


def test_goodness_of_fit_needs_two_expected_members_and_a_request() -> None:
    for counts, expected in (({"a": 9, "w": 2}, {"a": 1.0, "w": 0.0}), ({}, {"a": 0.5, "b": 0.5})):
        fit = goodness_of_fit(counts, expected)
        assert (fit.chi_square, fit.g_statistic, fit.dof, fit.p_value) == (0.0, 0.0, 0, 1.0)
        assert fit.unexpected == counts.get("w", 0)
    assert goodness_of_fit({"a": 1}, {"a": 0.5, "b": 0.5}).dof == 1  # one request is enough to compute


def _power_by_judging(n: int, expected: float, deviation: float, tolerance: float, alpha: float) -> float:
    """The probability that judge_share says OUTSIDE, count by count: what detection_power computes at once."""
    true = min(1.0, max(0.0, expected + deviation))
    return sum(float(scipy_stats.binom.pmf(count, n, true)) for count in range(n + 1)
               if judge_share("a", count, n, expected, tolerance, alpha).decision is Decision.OUTSIDE)


def test_detection_power_is_the_chance_that_the_share_is_judged_outside() -> None:
    for n in (1, 3, 12, 40):
        for expected in (0.0, 0.2, 0.5, 1.0):
            for deviation in (-0.15, 0.1, 0.3, 0.9):  # the true share is clamped to [0, 1]
                for tolerance in (0.0, 0.005, 0.1):
                    for alpha in (0.05, 0.3):
                        assert detection_power(n, expected, deviation, tolerance, alpha) == pytest.approx(
                            _power_by_judging(n, expected, deviation, tolerance, alpha), abs=1e-12), \
                            (n, expected, deviation, tolerance, alpha)


def test_an_interval_ending_exactly_on_the_band_is_not_outside_in_the_power_either() -> None:
    n, alpha = 12, 0.05
    for count in (3, 7):
        low, high = clopper_pearson(count, n, alpha)
        # A band edge exactly on one bound of this count's interval: touching is not outside (judge_share's rule).
        for expected in (high, low):
            assert detection_power(n, expected, 0.1, 0.0, alpha) == pytest.approx(
                _power_by_judging(n, expected, 0.1, 0.0, alpha), abs=1e-12)


def test_the_smallest_detectable_deviation_walks_a_grid_from_the_tolerance_to_one() -> None:
    found = []
    for n in (200, 300, 450, 600):  # answers on odd and even steps of the grid
        deviation = smallest_detectable(n, 0.5, 0.1, 0.004)
        assert deviation is not None
        assert detection_power(n, 0.5, deviation, 0.1, 0.004) >= 0.95
        assert deviation == 0.1 or detection_power(n, 0.5, round(deviation - 0.005, 10), 0.1, 0.004) < 0.95
        found.append(round((deviation - 0.1) / 0.005, 9))
    assert all(steps.is_integer() for steps in found) and {steps % 2 for steps in found} == {0, 1}, found
    # An answer one step above the tolerance (a weak power, many requests).
    assert smallest_detectable(1112, 0.5, 0.1, 0.05, power=0.05) == 0.105
    assert detection_power(1112, 0.5, 0.1, 0.1, 0.05) < 0.05
    # The share cannot go past 1: a certainty reached only there is not found on a grid that stops short of it.
    assert smallest_detectable(10, 0.5, 0.1, 0.05, power=1.0, step=0.003) is None
    assert smallest_detectable(10, 0.5, 0.1, 0.05, power=1.0, step=0.004) == 0.5
    # The grid ends at expected + deviation = 1 exactly, included (power 0: the first deviation tried qualifies).
    assert smallest_detectable(10, 0.6, 0.4, 0.05, power=0.0) == 0.4
    # One request can never show a deviation: none is detectable.
    assert smallest_detectable(1, 0.5, 0.1, 0.05) is None
    assert smallest_detectable(1, 0.5, 0.1, 0.05, power=0.0) == 0.1
