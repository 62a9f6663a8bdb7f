"""``<llm-semantic-cache-store duration>``: keep a 200 answer for prompts similar to this one.

Stores only when this request looked the cache up and missed, and the response is a 200; the
entry lives ``duration`` seconds. A failing cache store does not fail the request (APIM documents
the same), it is recorded in the trace.
"""

from __future__ import annotations

import asyncio

from typing import Any

from toolkit.emulator.cache.base import CacheBackendError
from toolkit.emulator.policy.document import Policy
from toolkit.emulator.policy.registry import handler
from toolkit.emulator.policy.values import IntSetting

NOTES = "duration (seconds, ≥ 1) is the entry's TTL; stores only 200 answers of requests whose lookup missed. Once per section."


@handler("llm-semantic-cache-store", sections=("outbound",), attributes=("duration",), required=("duration",),
         once_per_section=True, notes=NOTES)
class LlmSemanticCacheStore(Policy):
    """Semantic cache store."""

    __slots__ = ("duration",)

    def __init__(self, duration: IntSetting) -> None:
        super().__init__()
        self.duration = duration

    @classmethod
    def compile(cls, element: Any, cc: Any) -> LlmSemanticCacheStore:
        """duration: a positive integer (expressions allowed)."""
        return cls(cc.integer(element, "duration", minimum=1, expressions=True))

    async def run(self, ctx: Any, services: Any) -> None:
        """Store the response under the lookup's vector."""
        name = self.spec.name
        miss = ctx.cache_lookup
        if miss is None or services.cache_store is None:
            ctx.note(name, "not stored: no cache miss to fill")
            return
        if ctx.response_status != 200:
            ctx.note(name, f"not stored: status {ctx.response_status}")
            return
        ttl = self.duration.get(ctx, name)
        ctx.cache_lookup = None
        try:
            await asyncio.to_thread(services.cache_store.store, miss.partition, miss.vector, miss.prompt,
                                    ctx.response_body, ctx.response_headers.to_dict(), 200, float(ttl),
                                    services.clock())
        except CacheBackendError as exc:
            ctx.note(name, "not stored: cache unavailable", {"error": str(exc)})
            return
        ctx.note(name, f"stored for {ttl} s")
