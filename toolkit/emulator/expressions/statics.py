"""Static members, static methods and constructors of the .NET types policy expressions may name."""

from __future__ import annotations

import base64
import math
import random
import re
import sys
import unicodedata
import urllib.parse
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from . import dates, jtoken
from .dispatch import comparison_folds
from .dotnet import (ARGUMENT_NULL_S, CsChar, CsList, CsLong, Hasher, RegexMatch, Url, Utf8Encoding, convert_to_integer,
                     display, format_item, parse_double, parse_int, to_bool, unwrap)
from .cstypes import dotnet_type_name, to_lower, to_upper
from .errors import CsError, argument_null, emulator_limit
from .jtoken import JArray, JObject, JProperty, JValue

# -- static members and constructors ---------------------------------------------------------------


def _concat(*args: Any) -> str:
    if len(args) == 1 and isinstance(args[0], list):
        args = tuple(args[0])
    return "".join("" if a is None else display(a) for a in args)


def _join(separator: Any, *values: Any) -> str:
    if len(values) == 1 and isinstance(values[0], (list, JArray)):
        values = tuple(values[0])
    return display(separator).join("" if v is None else display(v) for v in values)




def _math_round(value: Any, *rest: Any) -> float:
    """``Math.Round(value[, digits][, mode])`` as .NET computes it: the value scaled by 10^digits in double
    arithmetic, rounded half to even (or away from zero), scaled back (Math.Round(4.35, 1) is 4.4 there, as
    4.35 * 10 is 43.5 in doubles; Python's round(4.35, 1) is 4.3)."""
    value = float(unwrap(value))
    digits = next((r for r in rest if type(r) is int), 0)
    away = any(r == "AwayFromZero" for r in rest)
    if not 0 <= digits <= 15:
        raise CsError("Rounding digits must be between 0 and 15, inclusive. (Parameter 'digits')")
    if math.isnan(value) or math.isinf(value):
        return value
    power = 10.0 ** digits  # 1.0 for no digits: multiplying and dividing by it change nothing
    scaled = value * power
    if away:  # .NET: Truncate(value + CopySign(0.49999999999999994, value))
        rounded = float(math.trunc(scaled + math.copysign(0.49999999999999994, scaled)))
    else:
        rounded = float(round(scaled))  # half to even, as .NET's default
    return rounded / power


def _math_abs(value: Any) -> Any:
    """``Math.Abs``: int.MinValue has no positive twin (OverflowException in .NET)."""
    value = unwrap(value)
    if (type(value) is int and value == -(2**31)) or (type(value) is CsLong and value == -(2**63)):
        raise CsError("Negating the minimum value of a twos complement number is invalid.")
    return CsLong(abs(value)) if type(value) is CsLong else abs(value)


def _math_extreme(pick: Callable[..., Any]) -> Callable[[Any, Any], Any]:
    """``Math.Max`` / ``Math.Min``: with a long operand the result is a long (C# picks the long overload)."""
    def run(a: Any, b: Any) -> Any:
        a, b = unwrap(a), unwrap(b)
        result = pick(a, b)
        return CsLong(result) if CsLong in (type(a), type(b)) and isinstance(result, int) else result
    return run


def _math_pow(base: float, exponent: float) -> float:
    """``Math.Pow`` in IEEE doubles: a negative base with a fractional exponent is NaN (Python gives a complex
    number), a result too large is infinity (Python raises)."""
    try:
        result = base**exponent
    except OverflowError:
        return math.copysign(math.inf, base) if exponent == int(exponent) and int(exponent) % 2 else math.inf
    except ZeroDivisionError:  # 0 ** negative
        return math.inf
    return math.nan if isinstance(result, complex) else float(result)


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


_FORMAT_ITEM = re.compile(r"\{\{|\}\}|\{(\d+)(?:,(-?\d+))?(?::([^}]*))?\}|[{}]")


def _string_format(fmt: str, args: tuple[Any, ...]) -> str:
    """``string.Format`` as .NET reads its format: ``{0}``, ``{0,5}`` / ``{0,-5}`` (alignment), ``{0:N2}`` (the
    value's ToString(format)), ``{{`` and ``}}``; an index past the arguments or a lone brace is a FormatException."""

    def item(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        if match.group(1) is None:
            raise CsError("Input string was not in a correct format.")
        position = int(match.group(1))
        if position >= len(args):
            raise CsError("Index (zero based) must be greater than or equal to zero and less than the size of the "
                          "argument list.")
        return format_item(args[position], match.group(3), int(match.group(2) or 0))

    return _FORMAT_ITEM.sub(item, fmt)


_DOTNET_NAMED = re.compile(r"\(\?<([A-Za-z_][A-Za-z0-9_]*)>|\\k<([A-Za-z_][A-Za-z0-9_]*)>")


def _regex(pattern: Any, flags: int) -> re.Pattern[str]:
    """A .NET pattern compiled: named groups ``(?<name>…)`` and back-references ``\\k<name>`` in Python's syntax."""
    text = _DOTNET_NAMED.sub(lambda m: f"(?P<{m.group(1)}>" if m.group(1) else f"(?P={m.group(2)})", str(pattern))
    try:
        return re.compile(text, flags)
    except re.error as exc:
        raise CsError(f"Invalid pattern '{pattern}': {exc}") from None


def _regex_match(text: Any, pattern: Any, *options: Any) -> RegexMatch:
    return RegexMatch(_regex(pattern, _regex_options(options)).search(str(text)))


_SUBSTITUTION = re.compile(r"\$(?:\$|&|(\d+)|\{([A-Za-z_][A-Za-z0-9_]*|\d+)\})")


def _regex_replace(text: Any, pattern: Any, replacement: Any, *options: Any) -> str:
    """``Regex.Replace`` with .NET's substitutions: ``$1``, ``${name}``, ``$&`` (the match) and ``$$`` (a ``$``)."""
    compiled = _regex(pattern, _regex_options(options))

    def substitute(match: re.Match[str]) -> str:
        def one(sub: re.Match[str]) -> str:
            token = sub.group(0)
            if token == "$$":
                return "$"
            if token == "$&":
                return match.group(0)
            ref = sub.group(1) or sub.group(2)
            key: int | str = int(ref) if ref.isdigit() else ref
            try:
                return match.group(key) or ""
            except (IndexError, re.error):  # no such group: .NET leaves the text as written
                return token
        return _SUBSTITUTION.sub(one, str(replacement))

    return compiled.sub(substitute, str(text))


def _parse_datetime(text: Any) -> datetime:
    text = unwrap(text)
    if text is None:
        raise CsError(ARGUMENT_NULL_S)
    return dates.parse(str(text), f"String '{text}' was not recognized as a valid DateTime.")


# Guid.Parse's formats (surrounding white space ignored): N (32 hex digits), D (8-4-4-4-12), B ({D}), P ((D)) and X
# ({0x8 hex digits,0x4,0x4,{0x2,...eight of them}}). Python's uuid.UUID takes more ("urn:uuid:", hyphens anywhere).
_HEX = "[0-9a-fA-F]"
_GUID_D = f"{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}"
_GUID_TEXT = re.compile(rf"{_HEX}{{32}}|{_GUID_D}|\{{{_GUID_D}\}}|\({_GUID_D}\)|\{{0[xX]{_HEX}{{1,8}},0[xX]{_HEX}{{1,4}},"
                        rf"0[xX]{_HEX}{{1,4}},\{{(?:0[xX]{_HEX}{{1,2}},){{7}}0[xX]{_HEX}{{1,2}}\}}\}}")


def _parse_guid(text: Any) -> uuid.UUID:
    text = unwrap(text)
    if text is None:
        raise CsError(argument_null("input"))
    trimmed = str(text).strip()
    if _GUID_TEXT.fullmatch(trimmed) is None:
        raise CsError("Guid should contain 32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).")
    if trimmed[:1] == "{" and "0x" in trimmed.lower():  # the X format: each field in hex, padded to its width
        fields = [int(part, 16) for part in re.findall(r"0[xX]([0-9a-fA-F]+)", trimmed)]
        return uuid.UUID(fields=(fields[0], fields[1], fields[2], fields[3], fields[4],
                                 int.from_bytes(bytes(fields[5:]), "big")))
    return uuid.UUID(trimmed.strip("{}()"))


def _convert_to_double(value: Any) -> float:
    """``Convert.ToDouble``: 0 of null (a missing JSON value), ``double.Parse`` of a text, a char is no number."""
    value = unwrap(value)
    if value is None:
        return 0.0
    if isinstance(value, str):
        if type(value) is CsChar:
            raise CsError("Invalid cast from 'Char' to 'Double'.")
        return parse_double(value)
    return float(value)


def _parse_bool(value: Any) -> bool:
    """``bool.Parse``: "True" or "False" in any case, white space and NUL characters around them ignored."""
    value = unwrap(value)
    if value is None:
        raise CsError(argument_null("value"))
    word = str(value).strip().strip("\x00").strip().lower()
    if word not in ("true", "false"):
        raise CsError(f"String '{value}' was not recognized as a valid Boolean.")
    return word == "true"


def _string_is_null_or_whitespace(value: Any) -> bool:
    return value is None or not str(value).strip()


def _char_of(value: Any, *index: Any) -> str:
    """``char.IsX(c)``'s char, or ``char.IsX(text, index)``'s character of text."""
    value = unwrap(value)
    if index:
        if not isinstance(value, str):
            raise CsError(f"Argument of type '{dotnet_type_name(value)}' where a string is expected.")
        at = _integer_argument(index[0])
        if not 0 <= at < len(value):
            raise CsError("Index was out of range. Must be non-negative and less than the size of the collection. "
                          "(Parameter 'index')")
        return value[at]
    if not isinstance(value, str) or len(value) != 1:
        raise CsError(f"Argument of type '{dotnet_type_name(value)}' where a char is expected.")
    return value


def _char_test(categories: str, extra: str = "") -> Callable[..., bool]:
    """A ``char.IsX`` test by Unicode general category (.NET's rule), plus the characters in ``extra``."""
    wanted = frozenset(categories.split())
    return lambda value, *index: (c := _char_of(value, *index)) in extra or unicodedata.category(c) in wanted


def _char_case(convert: Callable[[str], str]) -> Callable[[Any], CsChar]:
    """``char.ToUpper`` / ``ToLower`` (``convert``: `to_upper` / `to_lower`, one character to one)."""
    return lambda value: CsChar(convert(_char_of(value)))


# .NET's char tests (System.Char, Unicode general categories): IsWhiteSpace also takes the control characters
# \t \n \v \f \r, U+0085 and U+00A0; IsDigit is a decimal digit (Nd) of any script, as in .NET.
_CHAR_STATICS: dict[str, Callable[..., Any]] = {
    "IsDigit": _char_test("Nd"), "IsNumber": _char_test("Nd Nl No"), "IsLetter": _char_test("Lu Ll Lt Lm Lo"),
    "IsLetterOrDigit": _char_test("Lu Ll Lt Lm Lo Nd"), "IsUpper": _char_test("Lu"), "IsLower": _char_test("Ll"),
    "IsWhiteSpace": _char_test("Zs Zl Zp", "\t\n\v\f\r\x85\xa0"), "IsControl": _char_test("Cc"),
    "IsPunctuation": _char_test("Pc Pd Ps Pe Pi Pf Po"), "IsSymbol": _char_test("Sm Sc Sk So"),
    "ToUpper": _char_case(to_upper), "ToLower": _char_case(to_lower),
    "ToUpperInvariant": _char_case(to_upper), "ToLowerInvariant": _char_case(to_lower),
}


def _string_compare(a: Any, b: Any, mode: Any = None) -> int:
    """``string.Compare(a, b[, ignoreCase | StringComparison])`` by code point (the emulator compares strings
    ordinally; .NET's default is the culture's order): a null sorts first. StringComparison.Ordinal(IgnoreCase)
    gives .NET's ordinal result, the difference of the first differing characters (or of the lengths); the other
    modes their sign. Ignoring case compares each character's upper case, one for one, as OrdinalIgnoreCase does."""
    a, b = unwrap(a), unwrap(b)
    if a is None or b is None:
        return (a is not None) - (b is not None)
    a, b = str(a), str(b)
    if mode is True or comparison_folds((mode,)):
        a, b = to_upper(a), to_upper(b)
    if isinstance(mode, str) and mode.startswith("Ordinal"):
        differing = next(((x, y) for x, y in zip(a, b, strict=False) if x != y), None)
        return ord(differing[0]) - ord(differing[1]) if differing else len(a) - len(b)
    return (a > b) - (a < b)


# "Class.Member" → a constant (a zero-argument callable evaluated on each read) or a function.
STATIC_PROPERTIES: dict[str, Callable[[], Any]] = {
    "string.Empty": lambda: "", "String.Empty": lambda: "",
    "DateTime.UtcNow": lambda: dates.now("Utc"), "DateTime.Now": lambda: dates.now("Local"),
    "DateTime.Today": lambda: dates.now("Local").replace(hour=0, minute=0, second=0, microsecond=0),
    "DateTime.MinValue": lambda: datetime(1, 1, 1, tzinfo=dates.UNSPECIFIED),
    "DateTime.MaxValue": lambda: datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dates.UNSPECIFIED),
    "DateTimeOffset.UtcNow": dates.offset_now, "DateTimeOffset.Now": dates.offset_now,
    "DateTimeKind.Utc": lambda: "Utc", "DateTimeKind.Local": lambda: "Local",
    "DateTimeKind.Unspecified": lambda: "Unspecified",
    "TimeSpan.Zero": lambda: timedelta(0),
    "Guid.Empty": lambda: uuid.UUID(int=0),
    "Math.PI": lambda: math.pi, "Math.E": lambda: math.e,
    "int.MaxValue": lambda: 2**31 - 1, "int.MinValue": lambda: -(2**31),
    "Int32.MaxValue": lambda: 2**31 - 1, "Int32.MinValue": lambda: -(2**31),
    **{f"{cls}.{name}": (lambda v=value: CsLong(v)) for cls in ("long", "Int64")
       for name, value in (("MaxValue", 2**63 - 1), ("MinValue", -(2**63)))},
    **{f"{cls}.{name}": (lambda v=value: v) for cls in ("double", "Double")
       for name, value in (("MaxValue", sys.float_info.max), ("MinValue", -sys.float_info.max),
                           ("Epsilon", 5e-324), ("NaN", math.nan), ("PositiveInfinity", math.inf),
                           ("NegativeInfinity", -math.inf))},
    "JTokenType.Null": lambda: "Null", "JTokenType.Object": lambda: "Object", "JTokenType.Array": lambda: "Array",
    "JTokenType.String": lambda: "String", "JTokenType.Integer": lambda: "Integer",
    "JTokenType.Float": lambda: "Float", "JTokenType.Boolean": lambda: "Boolean",
    "JTokenType.Undefined": lambda: "Undefined", "JTokenType.Date": lambda: "Date", "JTokenType.Property": lambda: "Property",
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
    "string.Format": lambda fmt, *args: _string_format(str(fmt), args),
    "string.Equals": lambda a, b, *mode: a == b if not comparison_folds(mode) else (
        a is not None and b is not None and a.lower() == b.lower()),
    "String.Equals": lambda a, b, *mode: a == b if not comparison_folds(mode) else (
        a is not None and b is not None and a.lower() == b.lower()),
    "string.Compare": _string_compare, "String.Compare": _string_compare,
    **{f"{cls}.{name}": fn for name, fn in _CHAR_STATICS.items() for cls in ("char", "Char")},
    **{f"{cls}.{name}": (lambda v, test=test: test(_double_argument(v))) for cls in ("double", "Double")
       for name, test in (("IsNaN", math.isnan), ("IsInfinity", math.isinf), ("IsFinite", math.isfinite),
                          ("IsPositiveInfinity", lambda x: x == math.inf),
                          ("IsNegativeInfinity", lambda x: x == -math.inf))},
    "int.Parse": lambda v: parse_int(v), "Int32.Parse": lambda v: parse_int(v),
    "long.Parse": lambda v: CsLong(parse_int(v, 64)),
    "Int64.Parse": lambda v: CsLong(parse_int(v, 64)),
    "double.Parse": lambda v: parse_double(v), "bool.Parse": _parse_bool,
    "Convert.ToInt32": lambda v: convert_to_integer(v), "Convert.ToInt64": lambda v: CsLong(convert_to_integer(v, 64)),
    "Convert.ToDouble": _convert_to_double, "Convert.ToBoolean": lambda v: False if unwrap(v) is None else _parse_bool(v) if isinstance(unwrap(v), str) else to_bool(v),
    "Convert.ToString": lambda v, *rest: "" if v is None else display(v),
    "Convert.ToBase64String": lambda data: base64.b64encode(bytes(data)).decode("ascii"),
    "Convert.FromBase64String": lambda text: CsList(base64.b64decode(str(text))),
    "Math.Round": _math_round, "Math.Max": _math_extreme(max),
    "Math.Min": _math_extreme(min), "Math.Abs": _math_abs,
    "Math.Floor": lambda a: float(math.floor(unwrap(a))), "Math.Ceiling": lambda a: float(math.ceil(unwrap(a))),
    "Math.Pow": lambda a, b: _math_pow(float(unwrap(a)), float(unwrap(b))),
    "Math.Sqrt": lambda a: math.sqrt(x) if (x := float(unwrap(a))) >= 0 or math.isnan(x) else math.nan,
    "Guid.NewGuid": uuid.uuid4, "Guid.Parse": _parse_guid,
    "DateTime.Parse": _parse_datetime,
    "DateTime.SpecifyKind": lambda value, kind: dates.with_kind(_date_argument(value), _kind_argument(kind)),
    "DateTimeOffset.FromUnixTimeSeconds": lambda n: dates.from_unix_time(_integer_argument(n), timedelta(seconds=1)),
    "DateTimeOffset.FromUnixTimeMilliseconds": lambda n: dates.from_unix_time(_integer_argument(n),
                                                                              timedelta(milliseconds=1)),
    "TimeSpan.FromSeconds": _timespan("seconds"), "TimeSpan.FromMinutes": _timespan("minutes"),
    "TimeSpan.FromHours": _timespan("hours"), "TimeSpan.FromDays": _timespan("days"),
    "TimeSpan.FromMilliseconds": _timespan("milliseconds"),
    "Regex.IsMatch": lambda text, pattern, *o: _regex(pattern, _regex_options(o)).search(str(text)) is not None,
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


def _new_timespan(*parts: Any) -> timedelta:
    """``new TimeSpan(ticks)``, ``(hours, minutes, seconds)``, ``(days, hours, minutes, seconds[, milliseconds])``
    (ticks are 100 ns; the emulator keeps microseconds)."""
    values = [_integer_argument(part) for part in parts]
    if not values:  # new TimeSpan(): TimeSpan.Zero
        return timedelta(0)
    if len(values) == 1:
        ticks = values[0]
        return timedelta(microseconds=ticks // 10 if ticks >= 0 else -(-ticks // 10))  # toward zero
    if len(values) == 3:
        return timedelta(hours=values[0], minutes=values[1], seconds=values[2])
    if len(values) in (4, 5):
        days, hours, minutes, seconds, milliseconds = (*values, 0)[:5]
        return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds, milliseconds=milliseconds)
    raise _no_constructor("TimeSpan", len(values), (6,))


def _new_datetime(*parts: Any) -> datetime:
    """``new DateTime(ticks)``, ``(year, month, day[, hour, minute, second[, millisecond]])``: kind Unspecified."""
    values = [_integer_argument(part) for part in parts]
    if not values:  # new DateTime(): DateTime.MinValue
        return datetime(1, 1, 1, tzinfo=dates.UNSPECIFIED)
    if len(values) == 1:
        if not 0 <= values[0] <= _MAX_TICKS:
            raise CsError("Ticks must be between DateTime.MinValue.Ticks and DateTime.MaxValue.Ticks. (Parameter 'ticks')")
        return datetime(1, 1, 1, tzinfo=dates.UNSPECIFIED) + timedelta(microseconds=values[0] // 10)
    if len(values) not in (3, 6, 7):
        raise _no_constructor("DateTime", len(values), (2, 4, 8, 9))  # with a DateTimeKind, Calendar, microseconds
    year, month, day, hour, minute, second, millisecond = (*values, 0, 0, 0, 0)[:7]
    if not (0 <= hour < 24 and 0 <= minute < 60 and 0 <= second < 60):
        raise CsError("Hour, Minute, and Second parameters describe an un-representable DateTime.")
    if not 0 <= millisecond < 1000:
        raise CsError("Valid values are between 0 and 999, inclusive. (Parameter 'millisecond')")
    try:
        return datetime(year, month, day, hour, minute, second, millisecond * 1000, tzinfo=dates.UNSPECIFIED)
    except ValueError:
        raise CsError("Year, Month, and Day parameters describe an un-representable DateTime.") from None


_MAX_TICKS = 3_155_378_975_999_999_999  # DateTime.MaxValue.Ticks


def _no_constructor(type_: str, count: int, dotnet_only: tuple[int, ...]) -> CsError:
    """A constructor call the emulator cannot run: its limit when .NET has that overload, else C#'s error."""
    if count in dotnet_only:
        return CsError(emulator_limit(f"new {type_} with {count} arguments"))
    return CsError(f"'{type_}' does not contain a constructor that takes {count} arguments")


def _integer_argument(value: Any) -> int:
    value = unwrap(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise CsError(f"Argument of type '{dotnet_type_name(value)}' where an integer is expected.")
    return int(value)


def _double_argument(value: Any) -> float:
    value = unwrap(value)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise CsError(f"Argument of type '{dotnet_type_name(value)}' where a double is expected.")
    return float(value)


def _date_argument(value: Any) -> datetime:
    value = unwrap(value)
    if not isinstance(value, datetime) or isinstance(value, dates.CsDateTimeOffset):
        raise CsError(f"Argument of type '{dotnet_type_name(value)}' where a DateTime is expected.")
    return value


def _kind_argument(value: Any) -> str:
    if value not in ("Utc", "Local", "Unspecified"):
        raise CsError(f"Argument of type '{dotnet_type_name(value)}' where a DateTimeKind is expected.")
    return str(value)


CONSTRUCTORS: dict[str, Callable[..., Any]] = {
    "JObject": _new_jobject,
    "JArray": _new_jarray,
    "JProperty": lambda name, value: JProperty(str(name), value),
    "JValue": lambda value: JValue(unwrap(value)),
    "Random": lambda *seed: random.Random(*seed),
    "List": lambda *items: CsList(items[0]) if items else CsList(),
    "Dictionary": lambda *args: {},
    "TimeSpan": _new_timespan,
    "DateTime": _new_datetime,
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




STATIC_RESULTS: dict[str, str] = {
    "string.Empty": "string", "String.Empty": "string", "int.MaxValue": "int", "int.MinValue": "int",
    "Int32.MaxValue": "int", "Int32.MinValue": "int", "Math.PI": "double", "Math.E": "double",
    **{f"{cls}.{name}": "double" for cls in ("double", "Double")
       for name in ("MaxValue", "MinValue", "Epsilon", "NaN", "PositiveInfinity", "NegativeInfinity")},
    **{f"{cls}.{name}": "bool" for cls in ("double", "Double")
       for name in ("IsNaN", "IsInfinity", "IsFinite", "IsPositiveInfinity", "IsNegativeInfinity")},
    "string.IsNullOrEmpty": "bool", "String.IsNullOrEmpty": "bool", "string.IsNullOrWhiteSpace": "bool",
    "String.IsNullOrWhiteSpace": "bool", "string.Concat": "string", "String.Concat": "string",
    "string.Join": "string", "String.Join": "string", "string.Format": "string", "string.Equals": "bool",
    "String.Equals": "bool", "int.Parse": "int", "Int32.Parse": "int", "Convert.ToInt32": "int",
    "Convert.ToString": "string", "Convert.ToDouble": "double", "Convert.ToBoolean": "bool", "Math.Round": "double",
    "Regex.IsMatch": "bool", "Regex.Replace": "string", "JsonConvert.SerializeObject": "string",
    "Uri.EscapeDataString": "string", "Uri.UnescapeDataString": "string", "double.Parse": "double",
    "bool.Parse": "bool", "Convert.ToBase64String": "string",
    **{f"{cls}.{name}": "bool" for name in _CHAR_STATICS if name.startswith("Is") for cls in ("char", "Char")},
}
STATIC_NAMESPACES = frozenset({
    "System", "System.Text", "System.Text.RegularExpressions", "System.Net", "System.Linq", "System.Security",
    "System.Security.Cryptography", "System.Collections", "System.Collections.Generic", "Newtonsoft",
    "Newtonsoft.Json", "Newtonsoft.Json.Linq",
})
