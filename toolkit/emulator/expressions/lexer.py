"""Tokenizer for the C# expression subset (runs once, at compile time)."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import UnsupportedExpression

# Two-character tokens are tried before one-character ones, so "==" wins over "=". Unsupported
# operators are still tokens, so the parser can name them ("operator ?? is not supported").
_PUNCTUATION_2 = frozenset(
    "=> == != <= >= && || ?? ?. ++ -- += -= *= /= %= &= |= ^= << :: ->".split()
)
_MAX_INT_DIGITS = 20  # far beyond int.MaxValue; the parser reports the range
_PUNCTUATION_1 = frozenset("(){}[].,;:?+-*/%!<>=&|^~")

_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "0": "\0", "'": "'"}


@dataclass(frozen=True, slots=True)
class Token:
    """One token: kind is ident, int, double, string, op or eof; pos is a 0-based offset."""

    kind: str
    text: str
    pos: int
    value: object = None

    def is_op(self, text: str) -> bool:
        """True when this is the punctuation/operator ``text``."""
        return self.kind == "op" and self.text == text

    def is_word(self, text: str) -> bool:
        """True when this is the identifier or keyword ``text``."""
        return self.kind == "ident" and self.text == text

    def describe(self) -> str:
        """How the token is named in messages."""
        if self.kind == "eof":
            return "the end of the expression"
        if self.kind == "ident":
            return f"identifier '{self.text}'"
        return f"'{self.text}'"


class _Lexer:
    def __init__(self, source: str, start: int, end: int | None = None) -> None:
        self.source = source
        self.i = start
        self.end = len(source) if end is None else end
        self.tokens: list[Token] = []

    def refuse(self, offset: int, message: str, hint: str | None = None) -> UnsupportedExpression:
        # Lexical refusals are C# the emulator does not read (hex literals, \u escapes).
        limit = "not supported" in message
        return UnsupportedExpression.at(self.source, offset, message, hint, limit=limit)

    def run(self) -> list[Token]:
        src, n = self.source, self.end
        while True:
            self.skip_blank()
            if self.i >= n:
                self.tokens.append(Token("eof", "", n))
                return self.tokens
            c = src[self.i]
            if c.isdigit():
                self.number()
            elif c.isalpha() or c == "_":
                self.identifier()
            elif c == '"':
                self.string()
            elif c == "$" and src.startswith('$"', self.i):
                self.interpolated()
            elif c == "@" and src.startswith('@"', self.i):
                self.verbatim()
            elif c == "'":
                self.char()
            else:
                self.special(c)

    def skip_blank(self) -> None:
        src, n = self.source, self.end
        while self.i < n:
            c = src[self.i]
            if c.isspace():
                self.i += 1
            elif src.startswith("//", self.i):
                end = src.find("\n", self.i)
                self.i = n if end < 0 else end
            elif src.startswith("/*", self.i):
                end = src.find("*/", self.i + 2)
                if end < 0:
                    raise self.refuse(self.i, "unterminated comment")
                self.i = end + 2
            else:
                return

    def identifier(self) -> None:
        src, start = self.source, self.i
        while self.i < self.end and (src[self.i].isalnum() or src[self.i] == "_"):
            self.i += 1
        self.tokens.append(Token("ident", src[start : self.i], start))

    def number(self) -> None:
        src, start, n = self.source, self.i, self.end
        while self.i < n and src[self.i].isdigit():
            self.i += 1
        kind = "int"
        if self.i + 1 < n and src[self.i] == "." and src[self.i + 1].isdigit():
            kind = "double"
            self.i += 1
            while self.i < n and src[self.i].isdigit():
                self.i += 1
        text = src[start : self.i]
        if self.i < n and src[self.i] in "dDfFmM" and not (self.i + 1 < n and (src[self.i + 1].isalnum() or src[self.i + 1] == "_")):
            self.i += 1  # 1.5m / 2d / 0.5f: the emulator computes decimals and floats as double
            self.tokens.append(Token("double", text, start, float(text)))
            return
        if self.i < n and src[self.i] in "lLuU" and not (self.i + 1 < n and (src[self.i + 1].isalnum() or src[self.i + 1] == "_")):
            long_suffix = src[self.i] in "lL"
            self.i += 1  # 10L: a long; 10U: computed as an int
            self.tokens.append(Token("long" if long_suffix else "int", text, start, int(text)))
            return
        if self.i < n and (src[self.i].isalnum() or src[self.i] == "_"):
            c = src[self.i]
            if c in "xXbB" and src[start : self.i] == "0":
                raise self.refuse(start, "hexadecimal and binary literals are not supported")
            if c in "eE":
                raise self.refuse(start, "exponent notation in numeric literals is not supported")
            raise self.refuse(self.i, f"numeric literal suffix '{c}' is not supported", "use plain integers or decimals like 1.5")
        text = src[start : self.i]
        if not text.isascii():
            raise self.refuse(start, f"numeric literal {text!r} uses non-ASCII digits")
        if kind == "int" and len(text) > _MAX_INT_DIGITS:  # int() of thousands of digits is refused by Python
            raise self.refuse(start, f"integer literal of {len(text)} digits is outside the long range")
        value = int(text) if kind == "int" else float(text)
        self.tokens.append(Token(kind, text, start, value))

    def string(self) -> None:
        src, start, n = self.source, self.i, self.end
        self.i += 1
        out: list[str] = []
        while True:
            if self.i >= n or src[self.i] == "\n":
                raise self.refuse(start, "unterminated string literal")
            c = src[self.i]
            if c == '"':
                self.i += 1
                break
            if c == "\\":
                out.append(self.escape())
                continue
            out.append(c)
            self.i += 1
        self.tokens.append(Token("string", src[start : self.i], start, "".join(out)))

    def escape(self) -> str:
        """The character of the escape sequence at ``self.i`` (a backslash); moves past it."""
        nxt = self.source[self.i + 1] if self.i + 1 < self.end else ""
        if nxt not in _ESCAPES:
            raise self.refuse(self.i, f"escape sequence '\\{nxt}' is not supported",
                              "supported escapes: \\\" \\\\ \\n \\t \\r \\0 \\'")
        self.i += 2
        return _ESCAPES[nxt]

    def char(self) -> None:
        """'c' or an escape like '\\n': a char, which the emulator handles as a one-character string."""
        src, start = self.source, self.i
        if src.startswith("\\", start + 1) and start + 3 < self.end and src[start + 3] == "'":
            escape = src[start + 2]
            if escape not in _ESCAPES:
                raise self.refuse(start + 1, f"escape sequence '\\{escape}' is not supported")
            value, self.i = _ESCAPES[escape], start + 4
        elif start + 2 < self.end and src[start + 2] == "'" and src[start + 1] not in "\\\n":
            value, self.i = src[start + 1], start + 3
        else:
            raise self.refuse(start, "malformed character literal")
        self.tokens.append(Token("string", src[start : self.i], start, value))

    def verbatim(self) -> None:
        """@"...": no escapes except "" for a quote."""
        src, start = self.source, self.i
        self.i += 2
        out: list[str] = []
        while True:
            if self.i >= self.end:
                raise self.refuse(start, "unterminated string literal")
            if src[self.i] == '"':
                if src.startswith('""', self.i):
                    out.append('"')
                    self.i += 2
                    continue
                self.i += 1
                break
            out.append(src[self.i])
            self.i += 1
        self.tokens.append(Token("string", src[start : self.i], start, "".join(out)))

    def interpolated(self) -> None:
        """$"text {expr} text": value is a tuple of str parts and (start, end) offsets of the holes."""
        src, start = self.source, self.i
        self.i += 2
        parts: list[object] = []
        text: list[str] = []
        while True:
            if self.i >= self.end or src[self.i] == "\n":
                raise self.refuse(start, "unterminated string literal")
            c = src[self.i]
            if c == '"':
                self.i += 1
                break
            if c == "\\":
                text.append(self.escape())
            elif src.startswith("{{", self.i) or src.startswith("}}", self.i):
                text.append(c)
                self.i += 2
            elif c == "{":
                if text:
                    parts.append("".join(text))
                    text = []
                hole_end = self._hole_end(self.i + 1)
                if src[hole_end] == ":":  # {value:format}: the format runs to the closing brace
                    close = src.find("}", hole_end, self.end)
                    if close < 0:
                        raise self.refuse(hole_end, "unterminated interpolation hole in an interpolated string")
                    parts.append((self.i + 1, hole_end, src[hole_end + 1 : close]))
                    self.i = close + 1
                    continue
                parts.append((self.i + 1, hole_end))
                self.i = hole_end + 1
            else:
                text.append(c)
                self.i += 1
        if text:
            parts.append("".join(text))
        self.tokens.append(Token("interp", src[start : self.i], start, tuple(parts)))

    def _hole_end(self, i: int) -> int:
        """Offset of the '}' (or format ':') closing an interpolation hole that starts at ``i``."""
        src, depth = self.source, 0
        while i < self.end:
            c = src[i]
            if c == '"' or c == "'":
                close = src.find(c, i + 1)
                while close > 0 and src[close - 1] == "\\":
                    close = src.find(c, close + 1)
                if close < 0:
                    break
                i = close + 1
                continue
            if c in "([{":
                depth += 1
            elif c in ")]":
                depth -= 1
            elif c == "}":
                if depth == 0:
                    return i
                depth -= 1
            elif c == ":" and depth == 0:
                return i
            i += 1
        raise self.refuse(i - 1, "unterminated interpolation hole in an interpolated string")

    def special(self, c: str) -> None:
        src, i = self.source, self.i
        if c == "@":
            raise self.refuse(i, "'@' is only allowed at the start of a policy expression")
        for punct in (src[i : i + 2], c):
            if punct in _PUNCTUATION_2 or punct in _PUNCTUATION_1:
                self.tokens.append(Token("op", punct, i))
                self.i += len(punct)
                return
        raise self.refuse(i, f"unexpected character '{c}'")


def tokenize(source: str, start: int = 0, end: int | None = None) -> list[Token]:
    """Tokens of ``source`` from offset ``start`` (to ``end``), ending with an eof token."""
    return _Lexer(source, start, end).run()
