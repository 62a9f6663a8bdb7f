"""``<llm-semantic-cache-store duration>``: keep a 200 answer for prompts similar to this one.

Stores only when this request looked the cache up and missed, and the response is a 200; the
entry lives ``duration`` seconds. A failing cache store does not fail the request (APIM documents
the same), it is recorded in the trace.

The answer and its headers are taken where the policy stands; the store itself runs once the answer
has gone to the client (APIM's cache stores are asynchronous), so the client does not wait for it.
A lookup of the same partition waits for it (``cache_calls.reserve``): asking again after an
answer always finds it.

What is stored is the answer, not the request's bookkeeping: headers that describe only the request
that reached the backend are left out (the backend's request ids and ``x-ratelimit-*`` quota state,
``Retry-After``, ``Date``, and what a token limit set for this request), so a hit never replays a
stale value as if it were the current request's. A streamed answer (``text/event-stream``) is
relayed to the client as it arrives and is not stored: the cache policies' pages say nothing about
streams, and APIM's server-sent-events guidance (learn.microsoft.com/azure/api-management/
how-to-server-sent-events) is to keep response caching off for them.
"""

from __future__ import annotations

from typing import Any

from toolkit.emulator.cache.base import CacheBackendError
from toolkit.emulator.policy import cache_calls
from toolkit.emulator.policy.document import Policy
from toolkit.emulator.policy.registry import handler
from toolkit.emulator.policy.values import IntSetting

NOTES = "duration (seconds, ≥ 1) is the entry's TTL; stores only 200 answers of requests whose lookup missed. Once per section."


# Backend headers about one request, not about the answer (Azure OpenAI sends the first four).
_PER_REQUEST = frozenset({"apim-request-id", "x-request-id", "x-ms-client-request-id", "request-id",
                          "retry-after", "retry-after-ms", "date"})


def cacheable_headers(ctx: Any) -> dict[str, str]:
    """The response headers worth replaying on a hit (see the module docstring)."""
    # HeaderMap names are lower-case already; the policies' own per-request headers are usually none.
    own = ctx.per_request_headers
    skip = _PER_REQUEST.union(name.lower() for name in own) if own else _PER_REQUEST
    return {name: value for name, value in ctx.response_headers.to_dict().items()
            if name not in skip and not name.startswith("x-ratelimit-")}


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
        if ctx.response_stream is not None:
            ctx.note(name, "not stored: streamed response")
            return
        ttl = self.duration.get(ctx, name)
        ctx.cache_lookup = None
        store = services.cache_store
        args = (store, miss.partition, miss.vector, miss.prompt, ctx.response_body, cacheable_headers(ctx), 200,
                float(ttl), services.clock(), miss.query)
        reserved = cache_calls.reserve(store, miss.partition)

        async def store_after_answer() -> None:
            try:
                await cache_calls.store(*args)
            except CacheBackendError as exc:
                ctx.note(name, "not stored: cache unavailable", {"error": str(exc)})
                return
            finally:
                reserved.set_result(None)
            if ctx.trace is not None:  # the message is built only when tracing (this is on every cached answer)
                ctx.note(name, f"stored for {ttl} s")

        ctx.after_answer.append(store_after_answer)
