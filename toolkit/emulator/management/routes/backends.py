"""Backends and pools: ``…/backends`` and ``…/backends/{name}``."""

from __future__ import annotations

from starlette.routing import Route

from toolkit.emulator.management.names import BACKEND_ID
from toolkit.emulator.management.routes._base import ArmCall, PlaneDeps
from toolkit.emulator.management.routes._crud import ResourceSpec, crud_routes, refuse_if_referenced
from toolkit.emulator.management.store import Resource, ResourceKey, ResourceKind
from toolkit.emulator.management.validate_backend import validate_backend

_KIND = ResourceKind.BACKEND


def _refuse_if_used(call: ArmCall, resource: Resource) -> None:
    refuse_if_referenced(call, _KIND, resource.key.name, f"Backend '{resource.key.name}'")


SPEC = ResourceSpec(
    kind=_KIND,
    arm_type="backends",
    label="Backend",
    key_of=lambda params: ResourceKey(_KIND, params["name"]),
    path_of=lambda key: f"/backends/{key.name}",
    validate=lambda call, key, current: validate_backend(key.name, call.body, call.deps.store),
    list_of=lambda call: call.deps.store.list(_KIND),
    before_delete=_refuse_if_used,
    name_rule=BACKEND_ID,
    patchable=True,
)


def routes(deps: PlaneDeps) -> list[Route]:
    """Backend routes."""
    return crud_routes(SPEC, deps, "/backends", "/backends/{name}")
