"""Importing an API specification sent with an API PUT (``properties.format`` + ``properties.value``).

As APIM does on OpenAPI import (learn.microsoft.com/azure/api-management/api-management-api-import-restrictions):

- every path × method becomes an operation; its name is the ``operationId`` (characters APIM does
  not allow in an id become ``-``), its display name the ``summary`` (else the operationId);
- path parameters become template parameters; *required* query parameters become template
  parameters too (``?api-version={api-version}``) unless the API sets
  ``translateRequiredQueryParameters: query``; optional ones stay request query parameters;
- ``info.title`` / ``info.description`` fill the API's display name / description when the PUT
  does not set them, and the first ``servers`` URL (OpenAPI 3) or ``host``+``basePath`` (Swagger 2)
  fills ``serviceUrl``.

Emulator decisions and limits: an operation without ``operationId`` is named
``<method>-<path words>``; ``*-link`` formats (APIM fetches the URL) and WSDL/WADL/GraphQL/OData/gRPC
are refused as the emulator's own limit. Only local ``$ref``s to parameters are followed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from toolkit.emulator.management.arm import ArmError, validation_error

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
JSON_FORMATS = ("openapi+json", "swagger-json")
TEXT_FORMATS = ("openapi",)  # YAML or JSON text
_NOT_IN_ID = re.compile(r"[*#&+:<>?/]")


@dataclass
class ImportedApi:
    """What a specification contributes: API fields to default, and the operations by name."""

    title: str | None = None
    description: str | None = None
    service_url: str | None = None
    operations: dict[str, dict[str, Any]] = field(default_factory=dict)


def import_specification(fmt: Any, value: Any, *, translate_query: str = "template") -> ImportedApi:
    """Parse the document ``value`` of format ``fmt``; 400 ValidationError (or the emulator's limit) otherwise."""
    if not isinstance(fmt, str) or not fmt:
        raise validation_error("properties.format", "is required with properties.value")
    if fmt.endswith("-link") or fmt.endswith("-link-json"):
        raise ArmError(400, "ValidationError", f"properties.format: the local emulator does not fetch specification "
                                               f"links ({fmt!r}; APIM does): send the document itself with format "
                                               f"'openapi' or 'openapi+json'", target="properties.format")
    if fmt not in JSON_FORMATS + TEXT_FORMATS:
        raise ArmError(400, "ValidationError", f"properties.format: the local emulator does not import {fmt!r} "
                                               f"specifications (APIM does); use 'openapi', 'openapi+json' or "
                                               f"'swagger-json'", target="properties.format")
    document = _parse(fmt, value)
    version = str(document.get("openapi") or document.get("swagger") or "")
    if fmt == "swagger-json" and not version.startswith("2."):
        raise validation_error("properties.value", "a swagger-json document needs \"swagger\": \"2.0\"")
    if fmt != "swagger-json" and not version.startswith("3."):
        raise validation_error("properties.value", f"is not an OpenAPI 3 document (openapi: {version or 'missing'}); "
                                                   "use format swagger-json for Swagger 2.0")
    info = document.get("info") if isinstance(document.get("info"), dict) else {}
    imported = ImportedApi(title=_text(info.get("title")), description=_text(info.get("description")),
                           service_url=_service_url(document))
    paths = document.get("paths")
    if not isinstance(paths, dict):
        raise validation_error("properties.value", "the document has no 'paths' object")
    for path, item in paths.items():
        if not isinstance(item, dict) or not isinstance(path, str) or not path.startswith("/"):
            raise validation_error("properties.value", f"paths[{path!r}] must be an object keyed by a path starting "
                                                       "with '/'")
        shared = item.get("parameters") or []
        for method in _METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            if not isinstance(operation, dict):
                raise validation_error("properties.value", f"paths[{path!r}].{method} must be an object")
            name, props = _operation(document, path, method, operation, shared, translate_query)
            if name in imported.operations:
                raise validation_error("properties.value", f"operation id {name!r} is used twice")
            imported.operations[name] = props
    return imported


def _parse(fmt: str, value: Any) -> dict[str, Any]:
    if isinstance(value, dict) and fmt in JSON_FORMATS:
        return value
    if not isinstance(value, str) or not value.strip():
        raise validation_error("properties.value", "must be the specification document as a string")
    import yaml

    try:
        document = json.loads(value) if fmt in JSON_FORMATS else yaml.safe_load(value)
    except (ValueError, yaml.YAMLError) as exc:  # json.JSONDecodeError is a ValueError
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise validation_error("properties.value", f"cannot parse the {fmt} document: {first_line}") from None
    if not isinstance(document, dict):
        raise validation_error("properties.value", "the specification must be an object")
    return document


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _service_url(document: dict[str, Any]) -> str | None:
    servers = document.get("servers")
    if isinstance(servers, list) and servers and isinstance(servers[0], dict):
        url = servers[0].get("url")
        if isinstance(url, str) and url.startswith(("http://", "https://")) and "{" not in url:
            return url.rstrip("/")
    host = document.get("host")
    if isinstance(host, str) and host:
        schemes = document.get("schemes") or ["https"]
        return f"{schemes[0]}://{host}{document.get('basePath') or ''}".rstrip("/")
    return None


def _resolve(document: dict[str, Any], node: Any) -> Any:
    """Follow a local ``$ref`` (``#/components/parameters/x``, ``#/parameters/x``)."""
    seen = 0
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and seen < 10:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise validation_error("properties.value", f"the local emulator follows only local $ref (got {ref!r})")
        target: Any = document
        for part in ref[2:].split("/"):
            target = target.get(part.replace("~1", "/").replace("~0", "~")) if isinstance(target, dict) else None
        if target is None:
            raise validation_error("properties.value", f"$ref {ref!r} does not resolve")
        node, seen = target, seen + 1
    return node


def _operation(
    document: dict[str, Any], path: str, method: str, operation: dict[str, Any], shared: Any, translate_query: str
) -> tuple[str, dict[str, Any]]:
    parameters: dict[tuple[str, str], dict[str, Any]] = {}
    for raw in list(shared if isinstance(shared, list) else []) + list(operation.get("parameters") or []):
        parameter = _resolve(document, raw)
        if isinstance(parameter, dict) and isinstance(parameter.get("name"), str):
            parameters[(parameter["name"], str(parameter.get("in")))] = parameter
    template_parameters = [_parameter(p) for (_, where), p in parameters.items() if where == "path"]
    query_template, query_parameters = [], []
    for (name, where), parameter in parameters.items():
        if where != "query":
            continue
        if parameter.get("required") and translate_query != "query":
            query_template.append(f"{name}={{{name}}}")
            template_parameters.append(_parameter(parameter))
        else:
            query_parameters.append(_parameter(parameter))
    url_template = path + ("?" + "&".join(query_template) if query_template else "")
    operation_id = operation.get("operationId")
    if isinstance(operation_id, str) and operation_id.strip():
        name = _NOT_IN_ID.sub("-", operation_id.strip())[:80]
    else:
        words = re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-").lower()
        name = f"{method}-{words}"[:80] if words else method
    props: dict[str, Any] = {
        "displayName": _text(operation.get("summary")) or _text(operation_id) or name,
        "method": method.upper(),
        "urlTemplate": url_template,
        "templateParameters": template_parameters,
        "request": {"queryParameters": query_parameters, "headers": [], "representations": []},
        "responses": [],
    }
    if _text(operation.get("description")):
        props["description"] = operation["description"][:1000]
    return name, props


def _parameter(parameter: dict[str, Any]) -> dict[str, Any]:
    schema = parameter.get("schema") if isinstance(parameter.get("schema"), dict) else {}
    out: dict[str, Any] = {
        "name": parameter["name"],
        "type": str(schema.get("type") or parameter.get("type") or "string"),
        "required": bool(parameter.get("required") or parameter.get("in") == "path"),
        "values": [str(v) for v in (schema.get("enum") or parameter.get("enum") or [])],
    }
    if _text(parameter.get("description")):
        out["description"] = parameter["description"]
    return out
