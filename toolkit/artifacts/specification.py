"""OpenAPI descriptions of APIs (``apis/<api>/specification.json|yaml``): parse, list operations, write back.

APIM imports an OpenAPI document into operations: one per (path, method), named by its
``operationId`` (the name its operation policies live under). Publish sends the document with the
API (``format``/``value``, as the APIOps publisher does) and compares the operations it declares
with the operations read back; pull writes the operations it reads as a minimal document.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import yaml

from toolkit.artifacts.model import dump_json

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# ARM ``properties.format`` for each file: JSON -> openapi+json, YAML -> openapi (APIOps publisher's mapping).
IMPORT_FORMATS = {"specification.json": "openapi+json", "specification.yaml": "openapi"}
_NOT_IN_NAME = re.compile(r"[*#&+:<>?/]")
_NOT_A_WORD = re.compile(r"[^A-Za-z0-9]+")


class SpecificationError(ValueError):
    """Not an OpenAPI 3 document; ``line`` is 1-based when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True, order=True)
class Operation:
    """One API operation: its name (APIM's operation id), HTTP method and URL template."""

    name: str
    method: str
    url_template: str

    def to_json(self) -> dict[str, str]:
        """The ARM shape (``properties`` of an operation contract)."""
        return {"name": self.name, "method": self.method, "urlTemplate": self.url_template}


def parse_document(text: str) -> dict[str, Any]:
    """An OpenAPI 3 document (JSON or YAML text) as data; SpecificationError (with line) when it is not one."""
    try:
        document = yaml.safe_load(text) if text.strip() else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise SpecificationError(f"not valid JSON or YAML: {exc.problem}", mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise SpecificationError(f"not valid JSON or YAML: {exc}") from None
    if not isinstance(document, dict):
        raise SpecificationError("not an OpenAPI document (expected a mapping with openapi, info and paths)", 1)
    version = str(document.get("openapi", ""))
    if not version.startswith("3."):
        found = f"swagger {document['swagger']}" if "swagger" in document else (version or "no openapi field")
        line = _line_of(text, "swagger" if "swagger" in document else "openapi") or 1
        raise SpecificationError(f"not an OpenAPI 3 document ({found}); write `openapi: 3.0.x`", line)
    paths = document.get("paths")
    if not isinstance(paths, dict):
        raise SpecificationError("an OpenAPI document needs a `paths` mapping", _line_of(text, "paths"))
    for path, item in paths.items():
        if not isinstance(path, str) or not path.startswith("/") or not isinstance(item, dict):
            raise SpecificationError(f"path {path!r} must start with / and map methods to operations",
                                     _line_of(text, str(path)))
    return document


def operations_of(text: str) -> list[Operation]:
    """The operations an OpenAPI document declares, sorted by name."""
    document = parse_document(text)
    operations: dict[str, Operation] = {}
    for path, item in document["paths"].items():
        for method in HTTP_METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            name = operation_name(operation.get("operationId"), method, path)
            if name in operations:
                raise SpecificationError(f"operationId {name!r} is used twice", _line_of(text, name))
            operations[name] = Operation(name, method.upper(), path)
    return sorted(operations.values())


def operation_name(operation_id: Any, method: str, path: str) -> str:
    """APIM's name for an imported operation: its operationId (``*#&+:<>?/`` become ``-``), else
    ``<method>-<path words>`` (the local emulator's documented choice where APIM generates one)."""
    if isinstance(operation_id, str) and operation_id.strip():
        return _NOT_IN_NAME.sub("-", operation_id.strip())[:80]
    words = _NOT_A_WORD.sub("-", path).strip("-").lower()
    return f"{method.lower()}-{words}"[:80] if words else method.lower()


def path_of(url_template: str) -> str:
    """A URL template without its query part (APIM may add required query parameters to it)."""
    return url_template.split("?", 1)[0] or "/"


def document_from_operations(title: str, operations: list[Operation]) -> dict[str, Any]:
    """A minimal OpenAPI 3 document declaring ``operations`` (what pull writes for a live API)."""
    paths: dict[str, dict[str, Any]] = {}
    for operation in sorted(operations):
        paths.setdefault(path_of(operation.url_template), {})[operation.method.lower()] = {
            "operationId": operation.name, "responses": {"200": {"description": "OK"}}}
    return {"openapi": "3.0.1", "info": {"title": title, "version": "1"}, "paths": paths}


def wildcard_document(title: str) -> dict[str, Any]:
    """Catch-all operations: GET, POST, PUT and DELETE on ``/*`` (every path and method the backend serves)."""
    methods = ("get", "post", "put", "delete")
    return {
        "openapi": "3.0.1",
        "info": {"title": title, "version": "1"},
        "paths": {"/*": {m: {"operationId": f"wildcard-{m}", "responses": {"200": {"description": "OK"}}}
                         for m in methods}},
    }


def dump_document(document: dict[str, Any]) -> str:
    """The canonical JSON text of a document (specification.json)."""
    return dump_json(document)


def _line_of(text: str, key: str) -> int | None:
    """The first line mentioning ``key`` as a key (JSON or YAML), for messages."""
    pattern = re.compile(rf"""^\s*["']?{re.escape(key)}["']?\s*:""")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return number
    return None


def is_json(text: str) -> bool:
    """Whether a specification text is JSON (else YAML)."""
    try:
        json.loads(text)
    except ValueError:
        return False
    return True
