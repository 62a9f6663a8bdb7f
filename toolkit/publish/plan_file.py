"""Read a saved plan (`toolkit plan --out`) defensively: a plan file arrives like any file, possibly edited
or hostile, so every byte is checked before a Plan is built from it.

Bounded size, strict UTF-8, JSON without NaN/Infinity, a bounded nesting depth, no lone surrogates,
and every field of the expected type. Any problem is an InputError (exit 3) naming the file and the
field (``changes[2].fields[0].path``), never an exception from deeper down.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

from toolkit.errors import InputError
from toolkit.publish.plan import PLAN_FORMAT, READABLE_FORMATS, Op, Plan
from toolkit.publish.resources import PUBLISHED_KINDS

MAX_PLAN_BYTES = 32 * 1024 * 1024  # a plan of every resource of a large gateway is a few MB
MAX_DEPTH = 12  # top > changes > [i] > fields > [j] > before > [k]: a real plan is 7 deep
_KINDS = {kind.value: kind for kind in PUBLISHED_KINDS}
_OPS = {op.value for op in Op}
_HINT = "write one with `toolkit plan --out FILE`"


class _Bad(Exception):
    """A problem at ``where`` (a field path) in the document."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(problem)
        self.where = where
        self.problem = problem


def read_plan_file(path: str | Path) -> Plan:
    """The plan saved in ``path``; InputError (exit 3) naming the file and field when it is not a valid one."""
    source = str(path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_PLAN_BYTES + 1)
    except OSError as exc:
        raise InputError(f"{source}: cannot read the plan ({exc.strerror or exc})", hint=_HINT) from None
    if len(raw) > MAX_PLAN_BYTES:
        raise InputError(f"{source}: not a plan file: larger than {MAX_PLAN_BYTES // (1024 * 1024)} MB", hint=_HINT)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{source}: not a plan file: not UTF-8 (byte {exc.start})", hint=_HINT) from None
    return plan_from_document(parse_json(text, source), source)


def parse_json(text: str, source: str) -> Any:
    """JSON text -> document; InputError for invalid JSON, NaN/Infinity, over-long numbers or deep nesting."""
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise InputError(f"{source}:{exc.lineno}:{exc.colno}: not a plan file: invalid JSON ({exc.msg})",
                         hint=_HINT) from None
    except RecursionError:
        raise InputError(f"{source}: not a plan file: JSON nested too deeply", hint=_HINT) from None
    except ValueError as exc:  # a number over Python's digit limit, NaN/Infinity
        reason = str(exc)
        if "digits" in reason:
            reason = f"a number has more than {sys.get_int_max_str_digits()} digits"
        raise InputError(f"{source}: not a plan file: {reason}", hint=_HINT) from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def plan_from_document(document: Any, source: str = "plan") -> Plan:
    """A checked plan document -> Plan; InputError naming ``source`` and the field otherwise."""
    try:
        _check_plan(document)
    except _Bad as bad:
        where = f": {bad.where}" if bad.where else ""
        raise InputError(f"{source}{where}: {bad.problem}", hint=_HINT) from None
    return Plan.from_checked_json(document)


def _check_plan(doc: Any) -> None:
    _check_scalars(doc, "", 0)
    if not isinstance(doc, dict):
        raise _Bad("", f"not a toolkit plan (a JSON object with format {PLAN_FORMAT} expected)")
    fmt = doc.get("format")
    if type(fmt) is not int or fmt not in READABLE_FORMATS:
        raise _Bad("format", f"not a toolkit plan of format {PLAN_FORMAT} (got {_show(fmt)})")
    for key in ("env", "target", "desired_digest"):
        _optional(doc, key, str, "a string")
    _check_secret_values(doc.get("secret_values"))
    _optional(doc, "prune", bool, "true or false")
    features = doc.get("features")
    if features is not None:
        _list_of(features, "features", lambda item, where: _expect(item, str, where, "a string"))
        if not features:
            raise _Bad("features", "must name at least one feature")
    if "changes" not in doc:
        raise _Bad("changes", "is missing")
    _list_of(doc["changes"], "changes", _check_change)
    _list_of(doc.get("kept", []), "kept", _check_ref)
    summary = doc.get("summary")
    if summary is not None and not isinstance(summary, dict):
        raise _Bad("summary", f"must be an object (got {_show(summary)})")


def _check_secret_values(value: Any) -> None:
    """``{"salt": hex, "digests": {name: hex}}`` (format 2), or absent."""
    if value is None:
        return
    if not isinstance(value, dict):
        raise _Bad("secret_values", f"must be an object with salt and digests (got {_show(value)})")
    _optional(value, "salt", str, "a string", prefix="secret_values")
    digests = value.get("digests", {})
    if not isinstance(digests, dict):
        raise _Bad("secret_values.digests", f"must be an object (got {_show(digests)})")
    for name, digest in digests.items():
        _name(name, "secret_values.digests")
        _expect(digest, str, f"secret_values.digests.{name}", "a string")


def _check_change(change: Any, where: str) -> None:
    if not isinstance(change, dict):
        raise _Bad(where, f"must be an object with op, kind and name (got {_show(change)})")
    op = change.get("op")
    if not isinstance(op, str) or op not in _OPS:
        raise _Bad(f"{where}.op", f"must be one of {', '.join(sorted(_OPS))} (got {_show(op)})")
    _check_ref(change, where)
    _optional(change, "etag", str, "a string", prefix=where)
    _optional(change, "secret", bool, "true or false", prefix=where)
    _list_of(change.get("fields", []), f"{where}.fields", _check_field)


def _check_field(item: Any, where: str) -> None:
    if not isinstance(item, dict):
        raise _Bad(where, f"must be an object with a path (got {_show(item)})")
    _expect(item.get("path"), str, f"{where}.path", "a string")
    _optional(item, "secret", bool, "true or false", prefix=where)
    for side in ("before", "after"):
        if side in item:
            _check_leaf(item[side], f"{where}.{side}")


def _check_leaf(value: Any, where: str) -> None:
    """A changed field's value is a leaf of a normalised body: a scalar, a list of scalars, or ``{}``."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, (dict, list)):
                raise _Bad(f"{where}[{index}]", "must be a string, number, true, false or null")
    elif isinstance(value, dict) and value:
        raise _Bad(where, "must be a string, number, true, false, null or a list of those")


def _check_ref(ref: Any, where: str) -> None:
    if not isinstance(ref, dict):
        raise _Bad(where, f"must be an object with kind and name (got {_show(ref)})")
    prefix = f"{where}." if where else ""
    kind = ref.get("kind")
    if not isinstance(kind, str) or kind not in _KINDS:
        raise _Bad(f"{prefix}kind", f"must be one of {', '.join(sorted(_KINDS))} (got {_show(kind)})")
    name = ref.get("name")
    if kind != "global-policy":
        _name(name, f"{prefix}name")
    elif name is not None:
        _expect(name, str, f"{prefix}name", "a string")
    parent = ref.get("parent")
    if kind == "operation-policy":
        _name(parent, f"{prefix}parent")
    elif parent is not None:
        _expect(parent, str, f"{prefix}parent", "a string")


def _name(value: Any, where: str) -> None:
    _expect(value, str, where, "a non-empty string")
    if not value or any(ord(ch) < 32 or ch in "/\\" for ch in value):
        raise _Bad(where, f"must be a resource name without '/', '\\' or control characters (got {_show(value)})")


def _list_of(value: Any, where: str, check: Any) -> None:
    if not isinstance(value, list):
        raise _Bad(where, f"must be a list (got {_show(value)})")
    for index, item in enumerate(value):
        check(item, f"{where}[{index}]")


def _optional(doc: dict[str, Any], key: str, kind: type, what: str, *, prefix: str = "") -> None:
    if doc.get(key) is not None:
        _expect(doc[key], kind, f"{prefix}.{key}" if prefix else key, what)


def _expect(value: Any, kind: type, where: str, what: str) -> None:
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise _Bad(where, f"must be {what} (got {_show(value)})")


def _check_scalars(value: Any, where: str, depth: int) -> None:
    """Depth, finite numbers and encodable strings, everywhere (keys included)."""
    if depth > MAX_DEPTH:
        raise _Bad(where, f"nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, where)
            _check_scalars(item, f"{where}.{key}" if where else key, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_scalars(item, f"{where}[{index}]", depth + 1)
    elif isinstance(value, str):
        _check_text(value, where)
    elif isinstance(value, float) and not math.isfinite(value):
        raise _Bad(where, "is a number too large to represent")


def _check_text(text: str, where: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise _Bad(where, "contains a lone UTF-16 surrogate (\\uD800-\\uDFFF), which is not text") from None


def _show(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return "an object" if isinstance(value, dict) else "a list"
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
