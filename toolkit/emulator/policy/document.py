"""Compiled policy documents and the base class every handler extends.

A `CompiledPolicy` holds one tuple of compiled `Policy` objects per section (a fragment has
one block under ``"fragment"``). Sections missing from the XML are filled at compile time with
the default (``<base/>``; at global scope the global default), so the runtime never checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from toolkit.emulator.expressions import ExpressionRuntimeError
from toolkit.emulator.policy.errors import ExpressionFailure, PolicyError

if TYPE_CHECKING:
    from lxml import etree

    from toolkit.emulator.policy.compiler import Compiler
    from toolkit.emulator.policy.context import RequestContext
    from toolkit.emulator.policy.registry import HandlerSpec

FRAGMENT = "fragment"


class Policy:
    """One compiled policy element. Subclasses implement `compile` (publish) and `run` (request)."""

    __slots__ = ("line", "policy_id")
    spec: ClassVar[HandlerSpec]

    def __init__(self) -> None:
        self.line: int | None = None
        self.policy_id: str | None = None  # the element's id attribute

    @classmethod
    def compile(cls, element: etree._Element, cc: Compiler) -> Policy:
        """Build the runtime object from a checked element; refuse bad values with ``cc.reject``."""
        raise NotImplementedError

    async def run(self, ctx: RequestContext, services: Any) -> None:
        """Apply the policy to the request."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{self.spec.name} line {self.line}>"


Block = tuple[Policy, ...]


class CompiledPolicy:
    """A policy document compiled at publish time: a block per section, ready to run."""

    __slots__ = ("scope", "sections", "elements")

    def __init__(
        self,
        scope: str,
        sections: Mapping[str, Block],
        elements: tuple[tuple[Any, int | None], ...] = (),
    ) -> None:
        self.scope = scope
        self.sections = dict(sections)
        # Fragments: (the element's HandlerSpec, its line), checked where the fragment is included (section,
        # scope, once per section).
        self.elements = elements

    def __repr__(self) -> str:
        counts = ", ".join(f"{name}: {len(block)}" for name, block in self.sections.items())
        return f"CompiledPolicy({self.scope}; {counts})"


async def run_block(block: Block, ctx: RequestContext, services: Any) -> None:
    """Run policies in order; a failed expression becomes an `ExpressionFailure` naming the element.

    The innermost failing policy's id and scope are kept on the error for ``context.LastError``.
    """
    for policy in block:
        try:
            await policy.run(ctx, services)
        except ExpressionRuntimeError as exc:
            failure = ExpressionFailure(exc.message, source=policy.spec.name)
            _locate(failure, policy, ctx)
            raise failure from None
        except PolicyError as error:
            _locate(error, policy, ctx)
            raise


def _locate(error: PolicyError, policy: Policy, ctx: RequestContext) -> None:
    if error.scope is None:
        error.policy_id = policy.policy_id
        error.scope = ctx.chain[ctx.level].scope if ctx.chain else None
