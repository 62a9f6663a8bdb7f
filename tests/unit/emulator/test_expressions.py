"""Policy-expression subset: what compiles and to what value, what is refused and where."""

from __future__ import annotations

from typing import Any

import pytest

from toolkit.emulator.expressions import (
    SUPPORTED_MEMBERS,
    CompiledExpression,
    ConstantValue,
    CsType,
    ExpressionContext,
    ExpressionRuntimeError,
    SimpleExpressionContext,
    UnsupportedExpression,
    compile_expression,
    compile_value,
    coverage_rows,
    format_value,
    is_expression,
)
from toolkit.errors import EXIT_BAD_INPUT, InputError

RETRY = "@(context.Response.StatusCode == 429 || context.Response.StatusCode == 503)"
RETRY_5XX = "@(context.Response != null && context.Response.StatusCode >= 500)"


def ctx(**overrides: Any) -> SimpleExpressionContext:
    """A request in flight: POST to the chat completions path, subscription sub-1."""
    base: dict[str, Any] = dict(
        request_method="POST",
        request_path="/openai/deployments/gpt-4o/chat/completions",
        client_ip="10.0.0.7",
        subscription_id="sub-1",
        subscription_name="Team A",
        api_name="azure-openai",
        api_id="azure-openai-api",
        operation_id="chat-completions",
        request_id="0f8fad5b-d9cb-469f-a165-70867728950e",
        region="West Europe",
        request_headers={"Api-Key": "k-123", "X-User": "alice"},
        variables={"attempt": 3, "tier": "gold", "flag": True},
    )
    base.update(overrides)
    return SimpleExpressionContext(**base)


NO_RESPONSE: dict[str, Any] = {}
R429 = {"response_status": 429, "response_reason": "Too Many Requests", "response_headers": {"Retry-After": "10"}}
R503 = {"response_status": 503, "response_reason": "Service Unavailable"}
R200 = {"response_status": 200, "response_reason": "OK", "response_headers": {"x-ms-region": "East US"}}
ERROR = {"last_error_reason": "BackendConnectionFailure", "last_error_message": "refused", "last_error_source": "forward-request"}
NO_VARS = {"variables": {}}
NO_SUB = {"subscription_id": None}

SUPPORTED: list[tuple[str, dict[str, Any], object]] = [
    # retry conditions from the APIM samples
    (RETRY, R429, True),
    (RETRY, R503, True),
    (RETRY, R200, False),
    (RETRY, NO_RESPONSE, False),
    (RETRY_5XX, {"response_status": 502}, True),
    (RETRY_5XX, R200, False),
    (RETRY_5XX, NO_RESPONSE, False),
    ("@(context.Response == null)", NO_RESPONSE, True),
    ("@(null != context.Response)", R200, True),
    ("@(context.Response.StatusCode != 200)", NO_RESPONSE, True),
    ("@(context.Response.StatusCode == 0)", NO_RESPONSE, False),
    ("@(context.Response.StatusCode < 500)", NO_RESPONSE, False),
    ("@(context.Response.StatusCode <= 429)", R429, True),
    ("@(context.Response.StatusCode > 429)", R429, False),
    ("@{ return context.Response.StatusCode == 503; }", R503, True),
    ("@{\n    return context.Response.StatusCode == 429\n        && context.Response.Headers.GetValueOrDefault(\"retry-after\") != null;\n}", R429, True),
    ("@(/* throttled */ context.Response.StatusCode == 429) ", R429, True),
    # vary-by / counter-key forms
    ("@(context.Subscription.Id)", NO_RESPONSE, "sub-1"),
    ("@(context.Subscription?.Id)", NO_SUB, None),
    ('@("tpm-" + context.Subscription?.Id)', NO_SUB, "tpm-"),
    ('@(context.Subscription.Id + ":" + context.Api.Name)', NO_RESPONSE, "sub-1:azure-openai"),
    ("@(context.Request.IpAddress)", NO_RESPONSE, "10.0.0.7"),
    ('@(context.Request.Headers.GetValueOrDefault("x-user", "anonymous"))', NO_RESPONSE, "alice"),
    ('@(context.Request.Headers.GetValueOrDefault("X-Tenant", "anonymous"))', NO_RESPONSE, "anonymous"),
    ('@(context.Request.Headers.GetValueOrDefault("X-Tenant"))', NO_RESPONSE, None),
    ('@(context.Request.Headers.GetValueOrDefault("API-KEY", "") != "")', NO_RESPONSE, True),
    ('@(context.Response.Headers.GetValueOrDefault("X-MS-REGION", "") == "East US")', R200, True),
    ('@(context.Response.Headers.GetValueOrDefault("x-ms-region", "none"))', NO_RESPONSE, "none"),
    # the other context members
    ("@(context.Response.StatusReason)", R429, "Too Many Requests"),
    ('@(context.Request.Method == "POST")', NO_RESPONSE, True),
    ('@(context.Request.Url.Path.StartsWith("/openai/"))', NO_RESPONSE, True),
    ('@(context.Request.Url.Path.EndsWith("/chat/completions"))', NO_RESPONSE, True),
    ('@(context.Request.Url.Path.Contains("embeddings"))', NO_RESPONSE, False),
    ("@(context.Request.Method.ToLower())", NO_RESPONSE, "post"),
    ("@(context.Subscription.Name.ToUpper())", NO_RESPONSE, "TEAM A"),
    ("@(context.Api.Id)", NO_RESPONSE, "azure-openai-api"),
    ("@(context.Operation.Id)", NO_RESPONSE, "chat-completions"),
    ("@(context.RequestId)", NO_RESPONSE, "0f8fad5b-d9cb-469f-a165-70867728950e"),
    ("@(context.Deployment.Region)", NO_RESPONSE, "West Europe"),
    ('@(context.LastError.Reason == "BackendConnectionFailure")', ERROR, True),
    ("@(context.LastError.Message)", ERROR, "refused"),
    ("@(context.LastError.Source)", ERROR, "forward-request"),
    ("@(context.LastError?.Source)", NO_RESPONSE, None),
    # variables
    ('@(context.Variables["attempt"])', NO_RESPONSE, 3),
    ('@((int)context.Variables["attempt"] >= 3)', NO_RESPONSE, True),
    ('@((string)context.Variables["tier"] == "gold")', NO_RESPONSE, True),
    ('@((bool)context.Variables["flag"] && true)', NO_RESPONSE, True),
    ('@(context.Variables["tier"] != null)', NO_RESPONSE, True),
    ('@(context.Variables.GetValueOrDefault<int>("retries", 0) < 2)', NO_RESPONSE, True),
    ('@(context.Variables.GetValueOrDefault<int>("attempt", -1))', NO_RESPONSE, 3),
    ('@(context.Variables.GetValueOrDefault<int>("attempt", -1))', NO_VARS, -1),
    ('@(context.Variables.GetValueOrDefault<int>("attempt"))', NO_VARS, 0),
    ('@(context.Variables.GetValueOrDefault<string>("tier"))', NO_VARS, None),
    ('@(context.Variables.GetValueOrDefault("tier", "free"))', NO_RESPONSE, "gold"),
    ('@(context.Variables.GetValueOrDefault("tier", "free"))', NO_VARS, "free"),
    ('@(context.Variables.GetValueOrDefault("tier"))', NO_VARS, None),
    ('@(context.Variables.GetValueOrDefault<bool>("flag"))', NO_VARS, False),
    ('@(context.Variables.ContainsKey("tier"))', NO_RESPONSE, True),
    ('@(!context.Variables.ContainsKey("tier"))', NO_RESPONSE, False),
    # operators, literals, conversions
    ("@(context.Response.StatusCode.ToString())", R429, "429"),
    ("@(context.Response.StatusCode.ToString())", NO_RESPONSE, ""),
    ("@(1 + 2)", NO_RESPONSE, 3),
    ("@{ int x = 2147483647; return x + 1; }", NO_RESPONSE, -2147483648),  # unchecked at run time: wraps
    ("@(context.Response.StatusCode + 1)", NO_RESPONSE, None),
    ("@(1.5 + 1)", NO_RESPONSE, 2.5),
    ('@("v" + 1.0)', NO_RESPONSE, "v1"),
    ('@("a" + null + true + 7)', NO_RESPONSE, "aTrue7"),
    ('@("a" + context.Variables["attempt"])', NO_RESPONSE, "a3"),
    ('@(context.Response.StatusCode == 429 ? "throttled" : "ok")', R429, "throttled"),
    ("@(context.Response.StatusCode >= 500 ? 1 : 0.5)", R503, 1.0),
    ('@(context.Response != null ? context.Response.StatusReason : null)', NO_RESPONSE, None),
    ("@(false ? 1 : true ? 2 : 3)", NO_RESPONSE, 2),
    ("@(true || false && false)", NO_RESPONSE, True),
    ("@(1 < 2 == true)", NO_RESPONSE, True),
    ("@(!(context.Response.StatusCode == 200))", R200, False),
    ("@((context.Response.StatusCode == 429))", R429, True),
    ('@("a\\"b\\\\c\\n")', NO_RESPONSE, 'a"b\\c\n'),
    ('@("GOLD".Equals("gold"))', NO_RESPONSE, False),
    ('@(context.Subscription.Id.Equals("sub-1"))', NO_RESPONSE, True),
    ("@(5.Equals(5))", NO_RESPONSE, True),
    ('@(context.Variables["attempt"].Equals(3))', NO_RESPONSE, True),
    ('@(context.Variables["attempt"].Equals("3"))', NO_RESPONSE, False),
    ("@(true.ToString())", NO_RESPONSE, "True"),
    ("@(-1 + 1)", NO_RESPONSE, 0),
    ("@(null == null)", NO_RESPONSE, True),
    ("@((int)2.9)", NO_RESPONSE, 2),
    ("@((string)null)", NO_RESPONSE, None),
]


@pytest.mark.parametrize(("source", "overrides", "expected"), SUPPORTED)
def test_supported_expressions_evaluate_like_csharp(source: str, overrides: dict[str, Any], expected: object) -> None:
    value = compile_expression(source).evaluate(ctx(**overrides))
    assert value == expected
    assert type(value) is type(expected)  # 1 vs 1.0 vs True matter in C#


@pytest.mark.parametrize(
    ("source", "result_type"),
    [
        (RETRY, CsType.BOOL),
        ("@(context.Subscription.Id)", CsType.STRING),
        ("@(context.Response.StatusCode)", CsType.INT),
        ('@(context.Variables["x"])', CsType.OBJECT),
        ('@(context.Variables.GetValueOrDefault("x", 0))', CsType.INT),
        ("@(1 < 2 ? 1 : 2.5)", CsType.DOUBLE),
        ("@(null)", CsType.NULL),
    ],
)
def test_static_result_type(source: str, result_type: CsType) -> None:
    assert compile_expression(source).result_type is result_type


# (source, fragment of the reason, where the column points: a substring of source or a column)
REFUSED: list[tuple[str, str, str | int]] = [
    ("@(context.Request.Bodyy)", "context.Request.Bodyy is not supported", "Bodyy"),
    ("@(context.Userr.Email)", "context.Userr is not supported", "Userr"),
    ("@(DateTimeX.UtcNow)", "DateTimeX is not supported", "DateTimeX"),
    ("@(Math.Maxx(1, 2))", "Math.Maxx() is not supported", "Maxx"),
    ("@(DateTime.UtcNoww)", "DateTime.UtcNoww is not supported", "UtcNoww"),
    ("@(System.Security.Cryptography.MD5.Create())", "System.Security.Cryptography.MD5 is not supported", "MD5"),
    ("@((x, y) => x)", "lambda expressions (=>) are supported only as method arguments", "(x"),
    ("@(new Foo())", "new Foo(...) is not supported", "Foo"),
    ("@(new int[3])", "arrays with a size", "[3"),
    ("@(typeof(string))", "typeof", "typeof"),
    ("@(context.Variables[\"x\"] is Foo)", "type tests against Foo are not supported", "Foo"),
    ("@(context.Variables[\"x\"] as int)", "the as operator needs a reference type", "as "),
    ('@(GetValue("x"))', "function GetValue() is not supported", "GetValue"),
    ("@(context.Request.Method.Lengthh)", "member 'Lengthh' is not supported on string", "Lengthh"),
    ("@(context.Request.Method.Substringg(1))", "method Substringg() is not supported", "Substringg"),
    ("@(context.Request.Method.ToLower(\"x\"))", "ToLower() takes 0 argument(s), got 1", "ToLower"),
    ("@(context.Request.Method.Contains(1))", "Contains() needs a string argument, got int", "1"),
    ('@(context.Response.StatusCode * "2")', "operator * cannot be applied to int and string", "*"),
    ("@(context.Response.StatusCode ?? 1)", "operator ?? cannot be applied to int values", "??"),
    ('@(context.Variables["n"] = 1)', "assignment (=) is supported only as a statement", "= 1"),
    ('@($"{context.Subscription.Id:N")', "unterminated interpolation hole", ":N"),
    ("@('xy')", "malformed character literal", "'"),
    ('@("a\\u004")', "\\u needs exactly 4 hex digits", "\\u"),
    ("@(99999999999999999999)", "outside the ulong range", "99999999999999999999"),
    ("@(1.5q)", "numeric literal suffix 'q'", "q)"),
    ("@(0x)", "hexadecimal literal without digits", "0x"),
    ("@(-context.Request.Method)", "unary minus cannot be applied to string", "-"),
    ("@{ var x; return 1; }", "needs an initializer", "var"),
    ("@{ var x = 1; }", "a statement block must return a value", "{"),
    ("@{ var x = 1; var x = 2; return x; }", "a local named 'x' is already defined", "x = 2"),
    ("@{ break; }", "break outside a loop or switch", "break"),
    ("@{ lock (context) { } return 1; }", "lock is not supported", "lock"),
    ("@{ while (true) { } return 1; }", "while and do loops are not supported", "while"),
    ("@{ context.Response.StatusCode == 429; }", "only calls, assignments and declarations can be statements", "context"),
    ("@{ int x = \"a\"; return x; }", "cannot assign a string value to a int variable", "x ="),
    ("@(return 1)", "return is supported only inside @{ ... }", "return"),
    ('@(context.Response.StatusCode == "429")', "operator == cannot compare int with string", "=="),
    ('@(context.Variables["n"] > 3)', "operator > cannot compare object with int", ">"),
    ('@(context.Variables["n"] == 3)', "operator == cannot compare object with int", "=="),
    ('@("a" < "b")', "operator < cannot compare string with string", "<"),
    ("@(context.Response.StatusCode == 429 || 503)", "operator || needs bool operands, got int", "503"),
    ('@(!context.Request.Method)', "operator ! needs a bool operand, got string", "!"),
    ("@(true + 1)", "operator + cannot be applied to bool and int", "+"),
    ('@(context.Variables["s"].Contains("x"))', "Contains() is not supported on object values", "Contains"),
    ('@((Foo)context.Variables["n"])', "cast to (Foo) is not supported", "(Foo"),
    ("@((string)5)", "cannot cast int to (string)", "(string"),
    ("@((JObject)context.Request.Method)", "cannot cast string to (JObject)", "(JObject"),
    ('@(context.Variables.GetValueOrDefault<Foo>("x"))', "GetValueOrDefault<Foo> is not supported", "Foo"),
    ('@(context.Variables.GetValueOrDefault<int>("n", "zero"))', "default value of type string", '"zero"'),
    ('@(context.Request.Headers.GetValueOrDefault<string>("x"))', "type arguments on", "string"),
    ('@(context.Request.Headers.GetValueOrDefault())', "takes 1 to 2 argument(s), got 0", "GetValueOrDefault"),
    ('@(context.Request.Method == "GET" ? 1 : "x")', "incompatible types int and string", "?"),
    ('@(context.Request.Method ? 1 : 2)', "condition of ?: must be bool", "Method"),
    ("@(context.Response)", "context.Response can only be compared with null", "Response"),
    ("@(context.Request)", "context.Request can only be compared with null or read through ?.", "Request"),
    ("@(Math)", "Math is a type, not a value", "Math"),
    ("@(context.Response.StatusCode == 429", "unexpected the end of the expression, expected ')'", 37),
    ("@(context.Response.StatusCode == 429;)", "unexpected ';', expected ')'", ";"),
    ("@(context.Response.StatusCode == 429) x", "after the end of the expression", 39),
    ("@()", "empty expression", ")"),
    ("context.Response.StatusCode", "not a policy expression", 1),
    ('@(context.Request.Method.Contains("x") && context.Request.Bodyy.As<string>().Contains("y"))', "context.Request.Bodyy", "Bodyy"),
]


@pytest.mark.parametrize(("source", "reason", "anchor"), REFUSED)
def test_unsupported_expressions_are_refused_with_construct_and_column(source: str, reason: str, anchor: str | int) -> None:
    column = anchor if isinstance(anchor, int) else source.index(anchor) + 1
    with pytest.raises(UnsupportedExpression) as caught:
        compile_expression(source)
    error = caught.value
    assert reason in error.reason
    assert (error.line, error.column) == (1, column)
    assert f"column {column}" in str(error)


def test_refusal_in_a_multiline_block_reports_line_and_column_within_the_expression() -> None:
    source = "@{\n    return context.Userr.Email;\n}"
    with pytest.raises(UnsupportedExpression) as caught:
        compile_expression(source)
    assert (caught.value.line, caught.value.column) == (2, len("    return context.") + 1)
    assert "line 2, column 20" in str(caught.value)


OBJECT_HINT = 'cast the object value first, e.g. (string)context.Variables["name"]'


@pytest.mark.parametrize(("source", "hint"), [
    ('@(context.Variables["s"].Length)', OBJECT_HINT),
    ('@(context.Variables["s"].Select(x => x))', OBJECT_HINT),
    ("@(context.Response.StatusCode.Select(x => x))", None),  # an int: no cast would help
])
def test_a_member_or_method_refused_on_an_object_value_hints_at_a_cast(source: str, hint: str | None) -> None:
    with pytest.raises(UnsupportedExpression) as caught:
        compile_expression(source)
    assert caught.value.hint == hint


def test_refusal_is_bad_input_with_a_hint_naming_what_is_supported() -> None:
    with pytest.raises(UnsupportedExpression) as caught:
        compile_expression("@(context.Request.Bodyy.As<JObject>())")
    assert isinstance(caught.value, InputError)
    assert caught.value.exit_code == EXIT_BAD_INPUT
    assert caught.value.hint is not None and "Headers" in caught.value.hint and "Method" in caught.value.hint


def test_expected_type_is_checked_at_compile_time() -> None:
    assert compile_expression(RETRY, expect="bool").evaluate(ctx(**R429)) is True
    assert compile_expression("@(context.Subscription.Id)", expect="string").evaluate(ctx()) == "sub-1"
    with pytest.raises(UnsupportedExpression, match="needs a bool expression, but it produces int") as caught:
        compile_expression("@(context.Response.StatusCode)", expect="bool")
    assert caught.value.column == 3


def test_expected_type_on_an_object_value_is_checked_at_evaluation() -> None:
    compiled = compile_expression('@(context.Variables["flag"])', expect="bool")
    assert compiled.evaluate(ctx()) is True
    with pytest.raises(ExpressionRuntimeError, match="to type 'System.Boolean'"):
        compiled.evaluate(ctx(variables={"flag": "yes"}))


RUNTIME_ERRORS: list[tuple[str, dict[str, Any], str, str]] = [
    ('@(context.Variables["missing"])', {}, "The given key 'missing' was not present in the dictionary.", "["),
    ('@((int)context.Variables["tier"])', {}, "Unable to cast object of type 'System.String' to type 'System.Int32'.", "(int"),
    ('@((int)context.Variables["flag"])', {}, "Unable to cast object of type 'System.Boolean' to type 'System.Int32'.", "(int"),
    ('@((bool)context.Variables["n"])', {"variables": {"n": None}}, "Object reference not set to an instance of an object.", "(bool"),
    ('@((string)context.Variables["attempt"] == "3")', {}, "to type 'System.String'", "(string"),
    ('@(context.Variables.GetValueOrDefault<int>("tier", 0))', {}, "Unable to cast object of type 'System.String'", "GetValueOrDefault"),
    ('@(context.Request.Headers.GetValueOrDefault("x-missing").ToLower())', {}, "Object reference not set", "ToLower"),
    # without a subscription context.Subscription is null: its members throw, as in APIM
    ('@(context.Subscription.Id.Contains("a"))', NO_SUB, "Object reference not set", "Id."),
    ('@(context.Subscription.Id.ToString())', NO_SUB, "Object reference not set", "Id."),
    ('@("tpm-" + context.Subscription.Id)', NO_SUB, "Object reference not set", "Id)"),
    ('@(context.Subscription?.Name.Contains("a"))', {"subscription_id": "s", "subscription_name": None},
     "Object reference not set", "Contains"),
    ("@(context.LastError.Source)", NO_RESPONSE, "Object reference not set", "Source"),  # outside on-error
    ('@(context.Request.Method.StartsWith((string)context.Variables["none"]))', {"variables": {"none": None}}, "Value cannot be null", "StartsWith"),
    ("@((int)context.Response.StatusCode)", NO_RESPONSE, "Nullable object must have a value.", "(int"),
]


@pytest.mark.parametrize(("source", "overrides", "detail", "anchor"), RUNTIME_ERRORS)
def test_runtime_type_errors_raise_with_source_and_column(source: str, overrides: dict[str, Any], detail: str, anchor: str) -> None:
    compiled = compile_expression(source)
    with pytest.raises(ExpressionRuntimeError) as caught:
        compiled.evaluate(ctx(**overrides))
    error = caught.value
    assert detail in error.detail
    assert error.message == f"Expression evaluation failed. {error.detail}"
    assert error.reason == "ExpressionValueEvaluationFailure"
    assert error.source == source and source in str(error)
    assert error.column == source.index(anchor) + 1
    assert not isinstance(error, InputError)  # the engine turns it into on-error, not a CLI error


class CountingContext(SimpleExpressionContext):
    """Counts header reads, to observe which operands were evaluated."""

    reads = 0

    def request_header(self, name: str) -> str | None:
        self.reads += 1
        return super().request_header(name)


@pytest.mark.parametrize(
    ("source", "status", "expected", "reads"),
    [
        ('@(context.Response.StatusCode == 429 || context.Request.Headers.GetValueOrDefault("x") == "y")', 429, True, 0),
        ('@(context.Response.StatusCode == 429 || context.Request.Headers.GetValueOrDefault("x") == "y")', 200, False, 1),
        ('@(context.Response.StatusCode == 200 && context.Request.Headers.GetValueOrDefault("x") == null)', 429, False, 0),
        ('@(context.Response.StatusCode == 200 && context.Request.Headers.GetValueOrDefault("x") == null)', 200, True, 1),
        ('@(context.Response.StatusCode == 429 ? "t" : context.Request.Headers.GetValueOrDefault("x", "d"))', 429, "t", 0),
        ('@(context.Response.StatusCode == 429 ? "t" : context.Request.Headers.GetValueOrDefault("x", "d"))', 200, "d", 1),
    ],
)
def test_and_or_and_ternary_evaluate_only_what_csharp_evaluates(source: str, status: int, expected: object, reads: int) -> None:
    context = CountingContext(response_status=status)
    assert compile_expression(source).evaluate(context) == expected
    assert context.reads == reads


def test_guarded_variable_read_does_not_fail_when_the_guard_is_false() -> None:
    guarded = compile_expression('@(context.Variables.ContainsKey("n") && (int)context.Variables["n"] > 1)')
    assert guarded.evaluate(ctx(variables={})) is False
    assert guarded.evaluate(ctx(variables={"n": 2})) is True
    with pytest.raises(ExpressionRuntimeError):
        compile_expression('@((int)context.Variables["n"] > 1)').evaluate(ctx(variables={}))


def test_compiled_once_evaluates_against_many_contexts() -> None:
    compiled = compile_expression(RETRY)
    assert [compiled.evaluate(ctx(response_status=s)) for s in (200, 429, 500, 503, None)] == [False, True, False, True, False]
    assert compiled.source == RETRY


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@(context.Subscription.Id)", True),
        ("@{ return 1; }", True),
        ("\n    @(context.Subscription.Id)\n  ", True),
        ("429", False),
        ("", False),
        ("user@example.com", False),
        ("@context", False),
    ],
)
def test_is_expression(text: str, expected: bool) -> None:
    assert is_expression(text) is expected


def test_compile_value_keeps_constants_and_compiles_expressions() -> None:
    constant = compile_value("120")
    assert isinstance(constant, ConstantValue)
    assert constant.is_expression is False and constant.evaluate(ctx()) == "120"
    element_text = "\n      @(context.Subscription.Id)\n    "
    expression = compile_value(element_text)
    assert isinstance(expression, CompiledExpression)
    assert expression.is_expression is True and expression.evaluate(ctx()) == "sub-1"
    with pytest.raises(UnsupportedExpression):
        compile_value("@(context.Userr.Id)")


def test_simple_context_implements_the_protocol_and_every_member_reads_a_protocol_field() -> None:
    assert isinstance(ctx(), ExpressionContext)
    fields = ExpressionContext.__annotations__
    for member in SUPPORTED_MEMBERS:
        if member.kind == "property" or member.kind == "object" and member.attr:  # an object without one: never null
            assert member.attr in fields, member.path


def test_every_listed_member_compiles_and_coverage_names_it() -> None:
    samples = {"method": '("name")', "indexer": ""}
    syntaxes = {row[0] for row in coverage_rows()}
    for member in SUPPORTED_MEMBERS:
        assert member.syntax in syntaxes
        if member.kind == "object":
            source = f"@({member.path} != null)"
        elif member.kind == "indexer":
            source = '@(context.Variables["name"])'
        else:
            source = f"@({member.path}{samples.get(member.kind, '')})"
        compile_expression(source)  # must not raise


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, ""), (True, "True"), (False, "False"), (42, "42"), (2.0, "2"), (2.5, "2.5"), (1e20, "1E+20"), ("x", "x")],
)
def test_format_value_matches_csharp_tostring(value: object, text: str) -> None:
    assert format_value(value) == text


# C#'s literal syntax (C# language specification, "Lexical structure": integer, real, character and string literals).
@pytest.mark.parametrize(("source", "expected"), [
    ('@("a\\u0041\\x42\\x043")', "aABC"),  # \x takes up to four hex digits: \x043 is "C"
    ('@("\\x41BC")', "\u41bc"),  # ... as many as follow
    ('@("\\U0001F600")', "\U0001F600"),
    ('@("\\a\\b\\f\\v\\0")', "\a\b\f\v\0"),
    ("@('\\u0041')", "A"),
    ("@('\\x7A')", "z"),
    ('@($"x\\u0041{1}")', "xA1"),
    ("@(0x1F + 0b101)", 36),
    ("@(0xFFFFFFFF)", 4294967295),  # a uint in C#: positive
    ("@(0x_7FFF_FFFF_FFFF_FFFF)", 2**63 - 1),
    ("@(1_000 + 1__0)", 1010),
    ("@(1e3)", 1000.0),
    ("@(2.5E-3)", 0.0025),
    ("@(.5 + 1)", 1.5),
    ("@(2e+2d)", 200.0),
    ("@(3m / 2)", 1.5),
    ("@(5UL + 1)", 6),
    ("@(5lu * 2)", 10),
    ("@(1.ToString())", "1"),
])
def test_csharp_literals_read_as_csharp_reads_them(source: str, expected: object) -> None:
    value = compile_expression(source).evaluate(ctx())
    assert value == expected and isinstance(value, float) is isinstance(expected, float)  # a real stays a double


@pytest.mark.parametrize(("source", "reason", "limit"), [
    ('@("\\q")', "unrecognized escape sequence '\\q' (C# refuses it: CS1009)", False),
    ('@("\\U00110000")', "past the last Unicode code point", False),
    ("@('\\U0001F600')", "one UTF-16 code unit (C# refuses this one: CS1012)", False),
    ("@('ab')", "malformed character literal", False),
    ("@(1_)", "a digit separator (_) must stand between digits", False),
    ("@(1e)", "malformed exponent", False),
    ("@(1e400)", "outside the range of double", False),
    ("@(1.5L)", "numeric literal suffix 'L' is not valid C#", False),
    ("@(0x1FFFFFFFFFFFFFFFF)", "outside the ulong range (C#: CS1021)", False),
    ("@(0xFFFFFFFFFFFFFFFF)", "ulong values are not supported", True),  # valid C#: the emulator's limit
    ("@(18446744073709551615)", "ulong values are not supported", True),
    ("@($\"{1,}\")", "expected an alignment", False),
    ("@($\"{1,-}\")", "expected an alignment", False),
    ("@($\"{1,2,3}\")", "unexpected ','", False),
    ("@($\"{1,1.5}\")", "alignment must be an int constant, not a double (C# refuses it: CS0266)", False),
    ("@($\"{1,\"a\"}\")", "alignment must be an int constant, not a string (C# refuses it: CS0029)", False),
    ("@($\"{1,Width}\")", "alignment of an interpolation hole is taken as an integer literal", True),  # a const
])
def test_malformed_literals_are_csharp_errors_and_ulong_is_the_emulators_limit(source: str, reason: str,
                                                                                limit: bool) -> None:
    with pytest.raises(UnsupportedExpression) as caught:
        compile_expression(source)
    assert reason in caught.value.reason
    assert caught.value.limit is limit
