"""Attribute values as handlers use them at request time: constants, or expressions checked on use."""

from __future__ import annotations

from typing import Any

from toolkit.emulator.expressions import format_value
from toolkit.emulator.policy.errors import ExpressionFailure


class IntSetting:
    """An integer attribute: a constant (checked at publish) or an int expression (checked on use)."""

    __slots__ = ("constant", "expression", "minimum", "maximum", "where")

    def __init__(
        self,
        constant: int | None,
        expression: Any = None,
        *,
        minimum: int | None = None,
        maximum: int | None = None,
        where: str = "",
    ) -> None:
        self.constant = constant
        self.expression = expression
        self.minimum = minimum
        self.maximum = maximum
        self.where = where  # "<retry> attribute 'count'", for messages

    def get(self, ctx: Any, source: str) -> int:
        """The value for this request; an expression out of range fails like a bad expression."""
        if self.expression is None:
            return self.constant  # type: ignore[return-value]
        value = self.expression.evaluate(ctx)
        if not isinstance(value, int) or isinstance(value, bool):
            raise ExpressionFailure(f"{self.where} evaluated to {value!r}, not an integer.", source=source)
        if (self.minimum is not None and value < self.minimum) or (self.maximum is not None and value > self.maximum):
            raise ExpressionFailure(f"{self.where} evaluated to {value}, outside {_range(self)}.", source=source)
        return value


class ChoiceSetting:
    """An attribute that is one of fixed values (compared case-insensitively): a constant (checked at publish) or a
    string expression (checked on use). The companion of `IntSetting`; made by the compiler's `choice_setting`."""

    __slots__ = ("constant", "expression", "choices", "where")

    def __init__(self, constant: str | None, expression: Any, choices: tuple[str, ...], where: str = "") -> None:
        self.constant, self.expression, self.choices, self.where = constant, expression, tuple(choices), where

    def get(self, ctx: Any, source: str) -> str | None:
        """The choice for this request (None: absent with no default); an expression giving another value fails
        like a bad expression."""
        if self.expression is None:
            return self.constant
        text = text_of(self.expression, ctx)
        folded = text.strip().lower()
        for choice in self.choices:
            if choice.lower() == folded:
                return choice
        raise ExpressionFailure(f"{self.where} evaluated to {text!r}, not one of {', '.join(self.choices)}.",
                                source=source)


def _range(setting: IntSetting) -> str:
    low = "" if setting.minimum is None else str(setting.minimum)
    high = "" if setting.maximum is None else str(setting.maximum)
    return f"{low}..{high}"


def text_of(value: Any, ctx: Any) -> str:
    """A compiled value (constant or expression) as the string C# would produce."""
    result = value.evaluate(ctx)
    return result if type(result) is str else format_value(result)


def truth(condition: Any, ctx: Any) -> bool:
    """A compiled condition (a constant bool or a bool expression) for this request."""
    return condition if type(condition) is bool else condition.evaluate(ctx) is True
