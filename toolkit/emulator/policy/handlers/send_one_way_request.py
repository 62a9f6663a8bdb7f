"""``<send-one-way-request>``: fire a request and go on without waiting for its answer."""

from __future__ import annotations

import asyncio
from typing import Any

from toolkit.emulator.policy.document import Policy
from toolkit.emulator.policy.errors import PolicyError
from toolkit.emulator.policy.handlers.send_request import CHILDREN, OutgoingRequest
from toolkit.emulator.policy.outbound_http import send
from toolkit.emulator.policy.registry import SECTIONS, handler
from toolkit.emulator.policy.state import state_of
from toolkit.emulator.policy.values import IntSetting


@handler(
    "send-one-way-request",
    sections=SECTIONS,
    attributes=("mode", "timeout"),
    children=CHILDREN,
    notes="Built like send-request; sent in the background (loopback only); the outcome (status or error) is "
    "recorded as a 'send-one-way-request' event readable at the control API's /events. Never fails the request.",
)
class SendOneWayRequest(Policy):
    """Fire and forget."""

    __slots__ = ("request", "timeout")

    def __init__(self, request: OutgoingRequest, timeout: IntSetting) -> None:
        super().__init__()
        self.request = request
        self.timeout = timeout

    @classmethod
    def compile(cls, element: Any, cc: Any) -> SendOneWayRequest:
        """The outgoing request and timeout."""
        return cls(OutgoingRequest.compile(element, cc),
                   cc.integer(element, "timeout", default=60, minimum=1, expressions=True))

    async def run(self, ctx: Any, services: Any) -> None:
        """Start the call in the background."""
        method, url, headers, body = self.request.build(ctx, "send-one-way-request")
        timeout = float(self.timeout.get(ctx, "send-one-way-request"))
        state = state_of(services)

        async def call() -> None:
            try:
                response = await send(services, method, url, headers.items(), body, timeout,
                                      source="send-one-way-request")
                state.record_event("send-one-way-request", method=method, url=url.split("?")[0],
                                   status=response.status)
            except PolicyError as exc:
                state.record_event("send-one-way-request", method=method, url=url.split("?")[0], error=exc.message)

        task = asyncio.get_running_loop().create_task(call())
        state.background.add(task)
        task.add_done_callback(state.background.discard)
        ctx.note("send-one-way-request", f"{method} {url.split('?')[0]} sent")
