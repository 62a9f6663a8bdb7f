"""API validation and the defaults APIM fills in (subscription key names, protocols, revision)."""

from __future__ import annotations

from typing import Any

from toolkit.emulator.management.arm import validation_error
from toolkit.emulator.management.fields import (
    absolute_url,
    optional_bool,
    optional_list,
    optional_object,
    optional_str,
    properties_of,
)
from toolkit.emulator.management.store import Resource, ResourceKind, ResourceStore

DEFAULT_KEY_NAMES = {"header": "Ocp-Apim-Subscription-Key", "query": "subscription-key"}
_PROTOCOLS = ("http", "https", "ws", "wss")
# An API PUT may carry a specification to import; the emulator does not import operations from it.
_IMPORT_FIELDS = ("format", "value", "wsdlSelector", "translateRequiredQueryParameters")


def validate_api(name: str, body: Any, store: ResourceStore, existing: Resource | None) -> dict[str, Any]:
    """The properties to store for API ``name``, or a 400 ValidationError."""
    props = properties_of(body)
    for field in _IMPORT_FIELDS:
        props.pop(field, None)
    before = existing.properties if existing is not None else {}
    for field, limit in (("displayName", 300), ("path", 400)):
        value = optional_str(props, field, f"properties.{field}", max_length=limit)
        if value is None:
            if field not in before:
                raise validation_error(f"properties.{field}", "is required")
            props[field] = before[field]
    if not props["displayName"].strip():
        raise validation_error("properties.displayName", "must not be blank")
    _check_path_unique(name, props["path"], store)
    protocols = optional_list(props, "protocols", "properties.protocols")
    if protocols is not None and (not protocols or any(p not in _PROTOCOLS for p in protocols)):
        raise validation_error("properties.protocols", f"must be a non-empty list of {', '.join(_PROTOCOLS)}")
    absolute_url(props, "serviceUrl", "properties.serviceUrl", required=False)
    optional_bool(props, "subscriptionRequired", "properties.subscriptionRequired")
    key_names = optional_object(props, "subscriptionKeyParameterNames", "properties.subscriptionKeyParameterNames")
    for part in ("header", "query"):
        optional_str(key_names or {}, part, f"properties.subscriptionKeyParameterNames.{part}")
    props.setdefault("protocols", ["https"])
    props.setdefault("subscriptionRequired", True)
    props["subscriptionKeyParameterNames"] = {**DEFAULT_KEY_NAMES, **{k: v for k, v in (key_names or {}).items() if v}}
    props.setdefault("apiRevision", "1")
    props.setdefault("isCurrent", True)
    return props


def _check_path_unique(name: str, path: str, store: ResourceStore) -> None:
    wanted = path.strip("/").lower()
    for api in store.list(ResourceKind.API):
        if api.key.name != name and str(api.properties.get("path", "")).strip("/").lower() == wanted:
            raise validation_error("properties.path", f"path '{path}' is already used by API '{api.key.name}'")
