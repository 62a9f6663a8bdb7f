"""Compiled attribute values: a constant, or an expression parsed once and evaluated many times."""

from __future__ import annotations

from typing import Any

from . import library
from .compiler import Compiled, Compiler, Frame, checked_cast, guard
from .cstypes import CAST_TARGETS, CsType
from .errors import EvaluationFailure, ExpressionRuntimeError, UnsupportedExpression, locate
from .flow import check_expression
from .nodes import Block
from .parser import parse

_EXPECTABLE = frozenset(CAST_TARGETS)


def is_expression(text: str) -> bool:
    """True when ``text`` (an attribute value or element text) is a policy expression."""
    return text.lstrip().startswith(("@(", "@{"))


class ConstantValue:
    """A plain attribute value; evaluates to its own text."""

    __slots__ = ("source",)
    is_expression = False

    def __init__(self, source: str) -> None:
        self.source = source

    def evaluate(self, ctx: Any) -> object:
        """Return the text unchanged (the policy handler converts it)."""
        return self.source

    def __repr__(self) -> str:
        return f"ConstantValue({self.source!r})"


class CompiledExpression:
    """A compiled policy expression; cheap to evaluate (one closure call per syntax node)."""

    __slots__ = ("source", "result_type", "_fn")
    is_expression = True

    def __init__(self, source: str, fn: Any, result_type: CsType) -> None:
        self.source = source
        self.result_type = result_type  # static C# type: int, double, string, bool, null or object
        self._fn = fn

    def evaluate(self, ctx: Any) -> object:
        """Evaluate against ``ctx``; raises ExpressionRuntimeError when C# would throw."""
        try:
            return self._fn(ctx)
        except EvaluationFailure as failure:
            line, column = locate(self.source, failure.offset)
            raise ExpressionRuntimeError(failure.detail, source=self.source, column=column, line=line) from None

    def __repr__(self) -> str:
        return f"CompiledExpression({self.source!r})"


Value = ConstantValue | CompiledExpression


def compile_expression(source: str, *, expect: str | None = None) -> CompiledExpression:
    """Compile ``@(expr)`` or ``@{ return expr; }``; raises UnsupportedExpression outside the subset.

    ``expect`` ("bool", "string" or "int") refuses expressions of another static type at compile
    time; an ``object`` result is then checked at evaluation, like a C# cast.
    """
    compiler = Compiler(source)
    try:
        tree = parse(source)
        compiled = compiler.value(tree)
        if not isinstance(tree, Block):  # a block's flow is checked as it compiles (blocks.compile_block)
            check_expression(tree, compiler.refuse, compiler.constants)
    except RecursionError:  # hostile nesting: refuse it like any other unsupported input, never crash
        raise UnsupportedExpression.at(source, 0, "the expression is nested too deeply") from None
    if expect is not None:
        compiled = _expecting(compiler, compiled, expect)
    fn, size = compiled.fn, compiler.slot_count
    if size:  # locals or lambdas: each evaluation gets its own slots
        body = fn
        fn = lambda ctx: body(Frame(ctx, size))  # noqa: E731
    return CompiledExpression(source, fn, compiled.type)


def compile_value(text: str, *, expect: str | None = None) -> ConstantValue | CompiledExpression:
    """Compile an attribute value that may be a constant or an expression (``expect`` as above)."""
    if is_expression(text):
        return compile_expression(text, expect=expect)
    return ConstantValue(text)


def _expecting(compiler: Compiler, compiled: Compiled, expect: str) -> Compiled:
    if expect not in _EXPECTABLE:
        raise ValueError(f"expect must be one of {sorted(_EXPECTABLE)}, not {expect!r}")
    target = CAST_TARGETS[expect]
    if compiled.type is target or (compiled.type is CsType.NULL and target is CsType.STRING):
        return compiled
    if compiled.type is CsType.OBJECT:
        return Compiled(checked_cast(compiled.fn, target, compiled.pos), target, compiled.pos)
    if compiled.type is CsType.DYNAMIC:
        fn = compiled.fn
        if target is CsType.STRING:  # APIM turns an attribute expression's value into text with ToString()
            return Compiled(guard(lambda ctx: None if (v := fn(ctx)) is None else library.display(v), compiled.pos),
                            target, compiled.pos)
        return Compiled(guard(lambda ctx: library.convert(fn(ctx), expect), compiled.pos), target, compiled.pos)
    source = compiler.source
    start = len(source) - len(source.lstrip()) + 2  # after "@(" / "@{"
    while start < len(source) and source[start].isspace():
        start += 1
    raise UnsupportedExpression.at(source, start, f"this attribute needs a {expect} expression, but it produces {compiled.type}")
