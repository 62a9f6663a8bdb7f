"""Policies at three scopes: global ``…/policies/policy``, API ``…/apis/{api}/policies/policy`` and
operation ``…/apis/{api}/operations/{operation}/policies/policy`` (the operation must exist)."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from toolkit.emulator.management.arm import not_found, validation_error
from toolkit.emulator.management.hooks import PolicyScope
from toolkit.emulator.management.policy_format import FORMATS, from_raw
from toolkit.emulator.management.routes._base import ArmCall, PlaneDeps
from toolkit.emulator.management.routes._crud import ResourceSpec, crud_routes
from toolkit.emulator.management.routes.apis import require_api
from toolkit.emulator.management.routes.operations import require_operation
from toolkit.emulator.management.store import Resource, ResourceKey, ResourceKind
from toolkit.emulator.management.validate_policy import validate_policy

POLICY_ID = "policy"


def requested_format(call: ArmCall) -> str:
    """``?format=`` of a GET (``xml`` when absent)."""
    fmt = call.query.get("format") or "xml"
    if fmt not in FORMATS:
        raise validation_error("format", f"must be one of {', '.join(FORMATS)}, got {fmt!r}")
    return fmt


def present_policy(call: ArmCall, resource: Resource) -> dict[str, Any]:
    """Stored rawxml rendered in the requested format (on a PUT response: the format that was sent)."""
    props = dict(resource.properties)
    if call.request.method == "PUT":
        fmt = str((call.body or {}).get("properties", {}).get("format") or "xml")
    else:
        fmt = requested_format(call)
    props["value"] = from_raw(str(props["value"]), fmt)
    props["format"] = fmt
    return props


def _policy_key(kind: ResourceKind, params: dict[str, str], name: str = "", parent: str = "") -> ResourceKey:
    if params.get("policy_id") != POLICY_ID:
        raise not_found(f"Policy '{params.get('policy_id')}'")
    return ResourceKey(kind, name, parent)


def _spec(
    kind: ResourceKind, scope: PolicyScope, arm_type: str, key_of: Any, path_of: Any, check_parent: Any
) -> ResourceSpec:
    def list_of(call: ArmCall) -> list[Resource]:
        resource = call.deps.store.get(key_of({**call.params, "policy_id": POLICY_ID}))
        return [resource] if resource is not None else []

    return ResourceSpec(
        kind=kind,
        arm_type=arm_type,
        label="Policy",
        key_of=key_of,
        path_of=path_of,
        arm_name_of=lambda key: POLICY_ID,
        validate=lambda call, key, current: validate_policy(
            call.body, scope=scope, store=call.deps.store, validator=call.deps.policy_validator),
        list_of=list_of,
        present=present_policy,
        check_parent=check_parent,
    )


GLOBAL = _spec(
    ResourceKind.GLOBAL_POLICY, PolicyScope.GLOBAL, "policies",
    key_of=lambda p: _policy_key(ResourceKind.GLOBAL_POLICY, p),
    path_of=lambda key: "/policies/policy",
    check_parent=lambda call, key: None,
)
API = _spec(
    ResourceKind.API_POLICY, PolicyScope.API, "apis/policies",
    key_of=lambda p: _policy_key(ResourceKind.API_POLICY, p, p["api"]),
    path_of=lambda key: f"/apis/{key.name}/policies/policy",
    check_parent=lambda call, key: require_api(call, key.name),
)
OPERATION = _spec(
    ResourceKind.OPERATION_POLICY, PolicyScope.OPERATION, "apis/operations/policies",
    key_of=lambda p: _policy_key(ResourceKind.OPERATION_POLICY, p, p["operation"], p["api"]),
    path_of=lambda key: f"/apis/{key.parent}/operations/{key.name}/policies/policy",
    check_parent=lambda call, key: require_operation(call, key.parent, key.name),
)


def routes(deps: PlaneDeps) -> list[Route]:
    """Policy routes at every scope."""
    return [
        *crud_routes(GLOBAL, deps, "/policies", "/policies/{policy_id}"),
        *crud_routes(API, deps, "/apis/{api}/policies", "/apis/{api}/policies/{policy_id}"),
        *crud_routes(OPERATION, deps, "/apis/{api}/operations/{operation}/policies",
                     "/apis/{api}/operations/{operation}/policies/{policy_id}"),
    ]
