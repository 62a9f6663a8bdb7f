"""How messages name the kind of a JSON value ("a string", "an array"): never the value itself, which may be a
secret or a whole hostile document."""

from __future__ import annotations

from typing import Any


def json_kind(value: Any) -> str:
    """The JSON kind of a parsed value, with its article: "a string", "a number", "a boolean", "an array",
    "an object" or "null" (another Python type by its name)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object" if isinstance(value, dict) else type(value).__name__


def kind_of_type(kind: type) -> str:
    """``json_kind`` of the values of a JSON type (str -> "a string", type(None) -> "null")."""
    return json_kind(kind())
