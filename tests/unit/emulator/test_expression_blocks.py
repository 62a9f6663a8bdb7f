"""Statement blocks @{ ... } (toolkit/emulator/expressions/blocks.py): assignments, locals' types, loops, switch,
try/catch, and where C# refuses what they do. Found by mutation testing (benchmarks/mutation_score.py blocks):
these paths ran in the corpus and the end-to-end tests, but nothing checked their results or their messages."""

from __future__ import annotations

import pytest

from toolkit.emulator.expressions import ExpressionRuntimeError, UnsupportedExpression, compile_expression
from toolkit.emulator.expressions.dotnet import CsLong

from test_expressions_extended import request, run


def _evaluated(source: str) -> object:
    return run(source, request())


def _refused(source: str) -> UnsupportedExpression:
    """The refusal of ``source`` when it is compiled (published)."""
    with pytest.raises(UnsupportedExpression) as caught:
        compile_expression(source)
    return caught.value


@pytest.mark.parametrize(("source", "expected"), [
    # compound assignment: text joins (a null string is empty), numbers keep their type
    ('@{ var s = "a"; s += "b"; return s; }', "ab"),
    ('@{ string s = null; s += "b"; return s; }', "b"),
    ("@{ int x = 5; x -= 2; return x; }", 3),
    ("@{ var x = 7; x %= 4; x *= 3; return x; }", 9),  # *=, /= and %= were refused as statements
    ("@{ int x = 7; x /= 2; return x; }", 3),
    ("@{ double x = 7; x /= 2; return x; }", 3.5),
    ("@{ var a = new[] { 1 }; a[0] += 2; return a[0]; }", 3),
    ('@{ var s = "a"; s += 1; return s; }', "a1"),
    ("@{ char c = (char)97; c += 1; return c.ToString(); }", "b"),
    ("@{ long t = int.MaxValue; t += 1; return t; }", CsLong(2**31)),
    ("@{ double d = 1; d += 1; return d / 4; }", 0.5),
    # indexers
    ("@{ var a = new int[] { 1, 2 }; a[1] = 5; return a[1] + a[0]; }", 6),
    ('@{ var o = new JObject(); o["k"] = "v"; return o["k"].ToString(); }', "v"),
    # a declared type converts what is stored: an int into a double, a long into a double, null into a string
    ("@{ double d = 1; return d / 4; }", 0.25),
    ("@{ var a = new[] { 5L }; double d = a[0]; return d / 2; }", 2.5),
    ('@{ var a = new[] { "x" }; string s = a[0]; return s; }', "x"),
    ("@{ var a = new[] { true }; bool b = a[0]; return b; }", True),
    ("@{ string s = null; return s == null; }", True),
    ("@{ JObject o = null; return o == null; }", True),
    ("@{ Object o = 1.0; return o.Equals(1); }", False),  # typed object: Equals(object)
    ("@{ JObject o; o = new JObject(); return o.Count; }", 0),
    # a long local by its form (a cast of a variable), a nullable char
    ("@{ int i = 5; var x = (long)i; return x * 1000000000; }", CsLong(5_000_000_000)),
    ("@{ char? c = (char)97; return c + 1; }", 98),
    # a char local takes a one-character string typed only when it runs; compound assignment narrows to a char
    ('@{ var a = new object[] { "b" }; char c = (char)97; c = a[0]; return c + 1; }', 99),
    ("@{ char? c = (char)97; c += 1; return c.ToString(); }", "b"),
    # a local's later values convert as its first did: a long stays a long, an int widens into a double
    ("@{ int i = 5; var x = (long)i; x = int.MaxValue; return x + 1; }", CsLong(2**31)),
    ("@{ int i = 3; double d = i; return d / 2; }", 1.5),
    ("@{ string s = \"ab\"; int? n = s?.Length; return n.Value; }", 2),
    ("@{ var a = new int[] { 1, 2 }; var i = 1; a[i] = 7; return a[1]; }", 7),
    # break and continue after a switch inside a loop belong to the loop
    ("@{ var n = 0; foreach (var x in new[] { 1, 2 }) { switch (x) { case 1: n += 1; break; default: break; } "
     "if (x == 1) { continue; } break; } return n; }", 1),
    # conditions typed dynamic are checked when they run
    ("@{ var a = new[] { true, false }; if (a[0]) { return 1; } return 0; }", 1),
    ("@{ var a = new[] { true, false }; if (a[1]) { return 1; } return 0; }", 0),
    # switch: the section of the matching label, else default, else nothing
    ('@{ switch (2) { case 1: return "a"; case 2: return "b"; default: return "d"; } }', "b"),
    ('@{ switch (3) { case 1: return "a"; default: return "d"; } }', "d"),
    ('@{ var r = "none"; switch (3) { case 1: r = "a"; break; } return r; }', "none"),
    ('@{ var r = "none"; switch (1) { case 1: r = "a"; break; default: r = "d"; break; } return r; }', "a"),
    ("@{ var k = 2; switch (2) { case 1: return 0; case 2: if (k > 1) { return 5; } else { break; } } return 9; }", 5),
    ("@{ switch (3) { default: if (true) { return 1; } } return 0; }", 1),  # C# sees `if (true)` never completes
    ("@{ switch (1) { case 1: if (false) { var z = 1; } else { return 2; } } return 0; }", 2),  # nor this one
    ('@{ switch (1) { case 1: try { return "t"; } catch { return "c"; } } return 0; }', "t"),
    # try/catch: the handler runs with the block's locals
    ('@{ var r = 0; try { r = int.Parse("x"); } catch { r = 2; } return r; }', 2),
    # loops: break leaves the innermost one
    ("@{ var n = 0; foreach (var x in new[] { 1, 2, 3 }) { if (x == 2) { break; } n += x; } return n; }", 1),
    ("@{ var n = 0; for (var i = 0; i < 5; i++) { if (i == 3) { break; } n += i; } return n; }", 3),
    ("@{ var n = 0; for (var i = 0; i < 3;) { i++; n += i; } return n; }", 6),
])
def test_statements_compute_what_csharp_computes(source: str, expected: object) -> None:
    assert _evaluated(source) == expected and type(_evaluated(source)) is type(expected)


CS0163 = "control cannot fall through from one case label to another (C# refuses it: CS0163)"
CS8070 = "control cannot fall out of switch from final case label (C# refuses it: CS8070)"  # the last section


@pytest.mark.parametrize(("source", "reason", "anchor"), [
    ('@{ var s = "ab"; s[0] = "c"; return s; }', "cannot assign to an index of string values", "[0] ="),
    ('@{ context.Request.Method = "x"; return 1; }', "only local variables and indexers can be assigned", "="),
    ("@{ y = 1; return 1; }", "only local variables can be assigned, not 'y'", "y ="),
    ("@{ foreach (var x in 5) { } return 1; }", "foreach cannot enumerate int values", "5"),
    ("@{ if (5) { return 1; } return 0; }", "a condition must be bool, got int", "5"),
    ("@{ return; }", "return needs a value in a policy expression", "return"),
    ('@{ var s = "a"; s -= "b"; return s; }', "operator - cannot be applied to string and string", "-="),  # CS0019
    ("@{ int x = 1; x += 1.5; return x; }", "cannot assign a double value to a int variable", "+="),  # CS0266
    ("@{ var x = 1; }", "a statement block must return a value", "{"),
    ("@{ char c = 97; return c; }", "cannot assign a int value to a char variable", "c ="),
    ("@{ int x = null; return x; }", "cannot assign a null value to a int variable", "x ="),  # CS0037
    ("@{ string s = 5; return s; }", "cannot assign a int value to a string variable", "s ="),  # CS0029
    ("@{ bool b = 5; return b; }", "cannot assign a int value to a bool variable", "b ="),
    ("@{ long x = 1.5; return x; }", "cannot implicitly convert type 'double' to 'long' (C# refuses it: CS0266)", "1.5"),
    ("@{ foreach (var x in new[] { 1 }) { } break; }", "break outside a loop or switch", "break"),
    ("@{ foreach (var x in new[] { 1 }) { foreach (var y in new[] { 2 }) { } } break; }",
     "break outside a loop or switch", "break"),
    ("@{ switch (1) { case 1: return 1; } break; }", "break outside a loop or switch", "break"),
    ("@{ switch (1) { case 1: { } } return 0; }", CS8070, "1:"),
    ("@{ switch (1) { case 1: try { return 1; } catch { var z = 1; } } return 0; }", CS8070, "1:"),
    ("@{ var c = true; switch (1) { case 1: if (c) { var z = 1; } else { return 2; } } return 0; }", CS8070, "1:"),
    ("@{ var c = true; switch (1) { case 1: if (c) { return 1; } else { var z = 1; } } return 0; }", CS8070, "1:"),
    ("@{ switch (1) { case 1: var q = 1; } return 0; }", CS8070, "1:"),
    ('@{ switch (1) { case 1: if (context.Request.Method == "GET") { return 1; } case 2: return 2; } return 0; }',
     CS0163, "1:"),
    ("@{ switch (1) { case 1: for (;;) { break; } } return 0; }", CS8070, "1:"),  # the break ends the loop
    ("@{ var c = 1; switch (c) { case 1: return 1; case 2: foreach (var x in new[] { 1 }) { return 2; } } return 0; }",
     CS8070, "2:"),  # a foreach may run no time
])
def test_what_csharp_refuses_in_a_block_is_refused_where_it_is(source: str, reason: str, anchor: str) -> None:
    refused = _refused(source)
    assert (refused.reason, refused.column) == (reason, source.index(anchor) + 1)


def test_a_compound_assignment_outside_the_subset_is_the_emulators_limit() -> None:
    refused = _refused("@{ int x = 1; x &= 1; return x; }")
    assert (refused.reason, refused.limit) == ("operator &= is not supported", True)


@pytest.mark.parametrize(("source", "hint"), [
    ("@{ int? x = null; int y = x; return y; }", "use .Value, or ?? with a default"),
    ("@{ int x = 5L; return x; }", "cast it: (int)..."),
])
def test_a_value_csharp_does_not_convert_to_an_int_is_refused_with_the_way_out(source: str, hint: str) -> None:
    refused = _refused(source)
    assert refused.hint == hint


def test_a_char_local_is_assigned_a_char_not_an_int() -> None:
    refused = _refused("@{ char c = 'a'; c = 98; return c; }")
    assert refused.reason == "cannot assign a int value to a char variable"


def test_a_block_returning_values_of_two_types_is_typed_when_it_runs() -> None:
    source = '@{ if (context.Request.Method == "NONE") { return 1; } return "a"; }'
    assert compile_expression(source, expect="string").evaluate(request()) == "a"


def test_a_char_local_needs_a_cast_from_an_int_and_says_so() -> None:
    refused = _refused("@{ char c = 97; return c; }")
    assert refused.hint == "an int becomes a char with a (char) cast"


@pytest.mark.parametrize(("source", "message", "anchor"), [
    ("@{ var a = new[] { 1 }; if (a[0]) { return 1; } return 0; }",
     "Cannot implicitly convert type 'System.Int32' to 'bool'.", "[0])"),
    ("@{ var a = new object[] { 1 }; string s = a[0]; return s; }",
     "Unable to cast object of type 'System.Int32' to type 'System.String'.", "s ="),
    ('@{ var n = JToken.Parse("5"); foreach (var x in n) { return 1; } return 0; }', "Cannot enumerate", "foreach"),
    ('@{ var a = new object[] { "ab" }; char c = (char)97; c = a[0]; return c; }',
     "Unable to cast object of type 'System.String' to type 'System.Char'.", "= a[0]"),
    ('@{ var a = new object[] { "x" }; long t = 1; t = a[0]; return t; }', "to type 'System.Int64'.", "= a[0]"),
    ('@{ var a = new object[] { "x" }; long t = a[0]; return t; }', "to type 'System.Int64'.", "t ="),
    ("@{ var a = new int[] { 1 }; a[5] = 2; return a[0]; }", "Index was out of range", "= 2"),
])
def test_a_statement_that_fails_when_it_runs_names_its_column(source: str, message: str, anchor: str) -> None:
    with pytest.raises(ExpressionRuntimeError) as caught:
        _evaluated(source)
    assert message in str(caught.value) and f"(column {source.index(anchor) + 1} of" in str(caught.value)


def test_a_block_returning_only_null_is_a_string() -> None:
    """As C# types `return null;` where a string is expected (a policy attribute that takes text)."""
    assert compile_expression("@{ return null; }", expect="string").evaluate(request()) is None


# C#'s flow analysis (toolkit/emulator/expressions/flow.py): APIM compiles a block as a method body, so a path that
# ends without return (CS0161), a local read before every path assigned it (CS0165) and a continue with no loop
# (CS0139) are refused when the policy is published; they used to give null when they ran.
CS0161 = "not all code paths return a value (C# refuses it: CS0161)"


@pytest.mark.parametrize("source", [
    '@{ if (context.Request.Method == "GET") { return "a"; } }',
    "@{ foreach (var x in new[] { 1 }) { return x; } }",  # the collection may be empty
    "@{ for (var i = 0; i < 1; i++) { return i; } }",
    '@{ for (;;) { if (context.Request.Method == "GET") { break; } return 1; } }',  # the break ends the loop
    "@{ try { return 1; } catch { } }",
    "@{ var c = 1; switch (c) { case 1: return 1; } }",  # no default: no section for other values
    "@{ var c = 1; switch (c) { case 1: return 1; default: break; } }",
    "@{ switch (2) { case 1: return 1; } }",  # a constant subject no label matches
    "@{ if (false) { return 1; } }",
    "@{ if (!true || 1 > 2) { return 1; } }",
    '@{ if ("a" != "a") { return 1; } }',
    "@{ if (-1.5 > 1) { return 1; } }",
    "@{ if (true && context.Request.Method == \"GET\") { return 1; } }",  # not a constant: one side varies
])
def test_a_block_with_a_path_that_ends_without_return_is_refused(source: str) -> None:
    refused = _refused(source)
    assert (refused.reason, refused.column, refused.hint) == (CS0161, source.index("{") + 1,
                                                              "end every path of the block with a return")


@pytest.mark.parametrize(("source", "name", "at"), [
    ('@{ string s; if (context.Request.Method == "GET") { s = "a"; } return s; }', "s", "s; }"),
    ('@{ string s; foreach (var x in new[] { 1 }) { s = "a"; } return s; }', "s", "s; }"),
    ("@{ int n; for (var i = 0; i < 2; i++) { n = i; } return n; }", "n", "n; }"),
    ("@{ int n; for (var i = 0; i < n; i++) { } return 0; }", "n", "n; i++"),
    ('@{ int n; try { n = int.Parse("1"); } catch { } return n; }', "n", "n; }"),
    ('@{ int n; try { n = int.Parse("x"); } catch { return n; } return 0; }', "n", "n; } return 0"),
    ("@{ int n; n += 1; return n; }", "n", "n +="),
    ("@{ string s; return new[] { 1 }.Any(x => s == null); }", "s", "s =="),  # a lambda reads it where it stands
    ('@{ string s; switch (context.Request.Method) { case "GET": s = "a"; break; } return s; }', "s", "s; }"),
    ('@{ string s; switch (context.Request.Method) { case "GET": s = "a"; break; default: break; } return s; }', "s",
     "s; }"),
    ("@{ int a = 1, b; return a + b; }", "b", "b; }"),
    ('@{ string s; return $"({s})"; }', "s", "s})"),
    ('@{ var a = new[] { "x" }; int i; a[i] = "y"; return a[0]; }', "i", "i] ="),
    # wherever an expression reads it
    ("@{ bool b; if (b) { return 1; } return 0; }", "b", "b)"),
    ("@{ int[] a; foreach (var x in a) { } return 0; }", "a", "a)"),
    ("@{ int c; switch (c) { default: return 1; } }", "c", "c)"),
    ("@{ JArray a; a.Add(1); return 1; }", "a", "a.Add"),
    ("@{ int a; int b = a; return b; }", "a", "a; return"),
    ("@{ int a; int b; b = a; return b; }", "a", "a; return"),
    ("@{ int n; foreach (var x in new[] { 1 }) { return n; } return 0; }", "n", "n; } return 0"),
    ("@{ int n; for (var i = 0; i < 2; n++) { } return 0; }", "n", "n++"),
    ('@{ int n; switch ("b") { case "a": return 1; default: return n; } }', "n", "n; }"),  # no label matches "b"
    ("@{ int n; try { return n; } catch { return 0; } }", "n", "n; } catch"),
    ("@{ int n; try { } catch { n = 2; } return n; }", "n", "n; }"),  # the try may end without the catch
    # where paths meet, every path counts: each continue reaches the step, each break what follows the loop
    ("@{ int n; for (var i = 0; i < 2; i += n) { if (i == 0) { continue; } n = 1; continue; } return 0; }", "n",
     "n) {"),
    ('@{ string s; for (;;) { if (context.Request.Method == "GET") { break; } s = "a"; break; } return s; }', "s",
     "s; }"),
])
def test_a_local_read_before_every_path_assigned_it_is_refused_where_it_is_read(source: str, name: str,
                                                                                 at: str) -> None:
    refused = _refused(source)
    assert (refused.reason, refused.column) == (f"use of unassigned local variable '{name}' (C# refuses it: CS0165)",
                                                source.rindex(at) + 1)


def test_an_unassigned_read_is_refused_with_the_way_out() -> None:
    assert _refused("@{ int n; return n; }").hint == "assign it on every path before reading it"


def test_a_block_that_goes_on_after_an_assignment_still_needs_its_return() -> None:
    refused = _refused('@{ int a; a = 1; if (context.Request.Method == "GET") { return a; } }')
    assert refused.reason == CS0161


def test_a_default_section_that_falls_through_is_refused_at_its_switch() -> None:
    source = "@{ var c = 1; switch (c) { default: var z = 1; } return 0; }"
    refused = _refused(source)
    assert (refused.reason, refused.column, refused.hint) == (CS8070, source.index("switch") + 1,
                                                              "end the section with break or return")


def test_continue_in_a_switch_with_no_loop_around_it_is_refused() -> None:
    source = "@{ switch (1) { case 1: continue; } return 1; }"
    refused = _refused(source)
    assert (refused.reason, refused.column) == (
        "no enclosing loop out of which to continue: a switch is not a loop (C# refuses it: CS0139)",
        source.index("continue") + 1)


@pytest.mark.parametrize(("source", "expected"), [
    # a constant condition decides what is reachable, as in C#
    ("@{ if (1 > 0) { return 1; } }", 1),
    ('@{ if ("a" == "a") { return 1; } }', 1),
    ("@{ if (!false && (2 >= 1 || false)) { return 1; } }", 1),
    ("@{ if (1.5 > 1) { return 1; } }", 1),
    ("@{ if (true ? 'a' == 97 : false) { return 1; } }", 1),
    ("@{ switch (1) { case 1: return 1; } }", 1),  # a constant subject a label matches
    ('@{ switch ("b") { case "a": break; default: return 2; } }', 2),
    ('@{ string s; if (true) { s = "a"; } return s; }', "a"),
    ("@{ for (;;) { return 1; } }", 1),
    ("@{ for (; true;) { return 1; } }", 1),
    ("@{ int n; for (; false;) { return n; } return 0; }", 0),  # the body of a loop that never runs reads nothing
    ("@{ int n; for (var i = 0; i < 2; i += n) { n = 1; } return 0; }", 0),  # the body assigns before the step
    ("@{ int n = 0; for (;;) { n++; if (n == 3) { return n; } } }", 3),
    # every path assigns before the read
    ('@{ string s; if (context.Request.Method == "GET") { s = "a"; } else { s = "b"; } return s; }', "b"),
    ('@{ string s; for (;;) { s = "x"; break; } return s; }', "x"),
    ("@{ int n; try { n = 1; } catch { n = 2; } return n; }", 1),
    ('@{ string s; switch (context.Request.Method) { case "GET": s = "a"; break; default: s = "b"; break; } '
     "return s; }", "b"),
    ("@{ int i; for (i = 0; i < 2; i++) { } return i; }", 2),
    ("@{ int n; n = 1; return new[] { 1 }.Count(x => x == n); }", 1),
    # what follows a jump is unreachable: it neither falls through nor needs what it reads assigned
    ("@{ var c = 1; switch (c) { case 1: return 1; case 2: { break; } return 2; } return 0; }", 1),
    ("@{ int n; return 1; return n; }", 1),
    ("@{ foreach (var x in new[] { 1 }) { switch (x) { case 1: continue; } } return 0; }", 0),
])
def test_what_csharps_flow_analysis_accepts_runs(source: str, expected: object) -> None:
    assert _evaluated(source) == expected


def test_a_compound_assignment_of_a_long_to_an_int_is_refused_at_it_with_the_way_out() -> None:
    refused = _refused("@{ int x = 1; x += 2L; return x; }")
    assert (refused.reason, refused.hint, refused.limit) == (
        "cannot implicitly convert type 'long' to 'int' (C# refuses it: CS0266)", "cast it: (int)...", False)
    assert str(refused).endswith(", at column 17 of @{ int x = 1; x += 2L; return x; }")  # at "x += 2L"


def test_a_catch_of_one_exception_type_is_the_emulators_limit_with_the_way_out() -> None:
    refused = _refused("@{ try { return 1; } catch (InvalidOperationException) { return 2; } }")
    assert (refused.reason, refused.hint, refused.limit) == (
        "a catch of InvalidOperationException alone is not supported (the emulator does not tell .NET's exception "
        "types apart)", "catch (Exception e)", True)
    assert ", at column 29 of " in str(refused)  # at the exception type
