"""APIs: ``…/apis`` and ``…/apis/{name}`` (long-running PUT; DELETE answers 202 and removes the API's
operations and policies).

A PUT that carries a specification (``format`` + ``value``) imports it as APIM does: the API's
operations become exactly the specification's (operations it no longer lists are deleted with their
policies; operations it keeps keep their policies).
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from toolkit.artifacts.arm_ids import version_set_id
from toolkit.emulator.management.arm import ArmError, not_found
from toolkit.emulator.management.fields import properties_of
from toolkit.emulator.management.names import API_ID, OPERATION_ID
from toolkit.emulator.management.openapi_import import ImportedApi, import_specification
from toolkit.emulator.management.routes._base import ArmCall, PlaneDeps
from toolkit.emulator.management.routes._crud import ResourceSpec, crud_routes
from toolkit.emulator.management.store import Resource, ResourceKey, ResourceKind
from toolkit.emulator.management.validate_api import (
    current_revision,
    revision_id,
    translate_query_of,
    validate_api,
    version_set_of,
)
from toolkit.emulator.management.validate_operation import check_template_parameters, operation_key

_KIND = ResourceKind.API


def require_api(call: ArmCall, name: str) -> None:
    """404 unless API ``name`` exists (operations and policies hang off an API)."""
    if call.deps.store.get(ResourceKey(_KIND, name)) is None:
        raise not_found(f"API '{name}'")


def imported_specification(body: Any) -> ImportedApi | None:
    """The operations (and API defaults) of the specification in an API PUT body, or None when it has none."""
    props = properties_of(body)
    if props.get("value") is None and props.get("format") is None:
        return None
    imported = import_specification(props.get("format"), props.get("value"), translate_query=translate_query_of(body))
    for name, operation in imported.operations.items():
        OPERATION_ID.check(name)
        check_template_parameters(operation["urlTemplate"], operation["templateParameters"],
                                  f"properties.value: operation '{name}'")
    return imported


def _validate(call: ArmCall, key: ResourceKey, current: Resource | None) -> dict[str, Any]:
    return validate_api(key.name, call.body, call.deps.store, current, imported_specification(call.body))


def _replace_operations(call: ArmCall, resource: Resource) -> None:
    imported = imported_specification(call.body)
    if imported is None:
        return
    store = call.deps.store
    api = resource.key.name
    for old in store.list(ResourceKind.OPERATION, parent=api):
        if old.key.name not in imported.operations:
            store.delete(old.key)
            store.delete(ResourceKey(ResourceKind.OPERATION_POLICY, old.key.name, api))
    for name, operation in imported.operations.items():
        store.put(operation_key(api, name), operation)


def _present(call: ArmCall, resource: Resource) -> dict[str, Any]:
    """As APIM answers: ``apiVersionSetId`` is the full ARM id of the set in this service."""
    props = dict(resource.properties)
    version_set = version_set_of(props)
    if version_set is not None:
        props["apiVersionSetId"] = version_set_id(call.service_id, version_set)
    return props


def _cascade(call: ArmCall, resource: Resource) -> None:
    store = call.deps.store
    # Deleting an API deletes its other revisions too (their ids are '<name>;rev=N').
    revisions = [r.key.name for r in store.list(_KIND) if (revision_id(r.key.name) or ("",))[0] == resource.key.name]
    for name in (resource.key.name, *revisions):
        store.delete(ResourceKey(ResourceKind.API_POLICY, name))
        for kind in (ResourceKind.OPERATION, ResourceKind.OPERATION_POLICY):
            for child in store.list(kind, parent=name):
                store.delete(child.key)
        if name != resource.key.name:
            store.delete(ResourceKey(_KIND, name))


def _refuse_current_revision(call: ArmCall, key: ResourceKey) -> None:
    """APIM refuses to delete the current revision by its revision id (``echo;rev=1`` while 1 is current):
    400 "Cannot delete the current revision of an API." (Azure/apiops#184, Azure/apiops-cli#260). Deleting
    the API by its own id deletes it with every revision."""
    revision = revision_id(key.name)
    if revision is None:
        return
    api = call.deps.store.get(ResourceKey(_KIND, revision[0]))
    if api is not None and current_revision(api) == revision[1]:
        raise ArmError(400, "ValidationError", "Cannot delete the current revision of an API.")


SPEC = ResourceSpec(
    kind=_KIND,
    arm_type="apis",
    label="API",
    key_of=lambda params: ResourceKey(_KIND, params["name"]),
    path_of=lambda key: f"/apis/{key.name}",
    validate=_validate,
    list_of=lambda call: call.deps.store.list(_KIND),
    present=_present,
    after_put=_replace_operations,
    after_delete=_cascade,
    refuse_delete=_refuse_current_revision,
    name_rule=API_ID,
    patchable=True,
    long_running=True,
    # azure-mgmt-apimanagement 5.0.0's begin_delete accepts only 202/204; the delete is already done.
    deleted_status=202,
)


def routes(deps: PlaneDeps) -> list[Route]:
    """API routes."""
    return crud_routes(SPEC, deps, "/apis", "/apis/{name}")
