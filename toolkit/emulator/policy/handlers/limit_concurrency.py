"""``<limit-concurrency>``: run the child policies for at most max-count requests per key at a time."""

from __future__ import annotations

from typing import Any

from toolkit.emulator.policy.document import Policy, run_block
from toolkit.emulator.policy.errors import PolicyError
from toolkit.emulator.policy.registry import POLICIES, SECTIONS, handler
from toolkit.emulator.policy.state import state_of
from toolkit.emulator.policy.values import IntSetting, text_of


@handler("limit-concurrency", sections=SECTIONS, attributes=("key", "max-count"), required=("key", "max-count"),
         children=POLICIES,
         notes="While max-count requests with the same key are inside, another one is refused at once with 429 "
         "\"Too many requests\" (the emulator does not queue). The slot is freed when the children finish.")
class LimitConcurrency(Policy):
    """Concurrency cap per key."""

    __slots__ = ("key", "max_count", "body")

    def __init__(self, key: Any, max_count: IntSetting, body: tuple[Policy, ...]) -> None:
        super().__init__()
        self.key, self.max_count, self.body = key, max_count, body

    @classmethod
    def compile(cls, element: Any, cc: Any) -> LimitConcurrency:
        """key (expression allowed), max-count ≥ 1 (a constant: "Policy expressions aren't allowed"), the children."""
        return cls(cc.value(element, "key", expect="string"), cc.integer(element, "max-count", minimum=1),
                   cc.policies(element))

    async def run(self, ctx: Any, services: Any) -> None:
        """Take a slot, run the children, give it back."""
        state = state_of(services)
        key = "limit-concurrency|" + text_of(self.key, ctx)
        limit = self.max_count.get(ctx, "limit-concurrency")
        if state.concurrency.get(key, 0) >= limit:
            raise PolicyError("Too many requests", source="limit-concurrency", reason="ConcurrencyLimitExceeded",
                              status=429)
        state.concurrency[key] = state.concurrency.get(key, 0) + 1
        try:
            await run_block(self.body, ctx, services)
        finally:
            state.concurrency[key] -= 1
