"""``<set-variable>``: store a value in ``context.Variables``."""

from __future__ import annotations

from typing import Any

from toolkit.emulator.policy.document import Policy
from toolkit.emulator.policy.registry import SECTIONS, handler


@handler(
    "set-variable",
    sections=SECTIONS,
    attributes=("name", "value"),
    required=("name", "value"),
    notes="A constant value is stored as a string; an expression's value keeps its type (int, bool, string).",
)
class SetVariable(Policy):
    """Set one context variable."""

    __slots__ = ("name", "value")

    def __init__(self, name: str, value: Any) -> None:
        super().__init__()
        self.name = name
        self.value = value

    @classmethod
    def compile(cls, element: Any, cc: Any) -> SetVariable:
        """The name must be a non-empty constant."""
        name = cc.constant(element, "name")
        if not name.strip():
            raise cc.reject(element, "<set-variable> attribute 'name' is empty")
        return cls(name, cc.value(element, "value"))

    async def run(self, ctx: Any, services: Any) -> None:
        """Evaluate and store."""
        ctx.variables[self.name] = self.value.evaluate(ctx)
