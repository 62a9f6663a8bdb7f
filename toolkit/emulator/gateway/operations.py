"""Which operation of an API a request calls: method + URL template, as APIM matches them.

The gateway serves only the operations the API defines. A request whose path and method match no
operation is APIM's configuration error ``OperationNotFound`` (a wrong method included: APIM answers
404, not 405 — see the techcommunity article "Azure API Management limitation workaround: return 404
instead of 405"); its default response is ``404 {"statusCode": 404, "message": "Resource not found"}``
and ``<on-error>`` sees ``context.LastError`` (Source ``configuration``, Reason ``OperationNotFound``).
A CORS preflight that no OPTIONS operation matches is matched by its Access-Control-Request-Method instead,
for the cors policies to answer (`GatewayRuntime._preflight`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from toolkit.emulator.policy.errors import PolicyError, json_error_body
from toolkit.emulator.url_template import RequestTarget, TemplateError, UrlTemplate, parse_template

NOT_FOUND_BODY = json_error_body(404, "Resource not found")
NOT_FOUND_MESSAGE = "Unable to match incoming request to an operation."
# The table is immutable (rebuilt when an operation changes), so a request line's match is remembered: an AI
# gateway sees the same few URLs over and over. Bounded: cleared when full.
FOUND_CACHE_SIZE = 1024
_UNKNOWN: Any = object()


@dataclass(frozen=True)
class Operation:
    """One published operation: its name (``context.Operation.Id``), method and parsed template."""

    name: str
    method: str
    template: UrlTemplate


@dataclass(frozen=True)
class MatchedOperation:
    """The operation a request calls and its template parameters' values (``context.Request.MatchedParameters``)."""

    operation: Operation
    parameters: dict[str, str]

    @property
    def name(self) -> str:
        return self.operation.name


class OperationTable:
    """The operations of one API, tried most specific template first."""

    def __init__(self, operations: Mapping[str, Mapping[str, Any]]) -> None:
        parsed = []
        for name, properties in operations.items():
            try:
                template = parse_template(str(properties.get("urlTemplate", "")))
            except TemplateError:
                continue  # the management plane refuses these; a hand-edited state file may still hold one
            parsed.append(Operation(name, str(properties.get("method", "")).upper(), template))
        self._operations = sorted(parsed, key=lambda op: (op.template.specificity, op.name), reverse=True)
        self._found: dict[tuple[str, str, str], MatchedOperation | None] = {}

    def __len__(self) -> int:
        return len(self._operations)

    def find(self, method: str, suffix: str, query: str) -> MatchedOperation | None:
        """The operation ``method`` + ``suffix`` (path after the API path) + ``query`` calls, or None."""
        key = (method, suffix, query)
        found = self._found.get(key, _UNKNOWN)
        if found is _UNKNOWN:
            found = self._match(method.upper(), suffix, query)
            if len(self._found) >= FOUND_CACHE_SIZE:
                self._found.clear()  # many distinct URLs: start over rather than grow
            self._found[key] = found
        return found if found is None else MatchedOperation(found.operation, dict(found.parameters))

    def _match(self, method: str, suffix: str, query: str) -> MatchedOperation | None:
        target = RequestTarget(suffix, query)  # split and decoded once for every template
        for operation in self._operations:
            if operation.method != method:
                continue
            parameters = operation.template.match_target(target)
            if parameters is not None:
                return MatchedOperation(operation, parameters)
        return None


def operation_not_found() -> PolicyError:
    """APIM's configuration error for a request that matches no operation of the API."""
    return PolicyError(NOT_FOUND_MESSAGE, source="configuration", reason="OperationNotFound", status=404,
                       headers=(("content-type", "application/json"),), body=NOT_FOUND_BODY)
