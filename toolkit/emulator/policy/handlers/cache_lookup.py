"""``<cache-lookup>``: answer a GET from the response cache (filled by ``<cache-store>``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from toolkit.emulator.policy.document import Policy
from toolkit.emulator.policy.errors import EndRequest
from toolkit.emulator.policy.handlers.cache_lookup_value import CACHING_TYPES
from toolkit.emulator.policy.headers import HeaderMap
from toolkit.emulator.policy.registry import handler
from toolkit.emulator.policy.state import state_of
from toolkit.emulator.policy.values import truth

CACHEABLE_METHODS = frozenset({"GET"})


@handler(
    "cache-lookup",
    sections=("inbound",),
    attributes=("vary-by-developer", "vary-by-developer-groups", "caching-type", "downstream-caching-type",
                "must-revalidate", "allow-private-response-caching"),
    required=("vary-by-developer", "vary-by-developer-groups"),
    children=("vary-by-header", "vary-by-query-parameter"),
    once_per_section=True,
    notes="Emulator: GET requests only; the key is the API, the path, the listed query parameters and headers, "
    "and the subscription when vary-by-developer is true. A hit returns the stored status, headers and body and "
    "skips backend and outbound. Requests with Authorization are cached only with "
    "allow-private-response-caching. downstream-caching-type and must-revalidate are accepted, not applied.",
)
class CacheLookup(Policy):
    """Response cache lookup."""

    __slots__ = ("by_developer", "headers", "params", "private")

    def __init__(self, by_developer: Any, headers: tuple[str, ...], params: tuple[str, ...], private: Any) -> None:
        super().__init__()
        self.by_developer = by_developer
        self.headers = headers
        self.params = params
        self.private = private

    @classmethod
    def compile(cls, element: Any, cc: Any) -> CacheLookup:
        """The vary-by lists and switches (vary-by-developer, vary-by-developer-groups and must-revalidate take
        policy expressions, as the reference says)."""
        cc.choice(element, "caching-type", CACHING_TYPES)
        cc.condition(element, "vary-by-developer-groups")
        cc.value(element, "downstream-caching-type", expect="string")
        if element.get("must-revalidate") is not None:
            cc.condition(element, "must-revalidate")
        headers: list[str] = []
        params: list[str] = []
        for child in cc.child_elements(element, ("vary-by-header", "vary-by-query-parameter")):
            cc.check_attributes(child, ())
            cc.child_elements(child, (), text=True)
            text = cc.text(child)
            # "Enter a single or multiple parameters. Use semicolon as a separator." (query parameters only)
            names = [name.strip() for name in text.split(";")] if child.tag == "vary-by-query-parameter" else [text]
            if not any(names):
                raise cc.reject(child, f"<{child.tag}> is empty")
            (headers if child.tag == "vary-by-header" else params).extend(name for name in names if name)
        private = cc.value(element, "allow-private-response-caching", expect="bool")
        return cls(cc.condition(element, "vary-by-developer"), tuple(headers), tuple(params), private)

    def key(self, ctx: Any) -> str | None:
        """The cache key of this request, or None when it is not cacheable."""
        if ctx.request_method not in CACHEABLE_METHODS:
            return None
        if ctx.request_header("authorization") is not None and not _truthy(self.private, ctx):
            return None
        query = parse_qs(ctx.request_query)
        parts = [ctx.api_id or "", ctx.request_path]
        parts += [f"q:{p}={','.join(query.get(p, []))}" for p in self.params]
        parts += [f"h:{h.lower()}={ctx.request_header(h) or ''}" for h in self.headers]
        if truth(self.by_developer, ctx):
            parts.append(f"sub:{ctx.subscription_id or ''}")
        return "\n".join(parts)

    async def run(self, ctx: Any, services: Any) -> None:
        """Return the cached response, or remember the key for cache-store."""
        key = self.key(ctx)
        if key is None:
            ctx.note("cache-lookup", "not cacheable")
            return
        state = state_of(services)
        entry = state.cache_get(state.responses, key)
        if entry is None:
            ctx.response_cache_key = key
            ctx.note("cache-lookup", "miss")
            return
        status, reason, headers, body = entry[0]
        ctx.set_response(status, reason, HeaderMap(headers), body)
        ctx.note("cache-lookup", "hit")
        raise EndRequest


def _truthy(value: Any, ctx: Any) -> bool:
    if value is None:
        return False
    result = value.evaluate(ctx)
    return result is True or (isinstance(result, str) and result.strip().lower() == "true")
