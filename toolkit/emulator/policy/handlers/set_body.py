"""``<set-body>``: replace the request body (inbound, backend) or the response body (outbound)."""

from __future__ import annotations

from typing import Any

from toolkit.emulator.policy.document import Policy
from toolkit.emulator.policy.registry import handler
from toolkit.emulator.policy.values import text_of


@handler(
    "set-body",
    sections=("inbound", "backend", "outbound"),
    text=True,
    notes="Plain text or an expression (its value as text, UTF-8). Liquid templates (template, xsi-nil) "
    "are not supported. Inside return-response it sets the returned body (any section).",
)
class SetBody(Policy):
    """Replace a message body."""

    __slots__ = ("value", "response")

    def __init__(self, value: Any, response: bool) -> None:
        super().__init__()
        self.value = value
        self.response = response

    @classmethod
    def compile(cls, element: Any, cc: Any) -> SetBody:
        """Compile the text (constant or expression)."""
        return cls(cc.text_value(element), cc.response_target)

    async def run(self, ctx: Any, services: Any) -> None:
        """Set the body of the response (outbound, return-response) or of the request."""
        body = text_of(self.value, ctx).encode("utf-8")
        if self.response or ctx.section == "outbound":
            ctx.set_response_body(body)
        else:
            ctx.set_request_body(body)
