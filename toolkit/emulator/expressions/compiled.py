"""What the compiler produces: `Compiled` sub-expressions, and the evaluation `Frame` and `guard`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import library
from .cstypes import LONG_NAMES, CsType
from .errors import EvaluationFailure
from .nodes import Cast, Node

Fn = Callable[[Any], object]
_NOT_CONSTANT = object()
_D = CsType.DYNAMIC
TYPE_NAMES = {t.value: t for t in CsType}
_T = CsType


@dataclass(slots=True)
class Compiled:
    """A compiled sub-expression: its closure, static type, constant value if any, context path."""

    fn: Fn
    type: CsType
    pos: int
    const: object = _NOT_CONSTANT
    path: str | None = None  # set for context.* chains


def _constant(value: object, type_: CsType, pos: int) -> Compiled:
    return Compiled(lambda ctx: value, type_, pos, value)


def _not_a_value(ctx: object) -> object:  # pragma: no cover - refused before it can run
    raise AssertionError("namespace evaluated")


class Frame:
    """The context plus local variable slots, for expressions with locals or lambdas (one per evaluation)."""

    __slots__ = ("ctx", "slots")

    def __init__(self, ctx: Any, size: int) -> None:
        self.ctx = ctx
        self.slots: list[Any] = [None] * size

    def __getattr__(self, name: str) -> Any:
        return getattr(self.ctx, name)


def guard(fn: Fn, pos: int) -> Fn:
    """Turn .NET-style failures of runtime operations into EvaluationFailure at ``pos``."""

    def run(ctx: Any) -> object:
        try:
            return fn(ctx)
        except EvaluationFailure:
            raise
        except library.CAUGHT as exc:
            raise EvaluationFailure(library.message_of(exc), pos) from None

    return run


def converted_type(declared: Any) -> str | None:
    """What a value declared as ``declared`` (a TypeRef; None for ``var``) is converted to when it is stored: "long"
    (a CsLong, so that its arithmetic is 64-bit), "DateTimeOffset" (from a DateTime), or None (kept as it is)."""
    name = declared.name.rstrip("?") if declared is not None else ""
    return "long" if name in LONG_NAMES else "DateTimeOffset" if name == "DateTimeOffset" else None


def is_long_form(node: Node, value: Compiled) -> bool:
    """Whether an expression is a long by its form: a long constant (10L, a literal past the int range) or a cast to
    (long). (A long computed at run time is a CsLong too, but its static type is dynamic.)"""
    return type(value.const) is library.CsLong or (isinstance(node, Cast) and node.type.name in LONG_NAMES)


def converted(fn: Fn, target: str, pos: int) -> Fn:
    """``fn``'s value converted to ``target`` (see `converted_type`), as C#'s implicit conversion does."""
    return guard(lambda ctx: None if (value := fn(ctx)) is None else library.convert(value, target), pos)


def _cast_hint(c: Compiled) -> str | None:
    return "cast the object value first, e.g. (string)context.Variables[\"name\"]" if c.type is _T.OBJECT else None
