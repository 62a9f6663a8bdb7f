"""(desired, live) -> Plan. Pure: compares normalised bodies field by field; secrets are flagged, never shown."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterator, Mapping
from typing import Any

from toolkit.artifacts.layout import Kind
from toolkit.publish.normalize import normalize
from toolkit.publish.order import delete_order, write_order
from toolkit.publish.plan import MISSING, Change, FieldChange, Op, Plan
from toolkit.publish.resources import Body, LiveResource, ResourceRef, is_secret

SECRET_FIELD = "properties.value"
# Backend credentials (header/query values, authorization parameters) are keys: masked like secrets.
SECRET_PREFIXES = ("properties.credentials",)


def flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted path, leaf) pairs of a normalised document; keyed items (``[name]``) attach without a dot."""
    if isinstance(value, dict) and value:
        for key, item in value.items():
            path = f"{prefix}{key}" if key.startswith("[") or not prefix else f"{prefix}.{key}"
            yield from flatten(item, path)
    elif isinstance(value, list) and value and any(isinstance(v, (dict, list)) for v in value):
        for index, item in enumerate(value):
            yield from flatten(item, f"{prefix}[{index}]")
    else:
        yield prefix, value


def field_changes(kind: Kind, desired: Body | None, live: Body | None) -> tuple[FieldChange, ...]:
    """The leaves that differ between the normalised bodies, sorted by path.

    A secret named value's ``value`` is compared only when both sides know it, and is flagged secret.
    """
    secret = kind is Kind.NAMED_VALUE and (is_secret(desired) or is_secret(live))
    before = dict(flatten(normalize(kind, live), "properties")) if live is not None else {}
    after = dict(flatten(normalize(kind, desired), "properties")) if desired is not None else {}
    if secret and (SECRET_FIELD not in before or SECRET_FIELD not in after):
        before.pop(SECRET_FIELD, None)
        after.pop(SECRET_FIELD, None)
    changes = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path, MISSING), after.get(path, MISSING)
        if not same_json(old, new):
            hidden = (secret and path == SECRET_FIELD) or path.startswith(SECRET_PREFIXES)
            changes.append(FieldChange(path, old, new, secret=hidden))
    return tuple(changes)


def same_json(a: Any, b: Any) -> bool:
    """Equal as JSON values: the same type as well as the same value (``1``, ``1.0`` and ``true`` all differ),
    lists item by item. A side that is MISSING never equals a present one."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_json(a[key], b[key]) for key in a)
    return bool(a == b)


def compute_plan(
    desired: Mapping[ResourceRef, Body],
    live: Mapping[ResourceRef, LiveResource],
    *,
    prune: bool = False,
    env: str = "",
    target: str = "",
    features: tuple[str, ...] = ("all",),
) -> Plan:
    """Compare every desired resource with its live state; live-only resources are deleted with ``prune``
    (else listed as kept). The global policy is never deleted: it belongs to the service."""
    writes: list[tuple[Change, Body | None]] = []
    for ref, body in desired.items():
        current = live.get(ref)
        secret = ref.kind is Kind.NAMED_VALUE and (is_secret(body) or (current is not None and is_secret(current.body)))
        if current is None:
            writes.append((Change(Op.CREATE, ref, secret=secret), body))
            continue
        fields = field_changes(ref.kind, body, current.body)
        op = Op.UPDATE if fields else Op.UNCHANGED
        writes.append((Change(op, ref, fields, current.etag, secret), body))
    extra = [current for ref, current in live.items() if ref not in desired and ref.kind is not Kind.GLOBAL_POLICY]
    deletes = [Change(Op.DELETE, r.ref, etag=r.etag, secret=is_secret(r.body)) for r in extra] if prune else []
    bodies = {r.ref: r.body for r in extra}
    ordered = [c for c, _ in write_order(writes, key=lambda item: (item[0].ref, item[1]))]
    ordered += delete_order(deletes, key=lambda change: (change.ref, bodies.get(change.ref)))
    salt = secrets.token_hex(16)
    return Plan(ordered, env=env, target=target, features=features, prune=prune,
                kept=[] if prune else sorted(r.ref for r in extra), desired_digest=desired_digest(desired),
                secret_salt=salt, secret_digests=secret_digests(desired, salt))


def desired_digest(desired: Mapping[ResourceRef, Body]) -> str:
    """A SHA-256 over the normalised desired bodies (secret values left out), to detect a changed tree."""
    items = []
    for ref in sorted(desired):
        normalised = normalize(ref.kind, desired[ref])
        if ref.kind is Kind.NAMED_VALUE and is_secret(desired[ref]):
            normalised.pop("value", None)
        items.append([ref.to_json(), normalised])
    return hashlib.sha256(json.dumps(items, sort_keys=True, default=str).encode("utf-8")).hexdigest()


SECRET_DIGEST_ROUNDS = 50_000  # PBKDF2-SHA256: a plan file that leaks does not give a weak secret away cheaply


def secret_values(desired: Mapping[ResourceRef, Body]) -> dict[str, str]:
    """Named value -> value, for the secret named values whose value the artifacts carry."""
    return {ref.name: str(body["properties"]["value"]) for ref, body in desired.items()
            if ref.kind is Kind.NAMED_VALUE and is_secret(body) and "value" in body["properties"]}


def secret_digest(name: str, value: str, salt: str) -> str:
    """A salted, slow hash of a secret value (the plan file keeps this, never the value)."""
    material = f"{name}\0{value}".encode("utf-8")
    return hashlib.pbkdf2_hmac("sha256", material, bytes.fromhex(salt), SECRET_DIGEST_ROUNDS).hex()


def secret_digests(desired: Mapping[ResourceRef, Body], salt: str) -> dict[str, str]:
    """Named value -> :func:`secret_digest` of its value, for every secret value in ``desired``."""
    return {name: secret_digest(name, value, salt) for name, value in sorted(secret_values(desired).items())}


def changed_secret_values(desired: Mapping[ResourceRef, Body], salt: str, digests: Mapping[str, str]) -> list[str]:
    """The secret named values whose value in ``desired`` is not the one ``digests`` (made with ``salt``) record."""
    values = secret_values(desired)
    try:
        bytes.fromhex(salt)
    except ValueError:
        return sorted(set(values) | set(digests))
    changed = {name for name in digests if name not in values}
    for name, value in values.items():
        recorded = digests.get(name)
        if recorded is None or not hmac.compare_digest(recorded, secret_digest(name, value, salt)):
            changed.add(name)
    return sorted(changed)
