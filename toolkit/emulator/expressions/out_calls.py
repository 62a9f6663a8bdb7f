"""The calls the subset takes ``out`` arguments in: ``d.TryGetValue(key, out value)`` on a dictionary (the context's
headers, variables, query and matched parameters, a JObject, a Dictionary) and ``T.TryParse(text, out value)`` of the
number, bool and Guid types, as APIM's own example writes them::

    @{ string[] value; if (context.Request.Headers.TryGetValue("Authorization", out value)) { ... } return null; }

Each runs as a function of its receiver (or text) returning (the call's bool, the value the out variable gets); the
compiler stores the value. Other calls with out arguments are refused as the emulator's limit.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from .dispatch import call_method, index
from .cstypes import dotnet_type_name
from .dotnet import CAUGHT, CsLong
from .errors import CsError, argument_null
from .statics import STATIC_METHODS

OutResult = tuple[bool, Any]

# The out parameter's type of TryGetValue on the context's dictionaries (their value type).
TRY_GET_VALUE_TYPES = {
    "context.Request.Headers": "string[]", "context.Response.Headers": "string[]",
    "context.Request.Url.Query": "string[]", "context.Request.OriginalUrl.Query": "string[]",
    "context.Request.MatchedParameters": "string", "context.Variables": "object",
}

# T.TryParse: the out parameter's type (its Parse is STATIC_METHODS["<type>.Parse"]), and the value it gets when the
# text does not parse (default(T)). Not DateTime.TryParse: the emulator's DateTime.Parse reads ISO 8601 only, so a
# text .NET reads (an HTTP date: "Tue, 05 Mar 2024 10:00:00 GMT") would quietly be false.
_TRY_PARSE: dict[str, tuple[str, Callable[[], Any]]] = {
    **{name: ("int", lambda: 0) for name in ("int", "Int32")},
    **{name: ("long", lambda: CsLong(0)) for name in ("long", "Int64")},
    **{name: ("double", lambda: 0.0) for name in ("double", "Double")},
    **{name: ("bool", lambda: False) for name in ("bool", "Boolean")},
    "Guid": ("Guid", lambda: uuid.UUID(int=0)),
}


def try_parse_type(type_name: str) -> str | None:
    """The out parameter's type of ``<type_name>.TryParse`` (None: the subset has no such TryParse)."""
    found = _TRY_PARSE.get(type_name)
    return found[0] if found is not None else None


def try_parse(type_name: str) -> Callable[[Any], OutResult]:
    """``<type_name>.TryParse(text, out value)``: what ``Parse`` gives, or false and default(T) where it throws (no
    text, not that type's format, out of its range). A text that is no string fails: C# would not have compiled it."""
    parse = STATIC_METHODS[f"{_TRY_PARSE[type_name][0]}.Parse"]
    default = _TRY_PARSE[type_name][1]

    def run(text: Any) -> OutResult:
        if text is None:
            return False, default()
        if not isinstance(text, str):  # typed only as it ran (a string[], a JSON value): no string in C# either
            raise CsError(f"cannot convert from '{dotnet_type_name(text)}' to 'string' (C# refuses it when it "
                          "compiles: CS1503)")
        try:
            return True, parse(text)
        except CAUGHT:
            return False, default()

    return run


def try_get_value(receiver: Any, key: Any) -> OutResult:
    """``receiver.TryGetValue(key, out value)``: the key's value, or false and null (the value types of the
    dictionaries the subset has are reference types); a null key is an ArgumentNullException, as in .NET."""
    if key is None:
        raise CsError(argument_null("key"))
    if not call_method(receiver, "ContainsKey", (), (key,)):
        return False, None
    return True, index(receiver, key)
