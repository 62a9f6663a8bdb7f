"""Members, methods and indexers of runtime (dynamic) values, by name: LINQ, strings, JSON, dates, ...

The names are data (`MEMBER_NAMES`, `METHOD_NAMES`): the compiler refuses any other name at
publish; a known name on a value that lacks it fails at evaluation like a RuntimeBinderException.
"""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from . import dates, jtoken
from .dotnet import (
    Body,
    CaughtException,
    CsChar,
    CsList,
    CsLong,
    GroupCollection,
    LongArray,
    RegexGroup,
    RegexMatch,
    Hasher,
    Jwt,
    KeyValue,
    Message,
    Url,
    Utf8Encoding,
    enumerate_items,
    convert,
    in_range,
    equals,
    to_bool,
    to_string,
    unwrap,
)
from .cstypes import CsDateTimeOffset, dotnet_type_name, to_lower, to_upper
from .errors import NULL_REFERENCE, CsError, argument_null, emulator_limit
from .jtoken import JArray, JObject, JProperty, JToken, JValue

# -- members and methods of runtime values ---------------------------------------------------------


def _enumerable_count(v: Any) -> int:
    if isinstance(v, JObject):
        return len(v.items)
    if isinstance(v, JArray):
        return len(v.values)
    if isinstance(v, (list, dict, str)):
        return len(v)
    raise CsError(f"'{dotnet_type_name(v)}' does not contain a definition for 'Count'")


def _date_kind(value: datetime) -> str:
    if type(value) is not datetime:
        raise CsError("'System.DateTimeOffset' does not contain a definition for 'Kind'")
    return dates.kind(value)


# An exception's members the emulator has no value for (it knows an exception by its message only).
_EXCEPTION_DETAILS = ("StackTrace", "InnerException", "Source", "HResult", "Data", "TargetSite", "HelpLink")


def _exception_detail(name: str) -> Callable[[Any], Any]:
    def refuse(_: Any) -> Any:
        raise CsError(emulator_limit(f"Exception.{name}"))
    return refuse


def _member_table() -> dict[str, Callable[[Any], Any]]:
    def prop(*cases: tuple[type | tuple[type, ...], Callable[[Any], Any]]) -> Callable[[Any], Any]:
        def get(v: Any) -> Any:
            for types, fn in cases:
                if isinstance(v, types):
                    return fn(v)
            raise CsError(f"'{dotnet_type_name(v)}' does not contain this member")
        return get

    return {
        "Length": prop(((str, list, bytes), len), (RegexGroup, lambda v: len(v.value))),
        "Count": _enumerable_count,
        "Key": prop((KeyValue, lambda v: v.key)),
        "Value": prop((KeyValue, lambda v: v.value), (JProperty, lambda v: v.value), (JValue, lambda v: json_boxed(v.value)),
                      (RegexGroup, lambda v: v.value)),
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
        "Date": prop((datetime, lambda v: (v if type(v) is datetime else dates.offset_part(v, "DateTime")).replace(
            hour=0, minute=0, second=0, microsecond=0))),
        "Kind": prop((datetime, _date_kind)),
        **{part: prop((datetime, lambda v, part=part: dates.offset_part(v, part)))
           for part in ("UtcDateTime", "LocalDateTime", "DateTime", "Offset")},
        "DayOfWeek": prop((datetime, lambda v: v.strftime("%A"))),
        "Ticks": prop((datetime, lambda v: _ticks(v - datetime(1, 1, 1, tzinfo=v.tzinfo))), (timedelta, _ticks)),
        "TotalSeconds": prop((timedelta, lambda v: v.total_seconds())),
        "TotalMilliseconds": prop((timedelta, lambda v: v.total_seconds() * 1000.0)),
        "TotalMinutes": prop((timedelta, lambda v: v.total_seconds() / 60.0)),
        "TotalHours": prop((timedelta, lambda v: v.total_seconds() / 3600.0)),
        "TotalDays": prop((timedelta, lambda v: v.total_seconds() / 86400.0)),
        "Days": prop((timedelta, lambda v: _span_part(v, 86_400_000_000, None))),
        "Hours": prop((timedelta, lambda v: _span_part(v, 3_600_000_000, 24))),
        "Minutes": prop((timedelta, lambda v: _span_part(v, 60_000_000, 60))),
        "Seconds": prop((timedelta, lambda v: _span_part(v, 1_000_000, 60))),
        "Milliseconds": prop((timedelta, lambda v: _span_part(v, 1_000, 1_000))),
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
        "Success": prop((RegexGroup, lambda v: v.success)),
        "Message": prop((CaughtException, lambda v: v.message)),
        **{name: prop((CaughtException, _exception_detail(name))) for name in _EXCEPTION_DETAILS},
        "Groups": prop((RegexMatch, lambda v: v.groups)),
        "Index": prop((RegexGroup, lambda v: v.start)),
    }


def _span_part(span: timedelta, unit_microseconds: int, modulus: int | None) -> int:
    """A TimeSpan component as .NET gives it: of the span's magnitude, with the span's sign (FromMinutes(-90) has
    Hours -1 and Minutes -30; Python's floor division gave 22 and 30)."""
    total = (span.days * 86_400 + span.seconds) * 1_000_000 + span.microseconds
    part = abs(total) // unit_microseconds
    part = part if modulus is None else part % modulus
    return -part if total < 0 else part


def _ticks(span: timedelta) -> CsLong:
    """A span's 100-ns ticks as a long, in integers (a double's 53 bits lost the last digits of a date's ticks)."""
    return CsLong(((span.days * 86_400 + span.seconds) * 1_000_000 + span.microseconds) * 10)


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
    if isinstance(value, GroupCollection):
        return value.get(key)
    if isinstance(value, str):
        return CsChar(_positional(value, key))  # a char: its code in arithmetic with numbers
    if isinstance(value, list):
        return _positional(value, key)
    if isinstance(value, dict):
        if key not in value:
            raise CsError(f"The given key '{key}' was not present in the dictionary.")
        return value[key]
    raise CsError(f"Cannot apply indexing with [] to an expression of type '{dotnet_type_name(value)}'")


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
        value[key] = convert(item, "long") if isinstance(value, LongArray) else item
    elif isinstance(value, dict):
        value[key] = item
    else:
        raise CsError(f"Cannot assign to an index of '{dotnet_type_name(value)}'")


def _linq(items: Any) -> list[Any]:
    return list(enumerate_items(items))


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
    @functools.wraps(fn)  # keeps fn's signature: the compiler checks a call's argument count against it
    def run(recv: Any, *args: Any) -> Any:
        if type(recv) is not str:
            raise CsError(f"'{dotnet_type_name(recv)}' does not contain this method")
        return fn(recv, *args)
    return run


def comparison_folds(args: tuple[Any, ...]) -> bool:
    return bool(args) and isinstance(args[-1], str) and args[-1].endswith("IgnoreCase")


def _str_equals(recv: Any, other: Any, *mode: Any) -> bool:
    if isinstance(recv, str) and isinstance(other, str) and comparison_folds(mode):
        return recv.lower() == other.lower()
    if type(recv) is CsDateTimeOffset and isinstance(other, datetime):  # Equals(DateTimeOffset): a DateTime converts
        return bool(recv == other)
    receiver, argument = unwrap(recv), unwrap(other)
    if type(receiver) is CsLong and type(argument) is int:  # Int64.Equals(Int64): the int converts (not the reverse)
        return bool(receiver == argument)
    return equals(recv, other) and _boxed_type(receiver) is _boxed_type(argument)


def _sum(values: list[Any]) -> Any:
    """``Enumerable.Sum``: chars as their codes; over longs a long, over ints an int (checked: past the type's range
    an OverflowException), else a double."""
    values = [ord(v) if type(v) is CsChar else v for v in values if v is not None]  # Sum of int? skips nulls
    if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        total = sum(values)
        if any(type(v) is CsLong for v in values):
            return CsLong(in_range(total, 64))
        return in_range(total, 32)
    return sum(values)


def _boxed_type(value: Any) -> type:
    """The type ``Equals`` compares (a char's Equals(char) takes a char literal, a one-character string here)."""
    return str if type(value) is CsChar else type(value)


def _split(recv: str, *args: Any) -> CsList:
    """``string.Split`` as .NET splits: no separator means each whitespace character (runs are not merged),
    ``count`` caps the parts (the last one keeps the rest; 1 keeps the whole string), TrimEntries trims each part
    and RemoveEmptyEntries then drops the empty ones."""
    separators: list[str] = []
    count = None
    remove_empty = trim = False
    for arg in args:
        if isinstance(arg, list):
            separators.extend(str(s) for s in arg)
        elif isinstance(arg, str) and arg in ("None", "RemoveEmptyEntries", "TrimEntries"):
            remove_empty = remove_empty or arg == "RemoveEmptyEntries"
            trim = trim or arg == "TrimEntries"
        elif isinstance(arg, str):
            separators.append(arg)
        elif type(arg) is int:
            count = arg
    if count is not None and count < 0:
        raise CsError("Count cannot be less than zero. (Parameter 'count')")
    if count == 0:
        return CsList()
    pattern = "|".join(re.escape(s) for s in separators) if separators else r"\s"
    parts = [recv] if count == 1 else re.split(pattern, recv, maxsplit=count - 1 if count else 0)
    if trim:
        parts = [part.strip() for part in parts]
    if remove_empty:
        parts = [part for part in parts if part]
    return CsList(parts)


def _index_of(s: str, value: Any, *rest: Any, last: bool = False) -> int:
    """``IndexOf(value[, startIndex[, count]][, comparison])`` and ``LastIndexOf``, start index included."""
    numbers = [r for r in rest if type(r) is int]
    haystack, needle = (s.lower(), str(value).lower()) if comparison_folds(rest) else (s, str(value))
    if not last:
        start = numbers[0] if numbers else 0
        end = start + numbers[1] if len(numbers) > 1 else len(s)
        if not 0 <= start <= end <= len(s):
            raise CsError("Index was out of range. Must be non-negative and less than the size of the collection.")
        return haystack.find(needle, start, end)
    start = numbers[0] if numbers else len(s) - 1  # LastIndexOf searches backward from startIndex
    if s and not 0 <= start < len(s):
        raise CsError("Index was out of range. Must be non-negative and less than the size of the collection.")
    return haystack.rfind(needle, 0, start + 1)


def _string_remove(s: str, start: Any, count: Any = None) -> str:
    """``string.Remove(startIndex[, count])``."""
    end = len(s) if count is None else start + count
    if not (0 <= start <= len(s) and start <= end <= len(s)):
        raise CsError("Index and count must refer to a location within the string.")
    return s[:start] + s[end:]


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
        raise CsError(f"'{dotnet_type_name(recv)}' does not contain a definition for 'Add'")
    return None


def _value_of(recv: Any, type_args: tuple[str, ...], *args: Any) -> Any:
    token = recv if not args else index(recv, args[0])
    if token is None:
        return None
    target = type_args[0] if type_args else "object"
    if target == "object":
        return unwrap(token)
    return convert(token, target)


def json_boxed(value: Any) -> Any:
    """A JSON value as Newtonsoft boxes it: an integer is an Int64 (`JValue.Value is long`), whatever its size."""
    return CsLong(value) if type(value) is int else value


def _contains(recv: Any, item: Any, *rest: Any) -> bool:
    if isinstance(recv, str):
        if item is None:
            raise CsError("Value cannot be null. (Parameter 'value')")
        return item.lower() in recv.lower() if comparison_folds(rest) else item in recv
    return any(equals(x, item) for x in _linq(recv))


def _get_value_or_default(recv: Any, key: Any, default: Any = None) -> Any:
    if not isinstance(recv, dict):
        raise CsError(f"'{dotnet_type_name(recv)}' does not contain a definition for 'GetValueOrDefault'")
    return recv.get(key, default)


def _to_string_method(recv: Any, *args: Any) -> str:
    return to_string(recv, args[0] if args else None)


def _add_time(unit: str) -> Callable[..., Any]:
    def run(recv: Any, amount: Any) -> Any:
        if not isinstance(recv, datetime):
            raise CsError(f"'{dotnet_type_name(recv)}' does not contain this method")
        return recv + timedelta(**{unit: float(unwrap(amount))})
    return run


# Methods by name: fn(receiver, *args) (type arguments via `TYPED_METHODS`).
METHODS: dict[str, Callable[..., Any]] = {
    "ToString": _to_string_method,
    "Equals": _str_equals,
    "GetHashCode": lambda recv: hash(recv) & 0x7FFFFFFF,
    "Contains": _contains,
    "StartsWith": _string_method(lambda s, x, *m: s.lower().startswith(x.lower()) if comparison_folds(m) else s.startswith(x)),
    "EndsWith": _string_method(lambda s, x, *m: s.lower().endswith(x.lower()) if comparison_folds(m) else s.endswith(x)),
    "ToLower": _string_method(to_lower), "ToUpper": _string_method(to_upper),
    "ToLowerInvariant": _string_method(to_lower), "ToUpperInvariant": _string_method(to_upper),
    "Trim": _string_method(lambda s, *c: s.strip("".join(c)) if c else s.strip()),
    "TrimStart": _string_method(lambda s, *c: s.lstrip("".join(c)) if c else s.lstrip()),
    "TrimEnd": _string_method(lambda s, *c: s.rstrip("".join(c)) if c else s.rstrip()),
    "Substring": _string_method(lambda s, start, length=None: _substring(s, start, length)),
    "IndexOf": _string_method(_index_of),
    "LastIndexOf": _string_method(lambda s, x, *rest: _index_of(s, x, *rest, last=True)),
    "Replace": _string_method(lambda s, old, new: s.replace(old, "" if new is None else new)),
    "Split": _string_method(_split),
    "PadLeft": _string_method(lambda s, n, c=" ": s.rjust(n, c)),
    "PadRight": _string_method(lambda s, n, c=" ": s.ljust(n, c)),
    "Add": _add,
    "Remove": lambda recv, key, *count: _string_remove(recv, key, *count) if type(recv) is str
    else recv.items.pop(key, None) is not None if isinstance(recv, JObject) else _remove_from(recv, key),
    "ContainsKey": lambda recv, key: key in (recv.items if isinstance(recv, JObject) else recv),
    "TryGetValue": lambda recv, key: (_ for _ in ()).throw(CsError("out arguments are not supported")),
    "GetValueOrDefault": _get_value_or_default,
    "GetValue": lambda recv, name, *mode: _get_json_value(recv, name, mode),
    "Clear": lambda recv: _clear(recv),
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
    "Sum": lambda recv, *fn: _sum([unwrap(_call_fn(fn[0], x) if fn else x) for x in _linq(recv)]),
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
    "ToUniversalTime": lambda recv: dates.to_universal(_typed(recv, datetime)),
    "ToLocalTime": lambda recv: dates.to_local(_typed(recv, datetime)),
    "ToUnixTimeSeconds": lambda recv: CsLong(dates.unix_time(_typed(recv, datetime), timedelta(seconds=1))),
    "ToUnixTimeMilliseconds": lambda recv: CsLong(dates.unix_time(_typed(recv, datetime), timedelta(milliseconds=1))),
    "Next": lambda recv, *bounds: _random_next(recv, bounds),
    "NextDouble": lambda recv: _random_of(recv).random(),
    "ComputeHash": lambda recv, data: _typed(recv, Hasher).compute(data),
    "GetBytes": lambda recv, text: _typed(recv, Utf8Encoding) and str(text).encode("utf-8"),
    "GetString": lambda recv, data: _typed(recv, Utf8Encoding) and bytes(data).decode("utf-8", "replace"),
    "Dispose": lambda recv: None,
}


def _typed(recv: Any, cls: type) -> Any:
    if not isinstance(recv, cls):
        raise CsError(f"'{dotnet_type_name(recv)}' does not contain this method")
    return recv
# Methods that take type arguments: fn(receiver, type_args, *args).
TYPED_METHODS: dict[str, Callable[..., Any]] = {
    "Value": _value_of,
    "As": lambda recv, type_args, *args: _body_as(recv, type_args, args),
    "ToObject": lambda recv, type_args: convert(recv, type_args[0] if type_args else "object"),
}
METHOD_NAMES = frozenset(METHODS) | frozenset(TYPED_METHODS)


def _clear(recv: Any) -> None:
    """``Clear()`` of a list, dictionary or JSON container."""
    target = recv.items if isinstance(recv, JObject) else recv.values if isinstance(recv, JArray) else recv
    if not isinstance(target, (list, dict)):
        raise CsError(f"'{dotnet_type_name(recv)}' does not contain a definition for 'Clear'")
    target.clear()


def _get_json_value(recv: Any, name: Any, mode: tuple[Any, ...]) -> Any:
    """``JObject.GetValue(name[, StringComparison])``: the property's token or null."""
    if not isinstance(recv, JObject):
        raise CsError(f"'{dotnet_type_name(recv)}' does not contain a definition for 'GetValue'")
    if comparison_folds(mode):
        return next((v for k, v in recv.items.items() if k.lower() == str(name).lower()), None)
    return recv.get(str(name))


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
        raise CsError(f"'{dotnet_type_name(recv)}' does not contain this method")
    return recv


def _random_next(recv: Any, bounds: tuple[Any, ...]) -> int:
    rng = _random_of(recv)
    low, high = (0, bounds[0]) if len(bounds) == 1 else (bounds if bounds else (0, 2**31 - 1))
    if high <= low:
        return low
    return rng.randrange(low, high)


def _body_as(recv: Any, type_args: tuple[str, ...], args: tuple[Any, ...]) -> Any:
    if not isinstance(recv, Body):
        raise CsError(f"'{dotnet_type_name(recv)}' does not contain a definition for 'As'")
    if type_args and type_args[0] in ("XNode", "XElement", "XDocument"):  # APIM reads a body as XML too
        raise CsError(emulator_limit(f"Body.As<{type_args[0]}>()"))
    if not type_args or type_args[0] not in ("string", "String", "JObject", "JArray", "JToken", "byte[]"):
        raise CsError("As<T>: T must be string, byte[], JObject, JArray, JToken, XNode, XElement or XDocument")
    return recv.as_type(type_args[0], bool(args[0]) if args else False)


# LINQ's extension methods: static methods of Enumerable, so a null source is an ArgumentNullException, where an
# instance method of null is a NullReferenceException.
LINQ_METHODS = frozenset({"Any", "All", "Where", "Select", "SelectMany", "First", "FirstOrDefault", "Last",
                          "LastOrDefault", "Count", "Sum", "Max", "Min", "OrderBy", "OrderByDescending", "Distinct",
                          "Skip", "Take", "Reverse", "ToArray", "ToList"})


def null_receiver(name: str) -> str:
    """The failure of ``null.name(...)``."""
    return argument_null("source") if name in LINQ_METHODS else NULL_REFERENCE


def call_method(recv: Any, name: str, type_args: tuple[str, ...], args: tuple[Any, ...]) -> Any:
    """``recv.name<type_args>(args)`` for a runtime value."""
    if recv is None:
        raise CsError(null_receiver(name))
    if name in TYPED_METHODS:
        return TYPED_METHODS[name](recv, type_args, *args)
    return METHODS[name](recv, *args)




# Result types of dynamic calls where they are fixed (for static checks downstream).
METHOD_RESULTS: dict[str, str] = {
    "ToString": "string", "ToLower": "string", "ToUpper": "string", "ToLowerInvariant": "string",
    "ToUpperInvariant": "string", "Trim": "string", "TrimStart": "string", "TrimEnd": "string",
    "Substring": "string", "Replace": "string", "PadLeft": "string", "PadRight": "string",
    "Contains": "bool", "StartsWith": "bool", "EndsWith": "bool", "Equals": "bool", "Any": "bool", "All": "bool",
    "ContainsKey": "bool", "IndexOf": "int", "LastIndexOf": "int", "Next": "int", "NextDouble": "double",
}
