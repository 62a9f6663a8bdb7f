"""``<include-fragment>``: run a policy fragment's policies in place.

Not inside a fragment: "Currently, a policy fragment can't nest another policy fragment" (policy-fragments.md,
Limitations), so a fragment holding one is refused at publish and fragments never run nested.
"""

from __future__ import annotations

from typing import Any

from toolkit.emulator.policy.document import FRAGMENT, Policy, run_block
from toolkit.emulator.policy.errors import PolicyError
from toolkit.emulator.policy.registry import SECTIONS, handler


@handler(
    "include-fragment",
    sections=SECTIONS,
    scopes=("global", "product", "api", "operation"),
    attributes=("fragment-id",),
    required=("fragment-id",),
    notes="The fragment must exist at publish and its elements must be allowed in the including section. "
    "Its current content is looked up per request (a fragment update applies at once). Refused inside a "
    "fragment: APIM's fragments can't nest.",
)
class IncludeFragment(Policy):
    """Insert a fragment."""

    __slots__ = ("fragment_id",)

    def __init__(self, fragment_id: str) -> None:
        super().__init__()
        self.fragment_id = fragment_id

    @classmethod
    def compile(cls, element: Any, cc: Any) -> IncludeFragment:
        """Check that the fragment exists and fits the section."""
        fragment_id = cc.constant(element, "fragment-id").strip()
        cc.fragment(element, fragment_id)
        return cls(fragment_id)

    async def run(self, ctx: Any, services: Any) -> None:
        """Run the fragment's block in the current section."""
        fragment = services.fragment(self.fragment_id)
        if fragment is None:
            raise PolicyError(f"Policy fragment '{self.fragment_id}' does not exist.", source="include-fragment",
                              reason="FragmentNotFound")
        await run_block(fragment.sections[FRAGMENT], ctx, services)
