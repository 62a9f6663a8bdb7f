"""Typed fields of control API bodies: each reader refuses a wrong type or range with a message naming the field.

JSON has no "truthy": ``{"down": "no"}`` is a string, not false, and ``{"advance": "nan"}`` is not a
number; both are refused rather than coerced (``bool("no")`` is True, ``float("nan")`` breaks the clock).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from toolkit.errors import InputError

_MISSING: Any = object()


def only(body: Mapping[str, Any], allowed: Iterable[str]) -> None:
    """Refuse fields the endpoint does not know (a misspelt field would otherwise be ignored)."""
    known = list(allowed)
    unknown = sorted(set(body) - set(known))
    if unknown:
        raise InputError(f"unknown field(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(known)}")


def number(body: Mapping[str, Any], name: str, *, minimum: float, maximum: float, default: Any = _MISSING,
           exclusive_minimum: bool = False) -> Any:
    """A finite JSON number in range (booleans and numeric strings are not numbers)."""
    if name not in body or body[name] is None:
        if default is _MISSING:
            raise InputError(f"field {name!r} is required (a number)")
        return default
    value = body[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError(f"field {name!r} must be a finite number, not {value!r}"[:200])
    low_ok = value > minimum if exclusive_minimum else value >= minimum
    if not low_ok or value > maximum:
        bracket = "(" if exclusive_minimum else "["
        raise InputError(f"field {name!r} must be in {bracket}{minimum:g}, {maximum:g}], not {value!r}")
    return value


def integer(body: Mapping[str, Any], name: str, *, minimum: int, maximum: int, default: Any = _MISSING) -> Any:
    """A JSON integer in [minimum, maximum]."""
    value = number(body, name, minimum=minimum, maximum=maximum, default=default)
    if value is not default and not isinstance(value, int):
        raise InputError(f"field {name!r} must be a whole number, not {value!r}")
    return value


def boolean(body: Mapping[str, Any], name: str, *, default: bool) -> bool:
    """``true`` or ``false`` (not "no", 0 or null-ish strings)."""
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise InputError(f"field {name!r} must be true or false, not {value!r}"[:200])
    return value


def text(body: Mapping[str, Any], name: str, *, default: Any = _MISSING, max_length: int = 256) -> Any:
    """A non-empty JSON string of at most ``max_length`` characters."""
    if name not in body or body[name] is None:
        if default is _MISSING:
            raise InputError(f"field {name!r} is required (a string)")
        return default
    value = body[name]
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"field {name!r} must be a non-empty string, not {value!r}"[:200])
    if len(value) > max_length:
        raise InputError(f"field {name!r} is longer than {max_length} characters")
    return value


def obj(body: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    """A JSON object, or None when absent."""
    value = body.get(name)
    if value is not None and not isinstance(value, dict):
        raise InputError(f"field {name!r} must be a JSON object, not {type(value).__name__}")
    return value


def audience(body: Mapping[str, Any], name: str) -> Any:
    """A string or a list of strings, or absent (the issuer's default)."""
    if name not in body:
        return _MISSING
    value = body[name]
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    raise InputError(f"field {name!r} must be a string or a list of strings")


MISSING = _MISSING
