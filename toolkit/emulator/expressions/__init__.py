'''APIM policy expressions (`@(...)`, `@{ ... }`): the C# subset the emulator runs.

Every attribute or element text that allows expressions goes through `compile_value` at publish
time. Anything outside the subset is refused there (`UnsupportedExpression`, naming the construct
and its column within the expression; `.limit` tells C# APIM runs from C# it refuses too; the
caller adds file and XML line). Compiled expressions are closure trees: evaluation does no
parsing, regex or name lookups, and never evaluates text as code.

Pipeline: `lexer` (tokens, including interpolated, verbatim and character literals) → `parser`
(expressions with C# precedence, and `StatementParser` for ``@{ ... }`` blocks) → `compiler`
(C#'s static type rules for the typed part: context members, literals, operators, casts) and
`blocks` (statements, locals in per-evaluation `Frame` slots, bounded loops). Values the compiler
cannot type statically (JSON tokens, arrays, dates, message views) have the type ``dynamic`` and
are dispatched at evaluation by `library` (members, methods, static classes, constructors of the
.NET surface policies use; the *names* are data, so an unknown one is refused at publish) and
`jtoken` (Newtonsoft's JObject/JArray/JValue model). `views` builds object members of the context
(URLs, bodies, header dictionaries).

Types follow C#: `==` compares int/double with each other, string with string (ordinal), bool with
bool, anything with null; `object` values (`context.Variables[...]`) must be cast before use; casts
and `GetValueOrDefault<T>` check the runtime type and fail like C# (InvalidCastException). Failures
at evaluation (null dereference, bad cast, unset variable, a .NET exception of a library call)
raise `ExpressionRuntimeError` carrying APIM's `context.LastError` reason/message; the engine turns
it into on-error. The supported surface is data (`SUPPORTED_MEMBERS`, `STRING_METHODS`,
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
