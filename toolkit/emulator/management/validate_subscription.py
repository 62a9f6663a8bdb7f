"""APIM subscription (key) validation: scope, state, and keys generated when not given."""

from __future__ import annotations

import re
import secrets
from typing import Any

from toolkit.emulator.management.arm import validation_error
from toolkit.emulator.management.fields import optional_bool, optional_str, properties_of, required_str
from toolkit.emulator.management.store import Resource, ResourceKey, ResourceKind, ResourceStore
from toolkit.emulator.policy.apim_reference import emulator_limit

STATES = ("suspended", "active", "expired", "submitted", "rejected", "cancelled")
# As on Azure: a subscription created without a state is "submitted", and its keys do not work yet.
DEFAULT_STATE = "submitted"
_SCOPE = re.compile(
    r"^(?:/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.ApiManagement/service/[^/]+)?"
    r"/(apis|products)(?:/([^/]+))?/?$",
    re.IGNORECASE,
)
# APIM's answer to a scope of none of its forms (hashicorp/terraform-provider-azurerm#12829).
_SCOPE_FORMS = "Subscription scope should be one of '/apis', '/apis/{apiId}', '/products/{productId}'"


def scope_api(scope: str) -> str | None:
    """The API a subscription scope names; "" for all APIs (``/apis``); None for anything else."""
    match = _SCOPE.match(scope.strip())
    if match is None or match.group(1).lower() != "apis":
        return None
    return match.group(2) or ""


def _check_scope(scope: str) -> str:
    """The API ``scope`` names ("" for all APIs); 400 for a scope APIM refuses, or a product (the emulator's limit)."""
    api = scope_api(scope)
    if api is not None:
        return api
    match = _SCOPE.match(scope.strip())
    if match is not None and match.group(2):  # /products/{productId}
        raise validation_error("properties.scope", emulator_limit(f"the product scope {scope!r}") +
                               ": use '/apis' for all APIs or '/apis/<api>'")
    raise validation_error("properties.scope", _SCOPE_FORMS)


def validate_subscription(name: str, body: Any, store: ResourceStore, existing: Resource | None) -> dict[str, Any]:
    """The properties to store for subscription ``name`` (keys included), or a 400 ValidationError."""
    props = properties_of(body)
    required_str(props, "displayName", "properties.displayName", max_length=100)
    api = _check_scope(required_str(props, "scope", "properties.scope"))
    if api and store.get(ResourceKey(ResourceKind.API, api)) is None:
        raise validation_error("properties.scope", f"API '{api}' does not exist")
    before = existing.properties if existing is not None else {}
    state = optional_str(props, "state", "properties.state") or before.get("state") or DEFAULT_STATE
    if state not in STATES:
        raise validation_error("properties.state", f"must be one of {', '.join(STATES)}, got {state!r}")
    props["state"] = state
    for slot in ("primaryKey", "secondaryKey"):
        key = optional_str(props, slot, f"properties.{slot}", max_length=256)
        if key is not None and not key.strip():
            raise validation_error(f"properties.{slot}", "must not be blank")
        props[slot] = key or before.get(slot) or secrets.token_hex(16)
    optional_str(props, "ownerId", "properties.ownerId")
    optional_bool(props, "allowTracing", "properties.allowTracing")
    return props
