"""Normalise resource bodies so that only differences a person made are left to compare.

APIM adds server-only fields (``provisioningState``, an API's ``apiRevision``/``isCurrent``), fills
in defaults (``type: Single``, the default subscription-key names), and may reformat what it stores
(durations, policy XML whitespace, pool member ids). :func:`normalize` maps a body to a canonical,
comparable form: server fields and defaults dropped, empty values dropped, policy XML in canonical
form (C14N, insignificant whitespace removed), durations in one ISO 8601 spelling, pool members and
breaker rules keyed by name (``/backends/x`` and the full ARM id compare equal), an API's version set by
name (any service's ARM id of ``apiVersionSets/x`` compares equal). The result is for
comparing and showing, never for sending.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from toolkit.artifacts.arm_ids import pool_member_name, version_set_name
from toolkit.artifacts.layout import Kind

# Fields the service sets itself: never part of what a person declares.
SERVER_FIELDS: dict[Kind, frozenset[str]] = {
    Kind.API: frozenset({"isCurrent", "isOnline", "provisioningState", "apiRevisionDescription"}),
    Kind.NAMED_VALUE: frozenset({"provisioningState"}),
    Kind.FRAGMENT: frozenset({"provisioningState", "format"}),
    Kind.BACKEND: frozenset({"provisioningState"}),
    Kind.GLOBAL_POLICY: frozenset({"format"}),
    Kind.API_POLICY: frozenset({"format"}),
    Kind.OPERATION_POLICY: frozenset({"format"}),
}

# Values APIM assumes when a field is absent: equal to absent.
DEFAULTS: dict[Kind, dict[str, Any]] = {
    Kind.BACKEND: {"type": "Single", "tls": {"validateCertificateChain": True, "validateCertificateName": True}},
    Kind.API: {
        "apiRevision": "1",
        "type": "http",
        "apiType": "http",
        "protocols": ["https"],
        "subscriptionRequired": True,
        "subscriptionKeyParameterNames": {"header": "Ocp-Apim-Subscription-Key", "query": "subscription-key"},
    },
    Kind.NAMED_VALUE: {"secret": False},
}
RULE_DEFAULTS = {"acceptRetryAfter": False}

def strip_server_fields(kind: Kind, body: Mapping[str, Any]) -> dict[str, Any]:
    """``{"properties": ...}`` without server-only fields: a body that can be sent back (snapshots, pull)."""
    properties = {k: v for k, v in dict(body.get("properties") or {}).items() if k not in SERVER_FIELDS.get(kind, ())}
    return {"properties": properties}


def normalize(kind: Kind, body: Mapping[str, Any] | None) -> dict[str, Any]:
    """The canonical, comparable form of a body's properties."""
    properties = strip_server_fields(kind, body or {})["properties"]
    shaper = _SHAPERS.get(kind)
    if shaper is not None:
        properties = shaper(properties)
    for field, default in DEFAULTS.get(kind, {}).items():
        if _same(properties.get(field), default):
            properties.pop(field, None)
    return _drop_empty(properties)


def canonical_duration(value: Any) -> Any:
    """One ISO 8601 spelling of a duration (PT300S and PT5M both become PT5M); other values unchanged."""
    if not isinstance(value, str):
        return value
    import isodate

    try:
        parsed = isodate.parse_duration(value)
    except (isodate.ISO8601Error, ValueError):
        return value
    return isodate.duration_isoformat(parsed)


def canonical_xml(text: str) -> str:
    """C14N of a policy document without insignificant whitespace; text that does not parse is whitespace-collapsed."""
    from lxml import etree

    from toolkit.artifacts.policy_xml import PolicyXmlError, parse_policy

    try:
        root = parse_policy(text, "<policy>")
    except PolicyXmlError:
        return " ".join(text.split())
    for node in root.iter():
        if node.text is not None:
            node.text = node.text.strip() or None
        if node.tail is not None:
            node.tail = node.tail.strip() or None
    return etree.tostring(root, method="c14n").decode("utf-8")


def pretty_xml(canonical: str) -> list[str]:
    """The lines of a canonical policy document, indented (for showing a diff)."""
    from lxml import etree

    try:
        root = etree.fromstring(canonical.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return [canonical]
    etree.indent(root, space="  ")
    return etree.tostring(root, encoding="unicode").splitlines()


# -- per-kind shapes ------------------------------------------------------------------------------


def _shape_policy(properties: dict[str, Any]) -> dict[str, Any]:
    if isinstance(properties.get("value"), str):
        properties["value"] = canonical_xml(properties["value"])
    return properties


def _shape_backend(properties: dict[str, Any]) -> dict[str, Any]:
    if isinstance(properties.get("type"), str):
        properties["type"] = properties["type"].capitalize()
    pool = properties.get("pool")
    if isinstance(pool, dict) and isinstance(pool.get("services"), list):
        members: dict[str, Any] = {}
        for member in pool["services"]:
            if isinstance(member, dict):
                found = pool_member_name(str(member.get("id", "")))
                name = found or str(member.get("id", ""))
                # The id in one spelling whatever the side wrote (/backends/x or a full ARM id): a member
                # with nothing but its id must still be a leaf, or adding or removing it is no change.
                canonical_id = f"/backends/{found}" if found else name
                members[f"[{name}]"] = {"id": canonical_id, **{k: v for k, v in member.items() if k != "id"}}
        properties["pool"] = {**pool, "services": members}
    breaker = properties.get("circuitBreaker")
    if isinstance(breaker, dict) and isinstance(breaker.get("rules"), list):
        properties["circuitBreaker"] = {**breaker, "rules": {
            f"[{rule.get('name', index)}]": _shape_rule(rule) for index, rule in enumerate(breaker["rules"])
            if isinstance(rule, dict)}}
    return properties


def _shape_rule(rule: dict[str, Any]) -> dict[str, Any]:
    shaped = {k: v for k, v in rule.items() if k != "name" and not _same(v, RULE_DEFAULTS.get(k, object()))}
    shaped["tripDuration"] = canonical_duration(shaped.get("tripDuration"))
    condition = shaped.get("failureCondition")
    if isinstance(condition, dict):
        condition = dict(condition)
        condition["interval"] = canonical_duration(condition.get("interval"))
        if isinstance(condition.get("errorReasons"), list):
            condition["errorReasons"] = sorted(map(str, condition["errorReasons"]))
        shaped["failureCondition"] = condition
    return shaped


def _shape_api(properties: dict[str, Any]) -> dict[str, Any]:
    # What the API declares (a specification to import) and what the target has (its operations)
    # compare as one thing: the operations, by name, with method and path.
    from toolkit.publish.operations import comparable_operations, implied_fields

    operations = comparable_operations(properties)
    properties.update(implied_fields(properties))
    for field in ("format", "value", "translateRequiredQueryParameters", "operations"):
        properties.pop(field, None)
    if operations is not None:
        properties["operations"] = operations
    if isinstance(properties.get("protocols"), list):
        properties["protocols"] = sorted(map(str, properties["protocols"]))
    if isinstance(properties.get("path"), str):
        properties["path"] = properties["path"].strip("/")
    version_set = properties.get("apiVersionSetId")
    if isinstance(version_set, str) and version_set_name(version_set):
        # By name: the tree holds its source instance's id, the target its own (publish points it there).
        properties["apiVersionSetId"] = f"/apiVersionSets/{version_set_name(version_set)}"
    key_names = properties.get("subscriptionKeyParameterNames")
    if isinstance(key_names, dict):  # APIM fills the name a PUT leaves out with its default
        defaults = DEFAULTS[Kind.API]["subscriptionKeyParameterNames"]
        properties["subscriptionKeyParameterNames"] = {**defaults, **{k: v for k, v in key_names.items() if v}}
    return properties


def _shape_named_value(properties: dict[str, Any]) -> dict[str, Any]:
    if isinstance(properties.get("tags"), list):
        properties["tags"] = sorted(map(str, properties["tags"]))
    return properties


_SHAPERS: dict[Kind, Callable[[dict[str, Any]], dict[str, Any]]] = {
    Kind.BACKEND: _shape_backend,
    Kind.API: _shape_api,
    Kind.NAMED_VALUE: _shape_named_value,
    Kind.FRAGMENT: _shape_policy,
    Kind.GLOBAL_POLICY: _shape_policy,
    Kind.API_POLICY: _shape_policy,
    Kind.OPERATION_POLICY: _shape_policy,
}


def _same(value: Any, default: Any) -> bool:
    if isinstance(value, list) and isinstance(default, list):
        return sorted(map(repr, value)) == sorted(map(repr, default))
    return bool(value == default and type(value) is type(default))


def _drop_empty(value: Any) -> Any:
    """Recursively drop None, {} and [] (APIM returns nulls and empty lists for unset fields)."""
    if isinstance(value, dict):
        cleaned = {k: _drop_empty(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if v is not None and v != {} and v != []}
    if isinstance(value, list):
        return [_drop_empty(v) for v in value]
    return value
