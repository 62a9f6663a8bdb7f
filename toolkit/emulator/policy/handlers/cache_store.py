"""``<cache-store>``: store the response of a request that cache-lookup missed."""

from __future__ import annotations

from typing import Any

from toolkit.emulator.policy.document import Policy
from toolkit.emulator.policy.registry import handler
from toolkit.emulator.policy.state import state_of
from toolkit.emulator.policy.values import IntSetting, truth

@handler(
    "cache-store",
    sections=("outbound",),
    attributes=("duration", "cache-response"),
    required=("duration",),
    once_per_section=True,
    notes="Stores 200 responses (or any, when cache-response is true) of requests that cache-lookup missed, "
    "for duration seconds (required, as the reference says).",
)
class CacheStore(Policy):
    """Response cache store."""

    __slots__ = ("duration", "cache_response")

    def __init__(self, duration: IntSetting, cache_response: Any) -> None:
        super().__init__()
        self.duration = duration
        self.cache_response = cache_response

    @classmethod
    def compile(cls, element: Any, cc: Any) -> CacheStore:
        """duration (seconds) and the optional cache-response condition."""
        response = cc.condition(element, "cache-response") if element.get("cache-response") is not None else None
        return cls(cc.integer(element, "duration", minimum=1, expressions=True), response)

    async def run(self, ctx: Any, services: Any) -> None:
        """Store when cache-lookup left a key and the response qualifies."""
        key, ctx.response_cache_key = ctx.response_cache_key, None
        if key is None or ctx.response_status is None:
            return
        wanted = truth(self.cache_response, ctx) if self.cache_response is not None else ctx.response_status == 200
        if not wanted:
            return
        state = state_of(services)
        stored = (ctx.response_status, ctx.response_reason, ctx.response_headers.items(), ctx.response_body)
        state.cache_put(state.responses, key, stored, self.duration.get(ctx, "cache-store"))
        ctx.note("cache-store", "stored")
