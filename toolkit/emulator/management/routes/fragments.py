"""Policy fragments: ``…/policyFragments`` and ``…/policyFragments/{name}`` (long-running PUT)."""

from __future__ import annotations

from starlette.routing import Route

from toolkit.emulator.management.hooks import PolicyScope
from toolkit.emulator.management.names import FRAGMENT_ID
from toolkit.emulator.management.routes._base import ArmCall, PlaneDeps
from toolkit.emulator.management.routes._crud import ResourceSpec, crud_routes, refuse_if_referenced
from toolkit.emulator.management.routes.policies import present_policy
from toolkit.emulator.management.store import Resource, ResourceKey, ResourceKind
from toolkit.emulator.management.validate_policy import validate_policy

_KIND = ResourceKind.FRAGMENT


def _refuse_if_used(call: ArmCall, resource: Resource) -> None:
    refuse_if_referenced(call, _KIND, resource.key.name, f"Policy fragment '{resource.key.name}'")


SPEC = ResourceSpec(
    kind=_KIND,
    arm_type="policyFragments",
    label="Policy fragment",
    key_of=lambda params: ResourceKey(_KIND, params["name"]),
    path_of=lambda key: f"/policyFragments/{key.name}",
    validate=lambda call, key, current: validate_policy(
        call.body, scope=PolicyScope.FRAGMENT, store=call.deps.store, validator=call.deps.policy_validator,
        fragment_name=key.name),
    list_of=lambda call: call.deps.store.list(_KIND),
    present=present_policy,
    before_delete=_refuse_if_used,
    long_running=True,
    name_rule=FRAGMENT_ID,
)


def routes(deps: PlaneDeps) -> list[Route]:
    """Policy fragment routes."""
    return crud_routes(SPEC, deps, "/policyFragments", "/policyFragments/{name}")
