"""The .NET surface policy expressions may use beyond `context`: runtime members, methods, static classes.

Values whose static type the compiler does not track (``dynamic``: JSON tokens, arrays, dates,
views of messages, ...) are dispatched here at evaluation by their Python type. The *names* are
fixed data (`MEMBER_NAMES`, `METHOD_NAMES`, `STATIC_MEMBERS`, `CONSTRUCTORS`): a name outside
them is refused at publish with its column; a known name on a value that lacks it fails at run
time like a C# RuntimeBinderException would (on-error, ExpressionValueEvaluationFailure).

Nothing here evaluates text as code; every operation is a plain Python function over the values.
"""

from __future__ import annotations

import math
import random
import re
import urllib.parse
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from . import jtoken
from .cstypes import format_value
from .jtoken import JArray, JObject, JProperty, JToken, JValue

NULL_REFERENCE = "Object reference not set to an instance of an object."


class CsError(Exception):
    """A .NET exception thrown while evaluating (message as .NET words it)."""


class CsList(list):
    """A C# array or List<T> (``Length``/``Count``, ``Add``)."""

    __slots__ = ()


class AnonymousObject(dict):
    """``new { a = 1 }``: serialized by JsonConvert as an object."""

    __slots__ = ()


class Utf8Encoding:
    """``Encoding.UTF8``."""

    __slots__ = ()


class Hasher:
    """``SHA256.Create()`` (key None) or ``new HMACSHA256(key)``: ``ComputeHash(byte[])``."""

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

    __slots__ = ("key", "value")

    def __init__(self, key: Any, value: Any) -> None:
        self.key = key
        self.value = value


class MultiValueDict(dict):
    """Headers or query parameters: name → string[]; ``GetValueOrDefault`` joins the values with commas.

    ``fold`` makes lookups case-insensitive (headers); query parameter names are case-sensitive.
    """

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

    __slots__ = ("status", "reason", "headers", "body", "method", "url", "raw")

    def __init__(self, status: int | None, reason: str | None, headers: dict[str, CsList], body: bytes,
                 method: str | None = None, url: Url | None = None) -> None:
        self.status, self.reason, self.headers, self.method, self.url = status, reason, headers, method, url
        self.raw = body
        self.body = Body(lambda: body)


class Jwt:
    """``Jwt`` (validate-jwt / validate-azure-ad-token output variable), over the claims dict."""

    __slots__ = ("claims",)

    def __init__(self, claims: dict[str, Any]) -> None:
        self.claims = claims

    def claim_dict(self) -> dict[str, CsList]:
        return {k: CsList(v if isinstance(v, list) else [v]) for k, v in self.claims.items()}


def _truthy_collection(value: Any) -> Iterable[Any]:
    """The items of an enumerable value (C# IEnumerable) or a failure."""
    if value is None:
        raise CsError("Value cannot be null. (Parameter 'source')")
    if isinstance(value, str):
        return list(value)
    if isinstance(value, dict):
        return [KeyValue(k, v) for k, v in value.items()]
    if isinstance(value, (list, tuple, JToken)):
        return list(value)
    raise CsError(f"{type_name(value)} is not enumerable.")


def type_name(value: Any) -> str:
    """The .NET-ish type name of a runtime value, for messages."""
    if isinstance(value, JToken):
        return "Newtonsoft.Json.Linq." + type(value).__name__
    names = {str: "System.String", bool: "System.Boolean", int: "System.Int32", float: "System.Double",
             datetime: "System.DateTime", timedelta: "System.TimeSpan", uuid.UUID: "System.Guid"}
    return names.get(type(value), type(value).__name__)


# -- conversions ------------------------------------------------------------------------------------


def convert(value: Any, target: str) -> Any:
    """An explicit C# conversion ``(target)value`` of a runtime value (unboxing or JToken conversions)."""
    if target in ("object", "dynamic", "var"):
        return value
    if isinstance(value, JValue):
        return _convert_jvalue(value, target)
    if isinstance(value, JToken) and (target in _VALUE_TYPES or target in ("string", "String")):
        raise CsError(f"Can not convert {value.type_name} to {target}.")
    if value is None:
        if target in _VALUE_TYPES:
            raise CsError(NULL_REFERENCE)
        return None
    check = RUNTIME_CHECKS.get(target)
    if check is None:
        raise CsError(f"cast to ({target}) is not supported")
    if check(value):
        return _COERCE.get(target, _identity)(value)
    raise CsError(f"Unable to cast object of type '{type_name(value)}' to type '{target}'.")


def _identity(value: Any) -> Any:
    return value


def _convert_jvalue(token: JValue, target: str) -> Any:
    v = token.value
    if target in ("JToken", "JValue"):
        return token
    if target in ("string", "String"):
        return None if v is None else (token.to_string() if not isinstance(v, str) else v)
    if v is None:
        if target in _VALUE_TYPES:
            raise CsError("Can not convert Null to " + target + ".")
        return None
    try:
        if target in ("bool", "Boolean", "bool?"):
            return v if isinstance(v, bool) else {"true": True, "false": False}[str(v).lower()]
        if target in ("int", "Int32", "long", "Int64", "int?", "long?"):
            return int(v) if not isinstance(v, str) else int(v.strip())
        if target in ("double", "Double", "float", "decimal", "double?"):
            return float(v)
    except (KeyError, ValueError):
        raise CsError(f"Could not convert string to {target}: {v}.") from None
    raise CsError(f"Can not convert {token.type_name} to {target}.")


_VALUE_TYPES = frozenset({"int", "Int32", "long", "Int64", "bool", "Boolean", "double", "Double", "float",
                          "decimal", "DateTime", "TimeSpan", "Guid"})
RUNTIME_CHECKS: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: type(v) is str, "String": lambda v: type(v) is str,
    "int": lambda v: type(v) is int, "Int32": lambda v: type(v) is int,
    "long": lambda v: type(v) is int, "Int64": lambda v: type(v) is int,
    "bool": lambda v: type(v) is bool, "Boolean": lambda v: type(v) is bool,
    "double": lambda v: type(v) is float, "Double": lambda v: type(v) is float,
    "JObject": lambda v: isinstance(v, JObject), "JArray": lambda v: isinstance(v, JArray),
    "JToken": lambda v: isinstance(v, JToken), "JValue": lambda v: isinstance(v, JValue),
    "JProperty": lambda v: isinstance(v, JProperty),
    "DateTime": lambda v: isinstance(v, datetime), "TimeSpan": lambda v: isinstance(v, timedelta),
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
    raise CsError(f"Cannot implicitly convert type '{type_name(value)}' to 'bool'.")


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
    return a2 == b2


def arithmetic(op: str, a: Any, b: Any) -> Any:
    """``+ - * / %`` on runtime values (C# int semantics for two ints, strings concatenate on +)."""
    a, b = unwrap(a), unwrap(b)
    if op == "+" and (isinstance(a, str) or isinstance(b, str)):
        return format_value(a) + format_value(b)
    if isinstance(a, datetime) and isinstance(b, timedelta):
        return a + b if op == "+" else a - b
    if isinstance(a, datetime) and isinstance(b, datetime) and op == "-":
        return a - b
    if isinstance(a, timedelta) and isinstance(b, timedelta) and op in "+-":
        return a + b if op == "+" else a - b
    if a is None or b is None:
        return None
    if isinstance(a, bool) or isinstance(b, bool) or not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
        raise CsError(f"Operator '{op}' cannot be applied to operands of type '{type_name(a)}' and '{type_name(b)}'")
    if isinstance(a, int) and isinstance(b, int):
        if op in "/%" and b == 0:
            raise CsError("Attempted to divide by zero.")
        if op == "/":
            result = abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)
        elif op == "%":
            result = int(math.fmod(a, b))
        else:
            result = {"+": a + b, "-": a - b, "*": a * b}[op]
        return ((result + 0x80000000) & 0xFFFFFFFF) - 0x80000000
    a, b = float(a), float(b)
    if op == "/":
        return a / b if b else (math.copysign(math.inf, a) if a else math.nan)
    if op == "%":
        return math.fmod(a, b) if b else math.nan
    return {"+": a + b, "-": a - b, "*": a * b}[op]


def compare(op: str, a: Any, b: Any) -> bool:
    """``< <= > >=`` on runtime numbers or dates (false when either side is null)."""
    a, b = unwrap(a), unwrap(b)
    if a is None or b is None:
        return False
    ok = (isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool)
          and not isinstance(b, bool)) or (type(a) is type(b) and isinstance(a, (datetime, timedelta)))
    if not ok:
        raise CsError(f"Operator '{op}' cannot be applied to operands of type '{type_name(a)}' and '{type_name(b)}'")
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def to_string(value: Any, fmt: Any = None) -> str:
    """``value.ToString()`` / ``ToString(format)``."""
    if value is None:
        raise CsError(NULL_REFERENCE)
    if isinstance(value, JToken):
        if fmt is not None and not isinstance(value, JValue):  # ToString(Formatting.None)
            return value.compact() if fmt == "None" else value.to_string()
        return value.to_string()
    if isinstance(value, datetime) and fmt is not None:
        return format_datetime(value, fmt)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and fmt is not None:
        return format_number(value, fmt)
    if isinstance(value, Url):
        return value.to_string()
    return format_value(value)


def display(value: Any) -> str:
    """The text of any value where C# would call ToString (concatenation, set-header, set-body)."""
    if isinstance(value, JToken):
        return value.to_string()
    if isinstance(value, datetime):
        return format_datetime(value, "G")
    if isinstance(value, timedelta):
        return _timespan_text(value)
    if isinstance(value, Url):
        return value.to_string()
    if isinstance(value, list):
        return "System.String[]"
    if value is None or isinstance(value, (str, int, float, bool)):
        return format_value(value)
    return str(value)  # Guid: lower-case with dashes, like .NET


def _timespan_text(span: timedelta) -> str:
    total = span.total_seconds()
    sign = "-" if total < 0 else ""
    total = abs(total)
    days, rest = divmod(int(total), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    fraction = round((total - int(total)) * 10_000_000)
    text = f"{sign}{days}.{hours:02}:{minutes:02}:{seconds:02}" if days else f"{sign}{hours:02}:{minutes:02}:{seconds:02}"
    return text + (f".{fraction:07}" if fraction else "")


_DATE_TOKENS = re.compile(r"yyyy|yy|MM|M|dd|d|HH|H|hh|h|mm|m|ss|s|fffffff|ffffff|fff|ff|f|tt|zzz|'[^']*'|\\.|.", re.S)


def format_datetime(value: datetime, fmt: str) -> str:
    """.NET DateTime formatting: standard "o", "s", "u", "G", "d" and custom yyyy/MM/dd/HH/mm/ss/fff patterns."""
    standard = {"o": "yyyy-MM-ddTHH:mm:ss.fffffffK", "O": "yyyy-MM-ddTHH:mm:ss.fffffffK",
                "s": "yyyy-MM-ddTHH:mm:ss", "u": "yyyy-MM-dd HH:mm:ssZ", "G": "M/d/yyyy h:mm:ss tt",
                "d": "M/d/yyyy", "R": "ddd, dd MMM yyyy HH:mm:ss 'GMT'", "r": "ddd, dd MMM yyyy HH:mm:ss 'GMT'"}
    if fmt in ("R", "r"):
        return value.strftime("%a, %d %b %Y %H:%M:%S GMT")
    pattern = standard.get(fmt, fmt)
    out = []
    for token in _DATE_TOKENS.findall(pattern.replace("K", "\x00")):
        out.append(_date_part(value, token))
    return "".join(out).replace("\x00", "Z" if value.tzinfo is not None else "")


def _date_part(v: datetime, token: str) -> str:
    micro = f"{v.microsecond:06}0"
    parts = {
        "yyyy": f"{v.year:04}", "yy": f"{v.year % 100:02}", "MM": f"{v.month:02}", "M": str(v.month),
        "dd": f"{v.day:02}", "d": str(v.day), "HH": f"{v.hour:02}", "H": str(v.hour),
        "hh": f"{(v.hour % 12) or 12:02}", "h": str((v.hour % 12) or 12), "mm": f"{v.minute:02}", "m": str(v.minute),
        "ss": f"{v.second:02}", "s": str(v.second), "tt": "AM" if v.hour < 12 else "PM", "zzz": "+00:00",
    }
    if token in parts:
        return parts[token]
    if token.startswith("f"):
        return micro[: len(token)]
    if token.startswith("'"):
        return token[1:-1]
    if token.startswith("\\"):
        return token[1:]
    return token


def format_number(value: float, fmt: str) -> str:
    """Numeric ToString(format): "N0"/"F2"/"D3"/"0.00"-style patterns that policies use."""
    m = re.fullmatch(r"([FfNnDd])(\d*)", fmt)
    if m:
        kind, digits = m.group(1).upper(), int(m.group(2) or (0 if m.group(1) in "Dd" else 2))
        if kind == "D":
            return f"{int(value):0{digits}d}"
        return f"{value:,.{digits}f}" if kind == "N" else f"{value:.{digits}f}"
    m = re.fullmatch(r"0*\.?(0*)", fmt)
    if m:
        return f"{value:.{len(m.group(1))}f}"
    raise CsError(f"format '{fmt}' is not supported")


# -- members and methods of runtime values ---------------------------------------------------------


def _enumerable_count(v: Any) -> int:
    if isinstance(v, JObject):
        return len(v.items)
    if isinstance(v, JArray):
        return len(v.values)
    if isinstance(v, (list, dict, str)):
        return len(v)
    raise CsError(f"'{type_name(v)}' does not contain a definition for 'Count'")


def _member_table() -> dict[str, Callable[[Any], Any]]:
    def prop(*cases: tuple[type | tuple[type, ...], Callable[[Any], Any]]) -> Callable[[Any], Any]:
        def get(v: Any) -> Any:
            for types, fn in cases:
                if isinstance(v, types):
                    return fn(v)
            raise CsError(f"'{type_name(v)}' does not contain this member")
        return get

    return {
        "Length": prop(((str, list, bytes), len)),
        "Count": _enumerable_count,
        "Key": prop((KeyValue, lambda v: v.key)),
        "Value": prop((KeyValue, lambda v: v.value), (JProperty, lambda v: v.value), (JValue, lambda v: v.value)),
        "Name": prop((JProperty, lambda v: v.name)),
        "Keys": prop((dict, lambda v: CsList(v.keys())), (JObject, lambda v: CsList(v.items.keys()))),
        "Values": prop((dict, lambda v: CsList(v.values()))),
        "Type": prop((JToken, lambda v: v.type_name)),
        "HasValues": prop((JToken, lambda v: v.has_values)),
        "First": prop((JArray, lambda v: v.values[0] if v.values else None),
                      (JObject, lambda v: next(iter(v), None))),
        "Last": prop((JArray, lambda v: v.values[-1] if v.values else None)),
        "Year": prop((datetime, lambda v: v.year)), "Month": prop((datetime, lambda v: v.month)),
        "Day": prop((datetime, lambda v: v.day)), "Hour": prop((datetime, lambda v: v.hour)),
        "Minute": prop((datetime, lambda v: v.minute)), "Second": prop((datetime, lambda v: v.second)),
        "Millisecond": prop((datetime, lambda v: v.microsecond // 1000)),
        "Date": prop((datetime, lambda v: v.replace(hour=0, minute=0, second=0, microsecond=0))),
        "DayOfWeek": prop((datetime, lambda v: v.strftime("%A"))),
        "Ticks": prop((datetime, lambda v: int((v - datetime(1, 1, 1, tzinfo=v.tzinfo)).total_seconds() * 10_000_000)),
                      (timedelta, lambda v: int(v.total_seconds() * 10_000_000))),
        "TotalSeconds": prop((timedelta, lambda v: v.total_seconds())),
        "TotalMilliseconds": prop((timedelta, lambda v: v.total_seconds() * 1000.0)),
        "TotalMinutes": prop((timedelta, lambda v: v.total_seconds() / 60.0)),
        "TotalHours": prop((timedelta, lambda v: v.total_seconds() / 3600.0)),
        "TotalDays": prop((timedelta, lambda v: v.total_seconds() / 86400.0)),
        "Days": prop((timedelta, lambda v: v.days)),
        "Hours": prop((timedelta, lambda v: int(v.total_seconds() // 3600) % 24)),
        "Minutes": prop((timedelta, lambda v: int(v.total_seconds() // 60) % 60)),
        "Seconds": prop((timedelta, lambda v: int(v.total_seconds()) % 60)),
        "Milliseconds": prop((timedelta, lambda v: v.microseconds // 1000)),
        "Scheme": prop((Url, lambda v: v.scheme)), "Host": prop((Url, lambda v: v.host)),
        "Port": prop((Url, lambda v: v.port)), "Path": prop((Url, lambda v: v.path)),
        "QueryString": prop((Url, lambda v: f"?{v.query}" if v.query else "")),
        "Query": prop((Url, lambda v: v.query_dict())),
        "StatusCode": prop((Message, lambda v: v.status)), "StatusReason": prop((Message, lambda v: v.reason)),
        "Headers": prop((Message, lambda v: v.headers)), "Body": prop((Message, lambda v: v.body)),
        "Method": prop((Message, lambda v: v.method)), "Url": prop((Message, lambda v: v.url)),
        "Claims": prop((Jwt, lambda v: v.claim_dict())),
        "Subject": prop((Jwt, lambda v: v.claims.get("sub"))), "Issuer": prop((Jwt, lambda v: v.claims.get("iss"))),
        "Id": prop((Jwt, lambda v: v.claims.get("jti"))),
        "Audiences": prop((Jwt, lambda v: CsList(v.claims.get("aud") if isinstance(v.claims.get("aud"), list)
                                                  else [v.claims.get("aud")]))),
        "Success": prop((re.Match, lambda v: True)),
        "Groups": prop((re.Match, lambda v: CsList([v.group(0), *v.groups()]))),
    }


MEMBERS: dict[str, Callable[[Any], Any]] = _member_table()
MEMBER_NAMES = frozenset(MEMBERS)


def get_member(value: Any, name: str) -> Any:
    """``value.name`` for a runtime value."""
    if value is None:
        raise CsError(NULL_REFERENCE)
    return MEMBERS[name](value)


def index(value: Any, key: Any) -> Any:
    """``value[key]``: JObject by name (null when missing), arrays and strings by position, dictionaries by key."""
    if value is None:
        raise CsError(NULL_REFERENCE)
    key = unwrap(key)
    if isinstance(value, JObject):
        if not isinstance(key, str):
            raise CsError("Accessed JObject values with invalid key value. Object property name expected.")
        return value.get(key)
    if isinstance(value, JArray):
        return _positional(value.values, key)
    if isinstance(value, (list, str)):
        return _positional(value, key)
    if isinstance(value, dict):
        if key not in value:
            raise CsError(f"The given key '{key}' was not present in the dictionary.")
        return value[key]
    raise CsError(f"Cannot apply indexing with [] to an expression of type '{type_name(value)}'")


def _positional(items: Any, key: Any) -> Any:
    if type(key) is not int:
        raise CsError("Index must be an integer.")
    if not 0 <= key < len(items):
        raise CsError("Index was out of range. Must be non-negative and less than the size of the collection.")
    return items[key]


def set_index(value: Any, key: Any, item: Any) -> None:
    """``value[key] = item`` (JObject, JArray, arrays, dictionaries)."""
    if value is None:
        raise CsError(NULL_REFERENCE)
    if isinstance(value, JObject):
        value.set(str(unwrap(key)), item)
    elif isinstance(value, JArray):
        _positional(value.values, key)
        value.values[key] = jtoken.to_token(item)
    elif isinstance(value, list):
        _positional(value, key)
        value[key] = item
    elif isinstance(value, dict):
        value[key] = item
    else:
        raise CsError(f"Cannot assign to an index of '{type_name(value)}'")


def _linq(items: Any) -> list[Any]:
    return list(_truthy_collection(items))


def _call_fn(fn: Any, *args: Any) -> Any:
    if not callable(fn):
        raise CsError("a lambda expression was expected")
    return fn(*args)


def _first(items: Any, args: tuple[Any, ...], default: bool) -> Any:
    for item in _linq(items):
        if not args or to_bool(_call_fn(args[0], item)):
            return item
    if default:
        return None
    raise CsError("Sequence contains no matching element")


def _string_method(fn: Callable[..., Any]) -> Callable[..., Any]:
    def run(recv: Any, *args: Any) -> Any:
        if type(recv) is not str:
            raise CsError(f"'{type_name(recv)}' does not contain this method")
        return fn(recv, *args)
    return run


def _comparison_folds(args: tuple[Any, ...]) -> bool:
    return bool(args) and isinstance(args[-1], str) and args[-1].endswith("IgnoreCase")


def _str_equals(recv: Any, other: Any, *mode: Any) -> bool:
    if isinstance(recv, str) and isinstance(other, str) and _comparison_folds(mode):
        return recv.lower() == other.lower()
    return equals(recv, other) and type(unwrap(recv)) is type(unwrap(other))


def _split(recv: str, *args: Any) -> CsList:
    separators: list[str] = []
    count = None
    remove_empty = False
    for arg in args:
        if isinstance(arg, list):
            separators.extend(str(s) for s in arg)
        elif isinstance(arg, str) and arg in ("None", "RemoveEmptyEntries", "TrimEntries"):
            remove_empty = remove_empty or arg == "RemoveEmptyEntries"
        elif isinstance(arg, str):
            separators.append(arg)
        elif type(arg) is int:
            count = arg
    if not separators:
        parts = recv.split()
    else:
        pattern = "|".join(re.escape(s) for s in separators)
        parts = re.split(pattern, recv, maxsplit=(count - 1) if count else 0)
    if remove_empty:
        parts = [p for p in parts if p]
    return CsList(parts)


def _add(recv: Any, *args: Any) -> None:
    if isinstance(recv, JObject):
        if len(args) == 2:
            recv.add(JProperty(str(args[0]), args[1]))
        else:
            recv.add(args[0])
    elif isinstance(recv, JArray):
        recv.values.append(jtoken.to_token(args[0]))
    elif isinstance(recv, list):
        recv.append(args[0])
    elif isinstance(recv, dict):
        if args[0] in recv:
            raise CsError("An item with the same key has already been added.")
        recv[args[0]] = args[1]
    else:
        raise CsError(f"'{type_name(recv)}' does not contain a definition for 'Add'")
    return None


def _value_of(recv: Any, type_args: tuple[str, ...], *args: Any) -> Any:
    token = recv if not args else index(recv, args[0])
    if token is None:
        return None
    target = type_args[0] if type_args else "object"
    if target == "object":
        return unwrap(token)
    return convert(token, target)


def _contains(recv: Any, item: Any, *rest: Any) -> bool:
    if isinstance(recv, str):
        if item is None:
            raise CsError("Value cannot be null. (Parameter 'value')")
        return item.lower() in recv.lower() if _comparison_folds(rest) else item in recv
    return any(equals(x, item) for x in _linq(recv))


def _get_value_or_default(recv: Any, key: Any, default: Any = None) -> Any:
    if not isinstance(recv, dict):
        raise CsError(f"'{type_name(recv)}' does not contain a definition for 'GetValueOrDefault'")
    return recv.get(key, default)


def _to_string_method(recv: Any, *args: Any) -> str:
    return to_string(recv, args[0] if args else None)


def _parse_int(text: Any) -> int:
    try:
        return int(str(unwrap(text)).strip())
    except ValueError:
        raise CsError(f"The input string '{text}' was not in a correct format.") from None


def _add_time(unit: str) -> Callable[..., Any]:
    def run(recv: Any, amount: Any) -> Any:
        if not isinstance(recv, datetime):
            raise CsError(f"'{type_name(recv)}' does not contain this method")
        return recv + timedelta(**{unit: float(unwrap(amount))})
    return run


# Methods by name: fn(receiver, *args) (type arguments via `TYPED_METHODS`).
METHODS: dict[str, Callable[..., Any]] = {
    "ToString": _to_string_method,
    "Equals": _str_equals,
    "GetHashCode": lambda recv: hash(recv) & 0x7FFFFFFF,
    "Contains": _contains,
    "StartsWith": _string_method(lambda s, x, *m: s.lower().startswith(x.lower()) if _comparison_folds(m) else s.startswith(x)),
    "EndsWith": _string_method(lambda s, x, *m: s.lower().endswith(x.lower()) if _comparison_folds(m) else s.endswith(x)),
    "ToLower": _string_method(str.lower), "ToUpper": _string_method(str.upper),
    "ToLowerInvariant": _string_method(str.lower), "ToUpperInvariant": _string_method(str.upper),
    "Trim": _string_method(lambda s, *c: s.strip("".join(c)) if c else s.strip()),
    "TrimStart": _string_method(lambda s, *c: s.lstrip("".join(c)) if c else s.lstrip()),
    "TrimEnd": _string_method(lambda s, *c: s.rstrip("".join(c)) if c else s.rstrip()),
    "Substring": _string_method(lambda s, start, length=None: _substring(s, start, length)),
    "IndexOf": _string_method(lambda s, x, *rest: s.find(x)),
    "LastIndexOf": _string_method(lambda s, x, *rest: s.rfind(x)),
    "Replace": _string_method(lambda s, old, new: s.replace(old, "" if new is None else new)),
    "Split": _string_method(_split),
    "PadLeft": _string_method(lambda s, n, c=" ": s.rjust(n, c)),
    "PadRight": _string_method(lambda s, n, c=" ": s.ljust(n, c)),
    "Add": _add,
    "Remove": lambda recv, key: recv.items.pop(key, None) is not None if isinstance(recv, JObject)
    else _remove_from(recv, key),
    "ContainsKey": lambda recv, key: key in (recv.items if isinstance(recv, JObject) else recv),
    "TryGetValue": lambda recv, key: (_ for _ in ()).throw(CsError("out arguments are not supported")),
    "GetValueOrDefault": _get_value_or_default,
    "Property": lambda recv, name: JProperty(name, recv.items[name]) if isinstance(recv, JObject) and name in recv.items
    else None,
    "SelectToken": lambda recv, path: _select_token(recv, path),
    "Any": lambda recv, *fn: any(to_bool(_call_fn(fn[0], x)) for x in _linq(recv)) if fn else bool(_linq(recv)),
    "All": lambda recv, fn: all(to_bool(_call_fn(fn, x)) for x in _linq(recv)),
    "Where": lambda recv, fn: CsList(x for x in _linq(recv) if to_bool(_call_fn(fn, x))),
    "Select": lambda recv, fn: CsList(_call_fn(fn, x) for x in _linq(recv)),
    "SelectMany": lambda recv, fn: CsList(y for x in _linq(recv) for y in _linq(_call_fn(fn, x))),
    "First": lambda recv, *fn: _first(recv, fn, False),
    "FirstOrDefault": lambda recv, *fn: _first(recv, fn, True),
    "Last": lambda recv, *fn: _first(CsList(reversed(_linq(recv))), fn, False),
    "LastOrDefault": lambda recv, *fn: _first(CsList(reversed(_linq(recv))), fn, True),
    "Count": lambda recv, *fn: sum(1 for x in _linq(recv) if not fn or to_bool(_call_fn(fn[0], x))),
    "Sum": lambda recv, *fn: sum(unwrap(_call_fn(fn[0], x) if fn else x) for x in _linq(recv)),
    "Max": lambda recv, *fn: max(unwrap(_call_fn(fn[0], x) if fn else x) for x in _linq(recv)),
    "Min": lambda recv, *fn: min(unwrap(_call_fn(fn[0], x) if fn else x) for x in _linq(recv)),
    "OrderBy": lambda recv, fn: CsList(sorted(_linq(recv), key=lambda x: _sort_key(_call_fn(fn, x)))),
    "OrderByDescending": lambda recv, fn: CsList(sorted(_linq(recv), key=lambda x: _sort_key(_call_fn(fn, x)),
                                                        reverse=True)),
    "Distinct": lambda recv: CsList(dict.fromkeys(_linq(recv))),
    "Skip": lambda recv, n: CsList(_linq(recv)[n:]),
    "Take": lambda recv, n: CsList(_linq(recv)[:n]),
    "Reverse": lambda recv: CsList(reversed(_linq(recv))),
    "ToArray": lambda recv: CsList(_linq(recv)),
    "ToList": lambda recv: CsList(_linq(recv)),
    "Children": lambda recv: CsList(_linq(recv)),
    "AddDays": _add_time("days"), "AddHours": _add_time("hours"), "AddMinutes": _add_time("minutes"),
    "AddSeconds": _add_time("seconds"), "AddMilliseconds": _add_time("milliseconds"),
    "Next": lambda recv, *bounds: _random_next(recv, bounds),
    "NextDouble": lambda recv: _random_of(recv).random(),
    "ComputeHash": lambda recv, data: _typed(recv, Hasher).compute(data),
    "GetBytes": lambda recv, text: _typed(recv, Utf8Encoding) and str(text).encode("utf-8"),
    "GetString": lambda recv, data: _typed(recv, Utf8Encoding) and bytes(data).decode("utf-8", "replace"),
    "Dispose": lambda recv: None,
}


def _typed(recv: Any, cls: type) -> Any:
    if not isinstance(recv, cls):
        raise CsError(f"'{type_name(recv)}' does not contain this method")
    return recv
# Methods that take type arguments: fn(receiver, type_args, *args).
TYPED_METHODS: dict[str, Callable[..., Any]] = {
    "Value": _value_of,
    "As": lambda recv, type_args, *args: _body_as(recv, type_args, args),
    "ToObject": lambda recv, type_args: convert(recv, type_args[0] if type_args else "object"),
}
METHOD_NAMES = frozenset(METHODS) | frozenset(TYPED_METHODS)


def _remove_from(recv: Any, key: Any) -> bool:
    if isinstance(recv, dict):
        return recv.pop(key, None) is not None
    if isinstance(recv, list) and key in recv:
        recv.remove(key)
        return True
    return False


def _sort_key(value: Any) -> Any:
    value = unwrap(value)
    return (value is not None, value)


def _substring(s: str, start: int, length: int | None) -> str:
    end = len(s) if length is None else start + length
    if start < 0 or start > len(s) or end > len(s) or end < start:
        raise CsError("Index and length must refer to a location within the string.")
    return s[start:end]


def _select_token(recv: Any, path: str) -> Any:
    token = recv
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path.lstrip("$.")):
        if token is None:
            return None
        token = index(token, int(part[1:-1])) if part.startswith("[") else (
            token.get(part) if isinstance(token, JObject) else None)
    return token


def _random_of(recv: Any) -> random.Random:
    if not isinstance(recv, random.Random):
        raise CsError(f"'{type_name(recv)}' does not contain this method")
    return recv


def _random_next(recv: Any, bounds: tuple[Any, ...]) -> int:
    rng = _random_of(recv)
    low, high = (0, bounds[0]) if len(bounds) == 1 else (bounds if bounds else (0, 2**31 - 1))
    if high <= low:
        return low
    return rng.randrange(low, high)


def _body_as(recv: Any, type_args: tuple[str, ...], args: tuple[Any, ...]) -> Any:
    if not isinstance(recv, Body):
        raise CsError(f"'{type_name(recv)}' does not contain a definition for 'As'")
    if not type_args or type_args[0] not in ("string", "String", "JObject", "JArray", "JToken", "byte[]"):
        raise CsError("As<T>: T must be string, byte[], JObject, JArray or JToken")
    return recv.as_type(type_args[0], bool(args[0]) if args else False)


def call_method(recv: Any, name: str, type_args: tuple[str, ...], args: tuple[Any, ...]) -> Any:
    """``recv.name<type_args>(args)`` for a runtime value."""
    if recv is None:
        raise CsError(NULL_REFERENCE)
    if name in TYPED_METHODS:
        return TYPED_METHODS[name](recv, type_args, *args)
    return METHODS[name](recv, *args)


# -- static members and constructors ---------------------------------------------------------------


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _concat(*args: Any) -> str:
    if len(args) == 1 and isinstance(args[0], list):
        args = tuple(args[0])
    return "".join("" if a is None else display(a) for a in args)


def _join(separator: Any, *values: Any) -> str:
    if len(values) == 1 and isinstance(values[0], (list, JArray)):
        values = tuple(values[0])
    return display(separator).join("" if v is None else display(v) for v in values)


def _convert_to_int(value: Any) -> int:
    value = unwrap(value)
    if value is None:
        return 0
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        return int(round(value))  # Convert.ToInt32 rounds half to even, like Python's round
    if isinstance(value, int):
        return value
    return _parse_int(value)


def _math_round(value: Any, digits: int = 0, *mode: Any) -> float:
    value = float(unwrap(value))
    if mode and mode[0] == "AwayFromZero":
        scaled = abs(value) * 10**digits
        return math.copysign(math.floor(scaled + 0.5) / 10**digits, value)
    return round(value, digits)


def _timespan(unit: str) -> Callable[[Any], timedelta]:
    return lambda amount: timedelta(**{unit: float(unwrap(amount))})


def _regex_options(args: tuple[Any, ...]) -> int:
    flags = 0
    for arg in args:
        if isinstance(arg, str) and "IgnoreCase" in arg:
            flags |= re.IGNORECASE
        if isinstance(arg, str) and "Multiline" in arg:
            flags |= re.MULTILINE
    return flags


def _regex(pattern: Any, flags: int) -> re.Pattern[str]:
    try:
        return re.compile(str(pattern), flags)
    except re.error as exc:
        raise CsError(f"Invalid pattern '{pattern}': {exc}") from None


def _regex_match(text: Any, pattern: Any, *options: Any) -> Any:
    return _regex(pattern, _regex_options(options)).search(str(text))


def _regex_replace(text: Any, pattern: Any, replacement: Any, *options: Any) -> str:
    compiled = _regex(pattern, _regex_options(options))
    return compiled.sub(lambda m: re.sub(r"\$(\d+)", lambda g: m.group(int(g.group(1))) or "", str(replacement)),
                        str(text))


def _parse_datetime(text: Any) -> datetime:
    try:
        value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise CsError(f"String '{text}' was not recognized as a valid DateTime.") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _string_is_null_or_whitespace(value: Any) -> bool:
    return value is None or not str(value).strip()


# "Class.Member" → a constant (a zero-argument callable evaluated on each read) or a function.
STATIC_PROPERTIES: dict[str, Callable[[], Any]] = {
    "string.Empty": lambda: "", "String.Empty": lambda: "",
    "DateTime.UtcNow": _utcnow, "DateTime.Now": _utcnow, "DateTime.Today": lambda: _utcnow().replace(
        hour=0, minute=0, second=0, microsecond=0),
    "DateTime.MinValue": lambda: datetime(1, 1, 1, tzinfo=UTC),
    "DateTime.MaxValue": lambda: datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    "DateTimeOffset.UtcNow": _utcnow, "DateTimeOffset.Now": _utcnow,
    "TimeSpan.Zero": lambda: timedelta(0),
    "Guid.Empty": lambda: uuid.UUID(int=0),
    "Math.PI": lambda: math.pi, "Math.E": lambda: math.e,
    "int.MaxValue": lambda: 2**31 - 1, "int.MinValue": lambda: -(2**31),
    "Int32.MaxValue": lambda: 2**31 - 1, "Int32.MinValue": lambda: -(2**31),
    "JTokenType.Null": lambda: "Null", "JTokenType.Object": lambda: "Object", "JTokenType.Array": lambda: "Array",
    "JTokenType.String": lambda: "String", "JTokenType.Integer": lambda: "Integer",
    "JTokenType.Float": lambda: "Float", "JTokenType.Boolean": lambda: "Boolean",
    "JTokenType.Undefined": lambda: "Undefined",
    "StringComparison.OrdinalIgnoreCase": lambda: "OrdinalIgnoreCase",
    "StringComparison.Ordinal": lambda: "Ordinal",
    "StringComparison.InvariantCultureIgnoreCase": lambda: "InvariantCultureIgnoreCase",
    "StringComparison.CurrentCultureIgnoreCase": lambda: "CurrentCultureIgnoreCase",
    "StringSplitOptions.None": lambda: "None", "StringSplitOptions.RemoveEmptyEntries": lambda: "RemoveEmptyEntries",
    "StringSplitOptions.TrimEntries": lambda: "TrimEntries",
    "RegexOptions.IgnoreCase": lambda: "IgnoreCase", "RegexOptions.None": lambda: "None",
    "RegexOptions.Multiline": lambda: "Multiline",
    "MidpointRounding.AwayFromZero": lambda: "AwayFromZero", "MidpointRounding.ToEven": lambda: "ToEven",
    "Formatting.None": lambda: "None", "Formatting.Indented": lambda: "Indented",
    "Encoding.UTF8": Utf8Encoding,
}
STATIC_METHODS: dict[str, Callable[..., Any]] = {
    "string.IsNullOrEmpty": lambda v: v is None or v == "", "String.IsNullOrEmpty": lambda v: v is None or v == "",
    "string.IsNullOrWhiteSpace": _string_is_null_or_whitespace,
    "String.IsNullOrWhiteSpace": _string_is_null_or_whitespace,
    "string.Concat": _concat, "String.Concat": _concat,
    "string.Join": _join, "String.Join": _join,
    "string.Format": lambda fmt, *args: re.sub(r"\{(\d+)\}", lambda m: display(args[int(m.group(1))]), str(fmt)),
    "string.Equals": lambda a, b, *mode: a == b if not _comparison_folds(mode) else (
        a is not None and b is not None and a.lower() == b.lower()),
    "String.Equals": lambda a, b, *mode: a == b if not _comparison_folds(mode) else (
        a is not None and b is not None and a.lower() == b.lower()),
    "string.Compare": lambda a, b, *mode: (a > b) - (a < b),
    "int.Parse": _parse_int, "Int32.Parse": _parse_int, "long.Parse": _parse_int,
    "double.Parse": lambda v: float(str(unwrap(v))), "bool.Parse": lambda v: {"true": True, "false": False}[
        str(v).strip().lower()],
    "Convert.ToInt32": _convert_to_int, "Convert.ToInt64": _convert_to_int,
    "Convert.ToDouble": lambda v: float(unwrap(v)), "Convert.ToBoolean": lambda v: to_bool(v) if not isinstance(
        unwrap(v), str) else {"true": True, "false": False}[unwrap(v).strip().lower()],
    "Convert.ToString": lambda v, *rest: "" if v is None else display(v),
    "Convert.ToBase64String": lambda data: __import__("base64").b64encode(bytes(data)).decode("ascii"),
    "Convert.FromBase64String": lambda text: CsList(__import__("base64").b64decode(str(text))),
    "Math.Round": _math_round, "Math.Max": lambda a, b: max(unwrap(a), unwrap(b)),
    "Math.Min": lambda a, b: min(unwrap(a), unwrap(b)), "Math.Abs": lambda a: abs(unwrap(a)),
    "Math.Floor": lambda a: float(math.floor(unwrap(a))), "Math.Ceiling": lambda a: float(math.ceil(unwrap(a))),
    "Math.Pow": lambda a, b: float(unwrap(a)) ** float(unwrap(b)), "Math.Sqrt": lambda a: math.sqrt(unwrap(a)),
    "Guid.NewGuid": uuid.uuid4, "Guid.Parse": lambda text: uuid.UUID(str(text)),
    "DateTime.Parse": _parse_datetime,
    "TimeSpan.FromSeconds": _timespan("seconds"), "TimeSpan.FromMinutes": _timespan("minutes"),
    "TimeSpan.FromHours": _timespan("hours"), "TimeSpan.FromDays": _timespan("days"),
    "TimeSpan.FromMilliseconds": _timespan("milliseconds"),
    "Regex.IsMatch": lambda text, pattern, *o: _regex_match(text, pattern, *o) is not None,
    "Regex.Match": _regex_match, "Regex.Replace": _regex_replace,
    "JObject.Parse": lambda text: jtoken.parse(text, JObject), "JArray.Parse": lambda text: jtoken.parse(text, JArray),
    "JToken.Parse": lambda text: jtoken.parse(text), "JObject.FromObject": lambda v: jtoken.to_token(v),
    "JToken.FromObject": lambda v: jtoken.to_token(v),
    "JsonConvert.SerializeObject": lambda value, *rest: jtoken.serialize(value),
    "JsonConvert.DeserializeObject": lambda text, *rest: jtoken.parse(text),
    "Uri.EscapeDataString": lambda text: urllib.parse.quote(str(text), safe="-_.~"),
    "Uri.UnescapeDataString": lambda text: urllib.parse.unquote(str(text)),
    "WebUtility.UrlEncode": lambda text: urllib.parse.quote_plus(str(text)),
    "WebUtility.UrlDecode": lambda text: urllib.parse.unquote_plus(str(text)),
    "BitConverter.ToString": lambda data: "-".join(f"{b:02X}" for b in bytes(data)),
    "SHA256.Create": lambda: Hasher(None),
}
# Namespace-qualified spellings real policies use (System.Uri.EscapeDataString, Newtonsoft.Json.Linq.JObject.Parse).
_QUALIFIERS = ("System.Text.RegularExpressions.", "System.Security.Cryptography.", "System.Text.", "System.Net.",
               "System.", "Newtonsoft.Json.Linq.", "Newtonsoft.Json.")
STATIC_CLASSES = frozenset(name.rsplit(".", 1)[0] for name in (*STATIC_PROPERTIES, *STATIC_METHODS))


def canonical_class(name: str) -> str:
    """``System.Uri`` → ``Uri``; unknown names are returned unchanged."""
    for prefix in _QUALIFIERS:
        if name.startswith(prefix) and name[len(prefix):] in STATIC_CLASSES | frozenset(CONSTRUCTORS):
            return name[len(prefix):]
    return name


def _new_jobject(*items: Any) -> JObject:
    obj = JObject()
    for item in items:
        for prop in (item if isinstance(item, list) else [item]):
            obj.add(prop)
    return obj


def _new_jarray(*items: Any) -> JArray:
    if len(items) == 1 and isinstance(items[0], (list, JArray)):
        items = tuple(items[0])
    return JArray([jtoken.to_token(i) for i in items])


CONSTRUCTORS: dict[str, Callable[..., Any]] = {
    "JObject": _new_jobject,
    "JArray": _new_jarray,
    "JProperty": lambda name, value: JProperty(str(name), value),
    "JValue": lambda value: JValue(unwrap(value)),
    "Random": lambda *seed: random.Random(*seed),
    "List": lambda *items: CsList(items[0]) if items else CsList(),
    "Dictionary": lambda *args: {},
    "TimeSpan": lambda *parts: timedelta(hours=parts[0], minutes=parts[1], seconds=parts[2]) if len(parts) == 3
    else timedelta(days=parts[0], hours=parts[1], minutes=parts[2], seconds=parts[3]),
    "DateTime": lambda y, mo, d, h=0, mi=0, s=0, *rest: datetime(y, mo, d, h, mi, s, tzinfo=UTC),
    "Guid": lambda text: uuid.UUID(str(text)),
    "Uri": lambda text: _parse_url(str(text)),
    "HMACSHA256": lambda key: Hasher(bytes(key)),
}


def _parse_url(text: str) -> Url:
    parts = urllib.parse.urlsplit(text)
    if not parts.scheme or not parts.hostname:
        raise CsError("Invalid URI: The format of the URI could not be determined.")
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme, 0)
    return Url(parts.scheme, parts.hostname, port, parts.path or "/", parts.query)


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
    return f"{type(exc).__name__}: {exc}"


def unbox(value: Any, target: str) -> Any:
    """A reference or unboxing cast of an ``object`` value: the runtime type must match (no conversions)."""
    if value is None:
        if target in _VALUE_TYPES:
            raise CsError(NULL_REFERENCE)
        return None
    check = RUNTIME_CHECKS.get(target)
    if check is not None and check(value):
        return _COERCE.get(target, _identity)(value)
    raise CsError(f"Unable to cast object of type '{type_name(value)}' to type '{target}'.")


# Result types of dynamic calls where they are fixed (for static checks downstream).
METHOD_RESULTS: dict[str, str] = {
    "ToString": "string", "ToLower": "string", "ToUpper": "string", "ToLowerInvariant": "string",
    "ToUpperInvariant": "string", "Trim": "string", "TrimStart": "string", "TrimEnd": "string",
    "Substring": "string", "Replace": "string", "PadLeft": "string", "PadRight": "string",
    "Contains": "bool", "StartsWith": "bool", "EndsWith": "bool", "Equals": "bool", "Any": "bool", "All": "bool",
    "ContainsKey": "bool", "IndexOf": "int", "LastIndexOf": "int", "Next": "int", "NextDouble": "double",
}
STATIC_RESULTS: dict[str, str] = {
    "string.Empty": "string", "String.Empty": "string", "int.MaxValue": "int", "int.MinValue": "int",
    "Int32.MaxValue": "int", "Int32.MinValue": "int", "Math.PI": "double", "Math.E": "double",
    "string.IsNullOrEmpty": "bool", "String.IsNullOrEmpty": "bool", "string.IsNullOrWhiteSpace": "bool",
    "String.IsNullOrWhiteSpace": "bool", "string.Concat": "string", "String.Concat": "string",
    "string.Join": "string", "String.Join": "string", "string.Format": "string", "string.Equals": "bool",
    "String.Equals": "bool", "int.Parse": "int", "Int32.Parse": "int", "Convert.ToInt32": "int",
    "Convert.ToString": "string", "Convert.ToDouble": "double", "Convert.ToBoolean": "bool", "Math.Round": "double",
    "Regex.IsMatch": "bool", "Regex.Replace": "string", "JsonConvert.SerializeObject": "string",
    "Uri.EscapeDataString": "string", "Uri.UnescapeDataString": "string", "double.Parse": "double",
    "bool.Parse": "bool", "Convert.ToBase64String": "string",
}
STATIC_NAMESPACES = frozenset({
    "System", "System.Text", "System.Text.RegularExpressions", "System.Net", "System.Linq", "System.Security",
    "System.Security.Cryptography", "System.Collections", "System.Collections.Generic", "Newtonsoft",
    "Newtonsoft.Json", "Newtonsoft.Json.Linq",
})
