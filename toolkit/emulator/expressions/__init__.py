'''APIM policy expressions (`@(...)`, `@{ return ...; }`): the subset the emulator runs.

Every attribute or element text that allows expressions goes through `compile_value` at publish
time. Anything outside the subset below is refused there (`UnsupportedExpression`, naming the
construct and its column within the expression; the caller adds file and XML line). Compiled
expressions are closure trees: evaluation does no parsing, regex or name lookups.

Grammar (C# precedence, lowest first)::

    source       := "@(" expression ")"
                  | "@{" "return" expression ";" "}"          (the only statement block accepted)
    expression   := or_expr [ "?" expression ":" expression ]
    or_expr      := and_expr { "||" and_expr }
    and_expr     := equality { "&&" equality }
    equality     := relational { ("==" | "!=") relational }
    relational   := additive { ("<" | "<=" | ">" | ">=") additive }
    additive     := unary { "+" unary }
    unary        := "!" unary | "-" NUMBER | "(" ("string" | "int" | "bool") ")" unary | postfix
    postfix      := primary { "." METHOD "(" [ args ] ")" }
    primary      := INT | DECIMAL | STRING | "true" | "false" | "null" | member | "(" expression ")"
    member       := "context.Response"                          (only in "== null" / "!= null")
                  | "context.Response.StatusCode"               (int; null before a response)
                  | "context.Response.StatusReason"
                  | "context." ("Request" | "Response") ".Headers.GetValueOrDefault(" expr [ "," expr ] ")"
                  | "context.Request." ("Method" | "Url.Path" | "IpAddress")
                  | "context.Subscription." ("Id" | "Name") | "context.Api." ("Name" | "Id")
                  | "context.Operation.Id" | "context.RequestId" | "context.Deployment.Region"
                  | "context.LastError." ("Reason" | "Message" | "Source")
                  | "context.Variables[" expr "]"               (object; fails when unset)
                  | "context.Variables.GetValueOrDefault" [ "<" ("string"|"int"|"bool") ">" ]
                        "(" expr [ "," expr ] ")"
                  | "context.Variables.ContainsKey(" expr ")"
    METHOD       := Contains | StartsWith | EndsWith (string → bool, one string argument)
                  | ToLower | ToUpper (string → string) | ToString () | Equals (one argument)
    INT          := decimal digits within the int range;  DECIMAL := digits "." digits (a C# double)
    STRING       := '"' chars '"' with escapes \\" \\\\ \\n \\t \\r \\0 \\'
    comments     := "//" to end of line, "/* ... */"

Types follow C#: `==` compares int/double with each other, string with string (ordinal), bool
with bool, anything with null; `<`-style operators need numbers and are false when one side is
null (a status without a response); `&&`, `||`, `!` and `?:` conditions need bool; `+` adds ints
(wrapping like C# int), doubles, or concatenates when either side is a string (null → "",
true → "True"). `object` values (`context.Variables[...]`, untyped `GetValueOrDefault`) must be cast
before comparing or calling string methods; casts and `GetValueOrDefault<T>` check the runtime type
and fail like C# (InvalidCastException). Header names are case-insensitive; without a default a
missing header reads as null. Members of absent things (no subscription, no error) read as null.
Type errors C# would report at compile time are refused at publish time too.

Failures at evaluation (null dereference, bad cast, unset variable) raise `ExpressionRuntimeError`
carrying APIM's `context.LastError` reason/message; the engine turns it into on-error.
The supported members, methods and operators are data (`SUPPORTED_MEMBERS`, `STRING_METHODS`,
`VALUE_METHODS`, `OPERATORS`, `coverage_rows()`) for the COVERAGE table.
'''

from __future__ import annotations

from .context import ExpressionContext, SimpleExpressionContext
from .cstypes import CsType, format_value
from .errors import ExpressionRuntimeError, UnsupportedExpression
from .members import (
    OPERATORS,
    STRING_METHODS,
    SUPPORTED_MEMBERS,
    VALUE_METHODS,
    MemberSpec,
    MethodSpec,
    coverage_rows,
)
from .values import CompiledExpression, ConstantValue, Value, compile_expression, compile_value, is_expression

__all__ = [
    "OPERATORS",
    "STRING_METHODS",
    "SUPPORTED_MEMBERS",
    "VALUE_METHODS",
    "CompiledExpression",
    "ConstantValue",
    "CsType",
    "ExpressionContext",
    "ExpressionRuntimeError",
    "MemberSpec",
    "MethodSpec",
    "SimpleExpressionContext",
    "UnsupportedExpression",
    "Value",
    "compile_expression",
    "compile_value",
    "coverage_rows",
    "format_value",
    "is_expression",
]
