"""Where a policy expression (``@(...)``, ``@{...}``) ends, in time linear in the document.

The scan matches brackets, skipping C# string and char literals (regular, verbatim ``@"..."``,
interpolated ``$"..."``), their XML-escaped forms (``&quot;``, ``&apos;``) and comments. An
unclosed expression scans to the end of the document, and a document may start thousands of them
(``@(`` in every text node or attribute), so a fresh scan per expression is quadratic: a 26 KB
policy took 13 s. One :class:`ExpressionScanner` serves every expression of one document and
remembers what it learnt:

* For every position where the bracket walk stood outside literals and comments, the position of
  the first closing bracket one level up from there (or that the walk fails from there: the
  document ends first, or a bracket mismatches deeper in). The walk from a position depends only on
  the position, never on the brackets opened before it, so any later walk reaching a remembered
  position jumps straight to that closer.
* For every position a literal scan stood on, where that literal ends (same argument).
* Comment ends, looked up in sorted lists of the newline and ``*/`` positions.

Each position is therefore walked at most once per kind of walk: linear overall.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_left

OPENERS = {"(": ")", "{": "}", "[": "]"}
_CLOSERS = frozenset(")}]")
_UNKNOWN = -1
_FAILS = -2
# The characters that can start something the bracket walk cares about; everything else is skipped.
_TOKEN_START = re.compile(r"""[(){}\[\]"'/&]""")
_ESCAPED_QUOTES = ("&quot;", "&apos;")
# Where a literal scan must look: its delimiter's first character, and (unless verbatim) '\\' and '\n'.
_LITERAL_STOPS = {
    (first, verbatim): re.compile(re.escape(first) if verbatim else "[\\\\\n" + re.escape(first) + "]")
    for first in "\"'&"
    for verbatim in (False, True)
}


class ExpressionScanner:
    """Finds the end of every expression of one document; reuse one instance per document."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._level_end: array[int] | None = None  # allocated on the first expression
        self._literal_ends: dict[tuple[str, bool], dict[int, int]] = {}
        self._newlines: list[int] | None = None
        self._comment_closes: list[int] | None = None

    def expression_end(self, at: int) -> int | None:
        """Index just after the bracket closing the expression whose ``@`` is at ``at``; None when it never closes.

        ``text[at + 1]`` must be one of ``( { [``.
        """
        text, n = self.text, len(self.text)
        if self._level_end is None:
            self._level_end = array("i", [_UNKNOWN]) * (n + 1)  # int32: policies are at most 1 MiB
        level_end = self._level_end
        closers = [OPENERS[text[at + 1]]]
        visited: list[list[int]] = [[]]  # per open bracket: the walk positions directly inside it
        i = at + 2
        while True:
            match = _TOKEN_START.search(text, i)
            i = match.start() if match else n
            known = level_end[i]
            if known == _FAILS:
                return self._fail(visited)
            if known >= 0:
                i = known  # the walk from here already ran: straight to the closer one level up
            visited[-1].append(i)
            if i >= n:
                return self._fail(visited)
            char = text[i]
            if char in OPENERS:
                closers.append(OPENERS[char])
                visited.append([])
                i += 1
            elif char in _CLOSERS:
                self._resolve(visited.pop(), i)
                if char != closers.pop():
                    return self._fail(visited)
                if not closers:
                    return i + 1
                i += 1
            elif char in "\"'" or text.startswith(_ESCAPED_QUOTES, i):
                i = self._literal_end(i)
            elif text.startswith("//", i):
                i = self._next(self._newline_positions(), i)
            elif text.startswith("/*", i):
                close = self._next(self._comment_close_positions(), i + 2)
                i = close if close >= n else close + 2
            else:
                i += 1

    # -- memory --------------------------------------------------------------------------------

    def _resolve(self, positions: list[int], closer: int) -> None:
        level_end = self._level_end
        assert level_end is not None
        for position in positions:
            level_end[position] = closer

    def _fail(self, visited: list[list[int]]) -> None:
        """Every walk through these positions fails too (the document ends or a bracket mismatches)."""
        for positions in visited:
            self._resolve(positions, _FAILS)
        return None

    # -- literals and comments -----------------------------------------------------------------

    def _literal_end(self, i: int) -> int:
        """Index after the literal opening at ``i`` (a quote char or its ``&quot;``/``&apos;`` escape)."""
        text = self.text
        delimiter = text[i : i + 6] if text[i] == "&" else text[i]
        verbatim = delimiter in ('"', "&quot;") and (
            i > 0 and text[i - 1] == "@" or (i > 1 and text[i - 2 : i] in ("@$", "$@"))
        )
        ends = self._literal_ends.setdefault((delimiter, verbatim), {})
        step = len(delimiter)
        stops = _LITERAL_STOPS[delimiter[0], verbatim]
        seen: list[int] = []
        j, n = i + step, len(text)
        while True:
            match = stops.search(text, j)
            j = match.start() if match else n
            end = ends.get(j)
            if end is not None:
                break
            seen.append(j)
            if j >= n:
                end = n
                break
            if not verbatim and text[j] == "\n":
                end = j  # unterminated literal: stop at the line end rather than swallow the document
                break
            if not verbatim and text[j] == "\\":
                j += 2
            elif text.startswith(delimiter, j):
                if verbatim and text.startswith(delimiter, j + step):
                    j += 2 * step
                    continue
                end = j + step
                break
            else:
                j += 1
        for position in seen:
            ends[position] = end
        return end

    def _newline_positions(self) -> list[int]:
        if self._newlines is None:
            self._newlines = [m.start() for m in re.finditer("\n", self.text)]
        return self._newlines

    def _comment_close_positions(self) -> list[int]:
        if self._comment_closes is None:
            self._comment_closes = [m.start() for m in re.finditer(r"\*/", self.text)]
        return self._comment_closes

    def _next(self, positions: list[int], start: int) -> int:
        """The first of ``positions`` at or after ``start`` (the text length when none)."""
        index = bisect_left(positions, start)
        return positions[index] if index < len(positions) else len(self.text)
