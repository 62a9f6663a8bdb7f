"""ExpressionScanner: the same answers as a plain bracket scan, at a cost linear in the document."""

from __future__ import annotations

import random

import pytest

from toolkit.artifacts.expression_scan import ExpressionScanner
from toolkit.artifacts.policy_xml import escape_expressions

_OPEN = {"(": ")", "{": "}", "[": "]"}


def reference_end(text: str, at: int) -> int | None:
    """The scan the scanner must agree with, written plainly (and quadratically): a fresh walk per call."""
    stack, i, n = [_OPEN[text[at + 1]]], at + 2, len(text)
    while i < n:
        char = text[i]
        if char in _OPEN:
            stack.append(_OPEN[char])
        elif char in ")}]":
            if stack.pop() != char:
                return None
            if not stack:
                return i + 1
        elif char in "\"'" or text.startswith(("&quot;", "&apos;"), i):
            delimiter = text[i : i + 6] if char == "&" else char
            verbatim = delimiter in ('"', "&quot;") and (text[i - 1 : i] == "@" or text[i - 2 : i] in ("@$", "$@"))
            i += len(delimiter)
            while i < n:
                if not verbatim and text[i] == "\n":
                    break
                if not verbatim and text[i] == "\\":
                    i += 2
                elif text.startswith(delimiter, i):
                    if verbatim and text.startswith(delimiter, i + len(delimiter)):
                        i += 2 * len(delimiter)
                        continue
                    i += len(delimiter)
                    break
                else:
                    i += 1
            i = min(i, n)
            continue
        elif text.startswith("//", i):
            newline = text.find("\n", i)
            i = n if newline < 0 else newline
            continue
        elif text.startswith("/*", i):
            close = text.find("*/", i + 2)
            i = n if close < 0 else close + 2
            continue
        i += 1
    return None


PIECES = ["@(", "@{", "(", ")", "{", "}", "[", "]", '"', "'", "\\", "@", "$", "&quot;", "&apos;", "//", "/*", "*/",
          "\n", "x", " ", "<a>", "</a>", "&amp;"]


@pytest.mark.parametrize("seed", range(300))
def test_scanner_agrees_with_a_fresh_scan_per_expression(seed: int) -> None:
    rng = random.Random(seed)
    text = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 60)))
    starts = [i for i in range(len(text) - 1) if text[i] == "@" and text[i + 1] in _OPEN]
    rng.shuffle(starts)  # the scanner's memory must not depend on the order of the calls
    scanner = ExpressionScanner(text)
    for at in starts:
        assert scanner.expression_end(at) == reference_end(text, at), (text, at)


def test_known_answers() -> None:
    text = 'x @(a("b)", \'c\') + @"d""e" /* ) */ ) @{ [ } @( // )\n )'
    scanner = ExpressionScanner(text)
    assert scanner.expression_end(2) == text.index(" @{")
    assert scanner.expression_end(text.index("@{")) is None  # '[' closed by '}'
    assert scanner.expression_end(text.rindex("@(")) == len(text)


class CountingStr(str):
    """A str that counts character reads and prefix tests (the scan's unit of work)."""

    reads = 0

    def __getitem__(self, key):  # noqa: ANN001, ANN204
        CountingStr.reads += 1
        return str.__getitem__(self, key)

    def startswith(self, *args):  # noqa: ANN002, ANN201
        CountingStr.reads += 1
        return str.startswith(self, *args)


def _reads(document: str) -> int:
    CountingStr.reads = 0
    escape_expressions(CountingStr(document))
    return CountingStr.reads


@pytest.mark.parametrize(
    "unit",
    ["<a>@(</a>", '<a b="@(" />', '<a>@(\\"</a>', "<a>@(//</a>", '<a>@("</a>', "<a>@(@\"</a>", "<a>@{[(</a>"],
)
def test_work_grows_linearly_with_unclosed_expressions(unit: str) -> None:
    small, large = _reads(unit * 200), _reads(unit * 2000)
    assert large < 12 * small, (small, large)  # 10x the document: ~10x the work (a rescan per expression is ~100x)
