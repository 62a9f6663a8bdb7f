"""Strict JSON request bodies for the emulator's management and control APIs.

``json.loads`` alone lets through what later breaks a handler: ``NaN``/``Infinity`` (then every
clock reading is NaN), nesting deep enough to exhaust the recursion limit, and lone surrogates
(``"\\ud800"``) that cannot be encoded back to UTF-8 in the answer or the state file.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 64


class JsonBodyError(ValueError):
    """The body is not acceptable JSON; the message says why (for a 400 answer)."""


def _refuse_constant(name: str) -> Any:
    raise JsonBodyError(f"{name} is not a JSON number")


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of ``value``, counted without recursion; stops once ``limit`` is passed."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            if deepest > limit:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


def loads_body(raw: bytes, *, empty: Any = None, max_depth: int = MAX_DEPTH, what: str = "body") -> Any:
    """The parsed ``what`` (``empty`` when blank); JsonBodyError when it is not strict, encodable JSON."""
    if not raw.strip():
        return empty
    try:
        text = raw.decode("utf-8")
        value = json.loads(text, parse_constant=_refuse_constant)
    except UnicodeDecodeError:
        raise JsonBodyError(f"{what} is not UTF-8 text") from None
    except RecursionError:
        raise JsonBodyError(f"{what} is nested more than {max_depth} levels deep") from None
    except JsonBodyError as exc:
        raise JsonBodyError(f"{what} is not JSON: {exc}") from None
    except ValueError as exc:  # JSONDecodeError, or an integer over Python's 4300-digit conversion limit
        raise JsonBodyError(f"{what} is not JSON: {str(exc)[:200]}") from None
    if _depth(value, max_depth) > max_depth:
        raise JsonBodyError(f"{what} is nested more than {max_depth} levels deep")
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise JsonBodyError(f"{what} contains a lone UTF-16 surrogate (\\ud800-\\udfff), which is not text") from None
    return value
