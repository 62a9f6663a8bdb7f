"""C#'s constant expressions of integers: their exact value and C# type, checked as C# checks them when it compiles.

C# computes an expression of constants (integer and char literals, ``int.MaxValue`` and its kin, casts, unary minus,
``+ - * / %`` and ``c ? a : b`` of those, where ``c`` is true, false or a comparison of them) at compile time, in
checked mode: where one overflows its type, APIM refuses the policy (CS0220), and so for a division by constant zero
(CS0020) and a cast of a constant its target cannot hold (CS0221). The same arithmetic with a value in it is unchecked
at run time and wraps; that is the runtime's, not this module's. The compiler folds further (into calls on constants), which C# does only when the expression runs.
"""

from __future__ import annotations

import math
import operator
import sys
from collections.abc import Callable
from typing import NamedTuple

from .cstypes import INTEGER_RANGES, dotnet_name_of
from .dotnet import as_doubles, double_arithmetic
from .nodes import Binary, Cast, Conditional, Literal, Member, Name, Node, Unary

RANGES = INTEGER_RANGES
_KINDS = {"System.Int32": "int", "System.UInt32": "uint", "System.Int64": "long"}  # .NET name -> integer type
# An integer operator's exact result, as C# computes a constant (division truncates toward 0; a remainder has the
# dividend's sign, and MinValue % -1 is 0: it overflows only when it runs).
_EXACT: dict[str, Callable[[int, int], int]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul,
    "/": lambda a, b: abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1),
    "%": lambda a, b: abs(a) % abs(b) * (1 if a >= 0 else -1),
}
_COMPARISONS: dict[str, Callable[[int, int], bool]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}


class IntegerConstant(NamedTuple):
    value: int
    kind: str  # its C# type: "int", "uint" or "long"


class ConstantRefused(Exception):
    """C# refuses this constant expression when it compiles it: ``message`` at source offset ``pos``."""

    def __init__(self, pos: int, message: str) -> None:
        super().__init__(message)
        self.pos = pos
        self.message = message


class ConstantEvaluator:
    """The integer constants of one expression's nodes, each computed once. ``is_char_literal(node)``: whether a
    string literal node is written as a char ('a'), which C# reads as its code in arithmetic."""

    def __init__(self, is_char_literal: Callable[[Node], bool]) -> None:
        self._is_char_literal = is_char_literal
        self._known: dict[int, IntegerConstant | None] = {}

    def of(self, node: Node) -> IntegerConstant | None:
        """``node``'s value and type if C# reads it as an integer constant, else None; ConstantRefused where C#
        refuses it."""
        key = id(node)
        if key not in self._known:
            self._known[key] = self._evaluate(node)
        return self._known[key]

    def _evaluate(self, node: Node) -> IntegerConstant | None:
        if isinstance(node, Literal):
            if node.kind:
                return IntegerConstant(int(node.value), node.kind)  # type: ignore[call-overload]
            if isinstance(node.value, str) and len(node.value) == 1 and self._is_char_literal(node):
                return IntegerConstant(ord(node.value), "int")  # a char takes part in arithmetic as an int
            return None
        if isinstance(node, Member) and node.name in ("MinValue", "MaxValue"):
            kind = _integer_type(_dotted(node.target))
            return None if kind is None else IntegerConstant(RANGES[kind][node.name == "MaxValue"], kind)
        if isinstance(node, Cast):
            return self._cast(node)
        if isinstance(node, Unary) and node.op == "-":
            inner = self.of(node.operand)
            if inner is None:
                return None
            return _checked(node, -inner.value, "long" if inner.kind == "uint" else inner.kind)  # -uint is a long
        if isinstance(node, Conditional):
            return self._conditional(node)
        if isinstance(node, Binary) and node.op in _EXACT:
            left, right = self.of(node.left), self.of(node.right)
            if left is None or right is None:
                return None
            if node.op in ("/", "%") and right.value == 0:
                raise ConstantRefused(node.pos, "division by constant zero (C# refuses it: CS0020)")
            return _checked(node, _EXACT[node.op](left.value, right.value), _promoted(left, right))
        return None

    def _cast(self, node: Cast) -> IntegerConstant | None:
        kind = _integer_type(node.type.name)
        if kind is None:
            return None
        inner = self.of(node.operand)
        if inner is None:
            return None
        low, high = RANGES[kind]
        if not low <= inner.value <= high:
            raise ConstantRefused(node.pos, f"constant value '{inner.value}' cannot be converted to a '{kind}' (C# "
                                            "refuses it: CS0221)")
        return IntegerConstant(inner.value, kind)

    def _conditional(self, node: Conditional) -> IntegerConstant | None:
        condition = self.boolean(node.condition)
        if condition is None:
            return None
        then, otherwise = self.of(node.then), self.of(node.otherwise)
        if then is None or otherwise is None:
            return None
        return IntegerConstant((then if condition else otherwise).value, _promoted(then, otherwise))

    def boolean(self, node: Node) -> bool | None:
        """``node``'s value if C# reads it as a constant of bool, else None: ``true``, ``false``, ``(bool)`` of one,
        ``!``, ``&&``, ``||``, ``==``, ``!=`` and ``c ? a : b`` of those, a comparison of number constants (integers,
        chars and doubles: ``1 == 1``, ``0.1 + 0.2 > 0``, ``double.MaxValue > 0``), ``==`` and ``!=`` of string
        constants and null (``"a" + "b" == "ab"``, ``"a" != null``)."""
        if isinstance(node, Literal):
            return node.value if type(node.value) is bool else None
        if isinstance(node, Cast) and dotnet_name_of(node.type.name) == "System.Boolean":
            return self.boolean(node.operand)
        if isinstance(node, Unary) and node.op == "!":
            inner = self.boolean(node.operand)
            return None if inner is None else not inner
        if isinstance(node, Conditional):
            condition, then, otherwise = (self.boolean(n) for n in (node.condition, node.then, node.otherwise))
            if condition is None or then is None or otherwise is None:
                return None
            return then if condition else otherwise
        if not isinstance(node, Binary):
            return None
        if node.op in ("&&", "||"):
            left, right = self.boolean(node.left), self.boolean(node.right)
            if left is None or right is None:
                return None
            return (left and right) if node.op == "&&" else (left or right)
        if node.op not in _COMPARISONS:
            return None
        left, right = self._number(node.left), self._number(node.right)
        if left is not None and right is not None:
            return _COMPARISONS[node.op](*as_doubles(left, right))
        if node.op in ("==", "!="):
            for read in (self.boolean, self._text):
                pair = read(node.left), read(node.right)
                if pair[0] is not None and pair[1] is not None:
                    return (pair[0] == pair[1]) == (node.op == "==")
        return None

    def _number(self, node: Node) -> int | float | None:
        """A number constant's value: an integer (or char) constant, or a double one (a literal, double's named
        values, ``(double)`` of a number, arithmetic with a double in it)."""
        integer = self.of(node)
        if integer is not None:
            return integer.value
        if isinstance(node, Literal) and type(node.value) is float:
            return node.value
        if isinstance(node, Unary) and node.op == "-":
            inner = self._number(node.operand)
            return None if inner is None else -inner
        if isinstance(node, Cast) and dotnet_name_of(node.type.name) == "System.Double":
            inner = self._number(node.operand)
            return None if inner is None else float(inner)
        if isinstance(node, Member) and dotnet_name_of(_dotted(node.target)) == "System.Double":
            return _DOUBLE_CONSTANTS.get(node.name)
        if isinstance(node, Binary) and node.op in _EXACT:
            left, right = self._number(node.left), self._number(node.right)
            if left is None or right is None:
                return None
            return double_arithmetic(node.op, float(left), float(right))
        return None

    def _text(self, node: Node) -> str | None:
        """A string constant's text: a string literal (a char literal is a number), ``+`` of two; null's is None,
        so ``"a" == null`` reads as a constant through `_NULL`."""
        if isinstance(node, Literal) and node.value is None:
            return _NULL
        if isinstance(node, Literal) and isinstance(node.value, str) and not self._is_char_literal(node):
            return node.value
        if isinstance(node, Binary) and node.op == "+":
            left, right = self._text(node.left), self._text(node.right)
            if left is not None and right is not None and _NULL not in (left, right):
                return left + right
        return None


_NULL = "\x00null"  # null among string constants: equal to null only (no string literal holds it)
_DOUBLE_CONSTANTS = {"MaxValue": sys.float_info.max, "MinValue": -sys.float_info.max, "Epsilon": 5e-324,
                     "PositiveInfinity": math.inf, "NegativeInfinity": -math.inf, "NaN": math.nan}


def _promoted(left: IntegerConstant, right: IntegerConstant) -> str:
    """The type C# computes a binary operator of two integer constants in: long if either is one; uint for two
    uints, or a uint and an int constant that a uint holds (C# converts such a constant); long for a uint and a
    negative int; else int."""
    kinds = {left.kind, right.kind}
    if "long" in kinds:
        return "long"
    if kinds == {"uint", "int"}:
        signed = left if left.kind == "int" else right
        return "uint" if signed.value >= 0 else "long"
    return "uint" if kinds == {"uint"} else "int"


def _checked(node: Node, value: int, kind: str) -> IntegerConstant:
    low, high = RANGES[kind]
    if not low <= value <= high:
        raise ConstantRefused(node.pos, f"the operation overflows at compile time: this constant expression is "
                                        f"{value}, outside the {kind} range (C# refuses it: CS0220)")
    return IntegerConstant(value, kind)


def _integer_type(name: str) -> str | None:
    """"int", "uint" or "long" for a name of that type (``int``, ``Int32``, ``System.Int32``, ...), else None."""
    return _KINDS.get(dotnet_name_of(name))


def _dotted(node: Node) -> str:
    """``System.Int32`` of a chain of names and members (another expression gives no type's name)."""
    if isinstance(node, Name):
        return node.ident
    if isinstance(node, Member):
        return f"{_dotted(node.target)}.{node.name}"  # from anything but names, ".x": no type's name
    return ""
