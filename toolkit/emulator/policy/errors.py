"""Errors of the policy engine: refused at publish time, or failing a request at run time.

Publish time: `PolicyRejected` (the management plane answers 400 with its message and line).
Run time: every `PolicyError` sends the request to `<on-error>` with `context.LastError` filled
from it; when `<on-error>` sets no other response, the error's default response is returned.
The reasons below are what the emulator puts in `context.LastError.Reason`. APIM documents the
reason vocabulary only for some policies; where it does not, the names are the emulator's own.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

# The management plane's refusal type (its validator hook catches it): one class for both sides.
from toolkit.emulator.management.hooks import PolicyRejected

__all__ = [
    "BackendConnectionFailure", "BackendTimeout", "BackendUnavailable", "EndRequest", "ExpressionFailure",
    "PolicyError", "PolicyRejected", "json_error_body",
]


def json_error_body(status: int, message: str) -> bytes:
    """APIM's JSON error body: ``{"statusCode": N, "message": "..."}``."""
    return json.dumps({"statusCode": status, "message": message}).encode("utf-8")


class PolicyError(Exception):
    """A request-time failure: fills ``context.LastError`` and runs ``<on-error>``.

    ``status``/``headers``/``body`` form the default response, returned when ``<on-error>``
    sets none of its own (``body`` None → APIM's JSON error body with ``message``).
    """

    status = 500
    reason = "PolicyError"

    def __init__(
        self,
        message: str,
        *,
        source: str,
        reason: str | None = None,
        status: int | None = None,
        headers: Sequence[tuple[str, str]] = (),
        body: bytes | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        if reason is not None:
            self.reason = reason
        if status is not None:
            self.status = status
        self.headers = tuple(headers)
        self.body = body
        self.policy_id: str | None = None  # the failing policy's id attribute (context.LastError.PolicyId)
        self.scope: str | None = None  # the scope whose policy failed (context.LastError.Scope)

    def default_body(self) -> bytes:
        """The body of the default response."""
        return self.body if self.body is not None else json_error_body(self.status, self.message)


class BackendConnectionFailure(PolicyError):
    """The backend could not be reached (refused, reset, DNS); default 500 ([3P] reason name, bosma)."""

    status = 500
    reason = "BackendConnectionFailure"

    def __init__(self, message: str, *, source: str = "forward-request") -> None:
        super().__init__(message, source=source)


class BackendTimeout(PolicyError):
    """No response headers within forward-request's timeout; default 504 (emulator choice)."""

    status = 504
    reason = "Timeout"

    def __init__(self, message: str, *, source: str = "forward-request") -> None:
        super().__init__(message, source=source)


class BackendUnavailable(PolicyError):
    """Every pool member's breaker is open (or a single backend's is): 503 with a JSON body, no Retry-After."""

    status = 503
    reason = "BackendUnavailable"

    def __init__(self, message: str, *, source: str = "forward-request") -> None:
        super().__init__(message, source=source)


class ExpressionFailure(PolicyError):
    """A policy expression failed while evaluated (APIM reason ExpressionValueEvaluationFailure); 500."""

    status = 500
    reason = "ExpressionValueEvaluationFailure"

    def __init__(self, message: str, *, source: str) -> None:
        super().__init__(message, source=source)


class EndRequest(Exception):  # noqa: N818 - control flow, not an error
    """Stops the pipeline: return-response, or a semantic-cache hit. The response is already set."""
