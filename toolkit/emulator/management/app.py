"""create_management_app: the ARM subset the azure-mgmt-apimanagement client uses, as one Starlette app.

Emulator decisions (where Azure differs or is undocumented):

- One global APIM service: any subscription, resource group and service name in the path address
  the same resources; ids in answers echo the path that was used. Names are case-sensitive.
- Every call needs ``?api-version=`` (any value accepted, else 400) and ``Authorization: Bearer …``
  (else 401); :class:`~toolkit.emulator.management.plane.ManagementPlane` serves this app behind a
  guard that requires its per-start token (the SDK sends it as its credential's bearer token).
- PUT without If-Match upserts; ``*`` forces; a stale or unknown ETag gives 412. DELETE without
  If-Match is unconditional (the SDK always sends one).
- Long-running kinds (APIs, named values, policy fragments) answer a PUT with 201/200 and
  ``provisioningState: InProgress``; the SDK's poller re-GETs once and sees ``Succeeded``.
  API DELETE answers 202 (the work is already done; the SDK accepts only 202/204).
- Deleting a backend, fragment, named value or API version set that something still references gives
  400 ValidationError naming the referrer (pool member, ``set-backend-service``, ``include-fragment``,
  ``{{named value}}``, an API of the set); deleting an API deletes its operations and their policies; deleting an
  operation deletes its policy. An operation policy needs its operation (404 otherwise).
- Not supported, refused rather than ignored: ``$filter``, ``*-link`` policy formats, Key Vault
  named values, product scopes for subscriptions; other resource types/methods answer 501, and so does a PATCH
  of a policy or fragment (the kinds with an update call take a JSON merge patch onto their stored properties,
  validated as a PUT).
- An API PUT with a specification (``format``/``value``) imports it as APIM does (``openapi``,
  ``openapi+json``, ``swagger-json``; see ``openapi_import``); ``*-link`` and non-OpenAPI formats
  are refused. One revision per API: ``name;rev=N`` ids and ``isCurrent: false`` are refused.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount

from toolkit.emulator.management.arm import DEFAULT_PAGE_SIZE, ArmError
from toolkit.emulator.management.counters import CallCounters
from toolkit.emulator.management.faults import ManagementFaults
from toolkit.emulator.management.hooks import PolicyValidator, well_formed_policy_validator
from toolkit.emulator.management.routes import service_routes
from toolkit.emulator.management.routes._base import SERVICE_PREFIX, PlaneDeps, arm_error_response
from toolkit.emulator.management.store import ResourceStore
from toolkit.emulator.request_guard import arm_error_body, starlette_error_handlers


def create_management_app(
    store: ResourceStore,
    *,
    policy_validator: PolicyValidator | None = None,
    faults: ManagementFaults | None = None,
    counters: CallCounters | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> Starlette:
    """The management-plane ASGI app over ``store``; its shared pieces are on ``app.state.management``."""
    deps = PlaneDeps(
        store=store,
        faults=faults if faults is not None else ManagementFaults(),
        counters=counters if counters is not None else CallCounters(),
        policy_validator=policy_validator or well_formed_policy_validator,
        page_size=page_size,
    )
    app = Starlette(
        routes=[Mount(SERVICE_PREFIX, routes=service_routes(deps))],
        exception_handlers={**starlette_error_handlers("management API", arm_error_body),
                            HTTPException: _http_exception},
    )
    app.state.management = deps
    return app


async def _http_exception(request: Request, exc: Exception) -> Response:
    """Paths outside the ARM service prefix: the router's 404/405 as ARM error bodies."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    message = f"No ARM resource at {request.url.path} (the emulator serves /subscriptions/…/service/{{name}}/…)."
    return arm_error_response(ArmError(status, None, message), head=request.method == "HEAD")
