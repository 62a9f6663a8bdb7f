"""``<set-status>``: set the response status code and reason."""

from __future__ import annotations

from typing import Any

from toolkit.emulator.policy.document import Policy
from toolkit.emulator.policy.headers import reason_phrase
from toolkit.emulator.policy.registry import SECTIONS, handler
from toolkit.emulator.policy.values import IntSetting, text_of


@handler(
    "set-status",
    sections=SECTIONS,
    attributes=("code", "reason"),
    required=("code",),
    notes="code 100-599; without reason the standard reason phrase of the code (APIM accepts documents "
    "without it). Before a backend response exists it creates one (200 OK, empty) to change.",
)
class SetStatus(Policy):
    """Change the response status."""

    __slots__ = ("code", "reason")

    def __init__(self, code: IntSetting, reason: Any) -> None:
        super().__init__()
        self.code = code
        self.reason = reason

    @classmethod
    def compile(cls, element: Any, cc: Any) -> SetStatus:
        """code is an integer 100-599; reason any text."""
        return cls(cc.integer(element, "code", minimum=100, maximum=599, expressions=True),
                   cc.value(element, "reason", expect="string"))

    async def run(self, ctx: Any, services: Any) -> None:
        """Set status and reason on the current response."""
        ctx.ensure_response()
        ctx.response_status = self.code.get(ctx, "set-status")
        ctx.response_reason = reason_phrase(ctx.response_status) if self.reason is None else text_of(self.reason, ctx)
