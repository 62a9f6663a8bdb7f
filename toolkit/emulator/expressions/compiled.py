"""What the compiler produces: `Compiled` sub-expressions, and the evaluation `Frame` and `guard`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import library, nullables
from .cstypes import CAST_ALIASES, CAST_TARGETS, LONG_NAMES, CsType
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
    long: bool = False  # a long by its form, though typed dynamic (a ?: with a long branch: see is_long_form)
    nullable: str = ""  # a Nullable<T> of a value type (int? x, GetValueOrDefault<int?>): T's name (nullables.py)


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
    """Whether an expression is a long by its form: a long constant (10L, a literal past the int range), a cast to
    (long), or a ?: of integers with such a branch. (A long computed at run time is a CsLong too, but its static type
    is dynamic.)"""
    return (value.long or type(value.const) is library.CsLong
            or (isinstance(node, Cast) and node.type.name in LONG_NAMES))


def implicit_refusal(source: CsType, target: str) -> str | None:
    """Why C# refuses to store a value of static type ``source`` where ``target`` (see `converted_type`) is declared
    (None: it converts implicitly, or its type is known only when it runs)."""
    if source is _T.DOUBLE and target == "long":
        return "cannot implicitly convert type 'double' to 'long' (C# refuses it: CS0266)"
    if source in (_T.STRING, _T.BOOL) or (source in (_T.INT, _T.DOUBLE) and target == "DateTimeOffset"):
        return f"cannot implicitly convert type '{source.value}' to '{target}' (C# refuses it: CS0029)"
    return None


def converted(fn: Fn, target: str, pos: int) -> Fn:
    """``fn``'s value converted to ``target`` (see `converted_type`) when it runs: a number to a CsLong, a DateTime
    to a DateTimeOffset. What C# refuses to convert implicitly is refused before (`implicit_refusal`)."""
    return guard(lambda ctx: None if (value := fn(ctx)) is None else library.convert(value, target), pos)


def _cast_hint(c: Compiled) -> str | None:
    return "cast the object value first, e.g. (string)context.Variables[\"name\"]" if c.type is _T.OBJECT else None


def declared_type(name: str) -> CsType | None:
    """A local's static type from its declared type's name (None: the initializer's type, or dynamic); an ``int?``'s
    is ``int`` (the local is marked nullable)."""
    if name in ("object", "Object"):
        return CsType.OBJECT  # object o = 1.0: o.Equals(1) is Equals(object), o + 1 does not compile
    name = nullables.nullable_base(name) or name
    return CAST_TARGETS.get(name) or CAST_ALIASES.get(name)
