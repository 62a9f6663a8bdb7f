"""The .NET surface policy expressions may use beyond `context`, as one namespace for the compiler.

`dotnet` holds the runtime values and C#'s conversions and operators, `dispatch` the members and
methods of runtime values by name, `statics` the static members and constructors, `formatting`
the .NET format strings. Nothing here evaluates text as code.
"""

from __future__ import annotations

from .dispatch import (
    MEMBER_NAMES,
    MEMBERS,
    METHOD_NAMES,
    METHOD_RESULTS,
    METHODS,
    TYPED_METHODS,
    call_method,
    get_member,
    index,
    null_receiver,
    set_index,
)
from .dotnet import (
    CAST_NAMES,
    CAUGHT,
    NULL_REFERENCE,
    RUNTIME_CHECKS,
    AnonymousObject,
    Body,
    CaughtException,
    CsChar,
    CsList,
    CsLong,
    LongArray,
    Hasher,
    Jwt,
    KeyValue,
    Message,
    MultiValueDict,
    Url,
    Utf8Encoding,
    enumerate_items,
    arithmetic,
    compare,
    convert,
    display,
    equals,
    format_item,
    message_of,
    to_bool,
    to_string,
    unbox,
    unwrap,
)
from .errors import CsError
from .formatting import format_datetime, format_number
from .statics import (
    CONSTRUCTORS,
    STATIC_CLASSES,
    STATIC_METHODS,
    STATIC_NAMESPACES,
    STATIC_PROPERTIES,
    STATIC_RESULTS,
    canonical_class,
)

__all__ = [
    "CAST_NAMES", "CAUGHT", "CONSTRUCTORS", "MEMBERS", "MEMBER_NAMES", "METHOD_NAMES", "METHOD_RESULTS", "METHODS", "TYPED_METHODS",
    "NULL_REFERENCE", "RUNTIME_CHECKS", "STATIC_CLASSES", "STATIC_METHODS", "STATIC_NAMESPACES",
    "STATIC_PROPERTIES", "STATIC_RESULTS", "AnonymousObject", "Body", "CaughtException", "CsChar", "CsError", "CsList", "CsLong", "LongArray", "Hasher", "Jwt",
    "KeyValue", "Message", "MultiValueDict", "Url", "Utf8Encoding", "enumerate_items", "null_receiver", "arithmetic",
    "call_method", "canonical_class", "compare", "convert", "display", "equals", "format_datetime",
    "format_item", "format_number", "get_member", "index", "message_of", "set_index", "to_bool", "to_string",
    "unbox", "unwrap",
]
