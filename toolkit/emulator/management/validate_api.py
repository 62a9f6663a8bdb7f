"""API validation and the defaults APIM fills in (subscription key names, protocols, revision).

A specification sent with the PUT (``format``/``value``) is imported by :mod:`openapi_import`
(the caller passes the result); its title, description and server URL fill what the PUT leaves out.
Revisions: ``apiRevision`` and ``isCurrent`` are stored and returned; the emulator serves one
revision per API, so a revision id (``name;rev=2``) or ``isCurrent: false`` is refused as its limit.
"""

from __future__ import annotations

import re
from typing import Any

from toolkit.emulator.management.arm import ArmError, validation_error
from toolkit.emulator.management.fields import (
    absolute_url,
    optional_bool,
    optional_list,
    optional_object,
    optional_str,
    properties_of,
)
from toolkit.emulator.management.openapi_import import ImportedApi
from toolkit.emulator.management.store import Resource, ResourceKind, ResourceStore

DEFAULT_KEY_NAMES = {"header": "Ocp-Apim-Subscription-Key", "query": "subscription-key"}
_PROTOCOLS = ("http", "https", "ws", "wss")
# Import instructions of an API PUT: used for the import, never stored or returned (as on APIM).
_IMPORT_FIELDS = ("format", "value", "wsdlSelector", "translateRequiredQueryParameters")
_REVISION = re.compile(r"[1-9][0-9]{0,99}")


def translate_query_of(body: Any) -> str:
    """``translateRequiredQueryParameters`` of an API PUT (``template``, APIM's default, or ``query``)."""
    props = properties_of(body)
    value = optional_str(props, "translateRequiredQueryParameters", "properties.translateRequiredQueryParameters")
    if value not in (None, "template", "query"):
        raise validation_error("properties.translateRequiredQueryParameters", f"must be template or query, got {value!r}")
    return value or "template"


def validate_api(
    name: str, body: Any, store: ResourceStore, existing: Resource | None, imported: ImportedApi | None = None
) -> dict[str, Any]:
    """The properties to store for API ``name``, or a 400 ValidationError."""
    if ";rev=" in name:
        raise ArmError(400, "ValidationError", f"the local emulator does not support API revisions other than "
                                               f"the current one (APIM does): {name!r}")
    props = dict(properties_of(body))  # a copy: the import fields stay in the body for the import itself
    for field in _IMPORT_FIELDS:
        props.pop(field, None)
    if imported is not None:
        for field, value in (("displayName", imported.title), ("description", imported.description),
                             ("serviceUrl", imported.service_url)):
            if props.get(field) is None and value is not None:
                props[field] = value
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
    _check_revision(props, before)
    return props


def _check_revision(props: dict[str, Any], before: dict[str, Any]) -> None:
    revision = optional_str(props, "apiRevision", "properties.apiRevision", max_length=100)
    if revision is not None and not _REVISION.fullmatch(revision):
        raise validation_error("properties.apiRevision", f"must be a revision number such as '1', got {revision!r}")
    if optional_bool(props, "isCurrent", "properties.isCurrent") is False:
        raise ArmError(400, "ValidationError", "properties.isCurrent: the local emulator does not support API "
                                               "revisions other than the current one (APIM does)",
                       target="properties.isCurrent")
    props["apiRevision"] = revision or str(before.get("apiRevision") or "1")
    props["isCurrent"] = True


def _check_path_unique(name: str, path: str, store: ResourceStore) -> None:
    wanted = path.strip("/").lower()
    for api in store.list(ResourceKind.API):
        if api.key.name != name and str(api.properties.get("path", "")).strip("/").lower() == wanted:
            raise validation_error("properties.path", f"path '{path}' is already used by API '{api.key.name}'")
