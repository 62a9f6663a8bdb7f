"""ARM routes of the management plane, one module per resource kind."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from toolkit.emulator.management.arm import ArmError
from toolkit.emulator.management.routes import (
    apis,
    backends,
    fragments,
    named_values,
    operations,
    policies,
    subscriptions,
    version_sets,
)
from toolkit.emulator.management.routes._base import ArmCall, PlaneDeps, arm_endpoint

_ALL_METHODS = ["GET", "HEAD", "PUT", "PATCH", "POST", "DELETE"]


def _unsupported(call: ArmCall) -> Response:
    raise ArmError(501, "NotImplemented", f"The local APIM emulator does not implement "
                                          f"{call.request.method} …/{call.params.get('rest', '')}.")


def service_routes(deps: PlaneDeps) -> list[BaseRoute]:
    """Every route under ``/subscriptions/…/service/{service}``; anything else answers 501 NotImplemented."""
    return [
        *backends.routes(deps),
        *apis.routes(deps),
        *operations.routes(deps),
        *policies.routes(deps),
        *fragments.routes(deps),
        *named_values.routes(deps),
        *subscriptions.routes(deps),
        *version_sets.routes(deps),
        Route("/{rest:path}", arm_endpoint(deps, "unsupported", _unsupported), methods=_ALL_METHODS),
    ]
