"""APIM subscriptions (keys): ``…/subscriptions[/{name}]``, ``listSecrets`` and ``regenerate{Primary,Secondary}Key``.

Keys never appear in GET/PUT/list answers (as on Azure); ``listSecrets`` returns them.
"""

from __future__ import annotations

import secrets
from typing import Any

from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from toolkit.emulator.management.names import SUBSCRIPTION_ID
from toolkit.emulator.management.routes._base import ArmCall, PlaneDeps, arm_endpoint
from toolkit.emulator.management.routes._crud import ResourceSpec, crud_routes
from toolkit.emulator.management.store import Resource, ResourceKey, ResourceKind
from toolkit.emulator.management.validate_subscription import validate_subscription

_KIND = ResourceKind.SUBSCRIPTION
KEY_FIELDS = ("primaryKey", "secondaryKey")


def _present(call: ArmCall, resource: Resource) -> dict[str, Any]:
    return {k: v for k, v in resource.properties.items() if k not in KEY_FIELDS}


SPEC = ResourceSpec(
    kind=_KIND,
    arm_type="subscriptions",
    label="Subscription",
    key_of=lambda params: ResourceKey(_KIND, params["name"]),
    path_of=lambda key: f"/subscriptions/{key.name}",
    validate=lambda call, key, current: validate_subscription(key.name, call.body, call.deps.store, current),
    list_of=lambda call: call.deps.store.list(_KIND),
    present=_present,
    name_rule=SUBSCRIPTION_ID,
    patchable=True,
)


def _list_secrets(call: ArmCall) -> Response:
    resource = SPEC.load(call)
    keys = {k: resource.properties.get(k) for k in KEY_FIELDS}
    return JSONResponse(keys, headers={"ETag": resource.etag})


def _regenerate(slot: str) -> Any:
    def handler(call: ArmCall) -> Response:
        store = call.deps.store
        with store.transaction():
            resource = SPEC.load(call)
            store.put(resource.key, {**resource.properties, slot: secrets.token_hex(16)})
        return Response(status_code=204)

    return handler


def routes(deps: PlaneDeps) -> list[Route]:
    """Subscription routes."""
    kind = _KIND.value
    return [
        *crud_routes(SPEC, deps, "/subscriptions", "/subscriptions/{name}"),
        Route("/subscriptions/{name}/listSecrets", arm_endpoint(deps, kind, _list_secrets), methods=["POST"]),
        Route("/subscriptions/{name}/regeneratePrimaryKey",
              arm_endpoint(deps, kind, _regenerate("primaryKey"), mutating_post=True), methods=["POST"]),
        Route("/subscriptions/{name}/regenerateSecondaryKey",
              arm_endpoint(deps, kind, _regenerate("secondaryKey"), mutating_post=True), methods=["POST"]),
    ]
