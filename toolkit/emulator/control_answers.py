"""The emulator's control API answers as its clients read them: each checked for the shape the caller uses.

Every answer the toolkit reads (validate, load, plan/apply finding a running emulator) goes through
:func:`read_answer`: a JSON object with the fields the caller uses, of the right types. Anything else (an HTML
page, an array, a missing field, a truncated body) is a RemoteError naming the URL and what was wrong, never a
crash, and never the value itself (it may be a secret).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

import httpx

from toolkit.errors import RemoteError
from toolkit.json_kinds import json_kind, kind_of_type

OPTIONAL = type(None)  # in a shape, a type tuple holding OPTIONAL allows the field to be missing or null
Shape = Mapping[str, "type | tuple[type, ...]"]
def _wanted(kinds: type | tuple[type, ...]) -> str:
    names = [kind_of_type(kind) for kind in (kinds if isinstance(kinds, tuple) else (kinds,)) if kind is not OPTIONAL]
    return " or ".join(dict.fromkeys(names))


def _is(value: Any, kinds: type | tuple[type, ...]) -> bool:
    allowed = kinds if isinstance(kinds, tuple) else (kinds,)
    if isinstance(value, bool):  # a JSON true is not a number
        return bool in allowed
    if float in allowed and isinstance(value, int):
        return True
    return isinstance(value, allowed)


def unexpected(where: str, what: str) -> RemoteError:
    """The error for an answer of the wrong shape from the control API at ``where`` (its URL and path)."""
    return RemoteError(f"unexpected answer from the emulator's control API at {where}: {what}",
                       hint="is TOOLKIT_EMULATOR_URL the control URL `toolkit emulator start` printed, "
                            "and the emulator the same version as this toolkit?")


def check_fields(value: Any, shape: Shape, where: str, prefix: str, within: str = "") -> dict[str, Any]:
    """``value`` when it is a JSON object with ``shape``'s fields (name -> type or tuple of types)."""
    place = f" in {within}" if within else ""
    if not isinstance(value, dict):
        raise unexpected(where, f"{prefix}{json_kind(value)}{place}, not an object")
    for name, kinds in shape.items():
        optional = isinstance(kinds, tuple) and OPTIONAL in kinds
        if name not in value:
            if optional:
                continue
            raise unexpected(where, f"{prefix}no {name!r}{place}")
        if not _is(value[name], kinds):
            raise unexpected(where, f"{prefix}{name!r}{place} is {json_kind(value[name])}, not {_wanted(kinds)}")
    return value


def read_answer(response: httpx.Response, shape: Shape, where: str | None = None) -> dict[str, Any]:
    """The JSON object of a successful control API answer, checked against ``shape``; RemoteError (naming
    the URL, the status and what was wrong) when the body is empty, not JSON, not an object, or lacks a
    field or has one of the wrong type."""
    where = where or str(response.request.url.copy_with(query=None))
    status = f"{response.status_code} with "
    if not response.content:
        raise unexpected(where, f"{status}an empty body, not a JSON object")
    try:
        value = json.loads(response.content)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        content_type = response.headers.get("content-type", "no content type").split(";")[0][:60]
        reason = f"{exc.msg}: line {exc.lineno} column {exc.colno}" if isinstance(exc, json.JSONDecodeError) \
            else type(exc).__name__
        raise unexpected(where, f"{status}a body that is not JSON ({content_type}, {len(response.content)} "
                                f"bytes; {reason})") from None
    return check_fields(value, shape, where, status)


def _jwt_part(segment: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def check_jwt(token: str, where: str, prefix: str) -> str:
    """``token`` when it is a compact JWT (header.claims.signature, the first two base64url JSON objects)."""
    parts = token.split(".")
    try:
        ok = len(parts) == 3 and all(isinstance(_jwt_part(part), dict) for part in parts[:2])
    except (ValueError, binascii.Error, RecursionError):  # bad base64, bad UTF-8, bad JSON
        ok = False
    if not ok:
        raise unexpected(where, f"{prefix}'token' is not a JWT (header.claims.signature, base64url JSON)")
    return token
