"""Sequential share sampling on a stub target: decides inside, outside, or stops as unrouted."""

from __future__ import annotations

import random
from collections.abc import Iterator

from toolkit.validate.observations import Observation
from toolkit.validate.settings import LoadBalancingSettings
from toolkit.validate.shares import sample_shares
from toolkit.validate.stats import Decision


class StubContext:
    """Just what sample_shares uses: settings, budget and ask_unique (answers drawn from ``weights``)."""

    def __init__(self, weights: dict[str | None, float], seed: int = 0, status: int = 200) -> None:
        self.settings = LoadBalancingSettings(prompts=["q"])
        self.budget = self.settings.max_requests
        self.rng = random.Random(seed)
        self.weights, self.status, self.calls = weights, status, 0

    def ask_unique(self, phase: str) -> Observation:
        self.calls += 1
        backend = self.rng.choices(list(self.weights), weights=list(self.weights.values()))[0]
        return Observation(0.0, "lb", "p", self.status, 1.0, backend, backend, False, 1, 1, None, None,
                           f"id-{self.calls}")

    def ask_unique_many(self, phase: str, count: int) -> Iterator[Observation]:
        return (self.ask_unique(phase) for _ in range(count))


EXPECTED = {"east": 0.5, "north": 0.5, "west": 0.0}


def test_the_configured_split_is_inside_and_stops_early() -> None:
    ctx = StubContext({"east": 1, "north": 1})
    result = sample_shares(ctx, EXPECTED, "healthy")  # type: ignore[arg-type]
    assert result.decision is Decision.INSIDE
    assert result.routed < result.planned and result.fit is not None and result.fit.unexpected == 0


def test_a_skewed_split_is_outside_at_the_first_look() -> None:
    ctx = StubContext({"east": 9, "north": 1})
    result = sample_shares(ctx, EXPECTED, "healthy")  # type: ignore[arg-type]
    assert result.decision is Decision.OUTSIDE
    assert result.routed == result.budget // 4 + (result.budget % 4 > 0)


def test_a_lower_priority_member_serving_is_outside() -> None:
    ctx = StubContext({"east": 1, "north": 1, "west": 1})
    assert sample_shares(ctx, EXPECTED, "healthy").decision is Decision.OUTSIDE  # type: ignore[arg-type]


def test_responses_naming_no_member_stop_the_run_undecided() -> None:
    ctx = StubContext({None: 1})
    result = sample_shares(ctx, EXPECTED, "healthy")  # type: ignore[arg-type]
    assert result.decision is Decision.UNDECIDED and result.too_unrouted and ctx.calls < 20


def test_a_small_budget_leaves_it_undecided() -> None:
    ctx = StubContext({"east": 1, "north": 1})
    ctx.budget = 40
    result = sample_shares(ctx, EXPECTED, "healthy")  # type: ignore[arg-type]
    assert result.decision is Decision.UNDECIDED and result.sent <= 40


