"""Hostile expressions are refused with UnsupportedExpression, never RecursionError/ValueError, at linear cost."""

from __future__ import annotations

import pytest

from toolkit.emulator.expressions import UnsupportedExpression, compile_value
from toolkit.emulator.expressions.context import SimpleExpressionContext
from toolkit.emulator.expressions.parser import MAX_NESTING, Parser
from toolkit.emulator.policy.compiler import compile_policy
from toolkit.emulator.policy.errors import PolicyRejected


@pytest.mark.parametrize(
    "source",
    [
        "@(" + "(" * 5000 + "1" + ")" * 5000 + ")",
        "@(" + "+".join(["1"] * 5000) + ")",
        "@(" + "!" * 5000 + "true)",
        "@(" + "(int)" * 2000 + "1)",
        "@(context.Request.Headers.GetValueOrDefault(" * 500 + '"x"' + ")" * 501,
        "@(1" + "0" * 5000 + ")",
        "@(\u00b2)",
    ],
    ids=["parentheses", "chain", "not", "casts", "calls", "5000 digits", "non-ascii digit"],
)
def test_absurd_expressions_are_refused_cleanly(source: str) -> None:
    with pytest.raises(UnsupportedExpression):
        compile_value(source)


def test_deepest_accepted_expression_compiles_and_runs_in_a_deep_stack() -> None:
    depth = MAX_NESTING - 1
    source = "@(" + "(" * depth + "+".join(["context.Request.Method"] * 30) + ")" * depth + ")"

    def nested(levels: int) -> object:  # the gateway runs expressions well inside its own call stack
        return nested(levels - 1) if levels else compile_value(source).evaluate(SimpleExpressionContext())

    assert nested(200) == "GET" * 30
    with pytest.raises(UnsupportedExpression, match="nested deeper than"):
        compile_value("@(" + "(" * (depth + 2) + "1" + ")" * (depth + 2) + ")")


def test_parsing_nested_parentheses_is_linear(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each '(' may start a lambda `(a, b) => ...`: deciding must not rescan to the matching ')'."""
    peeks = [0]
    original = Parser.peek

    def counting(self: Parser, ahead: int = 0) -> object:
        peeks[0] += 1
        return original(self, ahead)

    monkeypatch.setattr(Parser, "peek", counting)

    def cost(depth: int) -> int:
        peeks[0] = 0
        compile_value("@(" + "(" * depth + "1" + ")" * depth + ")")
        return peeks[0]

    assert cost(30) <= 2.2 * cost(15)


def test_policy_with_a_hostile_expression_is_rejected_not_crashed() -> None:
    xml = '<policies><inbound><set-variable name="v" value="@(' + "(" * 3000 + "1" + ")" * 3000 + ')" /></inbound></policies>'
    with pytest.raises(PolicyRejected, match="nested deeper than"):
        compile_policy(xml, "api")
