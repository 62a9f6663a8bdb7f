"""The request gate every ARM call passes: counting, bearer auth, api-version, fault injection, ARM errors."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from toolkit.emulator.json_body import JsonBodyError, loads_body
from toolkit.emulator.management.arm import DEFAULT_PAGE_SIZE, ArmError
from toolkit.emulator.management.counters import CallCounters
from toolkit.emulator.management.faults import ManagementFaults
from toolkit.emulator.management.hooks import PolicyValidator, well_formed_policy_validator
from toolkit.emulator.management.store import ResourceStore
from toolkit.emulator.request_guard import BodyTooLarge

logger = logging.getLogger(__name__)

SERVICE_PREFIX = (
    "/subscriptions/{subscription}/resourceGroups/{resource_group}"
    "/providers/Microsoft.ApiManagement/service/{service}"
)
_WRITE_METHODS = frozenset({"PUT", "PATCH", "DELETE"})


@dataclass
class PlaneDeps:
    """What the route handlers share: the store, faults, counters, the policy validator and the page size."""

    store: ResourceStore
    faults: ManagementFaults = field(default_factory=ManagementFaults)
    counters: CallCounters = field(default_factory=CallCounters)
    policy_validator: PolicyValidator = well_formed_policy_validator
    page_size: int = DEFAULT_PAGE_SIZE


@dataclass
class ArmCall:
    """One authenticated, versioned ARM request as the handlers see it."""

    request: Request
    deps: PlaneDeps
    body: Any = None

    @property
    def params(self) -> dict[str, str]:
        """Path parameters (subscription, resource_group, service and the resource's own)."""
        return dict(self.request.path_params)

    @property
    def service_id(self) -> str:
        """The ARM id of the APIM service named in the path."""
        return SERVICE_PREFIX.format(**{k: self.params[k] for k in ("subscription", "resource_group", "service")})

    @property
    def query(self) -> dict[str, str]:
        """Query parameters (last value wins)."""
        return dict(self.request.query_params)

    @property
    def if_match(self) -> str | None:
        """The If-Match header, if sent."""
        return self.request.headers.get("if-match")

    @property
    def url_without_query(self) -> str:
        """This request's absolute URL without its query (for nextLink)."""
        return str(self.request.url.replace(query=""))


Handler = Callable[[ArmCall], Response]


def arm_error_response(error: ArmError, *, head: bool = False) -> Response:
    """The HTTP answer for an ArmError (no body for HEAD)."""
    if head:
        return Response(status_code=error.status, headers=error.headers)
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


def arm_endpoint(deps: PlaneDeps, kind: str, handler: Handler, *, mutating_post: bool = False) -> Callable[..., Any]:
    """Wrap ``handler`` in the ARM gate; ``kind`` labels counters and faults."""

    async def endpoint(request: Request) -> Response:
        method = request.method
        write = method in _WRITE_METHODS or (method == "POST" and mutating_post)
        deps.counters.record(method, kind, write=write)
        try:
            check_bearer(request)
            check_api_version(request)
            if write:
                injected = deps.faults.on_write(kind, method)
                if injected is not None:
                    raise injected
            body = await _json_body(request) if method in ("PUT", "PATCH") else None
            if write:
                # Writes validate and compile policies and rebuild the gateway: off the event loop, so one
                # slow document never freezes the other endpoints (the validator has its own time bound).
                return await asyncio.to_thread(handler, ArmCall(request, deps, body))
            return handler(ArmCall(request, deps, body))
        except ArmError as exc:
            return arm_error_response(exc, head=method == "HEAD")
        except BodyTooLarge:
            raise  # the request guard answers 413
        except Exception:  # one layer turns bugs into ARM 500s; the traceback goes to the log only
            logger.exception("management plane: unhandled error on %s %s", method, request.url.path)
            error = ArmError(500, "InternalServerError", "The emulator failed to process the request.")
            return arm_error_response(error, head=method == "HEAD")

    return endpoint


def check_bearer(request: Request) -> None:
    """401 unless an ``Authorization: Bearer <token>`` header is present (the token itself is not verified)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ArmError(401, "AuthenticationFailed",
                       "Authentication failed. The 'Authorization' header is missing or is not a Bearer token.")


def check_api_version(request: Request) -> None:
    """400 MissingApiVersionParameter unless ``?api-version=`` is given (any version is accepted)."""
    if not request.query_params.get("api-version"):
        raise ArmError(400, "MissingApiVersionParameter",
                       "The api-version query parameter (?api-version=) is required for all requests.")


async def _json_body(request: Request) -> Any:
    try:
        return loads_body(await request.body())
    except JsonBodyError as exc:
        raise ArmError(400, "InvalidRequestContent", f"The request content is not valid JSON: {exc}") from None
