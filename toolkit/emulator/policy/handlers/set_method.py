"""``<set-method>``: change the HTTP method of the request (also a child of send-request)."""

from __future__ import annotations

import re
from typing import Any

from toolkit.emulator.policy.document import Policy
from toolkit.emulator.policy.errors import PolicyError
from toolkit.emulator.policy.registry import handler
from toolkit.emulator.policy.values import text_of

_TOKEN = re.compile(r"^[A-Za-z]+$")


@handler(
    "set-method",
    sections=("inbound", "on-error"),
    text=True,
    notes="The text (or expression) is the new method, upper-cased; the backend receives it.",
)
class SetMethod(Policy):
    """Replace the request method."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        super().__init__()
        self.value = value

    @classmethod
    def compile(cls, element: Any, cc: Any) -> SetMethod:
        """A method name or an expression."""
        value = cc.text_value(element, expect="string")
        if not value.is_expression and not _TOKEN.match(value.source):
            raise cc.reject(element, f"<set-method>: {value.source!r} is not an HTTP method")
        return cls(value)

    async def run(self, ctx: Any, services: Any) -> None:
        """Set the method."""
        method = text_of(self.value, ctx).strip().upper()
        if not _TOKEN.match(method):
            raise PolicyError(f"set-method: {method!r} is not an HTTP method.", source="set-method",
                              reason="InvalidMethod")
        ctx.request_method = method
