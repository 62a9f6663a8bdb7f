"""Runtime values of the .NET surface policy expressions use, and C#'s conversions and operators on them.

Values whose static type the compiler does not track (``dynamic``) are plain Python objects here:
str, int, float, bool, None, `CsList` (arrays and lists), dicts, JSON tokens (`jtoken`), dates
(`datetime`, `timedelta`), `uuid.UUID`, and the small classes below (URLs, message bodies, sent
responses, JWTs, hashers). Nothing here evaluates text as code.
"""

from __future__ import annotations

import math
import re
import urllib.parse
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from . import jtoken
from .cstypes import (FORMAT_WIDTH_LIMIT, INTEGER_RANGES, CsChar, CsLong, dotnet_name_of,
                      dotnet_type_name, format_value)
from .dates import CsDateTimeOffset, parse, to_offset
from .errors import NULL_REFERENCE, CsError, emulator_limit, invalid_cast
from .formatting import format_datetime, format_number, timespan_text
from .jtoken import JArray, JObject, JProperty, JToken, JValue


class CsList(list):
    """A C# array or List<T> (``Length``/``Count``, ``Add``)."""

    __slots__ = ()
    DOTNET_NAME = "System.Object[]"


class LongArray(CsList):
    """A C# ``long[]``: what is stored in it later is a long too (``a[0] = int.MaxValue`` then ``a[0] + 1`` is
    2147483648)."""

    __slots__ = ()
    DOTNET_NAME = "System.Int64[]"


class RegexGroup:
    """A .NET ``Group`` (and the ``Match`` itself): ``Success``, ``Value`` ("" when it did not take part), ``Index``,
    ``Length``."""

    DOTNET_NAME = "System.Text.RegularExpressions.Group"

    __slots__ = ("success", "value", "start")

    def __init__(self, success: bool, value: str, start: int) -> None:
        self.success, self.value, self.start = success, value, start

    def __str__(self) -> str:  # Match.ToString() is its Value
        return self.value


class CaughtException:
    """The exception a ``catch (Exception e)`` holds: ``e.Message``. The emulator knows an exception by its message,
    not its type (``System.Exception`` stands for every one)."""

    DOTNET_NAME = "System.Exception"

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message

    def __str__(self) -> str:  # .NET writes the exception's own type and its stack trace, which the emulator lacks
        raise CsError(emulator_limit("an exception's ToString() (its type and stack trace)"))


class RegexMatch(RegexGroup):
    """A .NET ``Match``: a failed match is ``Success`` false with an empty ``Value`` (never null), and its
    ``Groups`` are indexed by number or by name."""

    DOTNET_NAME = "System.Text.RegularExpressions.Match"

    __slots__ = ("groups",)

    def __init__(self, match: Any) -> None:
        if match is None:
            super().__init__(False, "", 0)
            self.groups = GroupCollection([RegexGroup(False, "", 0)], {})
            return
        super().__init__(True, match.group(0), match.start())
        groups = [RegexGroup(True, match.group(0), match.start())]
        for number in range(1, (match.re.groups or 0) + 1):
            taken = match.group(number)
            groups.append(RegexGroup(taken is not None, taken or "", match.start(number) if taken is not None else 0))
        self.groups = GroupCollection(groups, {name: groups[n] for name, n in match.re.groupindex.items()})


class GroupCollection(list):
    """``Match.Groups``: by number, and by name for named groups; an unknown one is a failed group, as in .NET."""

    DOTNET_NAME = "System.Text.RegularExpressions.GroupCollection"

    __slots__ = ("by_name",)

    def __init__(self, groups: list[RegexGroup], by_name: dict[str, RegexGroup]) -> None:
        super().__init__(groups)
        self.by_name = by_name

    def get(self, key: Any) -> RegexGroup:
        if type(key) is int:
            return self[key] if 0 <= key < len(self) else RegexGroup(False, "", 0)
        return self.by_name.get(str(key), RegexGroup(False, "", 0))


class AnonymousObject(dict):
    """``new { a = 1 }``: serialized by JsonConvert as an object."""

    DOTNET_NAME = "<>f__AnonymousType"

    __slots__ = ()


class Utf8Encoding:
    """``Encoding.UTF8``."""

    DOTNET_NAME = "System.Text.UTF8Encoding"

    __slots__ = ()


class Hasher:
    """``SHA256.Create()`` (key None) or ``new HMACSHA256(key)``: ``ComputeHash(byte[])``."""

    DOTNET_NAME = "System.Security.Cryptography.HashAlgorithm"

    __slots__ = ("key",)

    def __init__(self, key: bytes | None) -> None:
        self.key = key

    def compute(self, data: Any) -> bytes:
        import hashlib
        import hmac

        payload = bytes(data)
        return hmac.new(self.key, payload, hashlib.sha256).digest() if self.key is not None \
            else hashlib.sha256(payload).digest()


class KeyValue:
    """A KeyValuePair from enumerating a dictionary."""

    DOTNET_NAME = "System.Collections.Generic.KeyValuePair`2"

    __slots__ = ("key", "value")

    def __init__(self, key: Any, value: Any) -> None:
        self.key = key
        self.value = value


class MultiValueDict(dict):
    """Headers or query parameters: name → string[]; ``GetValueOrDefault`` joins the values with commas.

    ``fold`` makes lookups case-insensitive (headers); query parameter names are case-sensitive.
    """

    DOTNET_NAME = "System.Collections.Generic.Dictionary`2"

    __slots__ = ("fold",)

    def __init__(self, fold: bool = True) -> None:
        super().__init__()
        self.fold = fold

    def _key(self, name: Any) -> Any:
        if not self.fold:
            return name if dict.__contains__(self, name) else None
        wanted = str(name).lower()
        return next((k for k in self if k.lower() == wanted), None)

    def __getitem__(self, name: Any) -> Any:
        key = self._key(name)
        if key is None:
            raise KeyError(name)
        return dict.__getitem__(self, key)

    def __contains__(self, name: object) -> bool:
        return self._key(name) is not None

    def get(self, name: Any, default: Any = None) -> Any:
        key = self._key(name)
        return default if key is None else ",".join(dict.__getitem__(self, key))


class Url:
    """``IUrl``: context.Request.Url / OriginalUrl."""

    DOTNET_NAME = "IUrl"

    __slots__ = ("scheme", "host", "port", "path", "query")

    def __init__(self, scheme: str, host: str, port: int, path: str, query: str) -> None:
        self.scheme, self.host, self.port, self.path, self.query = scheme, host, port, path, query

    def query_dict(self) -> MultiValueDict:
        out = MultiValueDict(fold=False)
        for key, value in urllib.parse.parse_qsl(self.query, keep_blank_values=True):
            out.setdefault(key, CsList()).append(value)
        return out

    def to_string(self) -> str:
        default = {"http": 80, "https": 443}.get(self.scheme)
        port = "" if self.port in (None, default) else f":{self.port}"
        query = f"?{self.query}" if self.query else ""
        return f"{self.scheme}://{self.host}{port}{self.path}{query}"


class Body:
    """``IMessageBody``: ``As<T>(preserveContent)``; without preserveContent the body is consumed."""

    DOTNET_NAME = "IMessageBody"

    __slots__ = ("_get", "_consume")

    def __init__(self, get: Callable[[], bytes], consume: Callable[[], None] | None = None) -> None:
        self._get = get
        self._consume = consume

    def as_type(self, type_name: str, preserve: bool) -> Any:
        raw = self._get()
        if not preserve and self._consume is not None:
            self._consume()
        text = raw.decode("utf-8", errors="replace")
        if type_name in ("string", "String"):
            return text
        if type_name == "byte[]":
            return CsList(raw)
        if not text.strip():
            return None  # As<JObject>() of an empty body is null
        expected = {"JObject": JObject, "JArray": JArray, "JToken": JToken}[type_name]
        return jtoken.parse(text, expected)


class Message:
    """``IResponse`` (send-request's response variable) or ``IRequest``."""

    DOTNET_NAME = "IMessage"

    __slots__ = ("status", "reason", "headers", "body", "method", "url", "raw")

    def __init__(self, status: int | None, reason: str | None, headers: dict[str, CsList], body: bytes,
                 method: str | None = None, url: Url | None = None) -> None:
        self.status, self.reason, self.headers, self.method, self.url = status, reason, headers, method, url
        self.raw = body
        self.body = Body(lambda: body)


class Jwt:
    """``Jwt`` (validate-jwt / validate-azure-ad-token output variable), over the claims dict."""

    DOTNET_NAME = "Jwt"

    __slots__ = ("claims",)

    def __init__(self, claims: dict[str, Any]) -> None:
        self.claims = claims

    def claim_dict(self) -> dict[str, CsList]:
        return {k: CsList(v if isinstance(v, list) else [v]) for k, v in self.claims.items()}


def enumerate_items(value: Any) -> Iterable[Any]:
    """The items of an enumerable value (C# IEnumerable) or a failure."""
    if value is None:
        raise CsError("Value cannot be null. (Parameter 'source')")
    if isinstance(value, str):
        return [CsChar(c) for c in value]
    if isinstance(value, dict):
        return [KeyValue(k, v) for k, v in value.items()]
    if isinstance(value, (list, tuple, JToken)):
        return list(value)
    raise CsError(f"{dotnet_type_name(value)} is not enumerable.")


def _char_codes(a: Any, b: Any) -> tuple[Any, Any]:
    """The operands with each char as its code when the other operand is a number or a char (C#'s promotion)."""
    def numeric(v: Any) -> bool:
        return type(v) is CsChar or (isinstance(v, (int, float)) and not isinstance(v, bool))

    if type(a) is CsChar and numeric(b):
        a = ord(a)
    if type(b) is CsChar and numeric(a):
        b = ord(b)
    return a, b


ARGUMENT_NULL_S = "Value cannot be null. (Parameter 's')"  # int.Parse(null), DateTime.Parse(null)
# NumberStyles.Integer: white space (tab, line feed, vertical tab, form feed, carriage return, space; no other),
# a sign, ASCII digits, white space, and (a .NET quirk) trailing NUL characters. Python's int() takes more: "1_000",
# "１２", a no-break space.
_INTEGER_TEXT = re.compile(r"[\t\n\v\f\r ]*([+-]?[0-9]+)[\t\n\v\f\r ]*\x00*")


def parse_int(text: Any, bits: int = 32) -> int:
    """``int.Parse`` (``bits`` 64: ``long.Parse``): a number past the type's range is an OverflowException."""
    text = unwrap(text)
    if text is None:
        raise CsError(ARGUMENT_NULL_S)
    found = _INTEGER_TEXT.fullmatch(str(text))
    if found is None:
        raise CsError(f"The input string '{text}' was not in a correct format.")
    number = found.group(1)
    digits = number.lstrip("+-").lstrip("0") or "0"  # leading zeros do not count (Python's int() reads 4,300 digits)
    if len(digits) > 20:  # past any long
        raise overflow(bits)
    return in_range(-int(digits) if number[0] == "-" else int(digits), bits)


# NumberStyles.Float | AllowThousands (double.Parse): the white space and trailing NULs above, a sign, ASCII digits
# with group separators anywhere in the integral part ("1,000.5", "1,0"), a fraction, an exponent. Python's float()
# takes "1_0", "inf", "１.５" and NBSP.
_DOUBLE_TEXT = re.compile(r"[\t\n\v\f\r ]*([+-]?(?:(?:[0-9][0-9,]*)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
                          r"[\t\n\v\f\r ]*\x00*")
# What .NET Core 3.0 and later reads when the text is no number: the culture's symbols, trimmed, in any case, with a
# sign ("NaN", "-nan", "+Infinity"); the emulator writes infinity as en-US does ("∞") and reads it back, and reads the
# invariant culture's "Infinity" too (which symbol APIM's culture has is not known).
_DOUBLE_SYMBOLS = {f"{sign}{name}": value for name, positive in (("nan", math.nan), ("infinity", math.inf),
                                                                 ("∞", math.inf))
                   for sign, value in (("", positive), ("+", positive), ("-", -positive))}


def parse_double(text: Any) -> float:
    """``double.Parse``: a number past double's range is infinite, as on .NET Core 3.0 and later."""
    text = unwrap(text)
    if text is None:
        raise CsError(ARGUMENT_NULL_S)
    found = _DOUBLE_TEXT.fullmatch(str(text))
    if found is not None:
        return float(found.group(1).replace(",", ""))
    symbol = _DOUBLE_SYMBOLS.get(str(text).strip().lower())
    if symbol is None:
        raise CsError(f"The input string '{text}' was not in a correct format.")
    return symbol


def in_range(value: int, bits: int) -> int:
    """``value`` when an int (32 bits) or a long (64) holds it, else the OverflowException of a checked conversion."""
    if not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
        raise overflow(bits)
    return value


def overflow(bits: int) -> CsError:
    """The OverflowException of a checked conversion to an int (32 bits) or a long (64)."""
    return CsError(f"Value was either too large or too small for an {'Int32' if bits == 32 else 'Int64'}.")


def as_long(value: int) -> CsLong:
    """``value`` wrapped to 64 bits, as unchecked C# long arithmetic does."""
    return CsLong(((value + 2**63) & (2**64 - 1)) - 2**63)


def as_int(value: int) -> int:
    """``value`` wrapped to 32 bits, as unchecked C# int arithmetic (and an int cast of a long) does."""
    return ((value + 0x80000000) & 0xFFFFFFFF) - 0x80000000


# -- conversions ------------------------------------------------------------------------------------


def convert(value: Any, target: str) -> Any:
    """An explicit C# conversion ``(target)value`` of a runtime value (unboxing or JToken conversions)."""
    if target in ("object", "dynamic", "var"):
        return value
    if isinstance(value, JValue):
        return _convert_jvalue(value, target)
    if isinstance(value, JToken) and (target in _VALUE_TYPES or target in ("string", "String")):
        raise CsError(f"Can not convert {value.type_name} to {_newtonsoft_name(target)}.")
    if value is None:
        if target in _VALUE_TYPES:
            raise CsError(NULL_REFERENCE)
        return None
    numeric = _numeric_conversion(value, target)
    if numeric is not None:
        return numeric
    if target == "DateTimeOffset" and isinstance(value, datetime):  # C#'s conversion of a DateTime
        return to_offset(value)
    check = RUNTIME_CHECKS.get(target)
    if check is None:
        raise CsError(emulator_limit(f"a cast to ({target})"))
    if check(value):
        return _COERCE.get(target, _identity)(value)
    raise CsError(invalid_cast(value, target))


# The spellings of the value types a conversion targets, one name each (decimal and float compute as double here)
_SPELLINGS = {"String": "string", "Boolean": "bool", "Char": "char", "Int32": "int", "Int64": "long",
                 "Double": "double", "float": "double", "decimal": "double", "JValue": "JToken"}


def _numeric_conversion(value: Any, target: str) -> Any:
    """``(int)2.7`` (2: toward zero) or ``(double)3``: a value whose C# type is a number, from a library call
    (``(int)Math.Floor(x)``, ``(int)span.TotalSeconds``), converts as C# converts numbers; None when this is not a
    number-to-number conversion. A double out of the target's range (or NaN) fails loudly: unchecked C# leaves
    the result unspecified."""
    kind = _SPELLINGS.get(target, target)
    if type(value) is float and kind in ("int", "long"):
        low, high = INTEGER_RANGES[kind]
        if not (value == value and low - 1 < value < high + 1):  # toward zero first: 2147483647.9 is an int; NaN fails
            raise CsError("Arithmetic operation resulted in an overflow.")
        return CsLong(value) if kind == "long" else int(value)
    if kind == "char" and isinstance(value, (int, float, str)) and not isinstance(value, bool):
        if isinstance(value, str):  # (char)'a': a char literal is a one-character string here
            return CsChar(value) if len(value) == 1 else None
        if isinstance(value, float):  # (char)65.7: toward zero, then the char of that code
            if value != value or value in (math.inf, -math.inf):
                raise CsError("Arithmetic operation resulted in an overflow.")
            value = int(value)
        return CsChar(chr(value & 0xFFFF))  # (char)('a' + 1): the char of that code (unchecked: its low 16 bits)
    if type(value) is CsChar and kind in ("int", "long", "double"):
        code = ord(value)  # (int)c: the char's code
        return CsLong(code) if kind == "long" else float(code) if kind == "double" else code
    if isinstance(value, int) and not isinstance(value, bool):
        if kind == "long":
            return as_long(value)
        if kind == "int" and type(value) is CsLong:  # (int)someLong keeps the low 32 bits
            return as_int(value)
        if kind == "double":
            return float(value)
    return None


def _identity(value: Any) -> Any:
    return value


def _convert_jvalue(token: JValue, target: str) -> Any:
    v = token.value
    value_type = target.removesuffix("?")  # (int?)t: as (int)t, but null stays null
    kind = _SPELLINGS.get(value_type, value_type)
    if kind == "JToken":
        return token
    if kind == "string":
        return None if v is None else token.to_string()  # a string value's is the string itself
    if v is None:
        if target in _VALUE_TYPES:
            raise CsError(f"Can not convert Null to {_newtonsoft_name(target)}.")
        return None
    try:
        if kind == "bool":  # Newtonsoft: Convert.ToBoolean (a number is true unless 0; text "true" or "false")
            if isinstance(v, (int, float)):  # a bool among them: True != 0
                return v != 0
            return {"true": True, "false": False}[str(v).lower()]
        if kind == "char" and (isinstance(v, int) and not isinstance(v, bool) or isinstance(v, str)):
            if isinstance(v, str) and len(v) != 1:  # Newtonsoft: a one-character string or an integer
                raise ValueError
            return CsChar(v) if isinstance(v, str) else CsChar(chr(v & 0xFFFF))
        if kind in ("int", "long"):  # Newtonsoft: Convert.ToInt32 / ToInt64
            number = convert_to_integer(v, 64 if kind == "long" else 32)
            return CsLong(number) if kind == "long" else number
        if kind == "double":
            return float(v)
        if kind in ("DateTime", "DateTimeOffset"):
            when = v if isinstance(v, datetime) else _parse_date(str(v))
            return to_offset(when) if kind == "DateTimeOffset" else when
    except (KeyError, ValueError):
        raise CsError(f"Could not convert string to {target}: {v}.") from None
    raise CsError(f"Can not convert {token.type_name} to {_newtonsoft_name(target)}.")


def convert_to_integer(value: Any, bits: int = 32) -> int:
    """``Convert.ToInt32`` (``bits`` 64: ``Convert.ToInt64``), also what Newtonsoft's (int) and Value<int>() of a JSON
    value call: null is 0, a bool 0 or 1, a char its code, a double rounds to the nearest integer (a tie to the even
    one: 2.5 is 2), a string is int.Parse'd; past the type's range, an OverflowException."""
    value = unwrap(value)
    if value is None:
        return 0
    if isinstance(value, bool):
        return int(value)
    if type(value) is CsChar:  # Convert.ToInt32(c): the char's code, not its digit
        return ord(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise overflow(bits)
        return in_range(round(value), bits)
    if isinstance(value, int):
        return int(in_range(value, bits))  # a plain int: Convert.ToInt32 of a long is an int (CsLong for 64 bits)
    return parse_int(value, bits)


def _parse_date(text: str) -> datetime:
    """A JSON value's text as Newtonsoft reads a date: a "Z" date is Utc (the emulator keeps JSON dates as their
    text, where Newtonsoft reads them as dates when it parses the JSON)."""
    return parse(text, f"Could not convert string to DateTime: {text}.", utc_stays_utc=True)


_VALUE_TYPES = frozenset({"int", "Int32", "long", "Int64", "bool", "Boolean", "double", "Double", "float",
                          "decimal", "DateTime", "DateTimeOffset", "TimeSpan", "Guid"})
RUNTIME_CHECKS: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: type(v) is str, "String": lambda v: type(v) is str,
    "char": lambda v: type(v) is CsChar, "Char": lambda v: type(v) is CsChar,
    "int": lambda v: type(v) is int, "Int32": lambda v: type(v) is int,
    # a boxed int is no long: `5 is long` is false and (long)(object)5 fails, as in .NET (the emulator's ints are
    # C#'s ints; its longs are CsLong)
    "long": lambda v: type(v) is CsLong, "Int64": lambda v: type(v) is CsLong,
    "bool": lambda v: type(v) is bool, "Boolean": lambda v: type(v) is bool,
    "double": lambda v: type(v) is float, "Double": lambda v: type(v) is float,
    "JObject": lambda v: isinstance(v, JObject), "JArray": lambda v: isinstance(v, JArray),
    "JToken": lambda v: isinstance(v, JToken), "JValue": lambda v: isinstance(v, JValue),
    "JProperty": lambda v: isinstance(v, JProperty),
    "DateTime": lambda v: isinstance(v, datetime) and type(v) is not CsDateTimeOffset,
    "DateTimeOffset": lambda v: type(v) is CsDateTimeOffset, "TimeSpan": lambda v: isinstance(v, timedelta),
    "Guid": lambda v: isinstance(v, uuid.UUID),
    "IResponse": lambda v: isinstance(v, Message), "IRequest": lambda v: isinstance(v, Message),
    "Jwt": lambda v: isinstance(v, (Jwt, dict)),
    "string[]": lambda v: isinstance(v, list), "int[]": lambda v: isinstance(v, list),
    "object[]": lambda v: isinstance(v, list),
}
_COERCE: dict[str, Callable[[Any], Any]] = {"Jwt": lambda v: v if isinstance(v, Jwt) else Jwt(v)}
CAST_NAMES = frozenset(RUNTIME_CHECKS) | {"object", "dynamic", "float", "decimal"}


def to_bool(value: Any) -> bool:
    """A value used as a condition (must be a bool at run time)."""
    if type(value) is bool:
        return value
    if isinstance(value, JValue) and isinstance(value.value, bool):
        return value.value
    raise CsError(f"Cannot implicitly convert type '{dotnet_type_name(value)}' to 'bool'.")


def unwrap(value: Any) -> Any:
    """A JValue as its plain value (for arithmetic and comparisons)."""
    return value.value if isinstance(value, JValue) else value


def equals(a: Any, b: Any) -> bool:
    """``==`` between values the compiler could not type: nulls, numbers, strings, tokens by value."""
    if a is None or b is None:
        return a is None and b is None
    a2, b2 = unwrap(a), unwrap(b)
    if isinstance(a, JToken) and not isinstance(a, JValue) or isinstance(b, JToken) and not isinstance(b, JValue):
        return a is b
    if isinstance(a2, bool) != isinstance(b2, bool):
        return False
    a2, b2 = as_doubles(*_char_codes(a2, b2))  # text[0] == 97: a char compared with a number is its code
    return a2 == b2


def as_doubles(a: Any, b: Any) -> tuple[Any, Any]:
    """Operands of a comparison as C# converts them: an integer against a double becomes a double (long.MaxValue
    equals (double)long.MaxValue, which Python's exact comparison of an int with a float denies)."""
    if type(a) is float and isinstance(b, int) and not isinstance(b, bool):
        return a, float(b)
    if type(b) is float and isinstance(a, int) and not isinstance(a, bool):
        return float(a), b
    return a, b


def arithmetic(op: str, a: Any, b: Any) -> Any:
    """``+ - * / %`` on runtime values (C# int semantics for two ints, strings concatenate on +)."""
    a, b = _char_codes(unwrap(a), unwrap(b))
    if op == "+" and (isinstance(a, str) or isinstance(b, str)):
        return format_value(a) + format_value(b)
    if isinstance(a, datetime) and isinstance(b, timedelta):
        return a + b if op == "+" else a - b
    if isinstance(a, datetime) and isinstance(b, datetime) and op == "-":
        return a - b
    if isinstance(a, timedelta) and isinstance(b, timedelta) and op in ("+", "-"):
        return a + b if op == "+" else a - b
    if a is None or b is None:
        return None
    if isinstance(a, bool) or isinstance(b, bool) or not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
        raise CsError(f"Operator '{op}' cannot be applied to operands of type '{dotnet_type_name(a)}' and '{dotnet_type_name(b)}'")
    if isinstance(a, int) and isinstance(b, int):
        if op in ("/", "%") and b == 0:
            raise CsError("Attempted to divide by zero.")
        low, high = INTEGER_RANGES["int"]
        wide = type(a) is CsLong or type(b) is CsLong or not (low <= a <= high and low <= b <= high)
        if op in ("/", "%") and b == -1 and a == (-(2**63) if wide else low):  # the one quotient past the type (x64 .NET)
            raise CsError("Arithmetic operation resulted in an overflow.")
        if op == "/":
            result = abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)
        elif op == "%":  # the sign of the dividend, as C#'s remainder (in integers: 64-bit values stay exact)
            result = abs(a) % abs(b) * (1 if a >= 0 else -1)
        else:
            result = {"+": a + b, "-": a - b, "*": a * b}[op]
        if wide:
            return as_long(result)  # a long operand (only a long holds a value past the int range): 64-bit
        return as_int(result)
    return double_arithmetic(op, float(a), float(b))


def double_arithmetic(op: str, a: float, b: float) -> float:
    """IEEE 754 double arithmetic, as C# computes it (and folds a constant): x / 0 is an infinity signed by both
    operands (1.0 / -0.0 is -Infinity) or NaN (0 / 0, NaN / 0); a remainder of an infinity or by zero is NaN."""
    if op == "/":
        if b:
            return a / b
        return math.nan if a == 0 or math.isnan(a) else math.copysign(math.inf, a) * math.copysign(1.0, b)
    if op == "%":
        return math.fmod(a, b) if b and not math.isinf(a) else math.nan
    if op == "+":
        return a + b
    return a - b if op == "-" else a * b


def compare(op: str, a: Any, b: Any) -> bool:
    """``< <= > >=`` on runtime numbers or dates (false when either side is null)."""
    a, b = unwrap(a), unwrap(b)
    if a is None or b is None:
        return False
    if (type(a) is CsChar and isinstance(b, str) and len(b) == 1) or (type(b) is CsChar and isinstance(a, str)
                                                                    and len(a) == 1):
        a, b = ord(a), ord(b)  # a char against a char literal ('a' is a one-character string here)
    a, b = as_doubles(*_char_codes(a, b))
    ok = (isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool)
          and not isinstance(b, bool)) or (isinstance(a, datetime) and isinstance(b, datetime)) or (
              isinstance(a, timedelta) and isinstance(b, timedelta))
    if not ok:
        raise CsError(f"Operator '{op}' cannot be applied to operands of type '{dotnet_type_name(a)}' and '{dotnet_type_name(b)}'")
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


_JSON_FORMATTING = ("None", "Indented")  # Newtonsoft's Formatting values, as the compiler passes them


def to_string(value: Any, fmt: Any = None) -> str:
    """``value.ToString()`` / ``ToString(format)``."""
    if value is None:
        raise CsError(NULL_REFERENCE)
    if isinstance(value, JToken):
        if fmt in _JSON_FORMATTING:  # ToString(Formatting.None / Indented): JSON text, a value's too ("\"a\"", "true")
            return value.compact() if fmt == "None" or isinstance(value, JValue) else value.to_string()
        if fmt is not None and isinstance(value, JValue):  # JValue.ToString(format): its value's, "" for null
            return "" if value.value is None else to_string(value.value, fmt)
        return value.to_string()
    if isinstance(value, datetime) and fmt is not None:
        return format_datetime(value, fmt)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and fmt is not None:
        return format_number(value, fmt)
    if isinstance(value, uuid.UUID) and fmt is not None:
        return _guid_text(value, str(fmt))
    if isinstance(value, Url):
        return value.to_string()
    return format_value(value)


def _guid_text(guid: uuid.UUID, fmt: str) -> str:
    """``Guid.ToString(format)``: D (default) 36 characters with hyphens, N 32 digits, B in braces, P in
    parentheses; anything else is a FormatException."""
    text = str(guid)
    forms = {"D": text, "N": guid.hex, "B": "{" + text + "}", "P": "(" + text + ")", "": text}
    if fmt.upper() not in forms:
        raise CsError("Format string can be only \"D\", \"d\", \"N\", \"n\", \"P\", \"p\", \"B\", \"b\", "
                      "\"X\" or \"x\".")
    return forms[fmt.upper()]


def display(value: Any) -> str:
    """The text of any value where C# would call ToString (concatenation, set-header, set-body)."""
    if isinstance(value, JToken):
        return value.to_string()
    if isinstance(value, datetime):  # a DateTimeOffset's text also has its offset: "1/2/2024 3:04:05 PM +00:00"
        return format_datetime(value, "G") + ("" if type(value) is datetime else format_datetime(value, " zzz"))
    if isinstance(value, timedelta):
        return timespan_text(value)
    if isinstance(value, Url):
        return value.to_string()
    if isinstance(value, list):
        return "System.String[]"
    if value is None or isinstance(value, (str, int, float, bool)):
        return format_value(value)
    return str(value)  # Guid: lower-case with dashes, like .NET


def _newtonsoft_name(target: str) -> str:
    """The type name in Newtonsoft's conversion errors ("Can not convert Object to Int64."): the CLR's short name."""
    return dotnet_name_of(target.removesuffix("?")).rpartition(".")[2]


def format_item(value: Any, fmt: str | None, width: int = 0) -> str:
    """One composite-format item, ``{value,width:fmt}`` in string.Format or an interpolated string: null is empty
    text; padded with spaces to ``width`` on the left, or to ``-width`` on the right."""
    if abs(width) >= FORMAT_WIDTH_LIMIT:  # .NET's limit (StringBuilder.AppendFormat): FormatException
        raise CsError("Input string was not in a correct format.")
    text = "" if value is None else to_string(value, fmt or None)  # "{0:}": no format
    return text.rjust(width) if width >= 0 else text.ljust(-width)


CAUGHT = (CsError, jtoken.JsonReaderError, TypeError, ValueError, IndexError, KeyError, ZeroDivisionError,
          OverflowError, AttributeError, re.error)


def message_of(exc: BaseException) -> str:
    """The .NET-style message for an exception raised while evaluating."""
    if isinstance(exc, (CsError, jtoken.JsonReaderError)):
        return str(exc)
    if isinstance(exc, KeyError):
        return f"The given key '{exc.args[0] if exc.args else ''}' was not present in the dictionary."
    if isinstance(exc, ZeroDivisionError):
        return "Attempted to divide by zero."
    if isinstance(exc, IndexError):
        return "Index was outside the bounds of the array."
    if isinstance(exc, OverflowError):
        return "Arithmetic operation resulted in an overflow."
    if isinstance(exc, (TypeError, AttributeError)):  # a value of a type the operation does not take
        return f"A value of the wrong type was used ({exc})."
    if isinstance(exc, re.error):
        return f"Invalid pattern: {exc}."
    return f"The value is not valid ({exc})."


def unbox(value: Any, target: str) -> Any:
    """A reference or unboxing cast of an ``object`` value: the runtime type must match (no conversions)."""
    if value is None:
        if target in _VALUE_TYPES:
            raise CsError(NULL_REFERENCE)
        return None
    check = RUNTIME_CHECKS.get(target)
    if check is not None and check(value):
        return _COERCE.get(target, _identity)(value)
    raise CsError(invalid_cast(value, target))
