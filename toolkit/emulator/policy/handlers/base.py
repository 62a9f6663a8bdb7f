"""``<base/>``: run the parent scope's same section here."""

from __future__ import annotations

from typing import Any

from toolkit.emulator.policy.document import Policy, run_block
from toolkit.emulator.policy.registry import SECTIONS, handler


@handler(
    "base",
    sections=SECTIONS,
    scopes=("global", "product", "api", "operation"),
    once_per_section=True,
    notes="Runs the parent scope's same section. Must be a direct child of its section, at most once; "
    "refused in fragments; a no-op at global scope.",
)
class Base(Policy):
    """Inherit the parent scope's policies for the current section."""

    __slots__ = ()

    @classmethod
    def compile(cls, element: Any, cc: Any) -> Base:
        """Refuse a ``<base/>`` nested inside another policy."""
        if cc.depth > 0:
            raise cc.reject(element, "<base/> must be a direct child of its section")
        return cls()

    async def run(self, ctx: Any, services: Any) -> None:
        """Run the parent scope's block for ``ctx.section``."""
        level = ctx.level
        if level == 0:
            return
        ctx.level = level - 1
        try:
            await run_block(ctx.chain[level - 1].sections[ctx.section], ctx, services)
        finally:
            ctx.level = level
