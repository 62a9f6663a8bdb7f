"""APIs: ``…/apis`` and ``…/apis/{name}`` (long-running PUT; DELETE answers 202 and removes the API's policies)."""

from __future__ import annotations

from starlette.routing import Route

from toolkit.emulator.management.arm import not_found
from toolkit.emulator.management.routes._base import ArmCall, PlaneDeps
from toolkit.emulator.management.routes._crud import ResourceSpec, crud_routes
from toolkit.emulator.management.store import Resource, ResourceKey, ResourceKind
from toolkit.emulator.management.validate_api import validate_api

_KIND = ResourceKind.API


def require_api(call: ArmCall, name: str) -> None:
    """404 unless API ``name`` exists (policies hang off an API)."""
    if call.deps.store.get(ResourceKey(_KIND, name)) is None:
        raise not_found(f"API '{name}'")


def _cascade(call: ArmCall, resource: Resource) -> None:
    store = call.deps.store
    store.delete(ResourceKey(ResourceKind.API_POLICY, resource.key.name))
    for policy in store.list(ResourceKind.OPERATION_POLICY, parent=resource.key.name):
        store.delete(policy.key)


SPEC = ResourceSpec(
    kind=_KIND,
    arm_type="apis",
    label="API",
    key_of=lambda params: ResourceKey(_KIND, params["name"]),
    path_of=lambda key: f"/apis/{key.name}",
    validate=lambda call, key, current: validate_api(key.name, call.body, call.deps.store, current),
    list_of=lambda call: call.deps.store.list(_KIND),
    after_delete=_cascade,
    long_running=True,
    # azure-mgmt-apimanagement 5.0.0's begin_delete accepts only 202/204; the delete is already done.
    deleted_status=202,
)


def routes(deps: PlaneDeps) -> list[Route]:
    """API routes."""
    return crud_routes(SPEC, deps, "/apis", "/apis/{name}")
