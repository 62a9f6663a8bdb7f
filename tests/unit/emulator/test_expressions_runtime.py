"""Operators on values typed only as they run (array items, JSON values: toolkit/emulator/expressions/dotnet.py's
arithmetic and compare), and calls on null, as .NET computes them. Found by mutation testing of dotnet.py: the typed
paths were tested, these were not."""

from __future__ import annotations

import math

import pytest

from toolkit.emulator.expressions.dotnet import CsLong

from test_expressions_extended import failure_of, request, run


@pytest.mark.parametrize(("source", "expected"), [
    # int arithmetic: truncating division, the dividend's sign for %, 32-bit wrap
    ("@{ var a = new[] { -7, 2 }; return a[0] / a[1]; }", -3),
    ("@{ var a = new[] { 7, -2 }; return a[0] / a[1]; }", -3),
    ("@{ var a = new[] { -7, -2 }; return a[0] / a[1]; }", 3),
    ("@{ var a = new[] { -7, 2 }; return a[0] % a[1]; }", -1),
    ("@{ var a = new[] { 7, -2 }; return a[0] % a[1]; }", 1),
    ("@{ var a = new[] { 100000, 100000 }; return a[0] * a[1]; }", 1410065408),  # unchecked int
    # a long on either side: 64-bit
    ("@{ var x = new[] { 100000 }; var y = new[] { 100000L }; return x[0] * y[0]; }", CsLong(10_000_000_000)),
    ("@{ var x = new[] { 100000L }; var y = new[] { 100000 }; return x[0] * y[0]; }", CsLong(10_000_000_000)),
    # doubles: IEEE 754
    ("@{ var d = new[] { 1.5, 2.0 }; return d[0] + d[1]; }", 3.5),
    ("@{ var d = new[] { 1.5, 2.0 }; return d[0] - d[1]; }", -0.5),
    ("@{ var d = new[] { 1.5, 2.0 }; return d[0] * d[1]; }", 3.0),
    # a char against a char literal is its code
    ('@{ var s = "abc"; return s[0] < \'b\'; }', True),
    ('@{ var s = "abc"; return s[0] > \'a\'; }', False),
    ('@{ var s = "abc"; return s[0] >= \'a\'; }', True),
    ('@{ var s = "abc"; return s[0] >= \'b\'; }', False),
    ('@{ var s = "abc"; return \'b\' <= s[1]; }', True),
    # dates and spans
    ("@{ var a = new object[] { new DateTime(2024, 1, 2), TimeSpan.FromDays(1) }; return ((DateTime)a[0] + "
     "(TimeSpan)a[1]).Day; }", 3),
])
def test_runtime_arithmetic_and_comparison_are_dotnets(source: str, expected: object) -> None:
    value = run(source)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(("source", "sign"), [
    ("@{ var d = new[] { -1.0, 0.0 }; return d[0] / d[1]; }", -1),
    ("@{ var d = new[] { 1.0, -0.0 }; return d[0] / d[1]; }", -1),
    ("@{ var d = new[] { -1.0, -0.0 }; return d[0] / d[1]; }", 1),
])
def test_a_double_divided_by_zero_is_an_infinity_signed_by_both(source: str, sign: int) -> None:
    value = run(source)
    assert math.isinf(value) and math.copysign(1, value) == sign


@pytest.mark.parametrize(("source", "message"), [
    ("@{ var a = new[] { 1, 0 }; return a[0] / a[1]; }", "Attempted to divide by zero."),
    ("@{ var a = new[] { int.MinValue, -1 }; return a[0] / a[1]; }", "Arithmetic operation resulted in an overflow."),
    ("@{ var a = new object[] { true, 1 }; return a[0] + a[1]; }",
     "Operator '+' cannot be applied to operands of type 'System.Boolean' and 'System.Int32'"),
    ("@{ var a = new object[] { new DateTime(2024, 1, 2), 1 }; return a[0] + a[1]; }",
     "Operator '+' cannot be applied to operands of type 'System.DateTime' and 'System.Int32'"),
    ("@{ var a = new object[] { TimeSpan.FromSeconds(1), 1 }; return a[0] + a[1]; }",
     "Operator '+' cannot be applied to operands of type 'System.TimeSpan' and 'System.Int32'"),
    ("@{ var a = new object[] { new DateTime(2024, 1, 2), 1 }; return a[0] < a[1]; }",
     "Operator '<' cannot be applied to operands of type 'System.DateTime' and 'System.Int32'"),
    ("@{ var a = new object[] { TimeSpan.FromSeconds(1), 1 }; return a[0] < a[1]; }",
     "Operator '<' cannot be applied to operands of type 'System.TimeSpan' and 'System.Int32'"),
    ('@{ var s = "abc"; return s[0] < "ab"; }',
     "Operator '<' cannot be applied to operands of type 'System.Char' and 'System.String'"),
    ('@{ var s = "abc"; return "ab" < s[0]; }',
     "Operator '<' cannot be applied to operands of type 'System.String' and 'System.Char'"),
    # null: foreach calls GetEnumerator() (NullReferenceException), LINQ's static methods check their source
    ("@{ JArray a = null; foreach (var x in a) { return 1; } return 0; }",
     "Object reference not set to an instance of an object."),
    ("@{ string[] a = null; return a.Count(); }", "Value cannot be null. (Parameter 'source')"),
    ('@{ string[] a = null; return a.Any(x => x == "a"); }', "Value cannot be null. (Parameter 'source')"),
    ("@{ string s = null; return s.Length; }", "Object reference not set to an instance of an object."),
])
def test_a_runtime_operator_or_call_fails_as_dotnet_fails(source: str, message: str) -> None:
    assert message in failure_of(source)


def test_foreach_of_a_dictionary_gives_its_pairs() -> None:
    assert run('@{ var s = ""; foreach (var kv in context.Variables) { s += kv.Key + "=" + kv.Value + ";"; } return s; }',
               request(a=1, b="x")) == "a=1;b=x;"
