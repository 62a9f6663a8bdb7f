"""``<cache-store-value>``: store a value in the internal cache for ``duration`` seconds."""

from __future__ import annotations

from typing import Any

from toolkit.emulator.policy.document import Policy
from toolkit.emulator.policy.handlers.cache_lookup_value import CACHING_TYPES
from toolkit.emulator.policy.registry import SECTIONS, handler
from toolkit.emulator.policy.state import state_of
from toolkit.emulator.policy.values import IntSetting, text_of


@handler(
    "cache-store-value",
    sections=SECTIONS,
    attributes=("key", "value", "duration", "caching-type"),
    required=("key", "value", "duration"),
    notes="Internal cache of the emulator (shared by all APIs, like APIM's); duration in seconds (≥ 1, "
    "expressions allowed); the value keeps its type (bool, int, string, JSON).",
)
class CacheStoreValue(Policy):
    """Variable or expression → cache."""

    __slots__ = ("key", "value", "duration")

    def __init__(self, key: Any, value: Any, duration: IntSetting) -> None:
        super().__init__()
        self.key = key
        self.value = value
        self.duration = duration

    @classmethod
    def compile(cls, element: Any, cc: Any) -> CacheStoreValue:
        """key and value may be expressions; duration is a positive integer."""
        cc.choice(element, "caching-type", CACHING_TYPES)
        return cls(cc.value(element, "key", expect="string"), cc.value(element, "value"),
                   cc.integer(element, "duration", minimum=1, expressions=True))

    async def run(self, ctx: Any, services: Any) -> None:
        """Store the value under the key."""
        state = state_of(services)
        key = text_of(self.key, ctx)
        state.cache_put(state.values, key, self.value.evaluate(ctx), self.duration.get(ctx, "cache-store-value"))
        ctx.note("cache-store-value", f"stored: {key}")
