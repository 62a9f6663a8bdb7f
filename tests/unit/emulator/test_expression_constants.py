"""C#'s integer constant expressions: each one's exact value and C# type, and what C#'s compiler refuses."""

from __future__ import annotations

import pytest

from toolkit.emulator.expressions.constants import ConstantEvaluator, ConstantRefused, IntegerConstant
from toolkit.emulator.expressions.nodes import Literal, Node
from toolkit.emulator.expressions.parser import parse


def constant(source: str) -> IntegerConstant | None:
    """The constant C# reads in ``source`` (a policy expression @(...))."""

    def is_char_literal(node: Node) -> bool:
        return isinstance(node, Literal) and source[node.pos] == "'"

    return ConstantEvaluator(is_char_literal).of(parse(source))


@pytest.mark.parametrize(("source", "value", "kind"), [
    ("@(7)", 7, "int"), ("@(3000000000)", 3_000_000_000, "uint"), ("@(5u)", 5, "uint"), ("@(5L)", 5, "long"),
    ("@(4294967296)", 2**32, "long"),
    ("@(-2147483647 - 1)", -(2**31), "int"), ("@(2147483646 + 1)", 2**31 - 1, "int"),  # the int range's two ends
    ("@(0u - 0)", 0, "uint"), ("@(4294967294u + 1)", 2**32 - 1, "uint"),  # the uint range's two ends
    ("@(long.MinValue + 0)", -(2**63), "long"), ("@(Int64.MaxValue - 0)", 2**63 - 1, "long"),
    ("@(System.Int32.MinValue)", -(2**31), "int"), ("@(UInt32.MaxValue)", 2**32 - 1, "uint"),
    # a uint with an int constant: uint when a uint holds the int (either side), long when it is negative
    ("@(3000000000 - 1)", 2_999_999_999, "uint"), ("@(1 + 3000000000)", 3_000_000_001, "uint"),
    ("@(0 + 3000000000)", 3_000_000_000, "uint"), ("@(-1 + 3000000000)", 2_999_999_999, "long"),
    ("@(3000000000 + -1)", 2_999_999_999, "long"),
    ("@(-(3000000000))", -3_000_000_000, "long"),  # C#'s minus on a uint is a long
    ("@(-(5L))", -5, "long"), ("@(-(7))", -7, "int"),
    ("@('a' + 3000000000)", 3_000_000_097, "uint"), ("@('a' * 2)", 194, "int"), ("@('a')", 97, "int"),  # a char is its code, an int
    ("@(7 / -2)", -3, "int"), ("@(-7 % 3)", -1, "int"), ("@(7 % -3)", 1, "int"), ("@(int.MinValue % -1)", 0, "int"),
    ("@((long)int.MaxValue * 2)", 2 * (2**31 - 1), "long"), ("@((int)2147483647L)", 2**31 - 1, "int"),
    ("@((int)-2147483648L)", -(2**31), "int"), ("@((uint)5)", 5, "uint"),
    ("@(true ? 1 : 2L)", 1, "long"), ("@(false ? 1 : 2)", 2, "int"),
    # a comparison of constants is a constant condition
    ("@(1 == 1 ? 5 : 6L)", 5, "long"), ("@(1 != 1 ? 5 : 6)", 6, "int"), ("@(1 < 2 ? 5 : 6)", 5, "int"),
    ("@(2 < 2 ? 5 : 6)", 6, "int"), ("@(2 <= 2 ? 5 : 6)", 5, "int"), ("@(2 > 2 ? 5 : 6)", 6, "int"),
    ("@(2 >= 3 ? 5 : 6)", 6, "int"), ("@(3 >= 3 ? 5 : 6)", 5, "int"), ("@(3 > 2 ? 5 : 6)", 5, "int"),
    # so is any constant of bool: of double literals, string literals, !, &&, || and ?: of constants
    ("@(1.5 > 1 ? 1 : 2)", 1, "int"), ("@(-1.5 > 1 ? 1 : 2)", 2, "int"), ('@("a" == "a" ? 1 : 2)', 1, "int"),
    ('@("a" != "a" ? 1 : 2)', 2, "int"), ("@(!(1 > 2) && true ? 1 : 2)", 1, "int"), ("@(false || 1 > 2 ? 1 : 2)", 2, "int"),
    ("@((true ? false : true) ? 1 : 2)", 2, "int"), ("@(true == (1 < 2) ? 1 : 2)", 1, "int"),
])
def test_an_integer_constant_has_its_exact_value_and_csharp_type(source: str, value: int, kind: str) -> None:
    assert constant(source) == (value, kind)


@pytest.mark.parametrize("source", [
    "@(1.5)", '@("a")', "@(x + 1)", "@(true ? 1 : x)", "@(true ? x : 1)", "@(x ? 1 : 2)",
    "@(double.MaxValue)", "@(Foo.MaxValue)", "@(f().Int32.MaxValue)", "@((double)5)", "@((int)x)", "@(-x)",
    "@(1 == 1)", "@(x == 1 ? 1 : 2)", "@(1 == x ? 1 : 2)", "@(true && x ? 1 : 2)", "@(\"a\" ? 1 : 2)",
])
def test_anything_else_is_not_an_integer_constant(source: str) -> None:
    assert constant(source) is None


_OVERFLOW = "the operation overflows at compile time: this constant expression is {} (C# refuses it: CS0220)"


@pytest.mark.parametrize(("source", "message", "column"), [
    ("@(2147483647 + 1)", _OVERFLOW.format("2147483648, outside the int range"), 14),
    ("@(-2147483648 - 1)", _OVERFLOW.format("-2147483649, outside the int range"), 15),
    ("@(0u - 1)", _OVERFLOW.format("-1, outside the uint range"), 6),
    ("@(long.MaxValue + 1)", _OVERFLOW.format("9223372036854775808, outside the long range"), 17),
    ("@(-long.MinValue)", _OVERFLOW.format("9223372036854775808, outside the long range"), 3),
    ("@(1 / 0)", "division by constant zero (C# refuses it: CS0020)", 5),
    ("@(5L % 0)", "division by constant zero (C# refuses it: CS0020)", 6),
    ("@((int)2147483648L)", "constant value '2147483648' cannot be converted to a 'int' (C# refuses it: CS0221)", 3),
    ("@((uint)-1)", "constant value '-1' cannot be converted to a 'uint' (C# refuses it: CS0221)", 3),
])
def test_what_csharp_refuses_is_refused_where_it_goes_wrong(source: str, message: str, column: int) -> None:
    with pytest.raises(ConstantRefused) as caught:
        constant(source)
    assert (caught.value.message, caught.value.pos) == (message, column - 1)
    assert str(caught.value) == caught.value.message


def test_each_node_is_computed_once() -> None:
    calls: list[Node] = []

    def counting(node: Node) -> bool:
        calls.append(node)
        return False

    evaluator = ConstantEvaluator(counting)
    tree = parse('@("a" + "b")')
    assert evaluator.of(tree) is None and evaluator.of(tree) is None
    assert len(calls) == 2  # each string literal asked once, the second evaluation remembered
