"""What the subset supports, as data: the compiler resolves members from it, docs render it."""

from __future__ import annotations

from dataclasses import dataclass

from .cstypes import CsType
from .views import EXTRA_PROPERTIES, VIEW_SUMMARIES


@dataclass(frozen=True, slots=True)
class MemberSpec:
    """One supported `context` member.

    kind: ``property`` (reads ``attr`` of the ExpressionContext), ``optional`` (reads ``attr`` when
    the context has it, else null), ``view`` (an object value built by `views.VIEWS`), ``object`` (only comparable
    with null; null when ``attr`` is None), ``method`` or ``indexer`` (compiled by the handler
    registered for ``path`` in the compiler).
    """

    path: str
    syntax: str
    type: str
    kind: str
    summary: str
    attr: str | None = None


def _prop(path: str, type_: CsType, attr: str, summary: str) -> MemberSpec:
    return MemberSpec(path, path, type_.value, "property", summary, attr)


SUPPORTED_MEMBERS: tuple[MemberSpec, ...] = (
    MemberSpec(
        "context.Response", "context.Response", "IResponse", "object",
        "only `context.Response == null` / `!= null`; null until a response exists", "response_status",
    ),
    # The context's other objects, which APIM leaves null where they do not apply (no subscription, product or user;
    # context.LastError outside on-error; context.Api and context.Operation when no operation matched): compared
    # with null, or read through ?., as real policies do (context.Subscription?.Key ?? "anonymous").
    *(MemberSpec(path, path, kind, "object", f"{summary}; `{path}?.Member` or `== null`", attr) for path, kind, attr, summary in (
        ("context.Subscription", "ISubscription", "subscription_id", "null without a subscription"),
        ("context.Product", "IProduct", "product_id", "null without a product"),
        ("context.User", "IUser", "user_id", "null without a user"),
        ("context.LastError", "ILastError", "last_error_reason", "null outside on-error"),
        ("context.Api", "IApi", "api_id", "null when no API matched"),
        ("context.Operation", "IOperation", "operation_id", "null when no operation matched"),
        ("context.Request", "IRequest", "", "never null"),
        ("context.Deployment", "IDeployment", "", "never null"),
    )),
    _prop("context.Response.StatusCode", CsType.INT, "response_status",
          "status of the current response; null before one exists (compares unequal to every number)"),
    _prop("context.Response.StatusReason", CsType.STRING, "response_reason", "reason phrase of the response"),
    MemberSpec(
        "context.Response.Headers.GetValueOrDefault",
        'context.Response.Headers.GetValueOrDefault("name"[, "default"])', "string", "method",
        "response header (case-insensitive name); the default, or null without one, when absent",
    ),
    MemberSpec(
        "context.Request.Headers.GetValueOrDefault",
        'context.Request.Headers.GetValueOrDefault("name"[, "default"])', "string", "method",
        "request header (case-insensitive name); the default, or null without one, when absent",
    ),
    _prop("context.Request.Method", CsType.STRING, "request_method", "HTTP method, e.g. POST"),
    _prop("context.Request.Url.Path", CsType.STRING, "request_path", "path of the request URL"),
    _prop("context.Request.IpAddress", CsType.STRING, "client_ip", "caller's IP address"),
    _prop("context.Subscription.Id", CsType.STRING, "subscription_id", "subscription id; null without a subscription"),
    _prop("context.Subscription.Name", CsType.STRING, "subscription_name", "subscription display name"),
    _prop("context.Api.Name", CsType.STRING, "api_name", "API name"),
    _prop("context.Api.Id", CsType.STRING, "api_id", "API id"),
    _prop("context.Operation.Id", CsType.STRING, "operation_id", "operation id"),
    _prop("context.RequestId", CsType.STRING, "request_id", "request id (a Guid in APIM; a string here)"),
    _prop("context.Deployment.Region", CsType.STRING, "region", "gateway region"),
    _prop("context.LastError.Reason", CsType.STRING, "last_error_reason", "reason of the last error (on-error)"),
    _prop("context.LastError.Message", CsType.STRING, "last_error_message", "message of the last error"),
    _prop("context.LastError.Source", CsType.STRING, "last_error_source", "policy or component that failed"),
    MemberSpec(
        "context.Variables[]", 'context.Variables["name"]', "object", "indexer",
        "variable value; fails (KeyNotFoundException) when unset; cast it before comparing",
    ),
    MemberSpec(
        "context.Variables.GetValueOrDefault",
        'context.Variables.GetValueOrDefault<T>("name"[, default])', "T", "method",
        "variable value, or the default (default(T) without one) when unset; T is string, int or "
        "bool, or inferred from the default, or object without either; a value of another type fails",
    ),
    MemberSpec(
        "context.Variables.ContainsKey", 'context.Variables.ContainsKey("name")', "bool", "method",
        "whether the variable is set",
    ),
)  # fmt: skip

SUPPORTED_MEMBERS += tuple(
    MemberSpec(path, path, type_, "optional", summary, attr) for path, type_, attr, summary in EXTRA_PROPERTIES
) + tuple(
    MemberSpec(path, path, "dynamic", "view", summary) for path, summary in VIEW_SUMMARIES.items()
)
MEMBERS_BY_PATH: dict[str, MemberSpec] = {m.path: m for m in SUPPORTED_MEMBERS}

# Every proper prefix of a member path is a namespace (`context`, `context.Request.Url`, ...).
NAMESPACES: frozenset[str] = frozenset(
    ".".join(parts[:i])
    for parts in (m.path.removesuffix("[]").split(".") for m in SUPPORTED_MEMBERS)
    for i in range(1, len(parts))
)


@dataclass(frozen=True, slots=True)
class MethodSpec:
    """A method callable on values: receiver types, parameters, result."""

    name: str
    receivers: tuple[str, ...]
    parameters: tuple[str, ...]
    result: str
    summary: str


STRING_METHODS: tuple[MethodSpec, ...] = (
    MethodSpec("Contains", ("string",), ("string",), "bool", "ordinal substring test"),
    MethodSpec("StartsWith", ("string",), ("string",), "bool", "ordinal prefix test"),
    MethodSpec("EndsWith", ("string",), ("string",), "bool", "ordinal suffix test"),
    MethodSpec("ToLower", ("string",), (), "string", "lower-case copy"),
    MethodSpec("ToUpper", ("string",), (), "string", "upper-case copy"),
)
VALUE_METHODS: tuple[MethodSpec, ...] = (
    MethodSpec("ToString", ("string", "int", "double", "bool", "object"), (), "string",
               'C# formatting: True/False, 1.5, "" for a null int'),
    MethodSpec("Equals", ("string", "int", "double", "bool", "object"), ("any",), "bool",
               "same runtime type and equal value (ordinal for strings)"),
)  # fmt: skip
METHODS_BY_NAME: dict[str, MethodSpec] = {m.name: m for m in STRING_METHODS + VALUE_METHODS}

OPERATORS: tuple[tuple[str, str], ...] = (
    ("== !=", "int/double with each other, string with string (ordinal), bool with bool, anything with null; "
              "runtime (dynamic) values compare by value (JSON tokens by their value)"),
    ("< <= > >=", "numbers (and dates); false when either side is null"),
    ("&& ||", "bool operands; short-circuit"),
    ("!", "bool operand"),
    ("+ - * / %", "int arithmetic wraps like C# int, / truncates; double arithmetic; + concatenates strings"),
    ("a ? b : c", "bool condition; branches of one type (int/double mix to double, null joins string/object)"),
    ("a ?? b, a?.b, a?[i]", "null-coalescing and null-conditional access"),
    ("(T)value", "casts: string, int, bool, double, long and their .NET names, JObject, JArray, JToken, JValue, "
                 "JProperty, IResponse, Jwt, DateTime, TimeSpan, Guid, arrays; checked at run time"),
    ("x => ..., (a, b) => ...", "lambdas, as method arguments (LINQ)"),
    ("new T(...), new T[] { }, new[] { }, new { a = 1 }", "constructors of the library types, arrays, "
                                                          "anonymous objects; collection initializers"),
    ('$"...{expr}...{value:format}", @"...", \'c\'', "interpolated and verbatim strings, characters"),
    ("x is T, x is not T, x is null, x as T", "runtime type tests; as gives null on a mismatch"),
)

STATEMENTS = ("var / typed locals, =, +=, -=, ++, --, if/else, foreach, for (at most 10,000 iterations), switch, "
              "try/catch, using, return, break, continue")


def coverage_rows() -> list[tuple[str, str, str]]:
    """(construct, result type, notes) rows for the emulator's expression COVERAGE table."""
    from .library import CONSTRUCTORS, MEMBER_NAMES, METHOD_NAMES, STATIC_METHODS, STATIC_PROPERTIES

    rows = [("literals", "int, long, double, string, char, bool, null",
             "C#'s escapes (\\\\n, \\\\xHH, \\\\uHHHH, ...), 0x and 0b integers, exponents, _ separators, "
             "suffixes L U UL D F M; not ulong")]
    rows += [(m.syntax, m.type, m.summary) for m in SUPPORTED_MEMBERS]
    rows += [(f"<{'|'.join(m.receivers)}>.{m.name}({', '.join(m.parameters)})", m.result, m.summary)
             for m in STRING_METHODS + VALUE_METHODS]  # fmt: skip
    rows += [(op, "", note) for op, note in OPERATORS]
    rows.append(("@{ statements }", "", STATEMENTS))
    rows.append(("static members", "", ", ".join(sorted({*STATIC_PROPERTIES, *STATIC_METHODS}))))
    rows.append(("constructors", "dynamic", ", ".join(f"new {name}" for name in sorted(CONSTRUCTORS))))
    rows.append(("members of runtime values", "dynamic", ", ".join(sorted(MEMBER_NAMES))))
    rows.append(("methods of runtime values", "dynamic", ", ".join(sorted(METHOD_NAMES))))
    return rows
