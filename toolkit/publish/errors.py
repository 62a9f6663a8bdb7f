"""Remote errors of the publish layer: the HTTP status an SDK call failed with, as RemoteError subclasses.

``client.py`` is the one place that turns azure-core exceptions into these; everything above it
catches these only. All of them exit 4.
"""

from __future__ import annotations

from collections.abc import Iterable

from toolkit.errors import RemoteError

SECRET_MASK = "(secret)"


class RemoteHttpError(RemoteError):
    """The management API answered with an error status."""

    def __init__(self, message: str, *, status: int, code: str | None = None, retry_after: float | None = None,
                 hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.code = code
        self.retry_after = retry_after


class RemoteNotFound(RemoteHttpError):
    """404: the resource (or its parent) does not exist."""


class RemoteConflict(RemoteHttpError):
    """409: another operation on the resource is in progress."""


class RemoteThrottled(RemoteHttpError):
    """429: too many requests."""


class PreconditionFailed(RemoteHttpError):
    """412: the If-Match ETag is stale (someone changed the resource)."""

    def __init__(self, message: str, *, status: int = 412, code: str | None = None, retry_after: float | None = None,
                 hint: str | None = None) -> None:
        super().__init__(message, status=status, code=code, retry_after=retry_after, hint=hint)


class Unreachable(RemoteError):
    """The endpoint could not be reached or did not answer in time."""


class NoAnswer(Unreachable):
    """The request was sent but its answer was lost (a read error or timeout): a write may have landed."""


_BY_STATUS: dict[int, type[RemoteHttpError]] = {
    404: RemoteNotFound,
    409: RemoteConflict,
    412: PreconditionFailed,
    429: RemoteThrottled,
}


def http_error(message: str, status: int, code: str | None = None, retry_after: float | None = None) -> RemoteHttpError:
    """The RemoteHttpError subclass for ``status``."""
    cls = _BY_STATUS.get(status, RemoteHttpError)
    return cls(message, status=status, code=code, retry_after=retry_after)


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret value replaced by the mask (for messages built from server answers)."""
    for secret in sorted({s for s in secrets if s and len(s) >= 3}, key=len, reverse=True):
        text = text.replace(secret, SECRET_MASK)
    return text
