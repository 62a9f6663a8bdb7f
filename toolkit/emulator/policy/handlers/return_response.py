"""``<return-response>``: end the request now with a new response."""

from __future__ import annotations

from typing import Any

from toolkit.emulator.policy.headers import HeaderMap
from toolkit.emulator.policy.document import Policy, run_block
from toolkit.emulator.policy.errors import EndRequest
from toolkit.emulator.policy.registry import SECTIONS, handler


@handler(
    "return-response",
    sections=SECTIONS,
    children=("set-status", "set-header", "set-body"),
    notes="The new response starts as 200 OK with no body; its children shape it; the rest of the "
    "pipeline (backend, outbound) is skipped. response-variable-name is not supported (no send-request).",
)
class ReturnResponse(Policy):
    """Stop processing and answer."""

    __slots__ = ("body",)

    def __init__(self, body: tuple[Policy, ...]) -> None:
        super().__init__()
        self.body = body

    @classmethod
    def compile(cls, element: Any, cc: Any) -> ReturnResponse:
        """Compile set-status / set-header / set-body as acting on the new response."""
        return cls(cc.policies(element, response_target=True))

    async def run(self, ctx: Any, services: Any) -> None:
        """Build the response and end the request."""
        ctx.set_response(200, "OK", HeaderMap(), b"")
        await run_block(self.body, ctx, services)
        ctx.note("return-response", f"returned {ctx.response_status}")
        raise EndRequest
