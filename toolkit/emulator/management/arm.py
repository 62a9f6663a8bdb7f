"""ARM conventions: error bodies, resource envelopes, If-Match preconditions and paged collections."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from toolkit.emulator.management.store import Resource
from toolkit.errors import ToolkitError

RESOURCE_TYPE_PREFIX = "Microsoft.ApiManagement/service"
DEFAULT_PAGE_SIZE = 100

_DEFAULT_CODES = {
    400: "BadRequest",
    401: "AuthenticationFailed",
    404: "ResourceNotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    412: "PreconditionFailed",
    429: "TooManyRequests",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}


def default_error_code(status: int) -> str:
    """The ARM error code usually paired with an HTTP status."""
    return _DEFAULT_CODES.get(status, "Failed")


class ArmError(ToolkitError):
    """An ARM error answer: HTTP status plus ``{"error": {"code", "message"[, "details"]}}``."""

    def __init__(
        self,
        status: int,
        code: str | None,
        message: str,
        *,
        target: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or default_error_code(status)
        self.target = target
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        """The JSON error body (``details`` names the offending field when known)."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.target:
            error["details"] = [{"code": self.code, "target": self.target, "message": self.message}]
        return {"error": error}


def validation_error(field: str, message: str) -> ArmError:
    """400 ValidationError about ``field`` (the message names it)."""
    return ArmError(400, "ValidationError", f"{field}: {message}" if field else message, target=field or None)


def not_found(what: str) -> ArmError:
    """404 ResourceNotFound for ``what`` (e.g. "Backend 'x'")."""
    return ArmError(404, "ResourceNotFound", f"{what} not found.")


def _normalise_etag(value: str) -> str:
    value = value.strip()
    if value.startswith("W/"):
        value = value[2:]
    return value.strip('"')


def check_if_match(current: Resource | None, if_match: str | None) -> None:
    """412 PreconditionFailed unless ``If-Match`` is absent, ``*``, or names ``current``'s ETag.

    A specific ETag never matches a missing resource (ARM semantics); ``*`` forces the write.
    """
    if if_match is None or if_match.strip() == "*":
        return
    wanted = {_normalise_etag(part) for part in if_match.split(",")}
    if current is None or _normalise_etag(current.etag) not in wanted:
        raise ArmError(
            412,
            "PreconditionFailed",
            "The resource was changed since it was read: the If-Match ETag does not match the current one.",
        )


def envelope(resource_id: str, arm_type: str, name: str, properties: Mapping[str, Any]) -> dict[str, Any]:
    """``{"id", "type", "name", "properties"}`` of one resource."""
    return {"id": resource_id, "type": f"{RESOURCE_TYPE_PREFIX}/{arm_type}", "name": name,
            "properties": dict(properties)}


def paged(
    items: Sequence[dict[str, Any]],
    *,
    url: str,
    query: Mapping[str, str],
    page_size: int = DEFAULT_PAGE_SIZE,
) -> dict[str, Any]:
    """One ARM collection page (``$skip``/``$top`` honoured) with ``count`` and a ``nextLink`` when more remain."""
    skip = _non_negative_int(query, "$skip", 0)
    top = _non_negative_int(query, "$top", None)
    size = page_size if top is None else min(top, page_size)
    end = min(skip + size, len(items))
    chunk = list(items[skip:end])
    page: dict[str, Any] = {"value": chunk, "count": len(items)}
    remaining_top = None if top is None else top - len(chunk)
    if end < len(items) and (remaining_top is None or remaining_top > 0):
        params = {"api-version": query.get("api-version", ""), "$skip": str(end)}
        if remaining_top is not None:
            params["$top"] = str(remaining_top)
        page["nextLink"] = f"{url}?{urlencode(params)}"
    return page


def _non_negative_int(query: Mapping[str, str], name: str, default: int | None) -> int | None:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise validation_error(name, f"must be a non-negative integer, got {raw!r}")
    return value
