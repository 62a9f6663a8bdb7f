"""APIM011: a field of an information file has the wrong JSON type."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from toolkit.artifacts.layout import Kind
from toolkit.json_kinds import json_kind, kind_of_type
from toolkit.lint.core import Finding, JsonDocument, LintContext, Rule, Severity
from toolkit.lint.rules._documents import json_object

# The fields toolkit and APIM read, by kind, with their type in APIM's ARM schema (2024-05-01).
# A key path under ``properties``; "*" stands for every item of a list. Pool members (APIM001-APIM004)
# and circuit-breaker rules (APIM006-APIM009) are checked by their own rules.
_STRINGS = ("displayName", "description")
FIELDS: dict[Kind, dict[tuple[str, ...], type]] = {
    Kind.API: {
        **{(key,): str for key in (*_STRINGS, "path", "apiRevision", "apiRevisionDescription", "apiVersion",
                                   "apiVersionDescription", "apiVersionSetId", "serviceUrl", "type")},
        ("subscriptionRequired",): bool,
        ("isCurrent",): bool,
        ("protocols",): list,
        ("protocols", "*"): str,
        ("subscriptionKeyParameterNames",): dict,
        ("subscriptionKeyParameterNames", "header"): str,
        ("subscriptionKeyParameterNames", "query"): str,
    },
    Kind.BACKEND: {
        **{(key,): str for key in ("description", "title", "url", "protocol", "type", "resourceId")},
        ("circuitBreaker",): dict,
        ("circuitBreaker", "rules"): list,
        ("credentials",): dict,
        ("tls",): dict,
        ("tls", "validateCertificateChain"): bool,
        ("tls", "validateCertificateName"): bool,
    },
    Kind.NAMED_VALUE: {
        **{(key,): str for key in (*_STRINGS, "value")},
        ("secret",): bool,
        ("tags",): list,
        ("tags", "*"): str,
        ("keyVault",): dict,
        ("keyVault", "secretIdentifier"): str,
        ("keyVault", "identityClientId"): str,
    },
    Kind.FRAGMENT: {("description",): str},
    Kind.VERSION_SET: {
        (key,): str for key in (*_STRINGS, "versioningScheme", "versionQueryName", "versionHeaderName")
    },
}


def _values(data: Any, keys: tuple[str, ...], path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    """(concrete path, value) of every present, non-null value at ``keys`` (items of wrong-typed parents skipped)."""
    if not keys:
        if data is not None:
            yield path, data
    elif keys[0] == "*" and isinstance(data, list):
        for index, item in enumerate(data):
            yield from _values(item, keys[1:], (*path, index))
    elif keys[0] != "*" and isinstance(data, dict) and keys[0] in data:
        yield from _values(data[keys[0]], keys[1:], (*path, keys[0]))


def _label(path: tuple[str | int, ...]) -> str:
    """``properties.pool.services[0].id`` for ``("pool", "services", 0, "id")``."""
    text = "properties"
    for key in path:
        text += f"[{key}]" if isinstance(key, int) else f".{key}"
    return text


class FieldType(Rule):
    """A field of an API, backend, named value, policy fragment or version set has the wrong JSON type.

    APIM refuses the PUT with HTTP 400 (``properties.path`` must be a string, ``subscriptionRequired``
    a boolean, ``protocols`` and ``tags`` lists of strings, ...), so ``apply`` fails halfway and rolls
    back; lint refuses the tree before anything is written. A scalar APIM's parser converts (a number
    into text, "true" into true) is accepted by APIM but stored converted, so every plan shows that
    field changing (and the emulator refuses it): an error as well, saying so. Checked: the fields toolkit and APIM read
    (see ``FIELDS``), each against its type in APIM's ARM schema; ``null`` counts as absent. Pool
    members (APIM001-APIM004) and circuit-breaker rules (APIM006-APIM009) have their own rules; an
    information file whose ``properties`` is not an object is APIM000.

    Anti-pattern:
        apis/chat/apiInformation.json:
        {"properties": {"displayName": "Chat", "path": 5, "apiRevision": [1], "subscriptionRequired": "yes"}}

    Best practice:
        {"properties": {"displayName": "Chat", "path": "chat", "apiRevision": "1", "subscriptionRequired": true}}
    """

    code = "APIM011"
    name = "field-type"
    severity = Severity.ERROR
    summary = "A field of an information file has a JSON type APIM refuses."

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        """Each present field of the wrong type, at its line."""
        for source in ctx.documents:
            fields = FIELDS.get(source.kind)
            data = json_object(source.text) if fields else None
            properties = data.get("properties") if data else None
            if not isinstance(properties, dict):  # malformed: APIM000
                continue
            document = JsonDocument(source.path, source.file, source.text, data)
            for keys, expected in fields.items():
                for path, value in _values(properties, keys):
                    if not isinstance(value, expected):
                        converted = _CONVERTED if _converted_by_apim(value, expected) else ""
                        yield self.finding(source.file, document.prop_line(*path),
                                           f"{_label(path)}: expected {kind_of_type(expected)}, got {json_kind(value)}"
                                           f"{converted}")


# APIM's management API parses bodies with Json.NET, which converts a scalar to the type a field has: 5 into the
# text "5", "true" into true (its errors read "Error converting value ... Path 'type'"). APIM then accepts such a
# value, but it stores the converted one, so every plan shows the field changing; the emulator refuses it.
_CONVERTED = " (APIM converts it and stores the converted value, so every plan shows a change; write the right type)"


def _converted_by_apim(value: Any, expected: type) -> bool:
    """Whether Json.NET converts ``value`` into ``expected`` (a number or true/false into text; a number, "true" or
    "false" into a boolean) instead of refusing it."""
    if expected is str:
        return isinstance(value, (bool, int, float))
    if expected is bool:
        return isinstance(value, (int, float)) or (isinstance(value, str) and value.lower() in ("true", "false"))
    return False
