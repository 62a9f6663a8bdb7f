"""``<return-response>``: end the request now with a new response."""

from __future__ import annotations

from typing import Any

from toolkit.emulator.policy.headers import HeaderMap
from toolkit.emulator.policy.document import Policy, run_block
from toolkit.emulator.policy.errors import EndRequest, PolicyError
from toolkit.emulator.policy.registry import SECTIONS, handler


@handler(
    "return-response",
    sections=SECTIONS,
    attributes=("response-variable-name",),
    children=("set-status", "set-header", "set-body"),
    notes="The new response starts as 200 OK with no body, or as the IResponse stored by send-request in "
    "response-variable-name; its children shape it; the rest of the pipeline (backend, outbound) is skipped.",
)
class ReturnResponse(Policy):
    """Stop processing and answer."""

    __slots__ = ("body", "variable")

    def __init__(self, body: tuple[Policy, ...], variable: str | None = None) -> None:
        super().__init__()
        self.body = body
        self.variable = variable

    @classmethod
    def compile(cls, element: Any, cc: Any) -> ReturnResponse:
        """Compile set-status / set-header / set-body as acting on the new response."""
        return cls(cc.policies(element, response_target=True), cc.constant(element, "response-variable-name"))

    async def run(self, ctx: Any, services: Any) -> None:
        """Build the response and end the request."""
        ctx.set_response(200, "OK", HeaderMap(), b"")
        if self.variable is not None:
            _start_from(ctx, self.variable)
        await run_block(self.body, ctx, services)
        ctx.note("return-response", f"returned {ctx.response_status}")
        raise EndRequest


def _start_from(ctx: Any, variable: str) -> None:
    """Start from the IResponse a send-request stored (a missing or non-response variable fails)."""
    from toolkit.emulator.expressions.library import Message

    message = ctx.variables.get(variable)
    if not isinstance(message, Message):
        raise PolicyError(f"return-response: variable '{variable}' does not hold a response.",
                          source="return-response", reason="InvalidResponseVariable")
    headers = HeaderMap((name, value) for name, values in message.headers.items() for value in values)
    ctx.set_response(message.status or 200, message.reason, headers, message.raw)
