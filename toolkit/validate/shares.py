"""Sequential sampling of which backend serves, judged by equivalence at each look (early stopping)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from toolkit.validate.context import Context
from toolkit.validate.observations import Observation
from toolkit.validate.stats import (
    Decision,
    FitTest,
    ShareJudgement,
    equivalence_budget,
    goodness_of_fit,
    judge_share,
    look_points,
    per_test_alpha,
)

# Responses that name no pool member (errors, unknown regions) may be this share of the traffic before
# the run stops as inconclusive: beyond it, the shares say little about routing.
MAX_UNROUTED_SHARE = 0.10


@dataclass
class SharesResult:
    """What a sampling run saw and decided."""

    budget: int
    planned: int
    counts: Counter[str] = field(default_factory=Counter)
    routed: int = 0
    sent: int = 0
    decision: Decision = Decision.UNDECIDED
    judgements: list[ShareJudgement] = field(default_factory=list)
    fit: FitTest | None = None
    statuses: Counter[int] = field(default_factory=Counter)
    unknown_regions: Counter[str] = field(default_factory=Counter)
    cache_hits: int = 0

    @property
    def unrouted(self) -> int:
        return self.sent - self.routed

    @property
    def too_unrouted(self) -> bool:
        """Too many responses named no pool member for the shares to mean much."""
        return _too_unrouted(self.sent, self.routed)

    def figures(self) -> dict[str, object]:
        return {
            "requests_routed": self.routed, "requests_sent": self.sent, "budget": self.budget,
            "power_budget": self.planned,
            "shares": {j.name: {"count": j.count, "share": round(j.share, 4), "expected": j.expected,
                                "ci": [round(j.low, 4), round(j.high, 4)], "decision": j.decision.value}
                       for j in self.judgements},
            "goodness_of_fit": None if self.fit is None else {
                "chi_square": self.fit.chi_square, "g": self.fit.g_statistic, "dof": self.fit.dof,
                "p_value": round(self.fit.p_value, 4), "unexpected_requests": self.fit.unexpected},
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "unknown_regions": dict(self.unknown_regions), "cache_hits": self.cache_hits,
        }


def sample_shares(ctx: Context, expected: dict[str, float], phase: str) -> SharesResult:
    """Send unique-prompt requests until every share is decided (all inside, or one outside) or the budget
    is spent. Only responses that reached a backend (not cache hits) and name a pool member count."""
    settings = ctx.settings
    planned = equivalence_budget(list(expected.values()), settings.tolerance, settings.alpha, settings.power,
                                 settings.looks)
    budget = min(planned, ctx.budget)
    points = look_points(budget, settings.looks)
    alpha_each = per_test_alpha(settings.alpha, len(expected), len(points))
    result = SharesResult(budget, planned)
    for point in points:
        while result.routed < point and not _spent(result, ctx.budget):
            # one by one, or in batches through a concurrent engine (a batch's extra rows stay in the log)
            for observation in ctx.ask_unique_many(phase, min(point - result.routed, ctx.budget - result.sent)):
                _tally(result, observation, expected)
                if _spent(result, ctx.budget):
                    break
        result.judgements = [judge_share(name, result.counts[name], result.routed, share, settings.tolerance,
                                         alpha_each) for name, share in expected.items()]
        decisions = {j.decision for j in result.judgements}
        if result.routed == 0 or result.too_unrouted:
            break  # undecided: the answers say little about routing
        if Decision.OUTSIDE in decisions:
            result.decision = Decision.OUTSIDE
            break
        if decisions == {Decision.INSIDE}:
            result.decision = Decision.INSIDE
            break
    result.fit = goodness_of_fit(dict(result.counts), expected) if result.routed else None
    return result


def _tally(result: SharesResult, observation: Observation, expected: dict[str, float]) -> None:
    """Count one answer: a member's when it reached an expected member, else why it does not count."""
    result.sent += 1
    result.statuses[observation.status] += 1
    if observation.ok and observation.backend in expected and not observation.cache_hit:
        result.counts[observation.backend] += 1
        result.routed += 1
    elif observation.cache_hit:
        result.cache_hits += 1
    elif observation.ok and observation.backend is None:
        result.unknown_regions[observation.region or "(no header)"] += 1


def _spent(result: SharesResult, budget: int) -> bool:
    """No more requests: too many answers named no member, or the budget is sent."""
    return result.too_unrouted or result.sent >= budget


def _too_unrouted(sent: int, routed: int) -> bool:
    return sent - routed > max(5, MAX_UNROUTED_SHARE * sent)


def percent(value: float) -> str:
    return f"{value * 100:.0f}%"


def describe_share(j: ShareJudgement, confidence: float) -> str:
    return (f"{j.name} took {percent(j.share)} of {j.total} requests ({confidence:.0%} simultaneous CI "
            f"{percent(j.low)}-{percent(j.high)}); expected {percent(j.expected)}")
