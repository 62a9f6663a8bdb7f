"""C#'s operators and conversions on runtime values (toolkit.emulator.expressions.dotnet / formatting)."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

import pytest

from toolkit.emulator.expressions import ExpressionRuntimeError, UnsupportedExpression, compile_expression
from toolkit.emulator.expressions.dotnet import (CsLong, arithmetic, compare, convert, display, equals, to_bool,
                                                 unbox)
from toolkit.emulator.expressions.errors import CsError
from toolkit.emulator.expressions.formatting import format_datetime, format_number, timespan_text
from toolkit.emulator.expressions.jtoken import JObject, JValue


def _evaluated(source: str) -> object:
    """``source`` compiled and evaluated on the test request of tests/unit/emulator/test_expressions.py."""
    from tests.unit.emulator.test_expressions import ctx
    from toolkit.emulator.expressions import compile_expression

    return compile_expression(source).evaluate(ctx())


def _refused(source: str) -> UnsupportedExpression:
    """The refusal of ``source`` when it is compiled (published)."""
    with pytest.raises(UnsupportedExpression) as caught:
        compile_expression(source)
    return caught.value


@pytest.mark.parametrize(("op", "a", "b", "expected"), [
    ("/", 7, 2, 3), ("/", -7, 2, -3), ("/", 7, -2, -3), ("%", -7, 3, -1), ("%", 7, -3, 1),
    ("+", 2**31 - 1, 1, -(2**31)), ("*", 65536, 65536, 0), ("-", -(2**31), 1, 2**31 - 1),
    ("/", 7.0, 2, 3.5), ("+", "a", 1, "a1"), ("+", None, "b", "b"), ("+", 1, None, None),
    ("+", JValue(2), 3, 5), ("-", datetime(2024, 1, 2, tzinfo=UTC), datetime(2024, 1, 1, tzinfo=UTC), timedelta(days=1)),
])
def test_arithmetic(op: str, a: object, b: object, expected: object) -> None:
    assert arithmetic(op, a, b) == expected


def test_division_by_zero() -> None:
    with pytest.raises(CsError, match="divide by zero"):
        arithmetic("/", 1, 0)
    assert arithmetic("/", 1.0, 0) == math.inf and math.isnan(arithmetic("%", 1.0, 0))
    with pytest.raises(CsError, match="cannot be applied"):
        arithmetic("*", "a", 2)


@pytest.mark.parametrize(("op", "a", "b", "expected"), [
    ("<", 1, 2, True), ("<", 2, 2, False), ("<=", 2, 2, True), (">", 3, 2.5, True), (">=", 2, 3, False),
    ("<", None, 2, False), (">", 2, None, False), ("<", JValue(1), 2, True),
])
def test_compare(op: str, a: object, b: object, expected: bool) -> None:
    assert compare(op, a, b) is expected


@pytest.mark.parametrize(("a", "b"), [("a", "b"), (True, 1)])
def test_compare_refuses_what_csharp_refuses(a: object, b: object) -> None:
    with pytest.raises(CsError):
        compare("<", a, b)


@pytest.mark.parametrize(("a", "b", "expected"), [
    (None, None, True), (None, 0, False), (JValue("x"), "x", True), (True, 1, False), (1, 1.0, True),
    (JValue(None), None, False),
])
def test_equals(a: object, b: object, expected: bool) -> None:
    assert equals(a, b) is expected


def test_json_objects_compare_by_identity() -> None:
    one = JObject()
    assert equals(one, one) and not equals(one, JObject())


@pytest.mark.parametrize(("value", "target", "expected"), [
    (JValue("5"), "int", 5), (JValue(5), "string", "5"), (JValue(True), "bool", True), (JValue(None), "string", None),
    (JValue("true"), "Boolean", True), (JValue(2), "double", 2.0), (3, "Int32", 3), ("s", "String", "s"),
])
def test_convert(value: object, target: str, expected: object) -> None:
    assert convert(value, target) == expected


@pytest.mark.parametrize(("value", "target", "message"), [
    (JValue(None), "int", "Can not convert Null to Int32"), (JObject(), "string", "Can not convert Object to String"),
    (JValue("x"), "int", "The input string 'x' was not in a correct format"),  # Convert.ToInt32's FormatException
    ("s", "int", "Unable to cast"), (None, "int", "Object reference"),
])
def test_convert_failures(value: object, target: str, message: str) -> None:
    with pytest.raises(CsError, match=message):
        convert(value, target)


def test_unboxing_does_not_convert_json_values() -> None:
    with pytest.raises(CsError, match="Unable to cast"):
        unbox(JValue("x"), "string")
    assert unbox(None, "string") is None and unbox({"sub": "a"}, "Jwt").claims == {"sub": "a"}


def test_conditions_need_booleans() -> None:
    assert to_bool(JValue(True)) is True
    with pytest.raises(CsError, match="'bool'"):
        to_bool(1)


@pytest.mark.parametrize(("fmt", "expected"), [
    ("yyyyMMddTHHmmssZ", "20240305T070809Z"), ("yyyy-MM-dd", "2024-03-05"), ("o", "2024-03-05T07:08:09.0123450Z"),
    ("s", "2024-03-05T07:08:09"), ("G", "3/5/2024 7:08:09 AM"), ("'day' d", "day 5"), ("HH:mm tt", "07:08 AM"),
])
def test_date_formats(fmt: str, expected: str) -> None:
    assert format_datetime(datetime(2024, 3, 5, 7, 8, 9, 12345, tzinfo=UTC), fmt) == expected


@pytest.mark.parametrize(("fmt", "expected"), [
    ("MMM", "Mar"), ("MMMM", "March"), ("ddd", "Tue"), ("dddd", "Tuesday"), ("D", "Tuesday, March 5, 2024"),
    ("f", "Tuesday, March 5, 2024 7:08 AM"), ("F", "Tuesday, March 5, 2024 7:08:09 AM"), ("g", "3/5/2024 7:08 AM"),
    ("t", "7:08 AM"), ("T", "7:08:09 AM"), ("M", "March 5"), ("Y", "March 2024"), ("U", "Tuesday, March 5, 2024 7:08:09 AM"),
    ("R", "Tue, 05 Mar 2024 07:08:09 GMT"), ("ddd, dd MMM yyyy", "Tue, 05 Mar 2024"), ("ss.FFF", "09.012"),
    ("HH t", "07 A"), ("yy", "24"), ("zzz", "+00:00"), ("\\d 'MMM' \"M\"", "d MMM M"),
])
def test_date_names_and_every_standard_format_as_en_us_writes_them(fmt: str, expected: str) -> None:
    """Found by an audit: MMM and dddd gave '0303' and '0505', and "D", "T", "t" came back as the letter itself."""
    assert format_datetime(datetime(2024, 3, 5, 7, 8, 9, 12345, tzinfo=UTC), fmt) == expected


def test_a_zero_fraction_drops_its_f_digits_and_the_dot_and_an_unknown_letter_is_a_format_exception() -> None:
    assert format_datetime(datetime(2024, 3, 5, 17, 8, 9, tzinfo=UTC), "HH:mm:ss.FFF") == "17:08:09"
    with pytest.raises(CsError, match="not in a correct format"):
        format_datetime(datetime(2024, 3, 5, tzinfo=UTC), "x")


def test_hexadecimal_numbers_and_other_formats_refused_as_the_emulators_limit() -> None:
    assert (format_number(255, "X"), format_number(255, "x4"), format_number(-1, "X")) == ("FF", "00ff", "FFFFFFFF")
    with pytest.raises(CsError, match="Format specifier was invalid"):
        format_number(2.5, "X")
    for fmt in ("C", "P", "E2", "#,##0.00"):
        with pytest.raises(CsError, match=f"the local emulator does not support the numeric format '{fmt}'"):
            format_number(1.5, fmt)


def test_time_span_and_number_text() -> None:
    assert timespan_text(timedelta(hours=26, minutes=3, seconds=4)) == "1.02:03:04"
    assert timespan_text(timedelta(seconds=-90)) == "-00:01:30"
    assert (format_number(1234.5, "N1"), format_number(3.14159, "F2"), format_number(7, "D3")) == (
        "1,234.5", "3.14", "007")
    assert display(datetime(2024, 1, 1, 13, 0, 0, tzinfo=UTC)) == "1/1/2024 1:00:00 PM"


@pytest.mark.parametrize(("source", "expected"), [
    ("@((int)Math.Floor(2.7))", 2),
    ("@((int)Math.Ceiling(-2.5))", -2),
    ("@((int)TimeSpan.FromSeconds(90.7).TotalSeconds)", 90),
    ("@((long)Math.Round(1000000000000.4))", CsLong(1_000_000_000_000)),
    ("@((double)Math.Max(3, 4))", 4.0),
    ('@((int)context.Variables["attempt"])', 3),  # an unboxing of a boxed int stays one
])
def test_a_number_from_a_library_call_converts_as_csharp_casts_numbers(source: str, expected: object) -> None:
    """Found by an audit: (int)Math.Floor(x) and (int)span.TotalSeconds, common in token and TTL arithmetic,
    failed at run time with "Unable to cast System.Double to int"; C# truncates toward zero."""
    from tests.unit.emulator.test_expressions import ctx
    from toolkit.emulator.expressions import compile_expression

    value = compile_expression(source).evaluate(ctx())
    assert value == expected and type(value) is type(expected)


def test_a_double_out_of_an_integers_range_fails_loudly() -> None:
    with pytest.raises(CsError, match="overflow"):
        convert(3e9, "int")
    with pytest.raises(CsError, match="overflow"):
        convert(math.nan, "long")
    assert convert(-2.9, "int") == -2 and convert(7, "double") == 7.0


@pytest.mark.parametrize(("source", "expected"), [
    ('@("abcdef".Remove(3))', "abc"),  # was the bool False
    ('@("abcdef".Remove(1, 2))', "adef"),
    ('@("hello".IndexOf("l", 3))', 3),  # the start index was ignored
    ('@("hello".IndexOf("L", StringComparison.OrdinalIgnoreCase))', 2),
    ('@("hello".LastIndexOf("l", 2))', 2),
    ('@("a b  c".Split().Length)', 4),  # each whitespace character separates: runs are not merged
    ('@("a,b,c".Split(\',\', 1)[0])', "a,b,c"),  # count 1: the whole string
    ('@("a,b,c".Split(\',\', 2)[1])', "b,c"),
    ('@(string.Join("|", "a, ,b".Split(\',\', StringSplitOptions.TrimEntries)))', "a||b"),
])
def test_string_methods_as_dotnet_computes_them(source: str, expected: object) -> None:
    """Found by an audit: each gave a different answer, silently."""
    assert _evaluated(source) == expected


@pytest.mark.parametrize(("source", "expected"), [
    ('@(Regex.Match("deployments/gpt-4o/chat", "deployments/([^/]+)/").Groups[1].Value)', "gpt-4o"),
    ('@(Regex.Match("deployments/gpt-4o/chat", "deployments/(?<name>[^/]+)/").Groups["name"].Value)', "gpt-4o"),
    ('@(Regex.Match("abc", "b").Value)', "b"),
    ('@(Regex.Match("abc", "x").Success)', False),  # a failed match is not null
    ('@(Regex.Match("abc", "x").Value)', ""),
    ('@(Regex.Match("ac", "a(b)?c").Groups[1].Value)', ""),  # a group that took no part
    ('@(Regex.Match("ac", "a(b)?c").Groups[1].Success)', False),
    ('@(Regex.Replace("ab", "(a)", "$$1"))', "$1b"),  # $$ is a literal $
    ('@(Regex.Replace("ab", "(?<x>a)", "[${x}]"))', "[a]b"),
    ('@(Regex.Replace("ab", "a", "<$&>"))', "<a>b"),
])
def test_regex_matches_and_replacements_as_dotnet(source: str, expected: object) -> None:
    """Found by an audit: .Groups[1].Value and .Value failed, a failed match threw on .Success, named groups used
    Python's syntax, and "$$" was not a literal dollar."""
    assert _evaluated(source) == expected


@pytest.mark.parametrize(("source", "expected"), [
    ('@(string.Format("{0}:{1}", "a", 2))', "a:2"),
    ('@(string.Format("{0:N2}", 1234.5))', "1,234.50"),
    ('@(string.Format("{0:D5}", 42))', "00042"),
    ('@(string.Format("[{0,5}]", 42))', "[   42]"),
    ('@(string.Format("[{0,-4}]", "ab"))', "[ab  ]"),
    ('@(string.Format("{{0}} {0}", 1))', "{0} 1"),
    ('@((-42).ToString("D5"))', "-00042"),
])
def test_string_format_reads_alignment_formats_and_escaped_braces(source: str, expected: object) -> None:
    """Found by an audit: "{0:N2}" and "{0,5}" came back as written, "{{0}}" was replaced, and D5 counted the sign."""
    assert _evaluated(source) == expected


def test_string_format_with_a_missing_argument_is_a_format_exception() -> None:
    from tests.unit.emulator.test_expressions import ctx
    from toolkit.emulator.expressions import ExpressionRuntimeError, compile_expression

    with pytest.raises(ExpressionRuntimeError):
        compile_expression('@(string.Format("{1}", "a"))').evaluate(ctx())


@pytest.mark.parametrize(("source", "expected"), [
    ('@(Regex.IsMatch("abc", "x"))', False),
    ('@(Regex.IsMatch("abc", "b"))', True),
    ("@(Math.Round(4.35, 1))", 4.4),  # 4.35 * 10 is 43.5 in doubles: to even, 44
    ("@(Math.Round(2.835, 2))", 2.84),
    ("@(Math.Round(2.5))", 2.0),
    ("@(Math.Round(-2.5))", -2.0),
    ("@(Math.Round(2.5, MidpointRounding.AwayFromZero))", 3.0),
    ("@(Math.Round(0.49999999999999994, 0, MidpointRounding.AwayFromZero))", 0.0),
])
def test_regex_ismatch_and_math_round_as_dotnet(source: str, expected: object) -> None:
    assert _evaluated(source) == expected


@pytest.mark.parametrize(("source", "check"), [
    ("@(Math.Pow(-8, 1.0 / 3))", math.isnan),  # was a Python complex number
    ("@(Math.Pow(10, 400))", lambda v: v == math.inf),  # was a Python OverflowError
    ("@(Math.Sqrt(-1))", math.isnan),
    ("@(Math.Pow(2, 10))", lambda v: v == 1024.0),
])
def test_math_follows_ieee_doubles(source: str, check: object) -> None:
    from tests.unit.emulator.test_expressions import ctx
    from toolkit.emulator.expressions import compile_expression

    assert check(compile_expression(source).evaluate(ctx()))  # type: ignore[operator]


def test_math_abs_of_int_min_value_overflows() -> None:
    from tests.unit.emulator.test_expressions import ctx
    from toolkit.emulator.expressions import ExpressionRuntimeError, compile_expression

    with pytest.raises(ExpressionRuntimeError):
        compile_expression("@(Math.Abs(int.MinValue))").evaluate(ctx())


@pytest.mark.parametrize(("source", "expected"), [
    ("@('a' + 1)", 98), ("@('a' + 'b')", 195), ("@(1 + 'a')", 98), ("@('z' - 1)", 121),
    ('@("123"[0] - \'0\')', 1), ("@((char)('a' + 1))", "b"), ("@((int)(char)98)", 98),
    ("@{ var n = 0; foreach (var c in \"42\") { n = n * 10 + (c - '0'); } return n; }", 42),
])
def test_arithmetic_on_a_char_literal_adds_code_points(source: str, expected: object) -> None:
    """C# adds code points ('a' + 1 is 98): it was refused as the emulator's limit (before, it gave "a1")."""
    assert _evaluated(source) == expected


@pytest.mark.parametrize(("source", "expected"), [("@('a' + \"bc\")", "abc"), ("@(\"x\" + 'a')", "xa")])
def test_a_char_joined_to_a_string_still_concatenates(source: str, expected: str) -> None:
    assert _evaluated(source) == expected


@pytest.mark.parametrize(("fmt", "length", "first", "hyphens"), [("N", 32, "", 0), ("D", 36, "", 4), ("B", 38, "{", 4),
                                                                  ("P", 38, "(", 4)])
def test_guid_formats(fmt: str, length: int, first: str, hyphens: int) -> None:
    """Found by an audit: "N" and "B" gave the 36-character form."""
    from tests.unit.emulator.test_expressions import ctx
    from toolkit.emulator.expressions import compile_expression

    text = compile_expression(f'@(Guid.NewGuid().ToString("{fmt}"))').evaluate(ctx())
    assert len(text) == length and text.startswith(first) and text.count("-") == hyphens


@pytest.mark.parametrize(("source", "expected"), [
    ("@(TimeSpan.FromMinutes(-90).Hours)", -1), ("@(TimeSpan.FromMinutes(-90).Minutes)", -30),
    ("@(TimeSpan.FromMinutes(-90).Days)", 0), ("@(TimeSpan.FromHours(-49).Days)", -2),
    ("@(TimeSpan.FromMinutes(90).Hours)", 1), ("@(TimeSpan.FromSeconds(3661.5).Milliseconds)", 500),
])
def test_timespan_parts_keep_the_spans_sign(source: str, expected: int) -> None:
    """Found by an audit: a negative span's Hours and Minutes were 22 and 30 (Python's floor division)."""
    assert _evaluated(source) == expected


@pytest.mark.parametrize(("source", "expected"), [
    ("@((long)Math.Round(1000000000000.4) + 1)", 1_000_000_000_001),
    ("@((long)5 * 1000000000)", 5_000_000_000),
    ("@(5L * 1000000000)", 5_000_000_000),
    ("@(5000000000 + 1)", 5_000_000_001),  # a literal no int holds is a long in C#
    ("@{ long t = 5; t = t * 1000000000; return t; }", 5_000_000_000),
    ("@(long.Parse(\"5000000000\") * 2)", 10_000_000_000),
    ("@(Convert.ToInt64(\"5000000000\") + 1)", 5_000_000_001),
    ("@(new DateTime(2024, 1, 1).Ticks + 1)", 638_396_640_000_000_001),  # exact: a double lost the last digits
    ("@(TimeSpan.FromSeconds(1).Ticks)", 10_000_000),
    ("@{ long x = 9223372036854775807L; return x + 1; }", -(2**63)),  # unchecked long arithmetic wraps at 64 bits
    ("@{ long x = 5; return (int)(x * 1000000000); }", 705_032_704),  # (int) of a long keeps its low 32 bits
    ("@{ int x = int.MaxValue; return x + 1; }", -(2**31)),  # two ints still wrap at 32 bits
    ("@(-7L % 3)", -1),
])
def test_long_arithmetic_is_64_bit(source: str, expected: int) -> None:
    """Found by an audit: a long was computed as an int, so epoch milliseconds or ticks arithmetic wrapped at 32
    bits ((long)x + 1 gave -727379967 for x = 10^12)."""
    assert _evaluated(source) == expected


@pytest.mark.parametrize(("source", "expected"), [
    # a long array's items and a long foreach variable are longs: their arithmetic is 64-bit
    ("@{ var a = new long[] { 2147483647 }; return a[0] + a[0]; }", 4_294_967_294),
    ("@{ int i = int.MaxValue; long t = 0; foreach (long x in new[] { i }) { t = x + 1; } return t; }", 2**31),
    ("@{ foreach (var x in new long[] { 5 }) { return x * 1000000000; } return 0; }", 5_000_000_000),
    ("@(new int[] { 2147483647 }[0] + 1)", -(2**31)),  # an int array's items still wrap
    ("@{ foreach (DateTimeOffset d in new[] { new DateTime(2024, 1, 1) }) { return d.ToUnixTimeSeconds(); } "
     "return 0; }", 1_704_067_200),  # a DateTime item becomes a DateTimeOffset
    # a nullable long holds a long (its arithmetic is 64-bit), or null
    ("@{ long? x = 5; return x + int.MaxValue; }", 2**31 + 4),
    ("@{ long? x = null; return x == null; }", True),
])
def test_typed_arrays_and_foreach_variables_convert_their_items(source: str, expected: object) -> None:
    assert _evaluated(source) == expected


@pytest.mark.parametrize(("source", "expected"), [
    ("@{ DateTimeOffset d = new DateTime(2020, 1, 1); return d.Equals(new DateTime(2020, 1, 1)); }", True),
    ("@{ DateTimeOffset d = new DateTime(2020, 1, 1); return d.Equals(new DateTime(2020, 1, 2)); }", False),
    # DateTime.Equals(object) of a DateTimeOffset: another type, never equal (no conversion that way)
    ("@{ DateTimeOffset d = new DateTime(2020, 1, 1); return new DateTime(2020, 1, 1).Equals(d); }", False),
    # through object: DateTimeOffset.Equals(object), which is false for anything but a DateTimeOffset
    ("@{ DateTimeOffset d = new DateTime(2020, 1, 1); return ((object)d).Equals(new DateTime(2020, 1, 1)); }", False),
])
def test_a_date_time_offset_equals_a_date_time_of_the_same_instant(source: str, expected: bool) -> None:
    """DateTimeOffset.Equals(DateTimeOffset) after C#'s implicit conversion of the DateTime argument."""
    assert _evaluated(source) is expected


@pytest.mark.parametrize(("source", "expected"), [
    ("@(1.0.Equals(1))", True),  # Equals(double): the int converts
    ("@(1.0.Equals(1L))", True),
    ("@(((object)1.0).Equals(1))", False),  # Equals(object): a boxed int is no double
    ("@(((object)1.0).Equals(1.0))", True),
    ('@(((object)"a").Equals("a"))', True),
    ("@(((object)5).ToString())", "5"),
    ("@(((dynamic)5) + 1)", 6),
    ("@{ object o = 1.0; return o.Equals(1); }", False),  # a local declared object is typed object
    ("@{ object o = 1.0; return o.Equals(1.0); }", True),
    ('@{ object o = "a"; return (string)o + "b"; }', "ab"),
    ("@{ Object o = null; return o == null; }", True),
])
def test_a_value_converts_to_object_and_then_compares_as_equals_object_does(source: str, expected: object) -> None:
    """Boxing: every value converts to object ((object)1.0 was refused as a cast C# has no conversion for), and
    Equals on an object converts nothing (object o = 1.0 was typed double, so o.Equals(1) was true)."""
    assert _evaluated(source) == expected and type(_evaluated(source)) is type(expected)


@pytest.mark.parametrize(("source", "expected"), [
    ("@{ int? x = 5; return x.HasValue; }", True),
    ("@{ int? x = null; return x.HasValue; }", False),
    ("@{ int? x = 5; return x.Value + 1; }", 6),
    ("@{ int? x = 5; x = null; return x == null; }", True),
    ("@{ int? x = null; return x ?? 3; }", 3),
    ("@{ int? x = null; int? y = null; return (x ?? y).HasValue; }", False),
    ("@{ int? x = null; return x.GetValueOrDefault(); }", 0),
    ("@{ int? x = null; return x.GetValueOrDefault(7); }", 7),
    ("@{ int? x = 4; return x.GetValueOrDefault(7); }", 4),
    ("@{ double? x = null; return x.GetValueOrDefault(1) / 2; }", 0.5),  # the int default is a double
    ("@{ long? x = null; return x.GetValueOrDefault() + int.MaxValue + 1; }", CsLong(2**31)),  # default(long)
    ("@{ long? x = 5; return x.Value * 1000000000; }", CsLong(5_000_000_000)),
    ("@{ bool? b = true; return b.Value; }", True),
    ("@{ DateTime? d = null; return d.HasValue; }", False),
    ("@{ DateTimeOffset? d = new DateTime(2024, 1, 1); return d.Value.ToUnixTimeSeconds(); }", CsLong(1_704_067_200)),
    ('@(context.Variables.GetValueOrDefault<int?>("missing") == null)', True),  # default(int?) is null
    ('@(context.Variables.GetValueOrDefault<int?>("missing").HasValue)', False),
    ('@(context.Variables.GetValueOrDefault<int?>("missing", 4).Value)', 4),
    ('@{ var v = context.Variables.GetValueOrDefault<int?>("missing"); return v.GetValueOrDefault(2); }', 2),
    ('@(context.Variables.GetValueOrDefault<double>("missing", 1) / 2)', 0.5),
])
def test_a_nullable_value_type_has_has_value_value_and_get_value_or_default(source: str, expected: object) -> None:
    """Nullable<T>: x.Value of an int? compiled, then failed when it ran ('System.Int32' does not contain this
    member); HasValue, ?? and GetValueOrDefault() on one were refused; GetValueOrDefault<int?> too."""
    assert _evaluated(source) == expected and type(_evaluated(source)) is type(expected)


@pytest.mark.parametrize("source", [
    "@{ int? x = null; return x.Value; }",
    "@{ int? x = null; return (int)x; }",
    '@(context.Variables.GetValueOrDefault<int?>("missing").Value)',
])
def test_the_value_of_a_nullable_without_one_fails_as_dotnet_does(source: str) -> None:
    with pytest.raises(ExpressionRuntimeError, match="Nullable object must have a value"):
        _evaluated(source)


@pytest.mark.parametrize(("source", "reason", "limit"), [
    ("@{ int x = 5; return x.HasValue; }", "'int' does not contain a definition for 'HasValue' (C# refuses it: CS1061)",
     False),
    ("@(context.Response.StatusCode.Value)", "'int' does not contain a definition for 'Value' (C# refuses it: CS1061)",
     False),
    ("@((1.5).Length)", "'double' does not contain a definition for 'Length' (C# refuses it: CS1061)", False),
    ("@{ int? x = null; return (x ?? 3).HasValue; }",
     "'int' does not contain a definition for 'HasValue' (C# refuses it: CS1061)", False),
    ('@{ int? x = 4; return x.GetValueOrDefault("a"); }', "GetValueOrDefault() of a int? needs a int, got string", False),
    ("@{ DateTime? d = null; return d.GetValueOrDefault(); }",
     "GetValueOrDefault() of a DateTime? without a default is not supported", True),
])
def test_members_an_int_does_not_have_are_refused_when_published(source: str, reason: str, limit: bool) -> None:
    """An int, double or bool has no members in C# (an int? has HasValue and Value): StatusCode.Value was published
    and failed when it ran, where APIM refuses the policy."""
    refused = _refused(source)
    assert (refused.reason, refused.limit) == (reason, limit)


@pytest.mark.parametrize(("source", "expected"), [
    # ?. short-circuits the rest of the chain: a?.b.c() is null when a is (it failed with NullReferenceException)
    ('@{ string s = null; return s?.Trim().ToUpper(); }', None),
    ('@{ string s = " a "; return s?.Trim().ToUpper(); }', "A"),
    ('@{ string s = null; return s?.Length ?? -1; }', -1),
    ('@{ string s = null; return (s?.Length).HasValue; }', False),  # s?.Length is an int?
    ('@(context.Request.Headers.GetValueOrDefault("X-None", null)?.ToLower().Contains("a") ?? false)', False),
    ('@(JObject.Parse("{}")["a"]?["b"]["c"])', None),
    # .NET maps case one character to one
    ('@("straße".ToUpper())', "STRAßE"),
    ('@("straße".ToUpperInvariant().Length)', 6),
    ('@("\u0130X".ToLower())', "\u0130x"),  # İ: Python's lower() writes two characters
    # a boxed int is no long
    ("@(5 is long)", False),
    ("@(5L is long)", True),
    ("@{ object a = 1; return a is long; }", False),
    # a long's default and a long?'s fallback are longs: 64-bit arithmetic
    ('@(context.Variables.GetValueOrDefault<long>("missing", 5) + int.MaxValue)', CsLong(2**31 + 4)),
    ("@{ long? x = null; return (x ?? 1) + int.MaxValue; }", CsLong(2**31)),
    ("@{ long? x = null; return x.GetValueOrDefault(2) + int.MaxValue; }", CsLong(2**31 + 1)),
    # lifted !, and a nullable's ToString and Equals without a value
    ("@{ bool? b = null; return !b; }", None),
    ("@{ bool? b = null; var c = !b; return c == null; }", True),
    ("@{ bool? b = true; return !b; }", False),
    ("@{ double? x = null; return x.ToString(); }", ""),
    ("@{ long? x = null; return x.ToString(); }", ""),
    ("@{ double? x = 1.5; return x.ToString(); }", "1.5"),
    ("@{ bool? x = null; return x.Equals(null); }", True),
    ("@{ bool? x = null; return x.Equals(true); }", False),
    ("@{ int? x = 5; return x.Equals(5); }", True),
    ("@{ double? x = 1; return x.Equals(1); }", False),  # Nullable<T>.Equals(object): a boxed int is no double
])
def test_found_by_review_null_conditional_chains_case_mapping_longs_and_nullables(source: str, expected: object) -> None:
    assert _evaluated(source) == expected and type(_evaluated(source)) is type(expected)


@pytest.mark.parametrize(("source", "message"), [
    ("@{ object a = 1; return (long)a; }", "Unable to cast object of type 'System.Int32' to type 'System.Int64'."),
    ("@{ int? x = null; return (double)x; }", "Nullable object must have a value."),
    ("@{ int? x = null; return (long)x; }", "Nullable object must have a value."),
])
def test_found_by_review_unboxing_and_nullable_casts_fail_as_dotnet_does(source: str, message: str) -> None:
    with pytest.raises(ExpressionRuntimeError, match=re.escape(message)):
        _evaluated(source)


def test_found_by_review_a_member_inside_a_null_conditional_chain_is_of_the_value_type() -> None:
    refused = _refused('@{ string s = "ab"; return s?.Length.HasValue; }')
    assert refused.reason == "'int' does not contain a definition for 'HasValue' (C# refuses it: CS1061)"


@pytest.mark.parametrize(("source", "expected"), [
    # a nullable local takes null from anywhere (it failed with NullReferenceException)
    ("@{ string s = null; int? n = s?.Length; return n == null; }", True),
    ("@{ int? x = null; int? y = x ?? null; return y == null; }", True),
    # foreach (int? v ...), and Sum of int? skipping nulls
    ("@{ var s = 0; foreach (int? v in new int[] { 1, 2, 3 }) { s += v.Value; } return s; }", 6),
    ("@{ foreach (int? v in new int?[] { null }) { return v.HasValue; } return true; }", False),
    ("@(new int?[] { 1, null, 3 }.Sum())", 4),
    # nullable casts: null stays null, a value is cast (unboxed from an object)
    ("@((int?)5)", 5),
    ("@(((int?)null).HasValue)", False),
    ("@{ var a = new object[] { null }; int? v = (int?)a[0]; return v == null; }", True),
    ("@{ var a = new object[] { 4 }; return ((int?)a[0]).Value + 1; }", 5),
    ("@{ int i = 5; return ((long?)i).Value * 1000000000; }", CsLong(5_000_000_000)),
    ("@(((double?)3).Value / 2)", 1.5),
])
def test_found_by_review_nullables_from_anywhere_in_loops_and_casts(source: str, expected: object) -> None:
    assert _evaluated(source) == expected and type(_evaluated(source)) is type(expected)


@pytest.mark.parametrize(("source", "reason"), [
    ("@{ int x = 5L; return x; }", "cannot implicitly convert type 'long' to 'int' (C# refuses it: CS0266)"),
    ("@{ int i = 1; int x = (long)i; return x; }", "cannot implicitly convert type 'long' to 'int' (C# refuses it: CS0266)"),
    ("@{ int x = 1; x = 5L; return x; }", "cannot implicitly convert type 'long' to 'int' (C# refuses it: CS0266)"),
    ("@{ int? x = 5L; return x; }", "cannot implicitly convert type 'long' to 'int' (C# refuses it: CS0266)"),
    ("@{ int? x = null; int y = x; return y; }", "cannot implicitly convert type 'int?' to 'int' (C# refuses it: CS0266)"),
    ('@((int?)"a")', "cannot cast string to (int?)"),
])
def test_found_by_review_what_csharp_does_not_convert_to_an_int_is_refused(source: str, reason: str) -> None:
    """These were published, then failed when they ran (or held null in an int)."""
    refused = _refused(source)
    assert refused.reason == reason


@pytest.mark.parametrize(("source", "expected"), [
    # an int? stays one through arithmetic and ?: (they were refused: "C# refuses it: CS1061", wrongly)
    ("@{ int? x = 5; var y = x + 1; return y.HasValue; }", True),
    ("@{ int? x = null; return (x + 1).HasValue; }", False),
    ("@{ int? x = 5; return (true ? x : 0).HasValue; }", True),
    ("@{ int? x = null; var c = true; return (c ? x : null) == null; }", True),
    ("@{ int? x = null; return x?.ToString() == null; }", True),  # ?. on an int? (it was refused)
    ("@{ int? x = 5; return x?.ToString() == \"5\"; }", True),
    # Int32.Equals(object) of a long is false; Int64.Equals(Int64) takes an int (array items are typed when run)
    ("@(new int[] { 1 }[0].Equals(1L))", False),
    ("@(new object[] { 1 }[0].Equals(1L))", False),
    ("@(new long[] { 1 }[0].Equals(1))", True),
])
def test_found_by_review_a_nullable_stays_nullable_through_operators(source: str, expected: object) -> None:
    assert _evaluated(source) is expected


@pytest.mark.parametrize(("source", "reason"), [
    ("@{ bool? b = true; if (b) { return 1; } return 0; }",
     "a condition needs a bool, not a bool? (C# refuses it: CS0266)"),
    ("@{ bool? b = true; return b ? 1 : 2; }", "the condition of ?: needs a bool, not a bool? (C# refuses it: CS0266)"),
    ("@{ bool? b = true; return b && true; }", "operator && needs a bool, not a bool? (C# refuses it: CS0019)"),
    ("@{ DateTime? d = DateTime.UtcNow; return d.Year; }",
     "'DateTime?' does not contain a definition for 'Year' (C# refuses it: CS1061)"),
    ('@{ int? x = 5; return x.ToString("D3"); }',
     "'int?' has no method ToString() with 1 argument(s) (C# refuses it: CS1061, CS1501)"),
    ("@(true ? 1 : null)", "the branches of ?: have incompatible types int and null"),  # CS0173 in C# 7.3
])
def test_found_by_review_a_nullable_is_no_bool_and_has_no_members_of_its_value(source: str, reason: str) -> None:
    """Accepted before: a bool? as a condition, a DateTime?'s Year (C# needs .Value first)."""
    refused = _refused(source)
    assert refused.reason == reason


@pytest.mark.parametrize(("source", "expected"), [
    # x ?? y converts both sides to the result's type (x ?? 1.5 of an int? was an int)
    ("@{ int? x = 7; double d = x ?? 1.5; return d / 2; }", 3.5),
    ("@{ int? x = 2000000000; return (x ?? 3000000000L) + 2000000000; }", CsLong(4_000_000_000)),
    # a nullable cast of a JSON null is null, as Newtonsoft's explicit conversions give (it failed)
    ('@((int?)JObject.Parse("{\\"n\\":null}")["n"] ?? 4096)', 4096),
    ('@((int?)JObject.Parse("{\\"n\\":5}")["n"] ?? 4096)', 5),
    ("@(((decimal?)1.5).Value)", 1.5),  # decimal? computes as double, as decimal does
    # text joined with an int? is text, not an int?
    ('@{ var parts = "x,y".Split(new char[] { (char)44 }); string s = "ab"; var key = parts[0] + s?.Length; '
     'return key.ToUpper(); }', "X2"),
    # a switch whose sections all return (with a default) never completes: a section may end with one
    ("@{ switch (1) { case 1: switch (2) { case 2: return 1; default: return 2; } } return 0; }", 1),
    # a long local is a long by its form: ?: with it is a long
    ("@{ long l = 2147483647; var c = true; return (c ? l : 0) + 1; }", CsLong(2**31)),
    # JSON integers are Int64 in Newtonsoft
    ('@{ var j = JObject.Parse("{\\"n\\":5}"); return ((JValue)j["n"]).Value is long; }', True),
    ('@{ var j = JObject.Parse("{\\"n\\":5}"); return j.Value<object>("n") is long; }', False),  # the JValue
    ("@(new JValue(5).Value.Equals(5L))", True),
    # an argument typed object selects Equals(object)
    ("@(5.0.Equals((object)5))", False),
    ("@(5.0.Equals(5))", True),
    # Nullable<T> and System.Int32? are int?
    ("@{ Nullable<int> t = 5; return t.Value; }", 5),
    ("@{ System.Int32? t = 5; return t.Value + 1; }", 6),
    # `is T ?` starts a conditional where nothing can follow a nullable type (it was refused as a syntax error)
    ('@(context.Request.Method is string ? "a" : "b")', "a"),
    ("@{ object o = 5; return o is int ? 1 : 2; }", 1),
    ("@{ object o = 5; return o is int?; }", True),
    ("@{ object o = 5; return (o as int?).Value + 1; }", 6),
    ('@{ object o = "x"; return (o as int?).HasValue; }', False),
    # what follows a break in a switch section is unreachable: the section does not fall through (C# warns)
    ("@{ var n = 0; switch (1) { case 1: n = 1; break; n = 2; } return n; }", 1),
])
def test_found_by_second_review(source: str, expected: object) -> None:
    assert _evaluated(source) == expected and type(_evaluated(source)) is type(expected)


@pytest.mark.parametrize(("source", "expected"), [
    # an int? plus a value typed when it runs is an int? (or text): HasValue and Value work
    ("@{ int? x = 2; var a = new[] { 1 }; return (x + a[0]).Value; }", 3),
    ("@{ int? x = 2; return (x + 5L).HasValue; }", True),
    # ?? of a double? with a long stays a double
    ("@{ double? d = 2.5; return d ?? 5L; }", 2.5),
    # (int) truncates toward zero before the range is checked
    ("@{ double d = 2147483647.9; return (int)d; }", 2147483647),
    ("@{ double d = -2147483648.9; return (int)d; }", -2147483648),
    # a char default converts to a long
    ("@(context.Variables.GetValueOrDefault<long>(\"x\", 'a'))", CsLong(97)),
    # y ?? 2.5 of a long? is a double (it was 0 after / 8)
    ("@{ long? y = 4; return (y ?? 2.5) / 8; }", 0.5),
    ("@{ long? y = null; return (y ?? 2.5) / 8; }", 0.3125),
    # Newtonsoft's (bool) of a number: Convert.ToBoolean (it failed)
    ('@((bool)JToken.Parse("1"))', True),
    ('@((bool)JToken.Parse("0"))', False),
])
def test_found_by_third_review(source: str, expected: object) -> None:
    assert _evaluated(source) == expected and type(_evaluated(source)) is type(expected)


@pytest.mark.parametrize(("source", "message"), [
    # Equals on a null receiver that is no Nullable<T> fails, as a call on null does (it gave false)
    ('@(context.Variables.GetValueOrDefault("missing").Equals("true"))', "Object reference not set"),
    # unboxing: a JSON null in an object is no null, a boxed double no decimal
    ('@{ object o = JToken.Parse("null"); return (int?)o == null; }', "to type 'System.Int32'"),
    ("@{ object o = 2.5; return (decimal?)o; }", "Unable to cast object of type 'System.Double' to type 'System.Decimal'"),
])
def test_found_by_third_review_failures(source: str, message: str) -> None:
    with pytest.raises(ExpressionRuntimeError, match=re.escape(message)):
        _evaluated(source)


def test_found_by_third_review_an_int_local_takes_no_nullable_sum() -> None:
    refused = _refused("@{ int? x = null; var a = new[] { 1 }; int z = x + a[0]; return z; }")
    assert refused.reason == ("cannot implicitly convert a nullable number or text to 'int' (C# refuses it: "
                                   "CS0266)")


@pytest.mark.parametrize(("source", "reason"), [
    ("@{ int? x = 1; return !x; }", "operator ! needs a bool operand, got int? (C# refuses it: CS0023)"),
    ("@{ int x = 5; x += 2L; return x; }", "cannot implicitly convert type 'long' to 'int' (C# refuses it: CS0266)"),
    ("@{ int x = 5; long l = 1; x += l; return x; }",
     "cannot implicitly convert type 'long' to 'int' (C# refuses it: CS0266)"),
    ("@{ long l = 1; int y = l; return y; }", "cannot implicitly convert type 'long' to 'int' (C# refuses it: CS0266)"),
    ('@(context.Variables.GetValueOrDefault<long>("n", 3.5))',
     "default value of type double does not match context.Variables.GetValueOrDefault<long>"),
    ("@{ switch (1) { case 1: switch (2) { case 2: break; default: return 2; } } return 0; }",
     "control cannot fall out of switch from final case label (C# refuses it: CS8070)"),
])
def test_found_by_second_review_refused_as_csharp_refuses(source: str, reason: str) -> None:
    refused = _refused(source)
    assert refused.reason == reason


def test_found_by_review_a_nullable_cast_of_an_object_unboxes() -> None:
    with pytest.raises(ExpressionRuntimeError, match=re.escape("type 'System.Int32' to type 'System.Int64'.")):
        _evaluated("@{ object o = 5; return (long?)o; }")


def test_arithmetic_on_an_object_local_is_refused_as_in_csharp() -> None:
    refused = _refused("@{ object o = 5; return o + 1; }")
    assert refused.reason == "operator + cannot be applied to object and int"


def test_a_foreach_variable_cannot_be_assigned_as_in_csharp() -> None:
    refused = _refused("@{ foreach (var x in new[] { 1 }) { x += 1; } return 0; }")
    assert refused.reason == "cannot assign to 'x' because it is a foreach iteration variable (C# refuses it: CS1656)"
    assert not refused.limit


def test_a_foreach_item_that_does_not_convert_fails_where_the_loop_is() -> None:
    with pytest.raises(ExpressionRuntimeError) as caught:
        _evaluated('@{ foreach (long x in new[] { "a" }) { return x; } return 0; }')
    assert "Unable to cast object of type 'System.String' to type 'System.Int64'. (column 4 of" in str(caught.value)


@pytest.mark.parametrize(("source", "message"), [
    ("@(int.Parse(\"5000000000\"))", "too large or too small for an Int32"),
    ("@(long.Parse(\"99999999999999999999\"))", "too large or too small for an Int64"),
    ("@(Convert.ToInt32(3000000000.0))", "too large or too small for an Int32"),
])
def test_a_parse_or_conversion_past_the_types_range_is_an_overflow(source: str, message: str) -> None:
    with pytest.raises(ExpressionRuntimeError, match=message):
        _evaluated(source)


@pytest.mark.parametrize(("source", "expected"), [
    ('@("abc"[0] + 1)', 98),
    ('@("abc"[0] + "abc"[1])', 195),  # char + char is an int in C#
    ('@("abc"[0] + "x")', "ax"),  # with a string it is text
    ('@((int)"abc"[0])', 97),
    ('@("abc"[0] == \'a\')', True),
    ("@{ var n = 0; foreach (var c in \"a1b2\") { if (c >= '0' && c <= '9') { n++; } } return n; }", 2),
    ('@("abc".Select(c => c + 1).Sum())', 297),
])
def test_a_char_read_from_a_string_is_its_code_with_numbers(source: str, expected: object) -> None:
    """Found by an audit: a char read from a string was a one-character string, so "abc"[0] + 1 gave "a1"."""
    assert _evaluated(source) == expected


@pytest.mark.parametrize(("value", "text"), [
    (1e15, "1E+15"), (1.5e15, "1.5E+15"), (123456789012345.0, "123456789012345"), (1e-5, "1E-05"),
    (0.0001, "0.0001"), (12.5, "12.5"), (-0.0, "-0"), (0.1 + 0.2, "0.30000000000000004"), (100.0, "100"),
    (1.7976931348623157e308, "1.7976931348623157E+308"),
])
def test_a_double_is_written_as_dotnet_core_writes_it(value: float, text: str) -> None:
    """Found by an audit: 1E+15 came out as "1000000000000000.0" and -0 as "0"."""
    from toolkit.emulator.expressions.cstypes import format_double

    assert format_double(value) == text


@pytest.mark.parametrize(("source", "expected"), [
    ("@(new DateTime(638396640000000000).Year)", 2024),  # from ticks
    ("@(new DateTime(2024, 1, 1, 0, 0, 0, 500).Millisecond)", 500),  # the milliseconds were dropped
    ("@(new TimeSpan(10000000).TotalSeconds)", 1.0),  # from ticks
    ("@(new TimeSpan(1, 2, 3, 4, 500).TotalMilliseconds)", 93_784_500.0),
])
def test_date_and_time_span_constructors_take_their_dotnet_overloads(source: str, expected: object) -> None:
    """Found by an audit: new DateTime(ticks) failed with a Python TypeError, and a millisecond argument was
    ignored."""
    assert _evaluated(source) == expected


@pytest.mark.parametrize(("source", "message"), [
    ("@(new DateTime(2024, 13, 1))", "Year, Month, and Day parameters describe an un-representable DateTime"),
    ("@(new DateTime(2024, 1, 1, 25, 0, 0))", "Hour, Minute, and Second parameters describe an un-representable"),
    ("@(new DateTime(2024, 1, 1, 0, 0, 0, 0, 5))", "the local emulator does not support new DateTime with 8 arguments"),
    ("@(new DateTime(2024, 1, 1, 0, 0))", "'DateTime' does not contain a constructor that takes 5 arguments"),
])
def test_a_date_constructor_that_cannot_run_says_why(source: str, message: str) -> None:
    with pytest.raises(ExpressionRuntimeError, match=message):
        _evaluated(source)


@pytest.mark.parametrize(("source", "message"), [
    ("@(Convert.ToInt32(1, 2, 3))", "Convert.ToInt32() with 3 arguments (the emulator's Convert.ToInt32() takes 1)"),
    ("@(Guid.NewGuid(1))", "Guid.NewGuid() with 1 argument (the emulator's Guid.NewGuid() takes 0)"),
    ("@(new HMACSHA256())", "new HMACSHA256() with 0 arguments"),
])
def test_a_call_with_an_argument_count_the_emulator_does_not_take_is_refused_at_publish(source: str, message: str) -> None:
    """Found by an audit: such a call published, then failed every request with a Python TypeError. .NET may have
    the overload (Convert.ToInt32(s, 16)): the refusal is the emulator's limit."""
    from toolkit.emulator.expressions import UnsupportedExpression, compile_expression

    with pytest.raises(UnsupportedExpression, match=re.escape(message)) as caught:
        compile_expression(source)
    assert caught.value.limit


def test_a_value_of_the_wrong_type_fails_without_python_names() -> None:
    from tests.unit.emulator.test_expressions import ctx
    from toolkit.emulator.expressions import ExpressionRuntimeError, compile_expression

    with pytest.raises(ExpressionRuntimeError) as caught:
        compile_expression('@(Math.Floor("a"))').evaluate(ctx())
    assert "A value of the wrong type was used" in caught.value.message and "TypeError" not in caught.value.message


def test_a_method_of_a_runtime_value_with_an_argument_count_it_never_takes_is_refused_at_publish() -> None:
    from toolkit.emulator.expressions import UnsupportedExpression, compile_expression

    with pytest.raises(UnsupportedExpression, match=re.escape("AddDays() with 0 arguments (the emulator's AddDays() "
                                                              "takes 1)")):
        compile_expression("@(DateTime.UtcNow.AddDays())")
    compile_expression('@(context.Request.Body.As<JObject>(preserveContent: true)["a"].ToString())')  # still fine



@pytest.mark.parametrize(("source", "expected"), [
    # found by a review of the long and char support: each gave another value, or failed
    ("@{ double d = new DateTime(2024, 1, 1).Ticks; return d / d; }", 1.0),
    ("@{ long x = 5; double d = x; return d / 2; }", 2.5),
    ('@{ double d = "abc"[0]; return d; }', 97.0),
    ('@{ int n = "abc"[0]; return n; }', 97),
    ('@(context.Variables.GetValueOrDefault<long>("missing") + 1)', 1),
    ("@(Convert.ToInt32(5L) * 1000000000)", 705_032_704),  # Convert.ToInt32 gives an int
    ('@(long.Parse("5").Equals(5))', True),
    ('@("abc"[0].Equals(\'a\'))', True),
    ('@("abc"[0] == 97)', True),
    ('@(Convert.ToInt32("abc"[0]))', 97),
    ("@(Math.Abs((long)-5) * 1000000000)", 5_000_000_000),
    ("@(Math.Max(3L, 5) * 1000000000)", 5_000_000_000),
    ('@(JArray.Parse("[5]").Sum(x => (long)x) * 1000000000)', 5_000_000_000),
    ('@("abc".Sum(c => c))', 294),
    ("@{ long x = 0; x = 5; return x * 1000000000; }", 5_000_000_000),
    ("@{ long? x = 5; return x * 1000000000; }", 5_000_000_000),
    ("@{ var x = 5L; x = 7; return x * 1000000000; }", 7_000_000_000),
    ('@((-1L).ToString("X"))', "FFFFFFFFFFFFFFFF"),
    ("@(new TimeSpan(-15).Ticks)", -10),  # toward zero (the emulator keeps microseconds)
    ("@(new TimeSpan().Ticks)", 0),
    ("@(new DateTime().Year)", 1),
])
def test_longs_and_chars_flow_through_locals_conversions_and_library_calls(source: str, expected: object) -> None:
    assert _evaluated(source) == expected


def test_an_int_sum_past_the_int_range_is_an_overflow() -> None:
    from tests.unit.emulator.test_expressions import ctx
    from toolkit.emulator.expressions import ExpressionRuntimeError, compile_expression

    with pytest.raises(ExpressionRuntimeError, match="too large or too small for an Int32"):
        compile_expression("@(new[] { 2147483647, 1 }.Sum())").evaluate(ctx())


@pytest.mark.parametrize(("fmt", "expected"), [
    ("%d", "5"), ("%M", "3"), ("%y", "24"), ("HHH mmm sss", "13 07 09"), ("dddddd", "Tuesday"), ("MMMMM", "March"),
])
def test_custom_date_specifiers_alone_and_in_long_runs(fmt: str, expected: str) -> None:
    assert format_datetime(datetime(2024, 3, 5, 13, 7, 9, tzinfo=UTC), fmt) == expected


@pytest.mark.parametrize("fmt", ["'abc", "x\\", "ffffffff", "yyyy%%", "HH%"])
def test_a_malformed_custom_date_format_is_a_format_exception(fmt: str) -> None:
    with pytest.raises(CsError, match="not in a correct format"):
        format_datetime(datetime(2024, 3, 5, tzinfo=UTC), fmt)


@pytest.mark.parametrize(("value", "fmt", "text"), [
    # F and N: the double's exact value, an exact tie to the even digit (.NET Core's Dragon4, dotnet/runtime#1640)
    (2.5, "F0", "2"), (0.125, "F2", "0.12"), (-2.5, "F0", "-2"), (3.5, "N0", "4"), (1.005, "F2", "1.00"),
    (CsLong(9_007_199_254_740_993), "N0", "9,007,199,254,740,993"),  # a long's every digit (a double lost the 3)
    # a "0.00" custom pattern: 15 significant digits first, then half away from zero
    (1.005, "0.00", "1.01"), (2.5, "0", "3"), (0.95, "0.0", "1.0"), (123456789012345678.0, "0", "123456789012346000"),
    (1234.5, "0.00", "1234.50"),
])
def test_fixed_point_formats_round_as_dotnet_core(value: float, fmt: str, text: str) -> None:
    """Found by reviews: the custom patterns rounded the exact value (1.005 gave "1.00"), and N0 of a long past 2^53
    lost digits."""
    assert format_number(value, fmt) == text


def test_int_parse_refuses_what_python_alone_would_take() -> None:
    from tests.unit.emulator.test_expressions import ctx
    from toolkit.emulator.expressions import ExpressionRuntimeError, compile_expression

    for text in ("1_000", "１２"):
        with pytest.raises(ExpressionRuntimeError, match="not in a correct format"):
            compile_expression(f'@(int.Parse("{text}"))').evaluate(ctx())
    assert compile_expression('@(int.Parse(" +42 "))').evaluate(ctx()) == 42



@pytest.mark.parametrize(("source", "expected"), [
    ("@('a' + 1 == 'b')", True), ("@('b' - 1 == 'a')", True), ('@("abc"[0] + 1 == \'b\')', True),
    ("@((char)65.7)", "A"), ('@((char)JObject.Parse("{\\"c\\":\\"a\\"}")["c"])', "a"),
    ('@((char)JObject.Parse("{\\"n\\":97}")["n"])', "a"),
])
def test_a_char_literal_compares_with_char_arithmetic_and_casts_take_doubles_and_json(source: str,
                                                                                     expected: object) -> None:
    assert _evaluated(source) == expected


@pytest.mark.parametrize(("when", "fmt", "expected"), [
    # hours on the 12-hour clock, at the edges of its halves (found by mutation testing: noon and midnight); "%h"
    # within a longer pattern is the specifier h (it was written out as "%h")
    ((12, 0, 5), "%h hh tt %t", "12 12 PM P"), ((0, 3, 4), "%h hh tt %t", "12 12 AM A"),
    ((11, 59, 0), "tt %t", "AM A"), ((13, 7, 9), "%H %h hh %m %s tt", "13 1 01 7 9 PM"),
    ((13, 7, 9), "zz %z", "+00 +0"), ((13, 7, 9), "MM", "03"),  # two letters without % are a custom pattern
    ((13, 7, 9), "dd X MM", "05 X 03"), ((13, 7, 9), "yyyy''MM", "202403"),  # a letter that is no specifier; ''
    ((13, 7, 9), "yyy", "2024"),  # three y: the whole year, at least three digits
])
def test_custom_date_specifiers_of_the_clock_and_literals(when: tuple[int, int, int], fmt: str, expected: str) -> None:
    assert format_datetime(datetime(2024, 3, 5, *when, tzinfo=UTC), fmt) == expected


def test_years_below_a_thousand_keep_the_widths_dotnet_pads_to_and_eight_fraction_digits_are_refused() -> None:
    early = datetime(5, 1, 2, tzinfo=UTC)
    assert [format_datetime(early, f) for f in ("%y", "yy", "yyy", "yyyy", "yyyyy")] == ["5", "05", "005", "0005", "00005"]
    for fmt in ("FFFFFFFF", "ffffffff"):
        with pytest.raises(CsError, match="not in a correct format"):
            format_datetime(early, fmt)


@pytest.mark.parametrize(("value", "fmt", "text"), [
    (1.5, "F", "1.50"), (1.5, "f", "1.50"), (1234.5, "N", "1,234.50"), (1234.5, "n1", "1,234.5"),
    (1234.5, "F1", "1234.5"), (CsLong(1234567), "F0", "1234567"), (1234567, "n0", "1,234,567"),
    (5, "D", "5"), (5, "d", "5"), (0, "D3", "000"), (-42, "d5", "-00042"),
    (7, "0.00", "7.00"), (CsLong(1234567890123456789), "0", "1234567890123456789"),  # a long's every digit
    (CsLong(9223372036854775807), "0.0000000000", "9223372036854775807.0000000000"),  # past 28 digits
    (math.nan, "0.00", "NaN"), (math.inf, "0", "∞"), (-math.inf, "0.0", "-∞"),
])
def test_standard_and_zero_pattern_number_formats_as_dotnet_writes_them(value: float, fmt: str, text: str) -> None:
    assert format_number(value, fmt) == text


def test_hexadecimal_of_a_double_is_dotnets_format_exception_word_for_word() -> None:
    with pytest.raises(CsError) as caught:
        format_number(1.5, "x2")
    assert str(caught.value) == "Format specifier was invalid."


@pytest.mark.parametrize(("span", "text"), [
    (timedelta(0), "00:00:00"), (timedelta(seconds=0.5), "00:00:00.5000000"),
    (timedelta(milliseconds=123.456), "00:00:00.1234560"), (timedelta(microseconds=999_999), "00:00:00.9999990"),
    (timedelta(days=-1, seconds=3), "-23:59:57"),
])
def test_time_span_text_keeps_seven_fraction_digits_and_its_sign(span: timedelta, text: str) -> None:
    assert timespan_text(span) == text


@pytest.mark.parametrize(("source", "expected"), [
    ("@((1.0).Equals(1))", True),  # double.Equals(double): the int converts
    ("@((1).Equals(1.0))", False),  # int.Equals(object): a boxed double is not an int
    ("@((true).Equals(1))", False),  # Python's True == 1 is not C#'s
    ("@((2.0).Equals(2.0))", True),
    ("@((0.0 / 0.0).ToString() + (1.0 / 0.0).ToString() + (-1.0 / 0.0).ToString())", "NaN∞-∞"),
])
def test_equals_and_the_text_of_special_doubles(source: str, expected: object) -> None:
    assert _evaluated(source) == expected


@pytest.mark.parametrize(("value", "name"), [
    (datetime(2024, 1, 1, tzinfo=UTC), "System.DateTime"), (timedelta(1), "System.TimeSpan"), ([1], "System.Object[]"),
    (JObject({}), "Newtonsoft.Json.Linq.JObject"), (JValue(1), "Newtonsoft.Json.Linq.JValue"), (object(), "System.Object"),
])
def test_a_failed_cast_names_the_values_dotnet_type_never_a_python_one(value: object, name: str) -> None:
    from tests.unit.emulator.test_expressions import ctx
    from toolkit.emulator.expressions import compile_expression

    with pytest.raises(ExpressionRuntimeError) as caught:
        compile_expression('@((int)context.Variables["v"])').evaluate(ctx(variables={"v": value}))
    assert f"Unable to cast object of type '{name}' to type 'System.Int32'." in str(caught.value)


@pytest.mark.parametrize(("source", "expected"), [
    # a char local holds a char: with a number it is its code, with text it is text (it was a one-character string)
    ("@{ var c = 'a'; return c + 1; }", 98), ("@{ char c = 'a'; return c + 1; }", 98),
    ("@{ var c = 'a'; return \"x\" + c; }", "xa"), ("@{ var c = 'a'; return c == 'a'; }", True),
    ("@{ char c = 'a'; c = 'b'; return (int)c; }", 98), ("@{ char c = 'a'; c += 2; return c.ToString(); }", "c"),
    ('@{ char c = "abc"[1]; return c - \'a\'; }', 1), ("@{ char c = (char)66; return c + \"!\"; }", "B!"),
    ("@{ char? c = null; return c == null; }", True), ('@{ char c = \',\'; return "a,b".Split(c).Length; }', 2),
    ("@{ var c = 'a'; switch (c) { case 'a': return 1; default: return 2; } }", 1),
    # System.Char's tests, by Unicode category as .NET has them
    ("@(char.IsDigit('5') && !char.IsDigit('x') && !char.IsDigit('²'))", True),  # '²' is a number, not a digit
    ("@(char.IsNumber('²') && char.IsDigit(\"a1\", 1))", True),
    ("@(char.IsWhiteSpace('\\t') && char.IsWhiteSpace('\\u00a0') && !char.IsWhiteSpace('\\u001c'))", True),
    ("@(Char.IsLetter('é') && !char.IsLetterOrDigit('_') && char.IsPunctuation('_') && char.IsSymbol('+'))", True),
    ("@(char.IsUpper('A') && !char.IsUpper('a') && char.IsLower('a') && char.IsControl('\\n'))", True),
    ("@(char.ToUpper('a').ToString() + char.ToLower('Q') + char.ToUpper('ß'))", "Aqß"),  # ß has no one-char upper
    ("@(char.ToUpper('a') + 1)", 66),
    ('@("a1b2".Where(c => char.IsDigit(c)).Count())', 2),
])
def test_char_locals_and_system_char(source: str, expected: object) -> None:
    assert _evaluated(source) == expected


@pytest.mark.parametrize(("source", "message"), [
    ("@{ char c = 5; return c; }", "cannot assign a int value to a char variable"),
    ('@{ char c = "x"; return c; }', "cannot assign a string value to a char variable"),
    ('@{ char c = context.Variables["tier"]; return c; }', "cannot assign a object value to a char variable"),
])
def test_a_char_local_takes_chars_only_as_csharp_says(source: str, message: str) -> None:
    from toolkit.emulator.expressions import UnsupportedExpression, compile_expression

    with pytest.raises(UnsupportedExpression, match=message) as caught:
        compile_expression(source)
    assert not caught.value.limit  # C#'s own error (CS0029/CS0266), not the emulator's limit


@pytest.mark.parametrize(("source", "message"), [
    ('@(char.IsDigit("ab"))', "Argument of type 'System.String' where a char is expected."),
    ('@(char.IsDigit("ab", 5))', "Index was out of range."),
    ("@{ char c = new[] { 5 }[0]; return c; }", "Unable to cast object of type 'System.Int32' to type 'System.Char'."),
])
def test_system_char_and_char_locals_refuse_other_values_when_run(source: str, message: str) -> None:
    with pytest.raises(ExpressionRuntimeError, match=re.escape(message)):
        _evaluated(source)


@pytest.mark.parametrize(("source", "expected"), [
    # (int) and Value<int>() of a JSON value are Newtonsoft's Convert.ToInt32: a double rounds, a tie to the even one
    ('@((int)JToken.Parse("2.5"))', 2), ('@((int)JToken.Parse("3.5"))', 4), ('@((int)JToken.Parse("2.7"))', 3),
    ('@((int)JToken.Parse("-2.7"))', -3), ('@(JToken.Parse("{\\"a\\":2.5}")["a"].Value<int>())', 2),
    ('@((int)JToken.Parse("\\" 12 \\""))', 12), ('@((int)JToken.Parse("true"))', 1),
    ('@((long)JToken.Parse("3000000000"))', CsLong(3_000_000_000)),
    # int.Parse reads .NET's integer text only: ASCII white space, a sign, ASCII digits (and trailing NULs)
    ('@(int.Parse("\\t12\\r\\n"))', 12), ('@(int.Parse("12\\0\\0"))', 12),
    ('@(int.Parse("-' + "0" * 5000 + '7"))', -7),  # leading zeros are no digits past Python's 4,300
])
def test_json_values_convert_to_integers_as_newtonsoft_and_int_parse_reads_dotnet_text(source: str,
                                                                                      expected: object) -> None:
    assert _evaluated(source) == expected


@pytest.mark.parametrize(("source", "message"), [
    ('@((int)JToken.Parse("3000000000"))', "Value was either too large or too small for an Int32."),
    ('@((int)JToken.Parse("1e400"))', "Value was either too large or too small for an Int32."),
    ('@((int)JToken.Parse("\\"1.5\\""))', "The input string '1.5' was not in a correct format."),
    ('@(int.Parse("\\u00a012"))', "was not in a correct format"),  # a no-break space is no .NET white space
    ('@(int.Parse("1 2"))', "The input string '1 2' was not in a correct format."),
    ('@(long.Parse("' + "9" * 5000 + '"))', "Value was either too large or too small for an Int64."),
])
def test_integer_conversions_past_the_range_or_of_other_text_fail_as_dotnet(source: str, message: str) -> None:
    with pytest.raises(ExpressionRuntimeError, match=re.escape(message)):
        _evaluated(source)


@pytest.mark.parametrize(("source", "expected"), [
    ("@('a' is char)", True), ("@('a' is string)", False), ('@("a" is string)', True),  # a char literal is a char
    ("@{ object o = 'a'; return o is char; }", True),
    ("@{ var x = long.MaxValue; return x + 1L; }", CsLong(-(2**63))), ("@(Int64.MinValue.ToString())", "-9223372036854775808"),
    ("@(double.MaxValue.ToString())", "1.7976931348623157E+308"), ("@(Double.MinValue < -1e308)", True),
    ("@(double.Epsilon > 0 && double.Epsilon / 2 == 0)", True), ("@(double.NaN == double.NaN)", False),
    ("@(double.IsNaN(double.NaN) && !double.IsNaN(1))", True),
    ("@(double.IsInfinity(double.NegativeInfinity) && double.IsPositiveInfinity(1.0 / 0) && "
     "double.IsNegativeInfinity(-1.0 / 0) && !double.IsFinite(double.PositiveInfinity) && double.IsFinite(2))", True),
    ("@{ int x = int.MinValue; return x / 1 + 7 / -1; }", -(2**31) - 7 + 2**32),  # wraps: only MinValue / -1 overflows
])
def test_char_literals_are_chars_and_the_limits_of_long_and_double(source: str, expected: object) -> None:
    assert _evaluated(source) == expected


@pytest.mark.parametrize("source", [
    "@{ int x = int.MinValue; return x / -1; }", "@{ int x = int.MinValue; int y = -1; return x % y; }",
    "@{ long x = long.MinValue; return x / -1; }",
])
def test_the_smallest_integer_divided_by_minus_one_is_an_overflow(source: str) -> None:
    with pytest.raises(ExpressionRuntimeError, match="Arithmetic operation resulted in an overflow."):
        _evaluated(source)


@pytest.mark.parametrize(("source", "reason"), [
    ("@(int.MaxValue + 1)", "this constant expression is 2147483648, outside the int range (C# refuses it: CS0220)"),
    ("@(2147483647 * 2)", "this constant expression is 4294967294, outside the int range (C# refuses it: CS0220)"),
    ("@(-int.MinValue)", "this constant expression is 2147483648, outside the int range (C# refuses it: CS0220)"),
    ("@(int.MinValue / -1)", "this constant expression is 2147483648, outside the int range (C# refuses it: CS0220)"),
    ("@(System.Int32.MinValue - 1)", "is -2147483649, outside the int range (C# refuses it: CS0220)"),
    ("@(-7 / 2 * 1000000000)", "is -3000000000, outside the int range (C# refuses it: CS0220)"),  # truncated: -3
    ("@(long.MaxValue + 1)", "is 9223372036854775808, outside the long range (C# refuses it: CS0220)"),
    ("@(Int64.MinValue - 1 + 2)", "is -9223372036854775809, outside the long range (C# refuses it: CS0220)"),
    ("@((true ? 1 : 2) + 2147483647)", "is 2147483648, outside the int range (C# refuses it: CS0220)"),
    ("@((false ? 1 : 2L) + long.MaxValue)", "is 9223372036854775809, outside the long range (C# refuses it: CS0220)"),
    # an unsuffixed literal past the int range is a uint in C#: uint arithmetic stays uint
    ("@(3000000000 + 3000000000)", "is 6000000000, outside the uint range (C# refuses it: CS0220)"),
    ("@(4294967295 + 1)", "is 4294967296, outside the uint range (C# refuses it: CS0220)"),
    ("@(2147483648 * 2)", "is 4294967296, outside the uint range (C# refuses it: CS0220)"),
    ("@(1 - 3000000000)", "is -2999999999, outside the uint range (C# refuses it: CS0220)"),
    ("@((long)int.MaxValue * int.MaxValue * int.MaxValue)", "outside the long range (C# refuses it: CS0220)"),
    ("@((int)3000000000L)", "constant value '3000000000' cannot be converted to a 'int' (C# refuses it: CS0221)"),
    ("@('a' * int.MaxValue)", "is 208305913759, outside the int range (C# refuses it: CS0220)"),  # a char's code
    ("@(1 / 0)", "division by constant zero (C# refuses it: CS0020)"),
    ("@(5L % 0)", "division by constant zero (C# refuses it: CS0020)"),
])
def test_a_constant_expression_that_overflows_is_refused_at_publish_as_csharp_does(source: str, reason: str) -> None:
    """C# computes constant integer expressions when it compiles them, checked: APIM refuses the policy."""
    refused = _refused(source)
    assert reason in refused.reason and not refused.limit


@pytest.mark.parametrize(("source", "expected"), [
    ("@(int.MaxValue - 1 + 1)", 2**31 - 1), ("@(-2147483648)", -(2**31)), ("@(int.MaxValue + 1L)", 2**31),
    ("@(3000000000 + 3000000000L)", 6_000_000_000), ("@(3000000000 + 1)", 3_000_000_001), ("@(-1 + 3000000000)", 2_999_999_999),
    ("@(int.MinValue % -1)", 0), ("@(long.MinValue % -1L)", 0),  # C# folds these to 0 (they overflow only when run)
    ("@((long)int.MaxValue + 1)", 2**31), ("@((int)5L)", 5), ("@('a' + 1)", 98), ("@(7 / -2 * 2)", -6), ("@(1.0 / 0 > int.MaxValue)", True),
    ("@(int.MaxValue * 1.0 + 1)", 2147483648.0),  # a double: no integer overflow
    ("@((true ? 1 : 2L) + 2147483647)", 2**31),  # a ?: with a long branch is a long
    ("@{ var x = context.Variables.Count >= 0 ? int.MaxValue : 0L; return x + 1; }", 2**31),
    ("@((context.Variables.Count < 0 ? 2147483647 : (long)2) * 2147483647)", 2 * (2**31 - 1)),
    ("@((context.Variables.Count >= 0 ? 2147483647 : 2) + 1)", -(2**31)),  # two int branches: an int
    ('@(context.Request.Method.Length + int.MaxValue)', -(2**31) + 3),  # not a constant: wraps when run
])
def test_constant_expressions_within_range_and_expressions_with_values_compile(source: str, expected: object) -> None:
    assert _evaluated(source) == expected


@pytest.mark.parametrize(("source", "expected"), [
    ('@(string.Compare("a", "A", StringComparison.OrdinalIgnoreCase))', 0), ('@(string.Compare("a", "A", true))', 0),
    ('@(String.Compare("b", "a"))', 1), ('@(string.Compare("a", "b", StringComparison.Ordinal))', -1),
    ('@(string.Compare(null, "a"))', -1), ('@(string.Compare("a", null))', 1), ('@(string.Compare(null, null))', 0),
    # the ordinal modes give .NET's difference of the first differing characters (or of the lengths);
    # OrdinalIgnoreCase compares upper case, one character for one: 'a' is 'A' (65), 30 below '_' (95)
    ('@(string.Compare("a", "_", StringComparison.OrdinalIgnoreCase))', -30),
    ('@(string.Compare("a", "c", StringComparison.Ordinal))', -2),
    ('@(string.Compare("ab", "abcd", StringComparison.Ordinal))', -2),
    ('@(string.Compare("ß", "SS", StringComparison.OrdinalIgnoreCase) != 0)', True),  # 'ß' has no one-char upper
])
def test_string_compare_takes_its_case_argument_and_nulls(source: str, expected: object) -> None:
    assert _evaluated(source) == expected


@pytest.mark.parametrize(("source", "expected"), [
    # found by review: string methods take a char local; a char local takes a ?: of char literals
    ("@{ char c = 'a'; return \"abc\".Contains(c); }", True),
    ("@{ var c = 'z'; return \"abz\".EndsWith(c) && !\"abc\".StartsWith(c); }", True),
    ("@{ var f = true; char c = f ? ',' : ';'; return \"a,b\".Split(c).Length; }", 2),
    ("@{ var f = false; char c = 'a'; c = f ? 'b' : 'c'; return c + 0; }", 99),
    ("@{ var f = false; var c = f ? 'b' : 'c'; return c + 1; }", 100),
    # a hexadecimal literal past int.MaxValue is a uint, negated a long; only the decimal 2147483648 becomes int.MinValue
    ("@(-0x80000000 - 1)", CsLong(-2_147_483_649)), ("@(-2147483648)", -2_147_483_648),
    ("@(true?.5:1.0)", 0.5), ("@(0x1d)", 29),  # "?.5" is "?" and .5; d is a hexadecimal digit
])
def test_char_values_and_literals_found_by_review(source: str, expected: object) -> None:
    assert _evaluated(source) == expected


@pytest.mark.parametrize(("source", "message"), [
    ("@((string)'a')", "cannot cast a char to (string) (C#: CS0030)"),
    ('@{ char c = true ? "x" : "y"; return c; }', "cannot assign a string value to a char variable"),
    ("@(0b102)", "'2' is not a binary digit (0 or 1)"), ("@(0x1m)", "numeric literal suffix 'm' is not valid C#"),
    ("@(0b1d)", "numeric literal suffix 'd' is not valid C#"),
    ('@(string.Compare("a", 0, "ba", 1, 1))', "string.Compare() with 5 arguments"),
])
def test_csharp_the_compiler_refuses_is_refused_at_publish(source: str, message: str) -> None:
    from toolkit.emulator.expressions import UnsupportedExpression, compile_expression

    with pytest.raises(UnsupportedExpression, match=re.escape(message)):
        compile_expression(source)


def test_int_parse_of_null_is_an_argument_null_exception() -> None:
    with pytest.raises(ExpressionRuntimeError, match=re.escape("Value cannot be null. (Parameter 's')")):
        _evaluated("@(int.Parse(null))")
    assert _evaluated("@(Convert.ToInt32(null))") == 0  # Convert is lenient: null is 0


@pytest.mark.parametrize(("source", "expected"), [
    # found by review: a ?: is a long only when both branches are integers and one is a long
    ("@(context.Variables.Count >= 0 ? 1.5 : 2L)", 1.5),
    ("@((context.Variables.Count >= 0 ? JObject.Parse(\"{}\") : 3L).Type.ToString())", "Object"),
    ("@{ var x = context.Variables.Count >= 0 ? 1 : 2L; x = int.MaxValue; return x + 1; }", 2**31),
    # a declared foreach type converts each item as C#'s cast does
    ("@{ foreach (int x in new long[] { 4294967297 }) { return x + 0; } return -1; }", 1),
    ("@{ foreach (double x in new[] { 1 }) { return x / 2; } return -1; }", 0.5),
    ("@{ foreach (int x in \"ab\") { return x.ToString(); } return \"\"; }", "97"),
    # a long[] stores longs: also what is assigned to it later (an int[] still wraps)
    ("@{ var a = new long[] { 1 }; a[0] = int.MaxValue; return a[0] + 1; }", 2**31),
    ("@{ var a = new int[] { 1 }; a[0] = int.MaxValue; return a[0] + 1; }", -(2**31)),
    # a char literal against a number compares by its code
    ("@('a' + 1 == 'b')", True), ("@(98 == 'b')", True), ("@('a' + 1 > 'a')", True), ("@('a' < 'b')", True),
])
def test_found_by_review_long_branches_foreach_types_and_char_comparisons(source: str, expected: object) -> None:
    assert _evaluated(source) == expected


@pytest.mark.parametrize(("source", "reason", "limit"), [
    ("@{ long x = 1.5; return x; }", "cannot implicitly convert type 'double' to 'long' (C# refuses it: CS0266)", False),
    ("@{ var a = new long[] { 1.5 }; return a[0]; }", "cannot implicitly convert type 'double' to 'long' (C# refuses it: CS0266)", False),
    ("@{ long x = 1; x = 2.5; return x; }", "cannot implicitly convert type 'double' to 'long' (C# refuses it: CS0266)", False),
    ("@{ DateTimeOffset d = 5; return d; }", "cannot implicitly convert type 'int' to 'DateTimeOffset' (C# refuses it: CS0029)", False),
    ('@($"[{1,3u}]")', "an interpolation hole's alignment must be an int constant, not a uint (C# refuses it: CS0266)", False),
    ('@($"[{1,2147483648}]")', "an interpolation hole's alignment must be an int constant, not a uint (C# refuses it: CS0266)", False),
    ('@($"[{1,5L}]")', "an interpolation hole's alignment must be an int constant, not a long (C# refuses it: CS0266)", False),
    ('@($"[{1,true}]")', "an interpolation hole's alignment must be an int constant, not a bool (C# refuses it: CS0029)", False),
    ('@($"[{1,null}]")', "an interpolation hole's alignment must be an int constant, not a null (C# refuses it: CS0037)", False),
    ('@($"[{1,1000000}]")', "an alignment of 1,000,000 or more is not supported", True),
])
def test_found_by_review_what_csharp_does_not_convert_is_refused(source: str, reason: str, limit: bool) -> None:
    refused = _refused(source)
    assert (refused.reason, refused.limit) == (reason, limit)


def test_found_by_review_a_char_alignment_is_its_code_and_format_widths_are_bounded() -> None:
    assert _evaluated("@($\"[{1,'a'}]\".Length)") == 2 + 97
    assert _evaluated('@($"[{1,999999}]".Length)') == 2 + 999_999
    with pytest.raises(ExpressionRuntimeError, match="Input string was not in a correct format"):
        _evaluated('@(string.Format("{0,1000000}", 1))')


@pytest.mark.parametrize(("source", "expected"), [
    ('@((Int32)JToken.Parse("5"))', 5),
    ('@((Int64)JToken.Parse("5") * 1000000000)', CsLong(5_000_000_000)),
    ('@((Double)JToken.Parse("1.5"))', 1.5),
    ('@((float)JToken.Parse("2"))', 2.0),
    ('@((decimal)JToken.Parse("2.5"))', 2.5),  # decimal computes as double (the emulator's limit)
    ('@((Boolean)JToken.Parse("true"))', True),
    ('@((bool)JToken.Parse("\\"False\\""))', False),
    ('@((String)JToken.Parse("7"))', "7"),
    ('@(((Char)JToken.Parse("\\"a\\"")).ToString())', "a"),
    ('@((char)JToken.Parse("98") + 0)', 98),
    ('@((int?)JToken.Parse("null") == null)', True),
    ('@((double?)JToken.Parse("null") == null)', True),
    ('@((long?)JToken.Parse("3"))', CsLong(3)),
    ('@(((DateTime)JToken.Parse("\\"2024-01-02T03:04:05Z\\"")).Hour)', 3),
    ('@(((DateTimeOffset?)JToken.Parse("\\"2024-01-02T03:04:05Z\\"")).Value.ToUnixTimeSeconds())',
     CsLong(1_704_164_645)),
    ('@(JObject.Parse("{\\"n\\":5}").Value<Int64>("n") * 1000000000)', CsLong(5_000_000_000)),
    ('@(JObject.Parse("{\\"n\\":5}").Value<Int32>("n"))', 5),
])
def test_a_json_value_converts_under_every_spelling_of_its_target_type(source: str, expected: object) -> None:
    """Newtonsoft's explicit conversions of a JValue, named as C# or .NET names the type, nullable or not
    (found by mutation testing of dotnet.py: only the C# keywords were tested)."""
    assert _evaluated(source) == expected and type(_evaluated(source)) is type(expected)


@pytest.mark.parametrize(("source", "message"), [
    ('@((bool)JToken.Parse("\\"x\\""))', "Could not convert string to bool: x."),
    ('@((char)JToken.Parse("\\"ab\\""))', "Could not convert string to char: ab."),
    ('@((int)JToken.Parse("null"))', "Can not convert Null to Int32."),
    ('@((long)JToken.Parse("null"))', "Can not convert Null to Int64."),
    ('@((int)JToken.Parse("[1]"))', "Can not convert Array to Int32."),
])
def test_a_json_value_that_does_not_convert_fails_with_newtonsofts_message(source: str, message: str) -> None:
    with pytest.raises(ExpressionRuntimeError, match=re.escape(message)):
        _evaluated(source)


@pytest.mark.parametrize(("source", "expected"), [
    ("@((Int32)2.7)", 2), ("@((int)-2.7)", -2), ("@((Int64)1e10)", CsLong(10_000_000_000)), ("@((Double)5)", 5.0),
    ('@((Int32)"abc"[0])', 97), ('@((Int64)"abc"[0])', CsLong(97)), ('@((Double)"abc"[0])', 97.0),
    ("@((Char)98 + 0)", 98), ("@((char)65.7 + 0)", 65),
    # arithmetic on values typed when they run: TimeSpans, dates, C#'s integer division and remainder
    ("@((new[] { TimeSpan.FromSeconds(3) }[0] + new[] { TimeSpan.FromSeconds(1) }[0]).TotalSeconds)", 4.0),
    ("@((new[] { TimeSpan.FromSeconds(3) }[0] - new[] { TimeSpan.FromSeconds(1) }[0]).TotalSeconds)", 2.0),
    ("@((new[] { new DateTime(2024, 1, 2) }[0] - new[] { new DateTime(2024, 1, 1) }[0]).TotalHours)", 24.0),
    ("@((new[] { new DateTime(2024, 1, 1) }[0] + TimeSpan.FromDays(1)).Day)", 2),
    ("@((new[] { new DateTime(2024, 1, 3) }[0] - TimeSpan.FromDays(1)).Day)", 2),
    ("@(new[] { 5.5 }[0] % new[] { 2.0 }[0])", 1.5),
    ("@(new[] { -7 }[0] / new[] { 2 }[0])", -3), ("@(new[] { 7 }[0] / new[] { -2 }[0])", -3),
    ("@(new[] { -7 }[0] % new[] { 2 }[0])", -1), ("@(new[] { 7 }[0] % new[] { -2 }[0])", 1),
    ("@(new[] { 3 }[0] * new[] { 4 }[0] - new[] { 1 }[0])", 11),
])
def test_numeric_conversions_and_arithmetic_of_values_typed_when_they_run(source: str, expected: object) -> None:
    """Found by mutation testing of dotnet.py: .NET type names in casts and run-time arithmetic were untested."""
    assert _evaluated(source) == expected and type(_evaluated(source)) is type(expected)


@pytest.mark.parametrize(("source", "message"), [
    ("@((int)double.NaN)", "Arithmetic operation resulted in an overflow."),  # a Python ValueError escaped
    ("@((Int32)3e9)", "Arithmetic operation resulted in an overflow."),  # it gave 3000000000 in an int
    ("@{ double d = 1e20; return (int)d; }", "Arithmetic operation resulted in an overflow."),
    ("@((char)double.NaN)", "Arithmetic operation resulted in an overflow."),
    ('@(new object[] { "x", 1 }[0] * new object[] { "x", 1 }[1])',
     "Operator '*' cannot be applied to operands of type 'System.String' and 'System.Int32'"),
    ("@(new[] { int.MinValue }[0] / new[] { -1 }[0])", "Arithmetic operation resulted in an overflow."),
    ("@(new[] { 1 }[0] / new[] { 0 }[0])", "Attempted to divide by zero."),
])
def test_a_conversion_or_operation_past_its_types_range_fails_as_dotnet_does(source: str, message: str) -> None:
    with pytest.raises(ExpressionRuntimeError, match=re.escape(message)):
        _evaluated(source)


def test_a_double_remainder_by_zero_is_nan() -> None:
    assert math.isnan(_evaluated("@(new[] { 5.5 }[0] % new[] { 0.0 }[0])"))
