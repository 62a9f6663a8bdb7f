"""Statistics for verdicts: exact intervals, equivalence decisions, goodness of fit, sample sizes.

Equivalence, not failure to reject: a share passes only when its whole (1 - alpha) interval lies
inside expected +/- tolerance, and fails only when the whole interval lies outside. Alpha is split
(Bonferroni) over the members and the looks of a sequential run, so stopping early costs nothing in
error rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

import numpy as np
from scipy import stats


class Decision(str, Enum):
    INSIDE = "inside"        # the interval lies within the tolerance band: equivalent
    OUTSIDE = "outside"      # the interval lies wholly outside the band: a real deviation
    UNDECIDED = "undecided"  # the interval straddles a band edge: more data needed


@dataclass(frozen=True)
class ShareJudgement:
    """One member's observed share against its expected share."""

    name: str
    count: int
    total: int
    expected: float
    low: float
    high: float
    decision: Decision

    @property
    def share(self) -> float:
        return self.count / self.total if self.total else 0.0


def clopper_pearson(count: int, total: int, alpha: float) -> tuple[float, float]:
    """The exact two-sided (1 - alpha) interval of a binomial proportion (0 of 0: the whole of [0, 1])."""
    low = 0.0 if count == 0 else float(stats.beta.ppf(alpha / 2, count, total - count + 1))
    high = 1.0 if count == total else float(stats.beta.ppf(1 - alpha / 2, count + 1, total - count))
    return low, high


def judge_share(name: str, count: int, total: int, expected: float, tolerance: float, alpha: float) -> ShareJudgement:
    """Equivalence of one share with ``expected`` within ``tolerance``, at confidence 1 - alpha."""
    low, high = clopper_pearson(count, total, alpha)
    if low >= expected - tolerance and high <= expected + tolerance:
        decision = Decision.INSIDE
    elif high < expected - tolerance or low > expected + tolerance:
        decision = Decision.OUTSIDE
    else:
        decision = Decision.UNDECIDED
    return ShareJudgement(name, count, total, expected, low, high, decision)


@dataclass(frozen=True)
class FitTest:
    """Goodness of fit of the observed counts to the expected shares (reported, not the verdict)."""

    chi_square: float
    g_statistic: float
    dof: int
    p_value: float          # of the G-test
    unexpected: int         # requests served by members expected to get none


def goodness_of_fit(counts: dict[str, int], expected: dict[str, float]) -> FitTest:
    """Chi-square and G-test over the members with a positive expected share."""
    names = [n for n, p in expected.items() if p > 0]
    unexpected = sum(counts.get(n, 0) for n, p in expected.items() if p <= 0)
    observed = np.array([counts.get(n, 0) for n in names])
    total = observed.sum()
    if len(names) < 2 or total == 0:
        return FitTest(0.0, 0.0, 0, 1.0, unexpected)
    probabilities = np.array([expected[n] for n in names])
    wanted = probabilities / probabilities.sum() * total
    chi = float(((observed - wanted) ** 2 / wanted).sum())
    g, p = stats.power_divergence(observed, wanted, lambda_="log-likelihood")
    return FitTest(round(chi, 4), round(float(g), 4), len(names) - 1, float(p), unexpected)


def per_test_alpha(alpha: float, members: int, looks: int) -> float:
    """Bonferroni share of alpha for one interval at one look."""
    return alpha / max(1, members) / max(1, looks)


def equivalence_budget(expected: list[float], tolerance: float, alpha: float, power: float, looks: int) -> int:
    """Requests for the final look to conclude equivalence with probability ``power`` when the shares are
    exactly as expected (normal approximation, worst member): n = (z_a + z_b)^2 p(1-p) / tolerance^2."""
    members = len(expected)
    z_alpha = stats.norm.ppf(1 - per_test_alpha(alpha, members, looks) / 2)
    positive = max(1, sum(1 for p in expected if p > 0))
    z_beta = stats.norm.ppf(1 - (1 - power) / 2 / positive)
    variance = max([0.0, *(p * (1 - p) for p in expected)]) or 0.25  # none varies (or no member): the worst case
    return int(math.ceil((z_alpha + z_beta) ** 2 * variance / tolerance ** 2))


def look_points(budget: int, looks: int, minimum: int = 20) -> list[int]:
    """Request counts at which a sequential run looks at the data (evenly spaced up to the budget)."""
    points = sorted({max(minimum, int(math.ceil(budget * (i + 1) / looks))) for i in range(looks)})
    return [p for p in points if p <= max(budget, minimum)] or [budget]


def detection_power(n: int, expected: float, deviation: float, tolerance: float, alpha: float) -> float:
    """Probability that a share truly at expected + deviation is judged OUTSIDE at n requests."""
    true = min(1.0, max(0.0, expected + deviation))
    counts = np.arange(n + 1)
    probabilities = stats.binom.pmf(counts, n, true)
    # Clopper-Pearson bounds for every possible count at once (clopper_pearson's formula). The low bound at count 0
    # and the high bound at count n are NaN here (a beta parameter of 0), not 0 and 1: NaN compares False, as 0 above
    # the band and 1 below it would.
    low = stats.beta.ppf(alpha / 2, counts, n - counts + 1)
    high = stats.beta.ppf(1 - alpha / 2, counts + 1, n - counts)
    outside = (high < expected - tolerance) | (low > expected + tolerance)
    return float(probabilities[outside].sum())


def smallest_detectable(n: int, expected: float, tolerance: float, alpha: float, power: float = 0.95,
                        step: float = 0.005) -> float | None:
    """The smallest deviation of a share (upwards) that is detected with ``power`` at n requests: the first of
    tolerance, tolerance + step, ... up to 1 - expected (each rounded to 10 decimals, so that the grid does not
    drift with float sums), or None when none is."""
    deviation, steps = tolerance, 0
    while expected + deviation <= 1.0:
        if detection_power(n, expected, deviation, tolerance, alpha) >= power:
            return deviation
        steps += 1
        deviation = round(tolerance + steps * step, 10)
    return None
