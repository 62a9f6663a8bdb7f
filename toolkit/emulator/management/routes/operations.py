"""API operations: ``…/apis/{api}/operations`` and ``…/apis/{api}/operations/{operation}``.

Created one by one (PUT, not long-running, as in azure-mgmt-apimanagement 5.0.0's
``api_operation.create_or_update``) or by importing a specification with the API. Deleting an
operation deletes its policy.
"""

from __future__ import annotations

from starlette.routing import Route

from toolkit.emulator.management.arm import not_found
from toolkit.emulator.management.names import OPERATION_ID
from toolkit.emulator.management.routes._base import ArmCall, PlaneDeps
from toolkit.emulator.management.routes._crud import ResourceSpec, crud_routes
from toolkit.emulator.management.routes.apis import require_api
from toolkit.emulator.management.store import Resource, ResourceKey, ResourceKind
from toolkit.emulator.management.validate_operation import operation_key, validate_operation

_KIND = ResourceKind.OPERATION


def _delete_policy(call: ArmCall, resource: Resource) -> None:
    call.deps.store.delete(ResourceKey(ResourceKind.OPERATION_POLICY, resource.key.name, resource.key.parent))


def _list(call: ArmCall) -> list[Resource]:
    require_api(call, call.params["api"])
    return call.deps.store.list(_KIND, parent=call.params["api"])


SPEC = ResourceSpec(
    kind=_KIND,
    arm_type="apis/operations",
    label="Operation",
    key_of=lambda params: operation_key(params["api"], params["operation"]),
    path_of=lambda key: f"/apis/{key.parent}/operations/{key.name}",
    validate=lambda call, key, current: validate_operation(key.parent, key.name, call.body, call.deps.store),
    list_of=_list,
    check_parent=lambda call, key: require_api(call, key.parent),
    after_delete=_delete_policy,
    name_rule=OPERATION_ID,
    patchable=True,
)


def require_operation(call: ArmCall, api: str, operation: str) -> None:
    """404 unless API ``api`` has operation ``operation`` (operation policies hang off an operation)."""
    require_api(call, api)
    if call.deps.store.get(operation_key(api, operation)) is None:
        raise not_found(f"Operation '{operation}' of API '{api}'")


def routes(deps: PlaneDeps) -> list[Route]:
    """Operation routes."""
    return crud_routes(SPEC, deps, "/apis/{api}/operations", "/apis/{api}/operations/{operation}")
