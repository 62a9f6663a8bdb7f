"""Named values: ``…/namedValues[/{name}]`` (long-running PUT) and ``POST …/namedValues/{name}/listValue``.

As on Azure, a secret's value is never in a GET/PUT/list answer; ``listValue`` returns it.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from toolkit.emulator.management.names import NAMED_VALUE_ID
from toolkit.emulator.management.routes._base import ArmCall, PlaneDeps, arm_endpoint
from toolkit.emulator.management.routes._crud import ResourceSpec, crud_routes, refuse_if_referenced
from toolkit.emulator.management.store import Resource, ResourceKey, ResourceKind
from toolkit.emulator.management.validate_named_value import validate_named_value

_KIND = ResourceKind.NAMED_VALUE


def _present(call: ArmCall, resource: Resource) -> dict[str, Any]:
    props = dict(resource.properties)
    if props.get("secret"):
        props.pop("value", None)
    return props


def _refuse_if_used(call: ArmCall, resource: Resource) -> None:
    display = str(resource.properties.get("displayName", resource.key.name))
    refuse_if_referenced(call, _KIND, display, f"Named value '{resource.key.name}' ({{{{{display}}}}})")


SPEC = ResourceSpec(
    kind=_KIND,
    arm_type="namedValues",
    label="Named value",
    key_of=lambda params: ResourceKey(_KIND, params["name"]),
    path_of=lambda key: f"/namedValues/{key.name}",
    validate=lambda call, key, current: validate_named_value(key.name, call.body, call.deps.store, current),
    list_of=lambda call: call.deps.store.list(_KIND),
    present=_present,
    before_delete=_refuse_if_used,
    long_running=True,
    name_rule=NAMED_VALUE_ID,
    patchable=True,
)


def _list_value(call: ArmCall) -> Response:
    resource = SPEC.load(call)
    return JSONResponse({"value": resource.properties.get("value")}, headers={"ETag": resource.etag})


def routes(deps: PlaneDeps) -> list[Route]:
    """Named value routes."""
    return [
        *crud_routes(SPEC, deps, "/namedValues", "/namedValues/{name}"),
        Route("/namedValues/{name}/listValue", arm_endpoint(deps, _KIND.value, _list_value), methods=["POST"]),
    ]
