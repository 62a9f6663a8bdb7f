"""API version sets: ``…/apiVersionSets`` and ``…/apiVersionSets/{name}``.

Deleting a version set that APIs still belong to is refused (400 ValidationError naming them): what
APIM answers then is undocumented; the emulator's choice keeps the gateway free of dangling sets.
"""

from __future__ import annotations

from starlette.routing import Route

from toolkit.emulator.management.arm import ArmError
from toolkit.emulator.management.names import VERSION_SET_ID
from toolkit.emulator.management.routes._base import ArmCall, PlaneDeps
from toolkit.emulator.management.routes._crud import ResourceSpec, crud_routes
from toolkit.emulator.management.store import Resource, ResourceKey, ResourceKind
from toolkit.emulator.management.validate_api import apis_in_version_set
from toolkit.emulator.management.validate_version_set import validate_version_set

_KIND = ResourceKind.VERSION_SET


def _refuse_if_used(call: ArmCall, resource: Resource) -> None:
    members = apis_in_version_set(call.deps.store, resource.key.name)
    if members:
        raise ArmError(400, "ValidationError", f"Version set '{resource.key.name}' is used by "
                                               f"{', '.join(f'API {name!r}' for name in members)}; "
                                               "delete those APIs or move them out of the set first.")


SPEC = ResourceSpec(
    kind=_KIND,
    arm_type="apiVersionSets",
    label="ApiVersionSet",
    key_of=lambda params: ResourceKey(_KIND, params["name"]),
    path_of=lambda key: f"/apiVersionSets/{key.name}",
    validate=lambda call, key, current: validate_version_set(call.body),
    list_of=lambda call: call.deps.store.list(_KIND),
    before_delete=_refuse_if_used,
    name_rule=VERSION_SET_ID,
    patchable=True,
)


def routes(deps: PlaneDeps) -> list[Route]:
    """Version set routes."""
    return crud_routes(SPEC, deps, "/apiVersionSets", "/apiVersionSets/{name}")
