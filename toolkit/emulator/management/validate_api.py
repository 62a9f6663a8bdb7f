"""API validation and the defaults APIM fills in (subscription key names, protocols, revision).

A specification sent with the PUT (``format``/``value``) is imported by :mod:`openapi_import`
(the caller passes the result); its title, description and server URL fill what the PUT leaves out.
Revisions: ``apiRevision`` and ``isCurrent`` are stored and returned. A revision id (``name;rev=2``)
creates a non-current revision of API ``name`` (which must exist), with its path; it is stored, listed
and pulled, but the gateway serves only the current revision, and making another revision current
(``isCurrent: true`` on a revision id, ``isCurrent: false`` on the API) is refused as the emulator's limit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from toolkit.artifacts.arm_ids import version_set_name
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
from toolkit.emulator.management.store import Resource, ResourceKey, ResourceKind, ResourceStore

DEFAULT_KEY_NAMES = {"header": "Ocp-Apim-Subscription-Key", "query": "subscription-key"}
_PROTOCOLS = ("http", "https", "ws", "wss")
# Import instructions of an API PUT: used for the import, never stored or returned (as on APIM).
_IMPORT_FIELDS = ("format", "value", "wsdlSelector", "translateRequiredQueryParameters")
_REVISION = re.compile(r"[1-9][0-9]{0,99}")
_RELEASE_LIMIT = "properties.isCurrent: the local emulator does not support making another revision current (APIM does)"
_REVISION_ID = re.compile(r"([^;]+);rev=([1-9][0-9]{0,99})")


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
    revision = revision_id(name)
    props = dict(properties_of(body))  # a copy: the import fields stay in the body for the import itself
    version_set = _check_version_set(props, store)
    if revision is not None:
        _inherit_from_current(name, revision, props, store)
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
    _check_path_unique(name, props["path"], version_set, store)
    protocols = optional_list(props, "protocols", "properties.protocols")
    if protocols is not None and (not protocols or any(p not in _PROTOCOLS for p in protocols)):
        raise validation_error("properties.protocols", f"must be a non-empty list of {', '.join(_PROTOCOLS)}")
    absolute_url(props, "serviceUrl", "properties.serviceUrl", required=False, max_length=2000,
                 schemes=("http", "ws") if _is_websocket(props) else ("http",))
    for field in ("apiRevisionDescription", "apiVersionDescription"):
        optional_str(props, field, f"properties.{field}", max_length=256)
    optional_bool(props, "subscriptionRequired", "properties.subscriptionRequired")
    key_names = optional_object(props, "subscriptionKeyParameterNames", "properties.subscriptionKeyParameterNames")
    for part in ("header", "query"):
        optional_str(key_names or {}, part, f"properties.subscriptionKeyParameterNames.{part}")
    props.setdefault("protocols", ["https"])
    props.setdefault("subscriptionRequired", True)
    props["subscriptionKeyParameterNames"] = {**DEFAULT_KEY_NAMES, **{k: v for k, v in (key_names or {}).items() if v}}
    if revision is None:
        _check_revision(props, before)
    else:
        _check_non_current_revision(revision[1], props)
    return props


def _is_websocket(props: dict[str, Any]) -> bool:
    """Whether the API is a WebSocket API (``type``, or ``apiType`` on create): its backend is ws(s)://."""
    kinds = (optional_str(props, field, f"properties.{field}") for field in ("type", "apiType"))
    return any(kind is not None and kind.lower() == "websocket" for kind in kinds)


def _check_revision(props: dict[str, Any], before: dict[str, Any]) -> None:
    revision = optional_str(props, "apiRevision", "properties.apiRevision", max_length=100)
    if revision is not None and not _REVISION.fullmatch(revision):
        raise validation_error("properties.apiRevision", f"must be a revision number such as '1', got {revision!r}")
    if optional_bool(props, "isCurrent", "properties.isCurrent") is False:
        raise ArmError(400, "ValidationError", _RELEASE_LIMIT, target="properties.isCurrent")
    props["apiRevision"] = revision or str(before.get("apiRevision") or "1")
    props["isCurrent"] = True


def revision_id(name: str) -> tuple[str, str] | None:
    """``(api, revision)`` of a revision id such as ``echo;rev=2``; None for an API's own name."""
    match = _REVISION_ID.fullmatch(name)
    return (match.group(1), match.group(2)) if match else None


def current_revision(api: Resource) -> str:
    """The number of the revision stored API ``api`` serves (its own id addresses it)."""
    return str(api.properties.get("apiRevision", "1"))


def _inherit_from_current(name: str, revision: tuple[str, str], props: dict[str, Any], store: ResourceStore) -> None:
    """A revision belongs to an existing API and has its path."""
    current = store.get(ResourceKey(ResourceKind.API, revision[0]))
    if current is None:
        raise ArmError(400, "ValidationError", f"API '{revision[0]}' does not exist: create it before its revision "
                                               f"{name!r}")
    if current_revision(current) == revision[1]:
        raise validation_error("properties.apiRevision", f"revision {revision[1]} is the current revision of API "
                                                         f"'{revision[0]}'; address it as '{revision[0]}'")
    props.setdefault("displayName", current.properties.get("displayName"))
    path = current.properties.get("path")
    if props.get("path") is None:
        props["path"] = path
    elif str(props["path"]).strip("/").lower() != str(path).strip("/").lower():
        raise validation_error("properties.path", f"a revision has the path of its API '{revision[0]}' ('{path}')")


def _check_non_current_revision(number: str, props: dict[str, Any]) -> None:
    if props.get("apiRevision") not in (None, number):
        raise validation_error("properties.apiRevision", f"must be {number!r}, the revision in the id, "
                                                         f"got {props['apiRevision']!r}")
    if optional_bool(props, "isCurrent", "properties.isCurrent") is True:
        raise ArmError(400, "ValidationError", _RELEASE_LIMIT, target="properties.isCurrent")
    props["apiRevision"], props["isCurrent"] = number, False


def _same_api(name: str, other: str) -> bool:
    """Whether two API ids are revisions of one API (they share its path)."""
    return (revision_id(name) or (name,))[0] == (revision_id(other) or (other,))[0]


def _check_path_unique(name: str, path: str, version_set: str | None, store: ResourceStore) -> None:
    """APIM: "Cannot create API 'a' with the same Path 'p' as API 'b' unless it's a part of the same version set"
    (Azure/apiops#712). APIs of one version set share their path and are told apart by their version."""
    wanted = path.strip("/").lower()
    for api in store.list(ResourceKind.API):
        if _same_api(name, api.key.name) or str(api.properties.get("path", "")).strip("/").lower() != wanted:
            continue
        if version_set is not None and version_set_of(api.properties) == version_set:
            continue
        raise validation_error("properties.path", f"Cannot create API '{name}' with the same Path '{path}' as API "
                                                  f"'{api.key.name}' unless it's a part of the same version set")


def version_set_of(properties: Mapping[str, Any]) -> str | None:
    """The name of the version set a stored API belongs to, or None."""
    value = properties.get("apiVersionSetId")
    return version_set_name(value) if isinstance(value, str) else None


def apis_in_version_set(store: ResourceStore, version_set: str) -> list[str]:
    """Names of the APIs (revisions included) that belong to ``version_set``."""
    return [api.key.name for api in store.list(ResourceKind.API) if version_set_of(api.properties) == version_set]


def _check_version_set(props: dict[str, Any], store: ResourceStore) -> str | None:
    """The version set an API PUT names (it must exist), or None; an ``apiVersion`` needs one.

    As APIM answers: an unknown set is 404 ResourceNotFound "ApiVersionSet not found." (Azure/apiops#41,
    #584); a version without a set is 400 "Can't set VersionName when ApiVersionSetId is not set."
    (target ``ApiVersion``, pulumi/pulumi-azure-native#1661).
    """
    set_id = optional_str(props, "apiVersionSetId", "properties.apiVersionSetId")
    version = optional_str(props, "apiVersion", "properties.apiVersion", max_length=100)
    if not set_id:
        if version:
            raise ArmError(400, "ValidationError", "Can't set VersionName when ApiVersionSetId is not set.",
                           target="ApiVersion")
        return None
    name = version_set_name(set_id)
    if name is None:
        raise validation_error("properties.apiVersionSetId", f"{set_id!r} is not a version set id "
                                                             "(…/apiVersionSets/<name>)")
    if store.get(ResourceKey(ResourceKind.VERSION_SET, name)) is None:
        raise ArmError(404, "ResourceNotFound", "ApiVersionSet not found.")
    return name
