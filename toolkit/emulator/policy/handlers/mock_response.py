"""``<mock-response>``: answer with a mocked response instead of calling the backend."""

from __future__ import annotations

from typing import Any

from toolkit.emulator.policy.document import Policy
from toolkit.emulator.policy.errors import EndRequest
from toolkit.emulator.policy.headers import HeaderMap
from toolkit.emulator.policy.registry import handler


@handler("mock-response", sections=("inbound", "outbound", "on-error"), attributes=("status-code", "content-type"),
         notes="Answers status-code (default 200) now, skipping the backend. The emulator keeps no operation "
         "response examples, so the body is empty; content-type (default application/json) is set when given.")
class MockResponse(Policy):
    """A mocked answer."""

    __slots__ = ("status", "content_type")

    def __init__(self, status: int, content_type: str | None) -> None:
        super().__init__()
        self.status, self.content_type = status, content_type

    @classmethod
    def compile(cls, element: Any, cc: Any) -> MockResponse:
        """status-code 100-599."""
        status = cc.integer(element, "status-code", default=200, minimum=100, maximum=599).constant
        return cls(status, cc.constant(element, "content-type"))

    async def run(self, ctx: Any, services: Any) -> None:
        """Answer and end the request."""
        headers = HeaderMap([("content-type", self.content_type)] if self.content_type else [])
        ctx.set_response(self.status, None, headers, b"")
        ctx.note("mock-response", f"mocked {self.status}")
        raise EndRequest
