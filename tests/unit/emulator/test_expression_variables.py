"""C# 7's expression variables (toolkit/emulator/expressions/out_calls.py, parser, compiler and flow): the
declaration pattern `x is T name` and out arguments of TryGetValue and TryParse, as APIM's own example writes them.
They were refused: the pattern as a syntax error (as if the policy were not C#), out as the emulator's limit."""

from __future__ import annotations

import uuid

import pytest

from toolkit.emulator.expressions import UnsupportedExpression, compile_expression
from toolkit.emulator.expressions.dotnet import CsLong

from test_expressions_extended import failure_of, request, run

CS0161 = "not all code paths return a value (C# refuses it: CS0161)"

# learn.microsoft.com/azure/api-management/api-management-policy-expressions, "Examples" (a header named there)
DOCS_EXAMPLE = ('@{ string[] value; if (context.Request.Headers.TryGetValue("HEADER", out value)) { '
                "if (value != null && value.Length > 0) { return value[0]; } } return null; }")


def _refused(source: str) -> UnsupportedExpression:
    with pytest.raises(UnsupportedExpression) as caught:
        compile_expression(source)
    return caught.value


@pytest.mark.parametrize(("header", "expected"), [("Accept", "a"), ("x-user", "alice"), ("Authorization", None)])
def test_the_documented_try_get_value_example_runs(header: str, expected: str | None) -> None:
    assert run(DOCS_EXAMPLE.replace("HEADER", header)) == expected


@pytest.mark.parametrize(("source", "expected"), [
    # TryGetValue on the context's dictionaries and a JObject: the value, or false and null
    ('@(context.Request.Headers.TryGetValue("Accept", out var v) ? v.Length : -1)', 2),
    ('@{ context.Request.Headers.TryGetValue("Nope", out var v); return v == null; }', True),
    ('@(context.Variables.TryGetValue("n", out var x) ? x : 0)', 5),
    ('@(context.Variables.TryGetValue("missing", out object x) ? x : "none")', "none"),
    ('@(context.Request.Url.Query.TryGetValue("x", out var q) ? q[0] : "-")', "1"),
    ('@{ var j = JObject.Parse("{\\"a\\":1}"); JToken t; return j.TryGetValue("a", out t) ? (int)t : -1; }', 1),
    ('@{ var j = JObject.Parse("{\\"a\\":1}"); return j.TryGetValue("b", out JToken t) ? 1 : (t == null ? 0 : 2); }', 0),
    # TryParse: what Parse gives, or false and default(T)
    ('@(int.TryParse("42", out var n) ? n + 1 : -1)', 43),
    ('@(int.TryParse(" 7 ", out var n) ? n : -1)', 7),
    ('@(int.TryParse("x", out var n) ? -1 : n)', 0),
    ('@(int.TryParse("2147483648", out var n))', False),  # out of int's range
    ("@(int.TryParse(null, out var n))", False),
    ('@(long.TryParse("5", out var n) ? n * 1000000000 : 0)', CsLong(5_000_000_000)),  # a long: no int wrap
    ('@(double.TryParse("1.5", out var d) ? d * 2 : 0)', 3.0),
    ('@(bool.TryParse("True", out var b) && b)', True),
    ('@(bool.TryParse("yes", out var b) || b)', False),
    ('@(Guid.TryParse("nope", out var g) ? "" : g.ToString())', "00000000-0000-0000-0000-000000000000"),
    ('@(int.TryParse("5", out _))', True),  # a discard
    ('@{ int n = 9; var ok = int.TryParse("x", out n); return n; }', 0),  # an existing local gets default(int)
    ('@{ if (!int.TryParse("7", out var n)) { return 0; } return n * 2; }', 14),  # in scope after the if
    ('@{ int n; if (int.TryParse("x", out n)) { } return n; }', 0),  # out assigns on every path
    ('@(new[] { "1", "x", "3" }.Count(h => int.TryParse(h, out var n) && n > 0))', 2),
    # x is T name: name holds the value when the test is true
    ('@{ object o = "abc"; if (o is string s) { return s.Length; } return 0; }', 3),
    ('@{ object o = 5; if (!(o is string s)) { return "no"; } return s; }', "no"),
    ('@{ object o = "a"; if (!(o is string s)) { return "no"; } return s; }', "a"),
    ('@(context.Variables["t"] is string s && s.StartsWith("a") ? s : "-")', "abc"),
    ('@(context.Variables["n"] is string s && s.StartsWith("a") ? s : "-")', "-"),
    ('@{ object o = 5; return o is string s ? s : "-"; }', "-"),
    ('@{ var v = ((JValue)JObject.Parse("{\\"a\\":5}")["a"]).Value; if (v is long n) { return n * 1000000000; } '
     "return 0; }", CsLong(5_000_000_000)),
    ('@{ var o = (object)JObject.Parse("{}"); return o is JObject j ? j.Count : -1; }', 0),
])
def test_expression_variables_hold_what_csharp_gives_them(source: str, expected: object) -> None:
    value = run(source, request(n=5, t="abc"))
    assert value == expected and type(value) is type(expected)


def test_a_parsed_guid_is_the_texts() -> None:
    text = "6f9619ff-8b86-d011-b42d-00c04fc964ff"
    assert run(f'@(Guid.TryParse("{text}", out var g) ? g : Guid.Empty)') == uuid.UUID(text)


@pytest.mark.parametrize(("source", "reason", "at"), [
    ('@{ string value; if (context.Request.Headers.TryGetValue("a", out value)) { return value; } return null; }',
     "cannot convert from 'out string' to 'out string[]' (C# refuses it: CS1503)", "value)"),
    ('@(int.TryParse("1", out long n))', "cannot convert from 'out long' to 'out int' (C# refuses it: CS1503)", "n)"),
    ('@{ if (int.TryParse("1", out var a)) { } if (int.TryParse("2", out var a)) { } return 1; }',
     "a local named 'a' is already defined in this scope", "a)) { } return"),  # both are the block's (C# 7)
    ('@{ var a = "1"; var ok = a?.Contains(int.TryParse(a, out var n) ? "1" : "2"); int n = 2; return n; }',
     "a local named 'n' is already defined in this scope", "n = 2"),  # the statement's, not the access's
    ('@{ object o = 5; if (o is string s) { } return s; }',
     "use of unassigned local variable 's' (C# refuses it: CS0165)", "s; }"),
    ('@(context.Variables["t"] is string s || s.Length > 0)',
     "use of unassigned local variable 's' (C# refuses it: CS0165)", "s.Length"),
    ('@(int.TryParse(context.Variables["t"] is string s ? s : "", out var n) && s.Length > 0)',
     "use of unassigned local variable 's' (C# refuses it: CS0165)", "s.Length"),
])
def test_what_csharp_refuses_in_expression_variables_is_refused_where_it_is(source: str, reason: str, at: str) -> None:
    refused = _refused(source)
    assert (refused.reason, refused.column, refused.limit) == (reason, source.rindex(at) + 1, False)


@pytest.mark.parametrize(("source", "reason", "at"), [
    ('@(int.TryParse("1", out var n, 5))', "out arguments are supported only in d.TryGetValue(key, out value) and "
                                            "T.TryParse(text, out value)", "out"),
    ('@("a".Foo(1, out var q))', "out arguments are supported only in d.TryGetValue(key, out value) and "
                                  "T.TryParse(text, out value)", "out"),
    ('@(TimeSpan.TryParse("1", out var t))', "TimeSpan.TryParse is not supported", "TryParse"),
    # the emulator's DateTime.Parse reads ISO 8601 only: an HTTP date would quietly be false
    ('@(DateTime.TryParse("Tue, 05 Mar 2024 10:00:00 GMT", out var t))', "DateTime.TryParse is not supported",
     "TryParse"),
    ('@(context.Variables["x"] is 5)', "constant patterns (x is 5) are not supported", "5"),
    ('@(context.Variables["x"] is var y)', "var patterns (x is var y) are not supported", "var"),
    ('@(context.Variables["x"] is not string s)', "a declaration pattern after is not is not supported", "s)"),
    ("@{ var o = (object)1; switch (o) { case int n: return n; } return 0; }",
     "type patterns in case labels (case T x:) are not supported", "int n"),
])
def test_csharp_the_emulator_does_not_run_is_refused_as_its_limit(source: str, reason: str, at: str) -> None:
    refused = _refused(source)
    assert (refused.reason, refused.column, refused.limit) == (reason, source.index(at) + 1, True)


# Definite assignment through a condition's parts (C# spec, "definite assignment state of v after expr when true /
# when false"): an out argument assigns once its call returns, a pattern variable only when its test is true.
@pytest.mark.parametrize(("source", "name", "at"), [
    ('@{ int n; if (context.Request.Method == "GET" && int.TryParse("1", out n)) { return 1; } return n; }', "n",
     "n; }"),  # false: the left side may be why
    ('@{ int n; if (context.Request.Method == "GET" || int.TryParse("1", out n)) { return n; } return 0; }', "n",
     "n; } return 0"),  # true: the left side may be why
    ('@{ object o = 1; if (o is string s || context.Request.Method == "GET") { return s; } return ""; }', "s", "s; }"),
    ('@{ var ok = context.Variables.ContainsKey("a") && int.TryParse("1", out var n); return n; }', "n", "n; }"),
    ('@{ object o = 1; var ok = o is string s; return s; }', "s", "s; }"),
    ('@{ object o = 1; var ok = !(o is string s); return s; }', "s", "s; }"),
    ("@{ bool b; if (!b) { return 1; } return 0; }", "b", "b)"),
    ('@{ var c = context.Request.Method == "GET"; if (c ? int.TryParse("1", out var n) : true) { return n; } '
     "return 0; }", "n", "n; } return 0"),
    ('@{ object o = 1; var c = context.Request.Method == "GET"; if (c ? true : o is string s) { return ""; } '
     "return s; }", "s", "s; }"),
    ('@{ object o = 1; var t = context.Request.Method == "GET" ? (o is string s ? "x" : null) : null; return s; }',
     "s", "s; }"),
    # what runs only on some paths (??, ?.) assigns nothing after it; what they read must be assigned
    ('@{ var t = context.Variables.ContainsKey("a") ? "x" : null; var u = t ?? (int.TryParse("1", out var n) ? "y" '
     ': "z"); return n; }', "n", "n; }"),
    ('@{ string s; return s ?? "x"; }', "s", "s ??"),
    ('@{ string s; return "a" ?? s; }', "s", "s; }"),
    ("@{ string s; return s?.Length; }", "s", "s?."),
    ('@{ string s; return "a"?.Contains(s); }', "s", "s)"),
    ('@{ var a = "1"; var ok = a?.Contains(int.TryParse(a, out var n) ? "1" : "2"); return n; }', "n", "n; }"),
    # an out argument of a local declared outside assigns that local, where the call stands
    ('@{ int n; if (context.Request.Method == "GET") { int.TryParse("1", out n); } return n; }', "n", "n; }"),
])
def test_a_variable_a_condition_may_not_have_assigned_is_refused_where_it_is_read(source: str, name: str,
                                                                                   at: str) -> None:
    refused = _refused(source)
    assert (refused.reason, refused.column) == (f"use of unassigned local variable '{name}' (C# refuses it: CS0165)",
                                                source.rindex(at) + 1)


@pytest.mark.parametrize(("source", "expected"), [
    ('@{ object o = "ab"; var ok = o is string s && s.Length > 1; return ok; }', True),
    ('@{ object o = "ab"; var ok = !(o is string s) || s.Length > 5; return ok; }', False),
    ('@{ var c = context.Request.Method == "POST"; if (c ? int.TryParse("1", out var n) : false) { return n; } '
     "return 0; }", 1),
    ('@{ object o = "a"; if (!(o is string s) ? false : s.Length == 1) { return s; } return "-"; }', "a"),
    ('@{ object o = 2; if (o is string s ? s.Length > 0 : false) { return s; } return "-"; }', "-"),
    ('@{ int n; if (true) { int.TryParse("3", out n); } return n; }', 3),
    ('@{ object o = "a"; var t = o is string s ? s : "-"; return t; }', "a"),
    # compiled twice (a compound assignment's value is typed, then compiled), declared once
    ('@{ int x = 1; x += int.TryParse("2", out var n) ? n : 0; return x + n; }', 5),
    # in a ?. access: the statement's, as in C# (the emulator's own scope of the access is no C# scope)
    ('@{ var a = "1"; var ok = a?.Contains(int.TryParse(a, out var n) ? "1" : "2"); return ok; }', True),
])
def test_a_variable_every_path_of_a_condition_assigned_is_read(source: str, expected: object) -> None:
    assert run(source) == expected


# Found by a review against C# 7.3 and .NET (checked with Mono's mcs and Roslyn's sources).
@pytest.mark.parametrize(("source", "expected"), [
    # .NET's number, bool and Guid formats, not Python's
    ('@(double.TryParse("1,000.5", out var d) ? d : -1)', 1000.5),  # group separators (AllowThousands)
    ('@(double.TryParse("1_0", out var d) ? d : -1)', -1),
    ('@(double.TryParse("inf", out var d) ? d : -1)', -1),
    ('@(double.TryParse("Infinity", out var d) && double.IsPositiveInfinity(d))', True),
    ('@(double.TryParse("\u00a01.5", out var d) ? d : -1)', -1),  # a no-break space is no white space here
    ('@(double.TryParse(" -2e3 ", out var d) ? d : -1)', -2000.0),
    ('@(bool.TryParse(" False\0", out var b) ? (b ? 1 : 0) : -1)', 0),
    ('@(Guid.TryParse("urn:uuid:6f9619ff-8b86-d011-b42d-00c04fc964ff", out var g))', False),
    ('@(Guid.TryParse("6f9619ff8-b86-d011-b42d-00c04fc964ff", out var g))', False),
    ('@(Guid.TryParse(" (6f9619ff-8b86-d011-b42d-00c04fc964ff) ", out var g) ? g.ToString() : "")',
     "6f9619ff-8b86-d011-b42d-00c04fc964ff"),
    ('@(Guid.TryParse("{0x6f9619ff,0x8b86,0xd011,{0xb4,0x2d,0x00,0xc0,0x4f,0xc9,0x64,0xff}}", out var g) ? '
     'g.ToString() : "")', "6f9619ff-8b86-d011-b42d-00c04fc964ff"),
    ('@(Convert.ToDouble("1,5"))', 15.0),
    # a switch block is one scope: a section's variable is the next one's (Roslyn's SwitchBinder)
    ('@{ switch (context.Request.Method) { case "GET": int.TryParse("1", out var n); return n; case "POST": n = 5; '
     "return n; } return 0; }", 5),
    # Roslyn follows ==/!= true/false and ?? false through a condition (C# 10's rules, on every language version)
    ('@{ object o = "a"; if ((o is string s) == true) { return s; } return ""; }', "a"),
    ('@{ var j = JObject.Parse("{\\"model\\":\\"m\\"}"); if (j?.TryGetValue("model", out var m) == true) { '
     'return (string)m; } return ""; }', "m"),
    ('@{ var j = JObject.Parse("{\\"model\\":\\"m\\"}"); if (j?.TryGetValue("model", out var m) ?? false) { '
     'return (string)m; } return ""; }', "m"),
    ('@{ var j = JObject.Parse("{}"); if (j?.TryGetValue("model", out var m) != true) { return "none"; } '
     "return (string)m; }", "none"),
    ('@{ object o = 1; if ((o is string s) == false) { return "-"; } return s; }', "-"),
    ('@{ object o = "b"; if ((o is string s) != false) { return s; } return "-"; }', "b"),
    # constants C# folds, so the end of the block is unreachable
    ("@{ if (0.1 + 0.2 > 0) { return 1; } }", 1),
    ("@{ if ((double)1 > 0 && (bool)true) { return 1; } }", 1),
    ("@{ if (double.MaxValue > 0 && 1 / 0.0 > 0 && -1 / 0.0 < 0) { return 1; } }", 1),
    ('@{ if ("a" + "b" == "ab" && "a" != null && null == null) { return 1; } }', 1),
    ("@{ if (5 % 0.0 != 5 % 0.0) { return 1; } }", 1),  # NaN is not NaN
])
def test_found_by_review_runs_as_dotnet_runs(source: str, expected: object) -> None:
    assert run(source) == expected


@pytest.mark.parametrize(("source", "reason", "at"), [
    ('@(int.TryParse(5, out var n))', "cannot convert from 'int' to 'string' (C# refuses it: CS1503)", "5"),
    ('@{ var v = "x"; return int.TryParse("7", out v); }',
     "cannot convert from 'out string' to 'out int' (C# refuses it: CS1503)", "v); }"),  # a var local's type counts
    ('@{ int x = 1; return x is string s ? 1 : 0; }',
     "an expression of type 'int' can never be of type 'string' (C# refuses it: CS8121)", "string s"),
    ('@{ string x = "a"; return x is int s ? 1 : 0; }',
     "an expression of type 'string' can never be of type 'int' (C# refuses it: CS8121)", "int s"),
    ("@(null is string s)", "a pattern needs a value, not null (C# refuses it: CS8117)", "null"),
    ('@{ switch (context.Request.Method) { case "GET": if (int.TryParse("1", out var n)) { } break; case "POST": '
     'if (int.TryParse("2", out var n)) { } break; } return ""; }',
     "a local named 'n' is already defined in this scope", "n)) { } break; } return"),
    ('@{ foreach (var h in new[] { "1" }) { int.TryParse(h, out h); } return 1; }',
     "cannot pass 'h' as an out argument because it is a foreach iteration variable (C# refuses it: CS1657)", "h); }"),
    ('@{ var j = JObject.Parse("{}"); if (j?.TryGetValue("model", out var m) == false) { return ""; } '
     "return (string)m; }", "use of unassigned local variable 'm' (C# refuses it: CS0165)", "m; }"),  # null: not false
    ('@{ var j = JObject.Parse("{}"); if (j?.TryGetValue("model", out var m) ?? true) { return (string)m; } '
     'return ""; }', "use of unassigned local variable 'm' (C# refuses it: CS0165)", "m; } return"),
    ('@{ if ("a" == null) { return 1; } }', CS0161, "{ if"),
    # a string plus a char is no constant in C# (the char is boxed to object), so the condition may be false
    ('@{ if ("a" + \'b\' == "ab") { return 1; } }', CS0161, "{ if"),
])
def test_found_by_review_refused_as_csharp_refuses(source: str, reason: str, at: str) -> None:
    refused = _refused(source)
    assert (refused.reason, refused.column, refused.limit) == (reason, source.rindex(at) + 1, False)


@pytest.mark.parametrize(("source", "message"), [
    # typed only as they run, so found then: C# would not have compiled them
    ('@(int.TryParse(context.Request.Url.Query["x"], out var n))',
     "cannot convert from 'System.Object[]' to 'string' (C# refuses it when it compiles: CS1503)"),
    ('@(int.TryParse(JObject.Parse("{\\"a\\":\\"5\\"}")["a"], out var n))',
     "cannot convert from 'Newtonsoft.Json.Linq.JValue' to 'string' (C# refuses it when it compiles: CS1503)"),
    ('@{ var j = JObject.Parse("{\\"a\\":\\"x\\"}"); return j.TryGetValue("a", out string t); }',
     "cannot convert from 'out string' to 'out JToken' (C# refuses it when it compiles: CS1503, column {t})"),
    ('@(context.Variables.TryGetValue(null, out var v))', "Value cannot be null. (Parameter 'key')"),
])
def test_found_by_review_fails_when_it_runs_rather_than_quietly(source: str, message: str) -> None:
    assert message.replace("{t}", str(source.find("t);") + 1)) in failure_of(source)


# The context's objects APIM leaves null where they do not apply, read through ?. or compared with null, as real
# policies do (they were refused: "context.Subscription is not a value").
@pytest.mark.parametrize(("source", "fields", "expected"), [
    ("@(context.Subscription?.Id ?? context.Request.IpAddress)", {}, "sub-1"),
    ("@(context.Subscription?.Id ?? context.Request.IpAddress)", {"subscription_id": None, "client_ip": "10.0.0.9"},
     "10.0.0.9"),
    ('@(context.Subscription?.Key ?? "anonymous")', {}, "anonymous"),
    ('@(context.Subscription?.Key ?? "anonymous")', {"subscription_key": "k1"}, "k1"),
    ('@(context.Subscription != null ? "sub" : "none")', {"subscription_id": None}, "none"),
    ('@(context.User?.Email ?? "-")', {}, "-"),
    ('@(context.User?.Email ?? "-")', {"user_id": "u1", "user_email": "a@b.c"}, "a@b.c"),
    ('@(context.Product?.Name ?? "none")', {"product_id": "p", "product_name": "Gold"}, "Gold"),
    ('@(context.LastError?.Message ?? "no error")', {}, "no error"),
    ('@(context.LastError == null)', {}, True),
    ("@(context.Request?.Method)", {}, "POST"),
    ('@(context.Request?.Headers.GetValueOrDefault("X-User", ""))', {}, "alice"),
    ("@(context.Response?.StatusCode ?? 0)", {}, 0),
    ("@(context.Response?.StatusCode ?? 0)", {"response_status": 429}, 429),
    ("@(context.Deployment?.Region)", {}, "West Europe"),
    ('@{ if (context.Request?.Headers?.TryGetValue("Accept", out var h) == true) { return h[0]; } return ""; }', {},
     "a"),
])
def test_a_context_object_is_read_through_null_conditional_access(source: str, fields: dict[str, object],
                                                                    expected: object) -> None:
    ctx = request()
    for name, value in fields.items():
        setattr(ctx, name, value)
    assert run(source, ctx) == expected


def test_a_context_object_is_no_value_of_its_own() -> None:
    refused = _refused("@(context.Subscription)")
    assert (refused.reason, refused.hint) == ("context.Subscription can only be compared with null or read through ?.",
                                              "use context.Subscription != null, or read a member: "
                                              "context.Subscription?.Id")


# catch clauses as real policies write them (catch (Exception ex) was refused: "ex is not supported"; a catch of one
# type caught every exception, quietly)
@pytest.mark.parametrize(("source", "expected"), [
    ('@{ try { return int.Parse("x").ToString(); } catch (Exception ex) { return ex.Message; } }',
     "The input string 'x' was not in a correct format."),
    ('@{ try { return int.Parse("x"); } catch (Exception) { return -1; } }', -1),
    ('@{ try { return int.Parse("x"); } catch (System.Exception e) { return e.Message.Length > 0 ? -2 : 0; } }', -2),
    ('@{ try { return int.Parse("x"); } catch (Exception ex) when (ex.Message.Contains("format")) { return -1; } }', -1),
])
def test_a_catch_takes_the_exception_it_names(source: str, expected: object) -> None:
    assert run(source) == expected


@pytest.mark.parametrize(("source", "message"), [
    ('@{ try { return int.Parse("x"); } catch (Exception ex) when (ex.Message.Contains("zzz")) { return -1; } }',
     "The input string 'x' was not in a correct format."),
    # a filter that fails holds for no exception: the first one goes on
    ('@{ try { return int.Parse("x"); } catch (Exception ex) when (ex.Message.Substring(99) == "") { return -1; } }',
     "The input string 'x' was not in a correct format."),
    ('@{ var n = 0; try { for (;;) { n++; } } catch { return -1; } }',  # the emulator's limit is no .NET exception
     "the loop ran more than 10000 times (the emulator's limit)"),
])
def test_what_a_catch_does_not_take_fails_the_expression(source: str, message: str) -> None:
    assert message in failure_of(source)


def test_a_catch_of_one_exception_type_is_the_emulators_limit() -> None:
    source = '@{ try { return int.Parse("x"); } catch (FormatException) { return -1; } }'
    refused = _refused(source)
    assert (refused.limit, refused.column, refused.hint) == (True, source.index("FormatException") + 1,
                                                             "catch (Exception e)")


@pytest.mark.parametrize(("source", "expected"), [
    ('@{ int n; try { n = int.Parse("x"); } catch (Exception ex) when (int.TryParse("3", out n)) { } return n; }', 3),
])
def test_a_catch_filter_assigns_as_a_condition_does(source: str, expected: object) -> None:
    assert run(source) == expected


def test_the_catch_variable_is_a_local_of_the_catch() -> None:
    refused = _refused("@{ try { return 1; } catch (Exception ex) { var ex = 2; return ex; } }")
    assert refused.reason == "a local named 'ex' is already defined in this scope"


# Found by the second review: .NET's conversions and comparisons, C#'s for loops
@pytest.mark.parametrize(("source", "expected"), [
    ("@(Convert.ToDouble(null))", 0.0),  # a missing JSON value is null: 0, as .NET converts it
    ('@(Convert.ToDouble(JObject.Parse("{}")["t"]))', 0.0),
    ('@(Convert.ToBoolean(" true\\0"))', True),
    ("@(Convert.ToBoolean((string)null))", False),
    ('@(double.IsNaN(double.Parse("-nan")))', True),  # .NET Core 3.0+: the symbols in any case, with a sign
    ('@(double.IsPositiveInfinity(double.Parse(" Infinity ")))', True),
    ("@(double.IsPositiveInfinity(double.Parse(double.PositiveInfinity.ToString())))", True),  # reads back its "∞"
    ("@{ long a = long.MaxValue; double d = a; return a == d; }", True),  # the long compared as a double
    ("@{ long a = long.MaxValue; double d = a; return a < d; }", False),
    ("@{ long a = long.MaxValue; double d = a; return d.Equals(a); }", True),
    ("@{ if (long.MaxValue == 9223372036854775807.0) { return 1; } }", 1),
    ("@('a' is char c ? c.ToString() : \"-\")", "a"),
    ("@{ var n = 0; for (int i = 0, j = 10; i < j; i++, j--) { n++; } return n; }", 5),
    ("@{ int i, j; var n = 0; for (i = 0, j = 0; i < 3; i++, j += 2) { n = j; } return n; }", 4),
])
def test_found_by_second_review_runs_as_dotnet_runs(source: str, expected: object) -> None:
    value = run(source)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(("source", "message"), [
    ("@(Convert.ToDouble((char)97))", "Invalid cast from 'Char' to 'Double'."),
    ('@(Convert.ToBoolean("yes"))', "String 'yes' was not recognized as a valid Boolean."),
    ('@(double.Parse("inf"))', "The input string 'inf' was not in a correct format."),
])
def test_found_by_second_review_fails_as_dotnet_fails(source: str, message: str) -> None:
    assert message in failure_of(source)


@pytest.mark.parametrize(("source", "reason", "at", "limit"), [
    ("@('a' is string s)", "an expression of type 'char' can never be of type 'string' (C# refuses it: CS8121)",
     "string", False),
    ("@{ const int k = 5; return k; }", "const locals are not supported (declare it without const)", "const", True),
    ("@{ switch (1) { case 1 when true: return 1; default: return 0; } }",
     "case guards (case x when ...:) are not supported", "when", True),
    ("@{ for (int i = 0; i < 2; i++ j--) { } return 1; }", "unexpected identifier 'j', expected ')'", "j--", False),
])
def test_found_by_second_review_refused_where_it_is(source: str, reason: str, at: str, limit: bool) -> None:
    refused = _refused(source)
    assert (refused.reason, refused.column, refused.limit) == (reason, source.index(at) + 1, limit)


# Every path of a comparison with true or false, of ?? and of ?: in a condition (found unchecked by mutation testing)
_O = '@{ object o = context.Variables["t"]; var c = context.Request.Method == "GET"; int n; '


@pytest.mark.parametrize("body", [
    'if ((o is string s) != true) { return ""; } return s; }',
    'if ((o is string s) == false) { return ""; } return s; }',
    'if ((o is string s) != false) { return s; } return ""; }',
    'if (true == (o is string s)) { return s; } return ""; }',
    'var j = JObject.Parse("{}"); if (j?.TryGetValue("a", out var t) != true) { return ""; } return (string)t; }',
    'var j = JObject.Parse("{}"); if (j?.TryGetValue("a", out var t) == false) { return (string)t; } return ""; }',
    'if (c ? o is string s : false) { return s; } return ""; }',
])
def test_a_variable_a_comparison_assigned_on_the_path_taken_is_read(body: str) -> None:
    compile_expression(_O + body)  # must not raise


@pytest.mark.parametrize(("body", "name", "at"), [
    ('if ((o is string s) != true) { return s; } return ""; }', "s", "s; } return"),
    ('if ((o is string s) == false) { return s; } return ""; }', "s", "s; } return"),
    ('var b = true; if ((o is string s) != b) { return s; } return ""; }', "s", "s; } return"),  # b is no constant
    ('var j = JObject.Parse("{}"); if (j?.TryGetValue("a", out var t) == true) { } else { return (string)t; } '
     'return ""; }', "t", "t; } return"),
    ('var j = JObject.Parse("{}"); if (j?.TryGetValue("a", out var t) == false) { } else { return (string)t; } '
     'return ""; }', "t", "t; } return"),
    ('var j = JObject.Parse("{}"); if (j?.TryGetValue("a", out var t) ?? int.TryParse("1", out n)) { return n; } '
     "return 0; }", "n", "n; } return"),
    ('var j = JObject.Parse("{}"); if (!(j?.TryGetValue("a", out var t) ?? int.TryParse("1", out n))) { return n; } '
     "return 0; }", "n", "n; } return"),
    ('var j = JObject.Parse("{}"); if (!(j?.TryGetValue("a", out var t) ?? false)) { return (string)t; } '
     'return ""; }', "t", "t; } return"),
    ('var j = JObject.Parse("{}"); if (j?.TryGetValue("a", out var t) == true) { return n; } return 0; }', "n",
     "n; } return"),
    ('if ((o is string s) == true) { return n; } return 0; }', "n", "n; } return"),
    ('var j = JObject.Parse("{}"); if (j?.TryGetValue("a", out var t) != true) { return (string)t; } return ""; }',
     "t", "t; } return"),  # null != true
    ('var j = JObject.Parse("{}"); if (j?.TryGetValue("a", out var t) != false) { return (string)t; } return ""; }',
     "t", "t; } return"),  # null != false
    ("if (c ? n > 0 : false) { return 1; } return 0; }", "n", "n > 0"),
    ('if (c ? true : int.TryParse("1", out n)) { return n; } return 0; }', "n", "n; } return"),
    ('if (c ? false : int.TryParse("1", out n)) { } else { return n; } return 0; }', "n", "n; } return"),
    ("var x = c ? n : 0; return x; }", "n", "n : 0"),
    ('if (o is string s) { return n; } return 0; }', "n", "n; } return"),
    ("try { } catch (Exception ex) { return n; } return 0; }", "n", "n; } return"),
    ("try { return 1; } catch (Exception ex) when (n > 0) { return 2; } }", "n", "n > 0"),
])
def test_a_variable_a_comparison_may_not_have_assigned_is_refused(body: str, name: str, at: str) -> None:
    source = _O + body
    refused = _refused(source)
    assert (refused.reason, refused.column) == (f"use of unassigned local variable '{name}' (C# refuses it: CS0165)",
                                                source.rindex(at) + 1)


@pytest.mark.parametrize(("source", "at"), [
    ("@{ { int n = 1; } int n = 2; return n; }", "n = 2"),
    ("@{ for (int i = 0; i < 1; i++) { } int i = 5; return i; }", "i = 5"),
    ('@{ var a = new[] { "1" }; var c = a.Count(x => int.TryParse(x, out var n)); int n = 3; return c + n; }', "n = 3"),
    ("@{ var a = new[] { 1 }; var c = a.Count(x => x > 0); var x = 2; return c + x; }", "x = 2"),  # C# 7.3
    ("@{ try { } catch (Exception e) { } var e = 1; return e; }", "e = 1"),
])
def test_a_name_a_scope_inside_declared_is_not_declared_again_around_it(source: str, at: str) -> None:
    refused = _refused(source)
    assert (refused.reason, refused.column) == (
        f"a local named '{at[0]}' cannot be declared here: a scope inside this one already declares it (C# refuses "
        "it: CS0136)", source.index(at) + 1)


@pytest.mark.parametrize("source", [
    "@{ { int n = 1; } { int n = 2; } return 1; }",  # sibling scopes
    "@{ foreach (var h in new[] { 1 }) { } foreach (var h in new[] { 2 }) { } return 1; }",
    "@(new[] { 1 }.Any(x => x > 0) && new[] { 2 }.All(x => x > 0))",
])
def test_sibling_scopes_each_declare_a_name(source: str) -> None:
    compile_expression(source)  # must not raise


@pytest.mark.parametrize(("body", "at"), [
    # a path a comparison with true or false cannot take is unreachable; every other one reads n unassigned
    ("if ((o is string s) == true) { } else { return n; } return 0; }", "n; } return"),
    ("if ((o is string s) == false) { } else { return n; } return 0; }", "n; } return"),
    ("if ((o is string s) != true) { } else { return n; } return 0; }", "n; } return"),
    ("if ((o is string s) != false) { } else { return n; } return 0; }", "n; } return"),
    ("if ((o is string s) != false) { return n; } return 0; }", "n; } return"),
])
def test_each_path_of_a_comparison_with_a_constant_is_checked(body: str, at: str) -> None:
    source = _O + body
    refused = _refused(source)
    assert (refused.reason, refused.column) == ("use of unassigned local variable 'n' (C# refuses it: CS0165)",
                                                source.rindex(at) + 1)


@pytest.mark.parametrize(("source", "at"), [
    ('@{ { int n = 1; } int.TryParse("1", out var n); return n; }', "n); return"),
    ('@{ object o = 1; { var s = 1; } if (o is string s) { return s; } return ""; }', "s) {"),
    ("@{ foreach (var h in new[] { 1 }.Where(h => h > 0)) { } return 1; }", "foreach"),
    ("@{ { int n = 1; } { int m = 1; } int n = 2; return n; }", "n = 2"),  # every closed scope counts
])
def test_an_expression_variable_a_scope_inside_declared_is_refused_where_it_is(source: str, at: str) -> None:
    refused = _refused(source)
    assert refused.reason.endswith("(C# refuses it: CS0136)") and refused.column == source.index(at) + 1


@pytest.mark.parametrize(("source", "accepted"), [
    # constant conditions decide reachability only when every operand is a constant
    ("@{ if (-(1.5) < 0 && -double.MaxValue < 0) { return 1; } }", True),
    ("@{ double x = 1; if (-x < 0) { return 1; } }", False),
    ("@{ if (true && false) { return 1; } }", False),
    ("@{ if (false || true) { return 1; } }", True),
    ("@{ if (false ? false : true) { return 1; } }", True),
    ('@{ var c = context.Request.Method == "GET"; if (c ? false : true) { return 1; } }', False),
    ("@{ int x = 1; if ((double)x > 0) { return 1; } }", False),
    ("@{ double x = 1; if (x + 1.5 > 0) { return 1; } }", False),
    ('@{ var x = "b"; if ("a" + x == "ab") { return 1; } }', False),
])
def test_a_condition_is_constant_only_when_csharp_folds_it(source: str, accepted: bool) -> None:
    if accepted:
        assert run(source) == 1
    else:
        assert _refused(source).reason == CS0161


@pytest.mark.parametrize(("condition", "expected"), [
    ("true || c", -(2**31)), ("c && false", 1), ("true ? true : c", -(2**31)), ("c ? true : true", -(2**31))])
def test_an_integer_constant_needs_a_constant_condition(condition: str, expected: int) -> None:
    # not folded: C# computes it when it runs, unchecked (a constant would overflow at publish: CS0220)
    source = f'@{{ var c = context.Request.Method == "GET"; return (({condition}) ? int.MaxValue : 0) + 1; }}'
    assert run(source) == expected


def test_a_condition_a_constant_decides_leaves_the_other_path_unreachable() -> None:
    # Roslyn follows the paths: after `true || c` nothing is false, so the if's end is unreachable (no CS0161)
    assert run('@{ var c = context.Request.Method == "GET"; if (true || c) { return 1; } }') == 1


# Found by the third review
def test_a_catch_takes_a_null_context_objects_member_failure() -> None:
    ctx = request()
    ctx.subscription_id = None
    source = '@{ try { return context.Subscription.Name; } catch (Exception e) { return "anon"; } }'
    assert run(source, ctx) == "anon"  # APIM throws a NullReferenceException there; the emulator read null


@pytest.mark.parametrize(("source", "message"), [
    # what C# refuses when it compiles, found only as it runs, is no exception a catch can take
    ('@{ try { var j = JObject.Parse("{}"); string v; j.TryGetValue("a", out v); return v; } catch (Exception e) { '
     'return "caught"; } }', "C# refuses it when it compiles: CS1503"),
    ('@{ try { return JObject.Parse("{\\"a\\":\\"x\\"}")["a"].Length; } catch (Exception e) { return -1; } }',
     "does not contain this member"),
    # an exception's members the emulator has no value for are its limit, not null
    ('@{ try { return int.Parse("x"); } catch (Exception e) { return e.StackTrace; } }',
     "the local emulator does not support Exception.StackTrace (APIM does)"),
    ('@{ try { return int.Parse("x"); } catch (Exception e) { return e.ToString(); } }',
     "the local emulator does not support an exception's ToString() (its type and stack trace) (APIM does)"),
    ('@{ try { return int.Parse("x"); } catch (Exception e) when (5.ToString("R3") != "") { return 1; } }',
     "the local emulator does not support"),  # a filter meeting the emulator's limit is no filter that throws
])
def test_a_catch_takes_only_what_dotnet_throws(source: str, message: str) -> None:
    assert message in failure_of(source)


@pytest.mark.parametrize(("source", "expected"), [
    ("@{ var l = new List<int>(); for (l.Add(1); l.Count < 3;) { l.Add(2); } return l.Count; }", 3),
    ("@{ var l = new List<int>(); for (int i = 0; i < 3; i++, l.Add(i)) { } return l.Count; }", 3),
])
def test_a_for_loop_initializer_or_step_may_be_a_call(source: str, expected: object) -> None:
    assert run(source) == expected


@pytest.mark.parametrize(("source", "reason", "at", "limit"), [
    ('@{ try { return 1; } catch (Exception e) when (e.Message == "") { return 2; } catch { return 3; } }',
     "a second catch clause is not supported", "catch { return 3", True),
    ("@{ var a = 1, b = 2; return a + b; }",
     "an implicitly typed variable (var) cannot have several declarators (C# refuses it: CS0819)", "var", False),
    ("@{ try { return 1; } catch (string e) { return 2; } }",
     "the type caught must be System.Exception or derive from it, not string (C# refuses it: CS0155)", "string", False),
    ("@{ try { return 1; } catch (JObject e) { return 2; } }",
     "the type caught must be System.Exception or derive from it, not JObject (C# refuses it: CS0155)", "JObject", False),
    ("@{ try { return 1; } catch { return 2; } catch (Exception e) { return 3; } }",
     "a catch clause after a general catch clause (C# refuses it: CS1017)", "catch (Exception", False),
])
def test_found_by_third_review_refused_where_it_is(source: str, reason: str, at: str, limit: bool) -> None:
    refused = _refused(source)
    assert (refused.reason, refused.column, refused.limit) == (reason, source.index(at) + 1, limit)
