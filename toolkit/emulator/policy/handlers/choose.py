"""``<choose>``: the first ``<when condition>`` that holds runs, else ``<otherwise>``."""

from __future__ import annotations

from typing import Any

from toolkit.artifacts.policy_xml import local_name
from toolkit.emulator.policy.document import Policy, run_block
from toolkit.emulator.policy.registry import SECTIONS, handler
from toolkit.emulator.policy.values import truth


@handler(
    "choose",
    sections=SECTIONS,
    children=("when", "otherwise"),
    notes="One or more <when condition> (tested in order), then at most one <otherwise>; their children "
    "are policies of the same section.",
)
class Choose(Policy):
    """Conditional policies."""

    __slots__ = ("branches", "otherwise")

    def __init__(self, branches: tuple[tuple[Any, tuple[Policy, ...]], ...], otherwise: tuple[Policy, ...]) -> None:
        super().__init__()
        self.branches = branches
        self.otherwise = otherwise

    @classmethod
    def compile(cls, element: Any, cc: Any) -> Choose:
        """At least one <when>; <otherwise> last and at most once."""
        branches: list[tuple[Any, tuple[Policy, ...]]] = []
        otherwise: tuple[Policy, ...] | None = None
        for child in cc.child_elements(element, ("when", "otherwise")):
            if otherwise is not None:
                raise cc.reject(child, f"<{local_name(child)}> may not follow <otherwise> in <choose>")
            if local_name(child) == "when":
                cc.check_attributes(child, ("condition",), ("condition",))
                branches.append((cc.condition(child), cc.policies(child)))
            else:
                cc.check_attributes(child, ())
                otherwise = cc.policies(child)
        if not branches:
            raise cc.reject(element, "<choose> needs at least one <when condition=...>")
        return cls(tuple(branches), otherwise or ())

    async def run(self, ctx: Any, services: Any) -> None:
        """Run the first matching branch."""
        for index, (condition, block) in enumerate(self.branches):
            if truth(condition, ctx):
                ctx.note("choose", f"when[{index + 1}] matched")
                await run_block(block, ctx, services)
                return
        if self.otherwise:
            ctx.note("choose", "otherwise")
            await run_block(self.otherwise, ctx, services)
