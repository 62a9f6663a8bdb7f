"""ARM conventions: error bodies, resource envelopes, If-Match preconditions and paged collections."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

from toolkit.emulator.management.store import Resource
from toolkit.errors import ToolkitError

RESOURCE_TYPE_PREFIX = "Microsoft.ApiManagement/service"
DEFAULT_PAGE_SIZE = 100
# APIM's top line over the field problems in ``details[]``, even when there is only one (Azure/apiops#668, #712).
FIELD_PROBLEMS = "One or more fields contain incorrect values:"

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
        details: Sequence[ArmError] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or default_error_code(status)
        self.target = target
        self.headers = dict(headers or {})
        self.details = tuple(details)

    def body(self) -> dict[str, Any]:
        """The JSON error body: field problems go in ``details[]`` under APIM's generic top line.

        An error that names no field keeps its message on top, without details, as APIM answers e.g.
        "Cannot delete the current revision of an API." (Azure/apiops#184).
        """
        problems = self.details or ((self,) if self.target else ())
        if not problems:
            return {"error": {"code": self.code, "message": self.message}}
        return {"error": {"code": self.code, "message": FIELD_PROBLEMS,
                          "details": [{"code": p.code, "target": p.target, "message": p.message} for p in problems]}}


def apim_target(field: str) -> str:
    """A field path as APIM writes it in ``details[].target``: without the ``properties.`` envelope.

    APIM answers e.g. ``{"code": "ValidationError", "target": "credentials", ...}`` for a backend's
    ``properties.credentials`` (seen in Azure/apiops#491).
    """
    return field[len("properties."):] if field.startswith("properties.") else field


def validation_error(field: str, message: str) -> ArmError:
    """400 ValidationError about ``field`` (the message names it; ``target`` is APIM's form of it)."""
    return ArmError(400, "ValidationError", f"{field}: {message}" if field else message,
                    target=apim_target(field) or None)


class Problems:
    """Collects every validation problem of one write, so that the answer lists them all (ARM ``details[]``).

    ``with problems.check(): ...`` records a ValidationError raised inside and carries on; ``raise_any()``
    raises them all in one ValidationError (its body lists each under :data:`FIELD_PROBLEMS`).
    """

    def __init__(self) -> None:
        self.found: list[ArmError] = []

    @contextmanager
    def check(self) -> Iterator[None]:
        """Record a ValidationError raised in the block (other errors propagate)."""
        try:
            yield
        except ArmError as error:
            if error.code != "ValidationError":
                raise
            self.found.extend(error.details or (error,))

    def raise_any(self) -> None:
        """Raise what was found, if anything."""
        if self.found:
            raise ArmError(400, "ValidationError", FIELD_PROBLEMS, details=self.found)


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
