"""``<cache-lookup-value>``: read a value stored by cache-store-value into a context variable."""

from __future__ import annotations

from typing import Any

from toolkit.emulator.policy.document import Policy
from toolkit.emulator.policy.registry import SECTIONS, handler
from toolkit.emulator.policy.state import state_of
from toolkit.emulator.policy.values import text_of

CACHING_TYPES = ("internal", "external", "prefer-external")


@handler(
    "cache-lookup-value",
    sections=SECTIONS,
    attributes=("key", "variable-name", "default-value", "caching-type"),
    required=("key", "variable-name"),
    notes="The emulator's internal cache (external and prefer-external use it too). A hit sets the variable "
    "to the stored value (its type kept); a miss sets default-value when given and otherwise leaves the "
    "variable unset (the reference: 'If lookup results in a miss, the variable will not be set'; the "
    "AI-gateway samples test context.Variables.ContainsKey).",
)
class CacheLookupValue(Policy):
    """Cached value → variable."""

    __slots__ = ("key", "variable", "default")

    def __init__(self, key: Any, variable: str, default: Any) -> None:
        super().__init__()
        self.key = key
        self.variable = variable
        self.default = default

    @classmethod
    def compile(cls, element: Any, cc: Any) -> CacheLookupValue:
        """key (expression allowed), a constant variable name, an optional default."""
        cc.choice(element, "caching-type", CACHING_TYPES)
        variable = (cc.constant(element, "variable-name") or "").strip()
        if not variable:
            raise cc.reject(element, "<cache-lookup-value> attribute 'variable-name' is empty")
        return cls(cc.value(element, "key", expect="string"), variable, cc.value(element, "default-value"))

    async def run(self, ctx: Any, services: Any) -> None:
        """Look the key up in the internal cache."""
        key = text_of(self.key, ctx)
        entry = state_of(services).cache_get(state_of(services).values, key)
        if entry is not None:
            ctx.variables[self.variable] = entry[0]
            ctx.note("cache-lookup-value", f"hit: {key}")
            return
        if self.default is not None:
            ctx.variables[self.variable] = self.default.evaluate(ctx)
        ctx.note("cache-lookup-value", f"miss: {key}")
