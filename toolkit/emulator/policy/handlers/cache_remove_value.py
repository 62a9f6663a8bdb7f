"""``<cache-remove-value>``: drop a key from the internal cache."""

from __future__ import annotations

from typing import Any

from toolkit.emulator.policy.document import Policy
from toolkit.emulator.policy.handlers.cache_lookup_value import CACHING_TYPES
from toolkit.emulator.policy.registry import SECTIONS, handler
from toolkit.emulator.policy.state import state_of
from toolkit.emulator.policy.values import text_of


@handler(
    "cache-remove-value",
    sections=SECTIONS,
    attributes=("key", "caching-type"),
    required=("key",),
    notes="Removes the key from the emulator's internal cache (no error when absent).",
)
class CacheRemoveValue(Policy):
    """Forget a cached value."""

    __slots__ = ("key",)

    def __init__(self, key: Any) -> None:
        super().__init__()
        self.key = key

    @classmethod
    def compile(cls, element: Any, cc: Any) -> CacheRemoveValue:
        """key may be an expression."""
        cc.choice(element, "caching-type", CACHING_TYPES)
        return cls(cc.value(element, "key", expect="string"))

    async def run(self, ctx: Any, services: Any) -> None:
        """Remove the entry."""
        key = text_of(self.key, ctx)
        state_of(services).values.pop(key, None)
        ctx.note("cache-remove-value", f"removed: {key}")
