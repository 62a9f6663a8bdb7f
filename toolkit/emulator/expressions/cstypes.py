"""Static types of the expression subset and the C# conversions the evaluator needs."""

from __future__ import annotations

import decimal
import math
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum


class CsType(StrEnum):
    """Static type of a sub-expression, named as C# names it (used in messages and docs)."""

    INT = "int"
    DOUBLE = "double"
    STRING = "string"
    BOOL = "bool"
    NULL = "null"
    OBJECT = "object"
    RESPONSE = "IResponse"  # context.Response: only comparable with null
    NAMESPACE = "namespace"  # context, context.Request, ...: not a value
    DYNAMIC = "dynamic"  # a runtime-dispatched value (JSON tokens, arrays, dates, ...): checked on use
    STATIC = "static class"  # Math, string, JObject, ... as the target of a static member: not a value
    LAMBDA = "lambda"  # x => ...: only as a method argument


NUMERIC = frozenset({CsType.INT, CsType.DOUBLE})

# Types a `(T)` cast or `GetValueOrDefault<T>` may name, and the runtime test a value must pass.
CAST_TARGETS: dict[str, CsType] = {"string": CsType.STRING, "int": CsType.INT, "bool": CsType.BOOL}
# .NET names and other primitive spellings of the same types (casts and GetValueOrDefault<T>). A long is not an
# int: its values are CsLong, typed dynamic, so that their arithmetic is 64-bit (LONG_NAMES).
CAST_ALIASES: dict[str, CsType] = {
    "String": CsType.STRING, "Int32": CsType.INT, "Boolean": CsType.BOOL,
    "double": CsType.DOUBLE, "Double": CsType.DOUBLE, "float": CsType.DOUBLE, "decimal": CsType.DOUBLE,
}

LONG_NAMES = frozenset({"long", "Int64"})


class CsLong(int):
    """A C# ``long`` (System.Int64): arithmetic with one is 64-bit, where two ints wrap at 32 bits. Made by casts to
    ``(long)``, ``long x = ...``, ``10L``, ``long.Parse``, ``Convert.ToInt64`` and ``Ticks``."""

    __slots__ = ()


class CsChar(str):
    """A C# ``char`` read from a string (``text[0]``, ``foreach (var c in text)``): it joins strings as text, but
    with a number or another char it is its code (``"abc"[0] + 1`` is 98, as in C#)."""

    __slots__ = ()


class CsDateTimeOffset(datetime):
    """A C# ``DateTimeOffset`` (at offset 0, the only one the emulator makes): a point in time with its offset, no
    kind (toolkit/emulator/expressions/dates.py). Python keeps the class through arithmetic (``+ timedelta``)."""

    __slots__ = ()


_DOTNET_NAMES = {bool: "System.Boolean", int: "System.Int32", float: "System.Double", str: "System.String",
                 CsLong: "System.Int64", CsChar: "System.Char", datetime: "System.DateTime",
                 CsDateTimeOffset: "System.DateTimeOffset", timedelta: "System.TimeSpan", uuid.UUID: "System.Guid",
                 list: "System.Object[]",
                 dict: "System.Collections.Generic.Dictionary`2"}


# The integer types' ranges, by C# keyword.
INTEGER_RANGES = {"int": (-(1 << 31), (1 << 31) - 1), "uint": (0, (1 << 32) - 1), "long": (-(1 << 63), (1 << 63) - 1)}
# The widest alignment of a composite-format item: .NET's String.Format refuses 1,000,000 and more (FormatException).
FORMAT_WIDTH_LIMIT = 1_000_000

# A type as C# code names it (a keyword or a short name) -> the name .NET's messages use.
_NAMED_TYPES = {
    **dict.fromkeys(("int", "Int32"), "System.Int32"), **dict.fromkeys(("long", "Int64"), "System.Int64"),
    **dict.fromkeys(("uint", "UInt32"), "System.UInt32"),
    **dict.fromkeys(("string", "String"), "System.String"), **dict.fromkeys(("bool", "Boolean"), "System.Boolean"),
    **dict.fromkeys(("double", "Double"), "System.Double"), **dict.fromkeys(("float", "Single"), "System.Single"),
    **dict.fromkeys(("decimal", "Decimal"), "System.Decimal"), **dict.fromkeys(("char", "Char"), "System.Char"),
    **dict.fromkeys(("object", "Object"), "System.Object"),
    **{name: f"System.{name}" for name in ("DateTime", "DateTimeOffset", "TimeSpan", "Guid")},
    **{name: f"Newtonsoft.Json.Linq.{name}" for name in ("JToken", "JObject", "JArray", "JValue", "JProperty")},
}


def dotnet_name_of(type_name: str) -> str:
    """The .NET name of a type named in C# code (``long`` -> ``System.Int64``); other names as they are written."""
    return _NAMED_TYPES.get(type_name, type_name)


def same_type(a: str, b: str) -> bool:
    """Whether two types as written in C# code are one type (``string[]``, ``String[]``, ``System.String[]``)."""
    def canonical(name: str) -> str:
        name = name.replace(" ", "")
        element = name.rstrip("[]")
        return dotnet_name_of(element) + name[len(element):]

    return canonical(a) == canonical(b)


def dotnet_type_name(value: object) -> str:
    """The .NET type name C# would report for a runtime value (in cast and member error messages): a value type's, or
    the ``DOTNET_NAME`` of the emulator's own classes (JSON tokens, regex matches, IUrl, ...), never a Python name."""
    name = _DOTNET_NAMES.get(type(value))
    return name if name is not None else getattr(type(value), "DOTNET_NAME", "System.Object")


def format_double(value: float) -> str:
    """`double.ToString()` of .NET Core 3+: the shortest digits that read back as the same double, in scientific
    notation (`1E+15`, `1.5E-05`: at least two exponent digits) when the exponent is 15 or more or below -4;
    negative zero is "-0"."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    if value == 0:
        return sign + "0"
    shortest = decimal.Decimal(repr(abs(value))).normalize()  # Python's repr: the same shortest round-trip digits
    digits = "".join(map(str, shortest.as_tuple().digits))
    exponent = len(digits) + int(shortest.as_tuple().exponent) - 1  # of the first digit
    if exponent >= 15 or exponent < -4:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}E{'+' if exponent >= 0 else '-'}{abs(exponent):02}"
    return sign + format(shortest, "f")


def format_value(value: object) -> str:
    """C# `ToString()` / string-concatenation form of a value; null becomes ``""``."""
    if value is None:
        return ""
    if value is True:
        return "True"
    if value is False:
        return "False"
    if type(value) is float:
        return format_double(value)
    if isinstance(value, str):  # a string, or a char (CsChar)
        return str(value)
    if isinstance(value, int):  # an int, or a long (CsLong)
        return str(int(value))
    from .library import display  # JSON tokens, dates, URLs: their C# ToString()

    return display(value)


def _one_to_one(text: str, convert: Callable[[str], str]) -> str:
    """Case mapped as .NET maps it: each character to one character (a mapping to more, such as 'ß' to "SS" or 'İ' to
    "i̇", leaves it as it is), so the text keeps its length."""
    return "".join(mapped if len(mapped := convert(c)) == 1 else c for c in text)


def to_upper(text: str) -> str:
    """``ToUpper``/``ToUpperInvariant``: "straße" is "STRAßE"."""
    return _one_to_one(text, str.upper)


def to_lower(text: str) -> str:
    """``ToLower``/``ToLowerInvariant``: 'İ' stays."""
    return _one_to_one(text, str.lower)


def cs_equals(receiver: object, other: object, *, boxed: bool) -> bool:
    """`receiver.Equals(other)`: the same runtime type and an equal value. A double receiver takes an integer as C#
    converts it for Equals(double); a receiver typed object (``boxed``) calls Equals(object), which converts nothing:
    ``((object)1.0).Equals(1)`` is false. (A date's Equals is the runtime method's: its receiver is never typed here.)"""
    if not boxed and type(receiver) is float and type(other) in (int, CsLong):
        return receiver == float(other)  # Equals(double): the integer converted, as C# converts it
    return type(receiver) is type(other) and receiver == other
