"""An API's operations on both sides of a plan: the specification it sends and the operations it has.

Desired API bodies carry the specification (``format``/``value``, as the APIOps publisher sends
it); live API bodies carry ``operations`` read back from the target (``name``/``method``/``urlTemplate``).
Both compare as ``{"[name]": {"method", "urlTemplate"}}`` with the URL template's query part dropped
(APIM may turn required query parameters into template ones). A body that only knows operations
(a snapshot to restore, a pulled tree) is sent as a minimal specification declaring them.
"""

from __future__ import annotations

from typing import Any

from toolkit.artifacts.specification import (
    Operation,
    SpecificationError,
    document_from_operations,
    dump_document,
    operations_of,
    parse_document,
    path_of,
)
from toolkit.errors import ArtifactError

OPERATIONS_FIELD = "operations"
# Keep required query parameters (api-version) as query parameters: Azure OpenAI then answers a request
# without api-version itself, instead of APIM answering 404 because the URL template did not match.
TRANSLATE_QUERY = "query"


def live_operations(properties: dict[str, Any]) -> list[Operation] | None:
    """The operations a live body lists (None when it lists none: not read)."""
    listed = properties.get(OPERATIONS_FIELD)
    if not isinstance(listed, list):
        return None
    return sorted(Operation(str(o.get("name")), str(o.get("method", "")).upper(), str(o.get("urlTemplate", "")))
                  for o in listed if isinstance(o, dict))


def declared_operations(properties: dict[str, Any]) -> list[Operation] | None:
    """The operations the specification in a desired body declares (None without one)."""
    value = properties.get("value")
    if not isinstance(value, str):
        return None
    try:
        return operations_of(value)
    except SpecificationError as exc:
        raise ArtifactError(f"the specification of an API is not OpenAPI 3: {exc}") from None


def implied_fields(properties: dict[str, Any]) -> dict[str, Any]:
    """API fields the import fills from the specification when the body leaves them out (as APIM does):
    the description from ``info.description``, the service URL from the first absolute ``servers`` URL."""
    value = properties.get("value")
    if not isinstance(value, str):
        return {}
    try:
        document = parse_document(value)
    except SpecificationError:
        return {}
    implied: dict[str, Any] = {}
    info = document.get("info") if isinstance(document.get("info"), dict) else {}
    if isinstance(info.get("description"), str) and info["description"].strip():
        implied["description"] = info["description"]
    servers = document.get("servers")
    if isinstance(servers, list) and servers and isinstance(servers[0], dict):
        url = servers[0].get("url")
        if isinstance(url, str) and url.startswith(("http://", "https://")) and "{" not in url:
            implied["serviceUrl"] = url.rstrip("/")
    return {k: v for k, v in implied.items() if k not in properties}


def comparable_operations(properties: dict[str, Any]) -> dict[str, dict[str, str]] | None:
    """``{"[name]": {"method", "urlTemplate"}}`` from either side, or None when the body says nothing about operations."""
    operations = declared_operations(properties)
    if operations is None:
        operations = live_operations(properties)
    if operations is None:
        return None
    return {f"[{o.name}]": {"method": o.method, "urlTemplate": path_of(o.url_template)} for o in operations}


def import_body(body: dict[str, Any]) -> dict[str, Any]:
    """The API body to PUT: read-back operations become a specification to import; never ``operations`` or
    ``isCurrent`` (the PUT goes to the current revision; apiInformation.json states it for the APIOps extractor's sake)."""
    properties = dict(body.get("properties") or {})
    operations = live_operations(properties)
    properties.pop(OPERATIONS_FIELD, None)
    properties.pop("isCurrent", None)  # a read-back field; the APIOps publisher drops it too (APIM may refuse it)
    if operations is not None and "value" not in properties:
        title = str(properties.get("displayName") or "api")
        properties["format"] = "openapi+json"
        properties["value"] = dump_document(document_from_operations(title, operations))
    if "value" in properties:
        properties.setdefault("translateRequiredQueryParameters", TRANSLATE_QUERY)
    return {**body, "properties": properties}
