"""``Nullable<T>`` of a value type (``int?``, ``long?``, ``DateTime?``): which declared types are one, and the members
C# gives them: ``HasValue``, ``Value`` and ``GetValueOrDefault()``.

The emulator holds a nullable's value as the value itself, or None; what marks it is the static flag
``Compiled.nullable`` (a local declared ``int?``, or ``context.Variables.GetValueOrDefault<int?>``). On any other
int, double or bool, C# has no members at all (CS1061), so the compiler refuses them there.
"""

from __future__ import annotations

from typing import Any

from .cstypes import CsLong
from .errors import NULLABLE_WITHOUT_VALUE, EvaluationFailure

# The value types a "?" makes nullable (a reference type's "?" changes nothing that runs).
VALUE_TYPE_NAMES = frozenset({
    "int", "Int32", "long", "Int64", "double", "Double", "float", "decimal", "bool", "Boolean", "char", "Char",
    "DateTime", "DateTimeOffset", "TimeSpan", "Guid",
})
MEMBERS = ("HasValue", "Value")
# The nullable mark of ``x + v`` where x is an int? and v is typed only when it runs: an int? if v is a number, text if
# v is a string (C# knows which; the emulator does not), so HasValue, Value and ?? work and other members are
# dispatched when it runs.
MAYBE = "?"
# default(T) of the value types whose GetValueOrDefault() the emulator runs (the others need a default argument)
_DEFAULTS: dict[str, object] = {"int": 0, "Int32": 0, "long": CsLong(0), "Int64": CsLong(0), "double": 0.0,
                                "Double": 0.0, "float": 0.0, "decimal": 0.0, "bool": False, "Boolean": False}


def nullable_base(name: str) -> str | None:
    """``int`` for ``int?``, ``Nullable<int>`` or ``System.Int32?`` (``Int32``), and the other value types; None for
    any other type name."""
    if name.startswith("Nullable<") and name.endswith(">"):
        name = name[len("Nullable<"):-1] + "?"
    base = name[:-1].removeprefix("System.") if name.endswith("?") else ""
    return base if base in VALUE_TYPE_NAMES else None


def described(base: str) -> str:
    """The type a nullable mark names, for messages: ``int?``, or what `MAYBE` stands for."""
    return "a nullable number or text" if base == MAYBE else f"{base}?"


def default_value(base: str) -> object:
    """``default(T)`` of the value type named ``base`` (None: not one the emulator knows)."""
    return _DEFAULTS.get(base)


def has_value(fn: Any) -> Any:
    """``x.HasValue``."""
    return lambda ctx: fn(ctx) is not None


def value_of(fn: Any, pos: int) -> Any:
    """``x.Value``: the value, or C#'s InvalidOperationException when there is none."""

    def run(ctx: Any) -> object:
        value = fn(ctx)
        if value is None:
            raise EvaluationFailure(NULLABLE_WITHOUT_VALUE, pos)
        return value

    return run


def value_or(fn: Any, default: Any) -> Any:
    """``x.GetValueOrDefault()`` / ``x.GetValueOrDefault(d)``: the value, or ``default``'s."""
    return lambda ctx: default(ctx) if (value := fn(ctx)) is None else value
