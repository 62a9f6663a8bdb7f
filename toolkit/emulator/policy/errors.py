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
    "PolicyError", "PolicyRejected", "internal_error_body", "json_error_body",
]

TIMEOUT_MESSAGE = "Request to the backend service timed out"  # APIM's LastError.Message for Timeout


def json_error_body(status: int, message: str) -> bytes:
    """APIM's JSON error body: ``{"statusCode": N, "message": "..."}``."""
    return json.dumps({"statusCode": status, "message": message}).encode("utf-8")


def internal_error_body(activity_id: str | None) -> bytes:
    """APIM's client body for its own 500s (a failed expression, an unreachable backend, a forward timeout): generic,
    with the request's id, e.g. ``{"statusCode": 500, "message": "Internal server error", "activityId": "<guid>"}``
    (Azure-Samples/app-templates-microservices-integration#10). The detail is only in ``context.LastError`` and the
    trace; ``activity_id`` is the request id (``context.RequestId``, the emulator's trace id)."""
    return json.dumps({"statusCode": 500, "message": "Internal server error", "activityId": activity_id}).encode()


class PolicyError(Exception):
    """A request-time failure: fills ``context.LastError`` and runs ``<on-error>``.

    ``status``/``headers``/``body`` form the default response, returned when ``<on-error>``
    sets none of its own (``body`` None → APIM's generic body for a 500, else its JSON error
    body with ``message``).
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

    def default_body(self, activity_id: str | None) -> bytes:
        """The body of the default response (``activity_id``: the request id, shown in a 500's generic body)."""
        if self.body is not None:
            return self.body
        if self.status == 500:
            return internal_error_body(activity_id)
        return json_error_body(self.status, self.message)


class BackendConnectionFailure(PolicyError):
    """The backend could not be reached (refused, reset, DNS); default 500 with the generic body (APIM's docs list
    the reason; users see 500 for it: wkintegrations.com "Handle the HTTP 500 response in APIM")."""

    status = 500
    reason = "BackendConnectionFailure"

    def __init__(self, message: str, *, source: str = "forward-request") -> None:
        super().__init__(message, source=source)


class BackendTimeout(PolicyError):
    """No response headers within the timeout (forward-request, send-request): APIM answers 500 with the generic
    body and logs "Timeout: at forward-request" (JanneMattila/some-questions-and-some-answers, apim_and_functions.md;
    MicrosoftDocs/azure-docs#109013). The URL and wait are in the trace, not the message."""

    status = 500
    reason = "Timeout"

    def __init__(self, *, source: str = "forward-request") -> None:
        super().__init__(TIMEOUT_MESSAGE, source=source)


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
