"""``<forward-request>``: send the request to the selected backend and take its response."""

from __future__ import annotations

from typing import Any

from toolkit.emulator.policy.document import Policy
from toolkit.emulator.policy.registry import handler
from toolkit.emulator.policy.routing import forward_once

DEFAULT_TIMEOUT_SECONDS = 300


@handler(
    "forward-request",
    sections=("backend",),
    attributes=("timeout", "timeout-ms", "follow-redirects", "buffer-request-body", "buffer-response",
                "fail-on-error-status-code", "http-version"),
    notes="A pool member is drawn per call and its breaker fed with the status (and Retry-After); "
    "connection failure → BackendConnectionFailure (500), no headers within timeout → Timeout (500, as APIM answers). "
    "Without buffer-request-body a re-sent request (retry) goes with an empty body: APIM documents only that a "
    "buffered body is reused on retry, third-party reports describe an empty body; the emulator's choice. "
    "buffer-response and http-version are accepted; the emulator speaks HTTP/1.1 and buffers answers, except "
    "an event stream (stream: true), which is relayed as it arrives.",
)
class ForwardRequest(Policy):
    """Call the backend."""

    __slots__ = ("timeout", "timeout_ms", "follow_redirects", "buffer_request_body", "fail_on_error_status_code")

    def __init__(self, timeout: Any, timeout_ms: Any, follow: bool, buffer_body: bool, fail_on_error: bool) -> None:
        super().__init__()
        self.timeout = timeout
        self.timeout_ms = timeout_ms
        self.follow_redirects = follow
        self.buffer_request_body = buffer_body
        self.fail_on_error_status_code = fail_on_error

    @classmethod
    def compile(cls, element: Any, cc: Any) -> ForwardRequest:
        """Read the timeouts (one of timeout / timeout-ms) and the switches."""
        if element.get("timeout") is not None and element.get("timeout-ms") is not None:
            raise cc.reject(element, "<forward-request> takes 'timeout' or 'timeout-ms', not both")
        timeout = cc.integer(element, "timeout", default=DEFAULT_TIMEOUT_SECONDS, minimum=0, expressions=True)
        timeout_ms = None
        if element.get("timeout-ms") is not None:
            timeout_ms = cc.integer(element, "timeout-ms", minimum=0, expressions=True)
        cc.boolean(element, "buffer-response", True)
        cc.choice(element, "http-version", ("1", "2", "2or1"))
        return cls(
            timeout,
            timeout_ms,
            cc.boolean(element, "follow-redirects", False),
            cc.boolean(element, "buffer-request-body", False),
            cc.boolean(element, "fail-on-error-status-code", False),
        )

    async def run(self, ctx: Any, services: Any) -> None:
        """Forward once (see `routing.forward_once`)."""
        if self.timeout_ms is not None:
            seconds = self.timeout_ms.get(ctx, "forward-request") / 1000.0
        else:
            seconds = float(self.timeout.get(ctx, "forward-request"))
        await forward_once(
            ctx, services, timeout=seconds, follow_redirects=self.follow_redirects,
            buffer_request_body=self.buffer_request_body, fail_on_error_status_code=self.fail_on_error_status_code,
        )
