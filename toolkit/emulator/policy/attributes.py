"""Reading attribute values and element text at publish time: named values, constants, expressions.

`AttributeReader` is the half of the compiler that handlers call to read their element: every
helper refuses a bad value with `PolicyRejected` naming the element, the attribute and the line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from lxml import etree

from toolkit.artifacts.policy_xml import local_name
from toolkit.emulator.expressions import UnsupportedExpression, compile_value
from toolkit.emulator.policy.apim_reference import emulator_limit
from toolkit.emulator.policy.errors import PolicyRejected
from toolkit.emulator.policy.values import ChoiceSetting, IntSetting

_NAMED_VALUE = re.compile(r"\{\{([^{}]*)\}\}")
_INTEGER = re.compile(r"^[+-]?\d+$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_BOOLEANS = {"true": True, "false": False}


class AttributeReader:
    """Named-value substitution and typed reads of attributes and text."""

    def __init__(self, named_values: Mapping[str, str]) -> None:
        self.named_values = named_values
        self._named_values_folded = {k.lower(): v for k, v in named_values.items()}

    def reject(self, element: etree._Element, message: str) -> PolicyRejected:
        """The error to raise for ``element`` (the caller raises it)."""
        return PolicyRejected(message, element.sourceline)

    # -- values -----------------------------------------------------------------------------------

    def substitute(self, text: str, element: etree._Element) -> str:
        """``text`` with ``{{named-value}}`` references replaced; unknown names are refused."""
        if "{{" not in text:
            return text

        def replace(match: re.Match[str]) -> str:
            key = match.group(1)
            value = self.named_values.get(key)
            if value is None:  # named value names are case-insensitive, as in the management plane
                value = self._named_values_folded.get(key.lower())
            if value is None:
                raise self.reject(element, f"<{local_name(element)}> refers to named value '{{{{{key}}}}}', which does not exist")
            return value

        return _NAMED_VALUE.sub(replace, text)

    def attr(self, element: etree._Element, name: str) -> str | None:
        """An attribute value with named values substituted, or None when absent."""
        raw = element.get(name)
        return None if raw is None else self.substitute(raw, element)

    def text(self, element: etree._Element) -> str:
        """The element's text, named values substituted, surrounding whitespace removed."""
        return self.substitute((element.text or "").strip(), element)

    def value(
        self, element: etree._Element, name: str, *, expect: str | None = None, expressions: bool = True
    ) -> Any:
        """A constant or compiled expression for an attribute; None when the attribute is absent."""
        text = self.attr(element, name)
        if text is None:
            return None
        return self._compile(element, text, f"attribute '{name}'", expect, expressions)

    def text_value(self, element: etree._Element, *, expect: str | None = None, expressions: bool = True) -> Any:
        """A constant or compiled expression for the element's text."""
        return self._compile(element, self.text(element), "text", expect, expressions)

    def _compile(self, element: etree._Element, text: str, what: str, expect: str | None, expressions: bool) -> Any:
        where = f"<{local_name(element)}> {what}"
        if not expressions and text.lstrip().startswith(("@(", "@{")):
            raise self.reject(element, f"{where}: policy expressions are not allowed here")
        try:
            return compile_value(text, expect=expect)
        except UnsupportedExpression as exc:
            line = (element.sourceline or 1) + exc.line - 1
            if exc.limit:
                raise PolicyRejected(f"{where}: {emulator_limit('this expression')}: {exc}", line) from None
            raise PolicyRejected(f"{where}: {exc}", line) from None

    def condition(self, element: etree._Element, name: str = "condition") -> Any:
        """A boolean attribute: True/False for a constant, else a bool-typed compiled expression."""
        text = self.attr(element, name)
        if text is None:
            raise self.reject(element, f"<{local_name(element)}> is missing the required attribute '{name}'")
        if text.lstrip().startswith(("@(", "@{")):
            return self._compile(element, text, f"attribute '{name}'", "bool", True)
        return self.boolean(element, name, False)

    def constant(self, element: etree._Element, name: str, default: str | None = None) -> str | None:
        """An attribute that must be a constant (no expression)."""
        text = self.attr(element, name)
        if text is None:
            return default
        if text.lstrip().startswith(("@(", "@{")):
            raise self.reject(element, f"<{local_name(element)}> attribute '{name}': policy expressions are not allowed here")
        return text

    def integer(
        self,
        element: etree._Element,
        name: str,
        *,
        default: int | None = None,
        minimum: int | None = None,
        maximum: int | None = None,
        expressions: bool = False,
    ) -> IntSetting:
        """An integer attribute in [minimum, maximum]; an expression is checked when evaluated."""
        where = f"<{local_name(element)}> attribute '{name}'"
        text = self.attr(element, name)
        if text is None:
            return IntSetting(default, where=where)
        if expressions and text.lstrip().startswith(("@(", "@{")):
            expression = self._compile(element, text, f"attribute '{name}'", "int", True)
            return IntSetting(None, expression, minimum=minimum, maximum=maximum, where=where)
        stripped = self.constant(element, name) or ""
        if not _INTEGER.match(stripped.strip()):
            raise self.reject(element, f"{where}: {stripped!r} is not an integer")
        try:
            value = int(stripped)
        except ValueError:  # more digits than Python converts (4,300): far beyond any range APIM allows
            value = None
        if value is None or (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            bounds = f"{minimum}-{maximum}" if maximum is not None else f">= {minimum}"
            shown = value if value is not None else f"{stripped.strip()[:20]}... ({len(stripped.strip())} digits)"
            raise self.reject(element, f"{where}: {shown} is outside the allowed range {bounds}")
        return IntSetting(value, where=where)

    def number(
        self, element: etree._Element, name: str, *, minimum: float, maximum: float, default: float | None = None
    ) -> float | None:
        """A constant decimal attribute in [minimum, maximum]."""
        text = self.constant(element, name)
        if text is None:
            return default
        where = f"<{local_name(element)}> attribute '{name}'"
        if not _NUMBER.match(text.strip()):
            raise self.reject(element, f"{where}: {text!r} is not a number")
        value = float(text)
        if not minimum <= value <= maximum:
            raise self.reject(element, f"{where}: {text.strip()} is outside {minimum:g}-{maximum:g}")
        return value

    def boolean(self, element: etree._Element, name: str, default: bool) -> bool:
        """A constant true/false attribute (case-insensitive, like .NET's bool.Parse)."""
        text = self.constant(element, name)
        if text is None:
            return default
        value = _BOOLEANS.get(text.strip().lower())
        if value is None:
            raise self.reject(element, f"<{local_name(element)}> attribute '{name}': {text!r} is not true or false")
        return value

    def choice_setting(self, element: etree._Element, name: str, choices: Iterable[str],
                       default: str | None = None) -> ChoiceSetting:
        """A one-of attribute that may be a policy expression: a constant must be one of ``choices`` now, an
        expression's value is checked when evaluated."""
        value = self.value(element, name, expect="string")
        where = f"<{local_name(element)}> attribute '{name}'"
        if value is not None and value.is_expression:
            return ChoiceSetting(None, value, tuple(choices), where)
        return ChoiceSetting(self.choice(element, name, choices, default), None, tuple(choices), where)

    def flag(self, element: etree._Element, name: str, default: bool) -> Any:
        """An optional true/false attribute that may be a policy expression: a bool, or a bool expression (read
        it with `values.truth`)."""
        return self.condition(element, name) if self.attr(element, name) is not None else default

    def choice(self, element: etree._Element, name: str, choices: Iterable[str], default: str | None = None) -> str | None:
        """A constant attribute that must be one of ``choices`` (compared case-insensitively)."""
        text = self.constant(element, name)
        if text is None:
            return default
        by_lower = {c.lower(): c for c in choices}
        value = by_lower.get(text.strip().lower())
        if value is None:
            raise self.reject(
                element, f"<{local_name(element)}> attribute '{name}': {text!r} is not one of {', '.join(by_lower.values())}"
            )
        return value
