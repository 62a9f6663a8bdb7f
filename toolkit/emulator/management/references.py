"""Which resources point at which: pool members, and backends, fragments and named values used by policies.

APIM refuses a PUT that points at something missing and (in the emulator) a DELETE of something
still in use, so the gateway never holds a dangling reference.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache

from toolkit.artifacts.arm_ids import pool_member_name
from toolkit.emulator.management.store import ResourceKey, ResourceKind, ResourceStore

POLICY_KINDS = (ResourceKind.GLOBAL_POLICY, ResourceKind.API_POLICY, ResourceKind.OPERATION_POLICY,
                ResourceKind.FRAGMENT)

_NAMED_VALUE = re.compile(r"\{\{([A-Za-z0-9._-]+)\}\}")


@dataclass(frozen=True)
class PolicyReference:
    """One reference in a policy document: ``kind`` is backend, fragment or named value."""

    kind: ResourceKind
    target: str
    line: int
    element: str | None = None


@lru_cache(maxsize=256)
def policy_references(raw_xml: str) -> tuple[PolicyReference, ...]:
    """Static references in a rawxml policy: ``{{named value}}``, ``backend-id``, ``fragment-id``.

    Expression-valued ids (``@(...)``) are decided at request time and are not references here.
    """
    from toolkit.artifacts.policy_xml import PolicyXmlError, is_expression, iter_policy_elements, parse_policy

    found = [
        PolicyReference(ResourceKind.NAMED_VALUE, match.group(1), raw_xml.count("\n", 0, match.start()) + 1)
        for match in _NAMED_VALUE.finditer(raw_xml)
    ]
    try:
        root = parse_policy(raw_xml, "<policy>")
    except PolicyXmlError:
        return tuple(found)
    for element, attribute, kind in (("set-backend-service", "backend-id", ResourceKind.BACKEND),
                                     ("include-fragment", "fragment-id", ResourceKind.FRAGMENT)):
        for node in iter_policy_elements(root, element):
            value = node.get(attribute)
            if value and not is_expression(value) and not _NAMED_VALUE.fullmatch(value):
                found.append(PolicyReference(kind, value, node.sourceline or 1, element))
    return tuple(found)


def describe(key: ResourceKey) -> str:
    """A resource as a person would name it in a message."""
    if key.kind is ResourceKind.GLOBAL_POLICY:
        return "the global policy"
    if key.kind is ResourceKind.API_POLICY:
        return f"the policy of API '{key.name}'"
    if key.kind is ResourceKind.OPERATION_POLICY:
        return f"the policy of operation '{key.name}' of API '{key.parent}'"
    if key.kind is ResourceKind.FRAGMENT:
        return f"policy fragment '{key.name}'"
    return f"{key.kind.value} '{key.name}'"


def named_value_names(text: str) -> list[str]:
    """The names ``{{name}}`` references in ``text`` use."""
    return _NAMED_VALUE.findall(text)


def pools_containing(store: ResourceStore, backend: str) -> list[str]:
    """Names of the pools that list ``backend`` as a member."""
    names = []
    for pool in store.list(ResourceKind.BACKEND):
        services = (pool.properties.get("pool") or {}).get("services") or []
        if any(pool_member_name(str(m.get("id", ""))) == backend for m in services if isinstance(m, dict)):
            names.append(pool.key.name)
    return names


def referrers(store: ResourceStore, kind: ResourceKind, target: str) -> list[str]:
    """Descriptions of every resource that refers to ``target`` (a backend, fragment, or named value display name)."""
    users: list[str] = []
    if kind is ResourceKind.BACKEND:
        users.extend(f"pool '{name}'" for name in pools_containing(store, target))
    wanted = target.lower() if kind is ResourceKind.NAMED_VALUE else target
    if kind is ResourceKind.NAMED_VALUE:
        users.extend(f"the credentials of backend '{backend.key.name}'" for backend in store.list(ResourceKind.BACKEND)
                     if wanted in (n.lower() for n in named_value_names(json.dumps(backend.properties.get("credentials")
                                                                                    or {}))))
    for policy_kind in POLICY_KINDS:
        for policy in store.list(policy_kind):
            refs = policy_references(str(policy.properties.get("value", "")))
            for ref in refs:
                name = ref.target.lower() if kind is ResourceKind.NAMED_VALUE else ref.target
                if ref.kind is kind and name == wanted and policy.key != ResourceKey(kind, target):
                    users.append(describe(policy.key))
                    break
    return users
