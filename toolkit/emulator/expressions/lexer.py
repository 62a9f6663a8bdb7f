"""Tokenizer for the C# expression subset (runs once, at compile time)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import UnsupportedExpression

# Two-character tokens are tried before one-character ones, so "==" wins over "=". Unsupported
# operators are still tokens, so the parser can name them ("operator ?? is not supported").
_PUNCTUATION_2 = frozenset(
    "=> == != <= >= && || ?? ?. ++ -- += -= *= /= %= &= |= ^= << :: ->".split()
)
_MAX_INT_DIGITS = 20  # ulong.MaxValue has 20: the parser reports the range of anything shorter
_PUNCTUATION_1 = frozenset("(){}[].,;:?+-*/%!<>=&|^~")

# C#'s simple escape sequences (C# language specification, "Character literals"); \x, \u and \U are read apart.
_ESCAPES = {'"': '"', "\\": "\\", "0": "\0", "a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t",
            "v": "\v", "'": "'"}
_DECIMAL_DIGITS = frozenset("0123456789")
_BINARY_DIGITS = frozenset("01")
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


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
            if c.isdigit() or (c == "." and src[self.i + 1 : self.i + 2] in _DECIMAL_DIGITS and self.i + 1 < n):
                self.number()
            elif c.isalpha() or c == "_":
                self.identifier()
            elif c == '"':
                self.string()
            elif src.startswith(('$@"', '@$"'), self.i):
                raise self.refuse(self.i, "verbatim interpolated strings ($@\"...\") are not supported",
                                  "use an interpolated string $\"...\" with escapes, or string.Format")
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
        """C#'s numeric literals: decimal, ``0x`` hexadecimal and ``0b`` binary integers, reals with a fraction and/or
        an exponent (``.5``, ``1.5``, ``1e3``, ``2.5E-3``), ``_`` digit separators, and the suffixes L, U, UL (integers:
        U is computed as an int or a long, UL as a long) and D, F, M (reals: floats and decimals are computed as double)."""
        src, start, n = self.source, self.i, self.end
        if src.startswith(("0x", "0X", "0b", "0B"), start):
            hexadecimal = src[start + 1] in "xX"
            self.i = start + 2
            digits = self._digits(_HEX_DIGITS if hexadecimal else _BINARY_DIGITS, after_prefix=True)
            if not digits:
                raise self.refuse(start, f"{'hexadecimal' if hexadecimal else 'binary'} literal without digits")
            self._integer(start, int(digits, 16 if hexadecimal else 2))  # the parser checks the range
            return
        whole = self._digits(_DECIMAL_DIGITS)
        fraction = exponent = None
        if self.i + 1 < n and src[self.i] == "." and src[self.i + 1] in _DECIMAL_DIGITS:
            self.i += 1
            fraction = self._digits(_DECIMAL_DIGITS)
        if self.i < n and src[self.i] in "eE":
            sign = src[self.i + 1] if self.i + 1 < n and src[self.i + 1] in "+-" else ""
            if not (self.i + 1 + len(sign) < n and src[self.i + 1 + len(sign)] in _DECIMAL_DIGITS):
                raise self.refuse(start, f"malformed exponent in numeric literal {src[start:self.i + 1 + len(sign)]!r}")
            self.i += 1 + len(sign)
            exponent = sign + self._digits(_DECIMAL_DIGITS)
        if fraction is None and exponent is None and not (self.i < n and src[self.i] in "dDfFmM"):
            if len(whole) > _MAX_INT_DIGITS:  # int() of thousands of digits is refused by Python
                raise self.refuse(start, f"integer literal of {len(whole)} digits is outside the ulong range (C#: "
                                  "CS1021)")
            self._integer(start, int(whole or "0"))
            return
        text = f"{whole or '0'}.{fraction or '0'}" + (f"e{exponent}" if exponent is not None else "")
        value = float(text)
        if math.isinf(value):
            raise self.refuse(start, f"numeric literal {src[start:self.i]} is outside the range of double (C#: CS0594)")
        if self.i < n and src[self.i] in "dDfFmM":
            self.i += 1  # 1.5m / 2d / 0.5f: the emulator computes decimals and floats as double
        self._end_of_number(start)
        self.tokens.append(Token("double", src[start : self.i], start, value))

    def _integer(self, start: int, value: int) -> None:
        """An integer literal's suffix (none, L, U, UL or LU) and its token (a decimal one with D, F or M is a real:
        `number` reads it so)."""
        src, n = self.source, self.end
        suffix = ""
        while self.i < n and src[self.i] in "lLuU" and len(suffix) < 2 and src[self.i].lower() not in suffix.lower():
            suffix += src[self.i]
            self.i += 1
        self._end_of_number(start)
        self.tokens.append(Token("long" if "l" in suffix.lower() else "int", src[start : self.i], start, value))

    def _end_of_number(self, start: int) -> None:
        src, n = self.source, self.end
        if self.i < n and (src[self.i].isalnum() or src[self.i] == "_"):
            c = src[self.i]
            if c in _DECIMAL_DIGITS and src[start + 1 : start + 2] in ("b", "B"):
                raise self.refuse(self.i, f"'{c}' is not a binary digit (0 or 1)")
            if c in _DECIMAL_DIGITS:  # 1L2, 1.5d3: a digit after the suffix
                raise self.refuse(self.i, f"a digit after the suffix of numeric literal {src[start:self.i]!r}")
            if c.isdigit():
                raise self.refuse(start, f"numeric literal {src[start:self.i + 1]!r} uses non-ASCII digits")
            raise self.refuse(self.i, f"numeric literal suffix '{c}' is not valid C#",
                              "C#'s suffixes: L, U, UL (integers), D, F, M (reals)")

    def _digits(self, allowed: frozenset[str], *, after_prefix: bool = False) -> str:
        """A run of ``allowed`` digits with ``_`` separators between them (also right after 0x / 0b, as C# 7.2
        allows); the digits without the separators. A separator must be followed by a digit."""
        src, n, begin = self.source, self.end, self.i
        while self.i < n and (src[self.i] in allowed or (src[self.i] == "_" and (after_prefix or self.i > begin))):
            self.i += 1
        if self.i > begin and src[self.i - 1] == "_":
            raise self.refuse(self.i - 1, "a digit separator (_) must stand between digits")
        return src[begin : self.i].replace("_", "")

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
        """The character(s) of the escape sequence at ``self.i`` (a backslash); moves past it.

        C#'s: the simple escapes, ``\\xH`` to ``\\xHHHH`` (up to four hex digits, as many as follow), ``\\uHHHH`` and
        ``\\UHHHHHHHH`` (exactly four and eight; a code point past U+FFFF is one Python character, where .NET
        holds a surrogate pair)."""
        src, at = self.source, self.i
        nxt = src[at + 1] if at + 1 < self.end else ""
        if nxt in _ESCAPES:
            self.i += 2
            return _ESCAPES[nxt]
        if nxt in ("x", "u", "U"):
            digits = self._hex_run(at + 2, 4 if nxt != "U" else 8)
            if not digits or (nxt != "x" and len(digits) != (4 if nxt == "u" else 8)):
                raise self.refuse(at, f"malformed escape sequence '\\{nxt}{digits}': "
                                  + ("\\x needs 1 to 4 hex digits" if nxt == "x" else
                                     f"\\{nxt} needs exactly {4 if nxt == 'u' else 8} hex digits"))
            code = int(digits, 16)
            if code > 0x10FFFF:
                raise self.refuse(at, f"escape sequence '\\U{digits}' is past the last Unicode code point (10FFFF)")
            self.i = at + 2 + len(digits)
            return chr(code)
        raise self.refuse(at, f"unrecognized escape sequence '\\{nxt}' (C# refuses it: CS1009)",
                          "C#'s escapes: \\' \\\" \\\\ \\0 \\a \\b \\f \\n \\r \\t \\v \\xH[H][H][H] \\uHHHH \\UHHHHHHHH")

    def _hex_run(self, start: int, longest: int) -> str:
        stop = start
        while stop < self.end and stop - start < longest and self.source[stop] in _HEX_DIGITS:
            stop += 1
        return self.source[start:stop]

    def char(self) -> None:
        """'c' or an escape like '\\n' or '\\u0041': a char, which the emulator handles as a one-character string."""
        src, start = self.source, self.i
        self.i = start + 1
        if src.startswith("\\", self.i):
            value = self.escape()
        elif self.i < self.end and src[self.i] not in "\n'":
            value, self.i = src[self.i], self.i + 1
        else:
            raise self.refuse(start, "malformed character literal")
        if self.i >= self.end or src[self.i] != "'" or len(value) != 1 or ord(value) > 0xFFFF:
            raise self.refuse(start, "malformed character literal" if len(value) == 1 and ord(value) <= 0xFFFF
                              else "a character literal holds one UTF-16 code unit (C# refuses this one: CS1012)")
        self.i += 1
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
            elif c == "}":
                raise self.refuse(self.i, "a '}' in an interpolated string's text must be doubled ('}}') "
                                          "(C# refuses it: CS8086)")
            elif c == "{":
                if text:
                    parts.append("".join(text))
                    text = []
                hole_end = self._hole_end(self.i + 1)
                if src[hole_end] == ":":  # {value:format}: the format runs to the closing brace
                    close = src.find("}", hole_end, self.end)
                    if close < 0:
                        raise self.refuse(hole_end, "unterminated interpolation hole in an interpolated string")
                    if close == hole_end + 1:
                        raise self.refuse(hole_end, "empty format specifier after ':' (C# refuses it: CS8089)")
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
                nested = c == '"' and src[i - 1 : i] == "$"  # an interpolated string in the hole: its own holes
                close = self._interpolated_end(i) if nested else self._literal_end(
                    i, verbatim=c == '"' and src[i - 1 : i] == "@")
                if close < 0:
                    break
                i = close + 1
                continue
            if src.startswith("//", i):
                raise self.refuse(i, "a single-line comment in an interpolation hole (C# refuses it: CS8077)")
            if src.startswith("/*", i):  # a comment may hold a brace: it is skipped, as the hole's tokens skip it
                close = src.find("*/", i + 2, self.end)
                if close < 0:
                    raise self.refuse(i, "unterminated comment")
                i = close + 2
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

    def _interpolated_end(self, i: int) -> int:
        """Offset of the quote closing the interpolated string whose opening quote is at ``i`` (-1: none)."""
        src = self.source
        i += 1
        while i < self.end:
            if src[i] == "\\" or src.startswith("{{", i):
                i += 2
                continue
            if src[i] == "{":  # a hole: to its '}' or its format's ':' (a format holds no quote or brace)
                i = self._hole_end(i + 1)
            elif src[i] == '"':
                return i
            i += 1
        return -1

    def _literal_end(self, i: int, *, verbatim: bool) -> int:
        """Offset of the quote closing the string or char literal whose opening quote is at ``i`` (-1: none): a
        backslash escapes the next character, except in a verbatim string, where a doubled quote is one quote."""
        src, quote = self.source, self.source[i]
        i += 1
        while i < self.end:
            if src[i] == "\\" and not verbatim:
                i += 2
                continue
            if src[i] == quote:
                if not (verbatim and src[i + 1 : i + 2] == quote):
                    return i
                i += 1
            i += 1
        return -1

    def special(self, c: str) -> None:
        src, i = self.source, self.i
        if c == "@":
            raise self.refuse(i, "'@' is only allowed at the start of a policy expression")
        pair = src[i : i + 2]
        if pair == "?." and src[i + 2 : i + 3] in _DECIMAL_DIGITS and i + 2 < self.end:
            pair = ""  # `flag ?.5 : 1`: a "?" and the real .5, not a null-conditional "?."
        for punct in (pair, c):
            if punct in _PUNCTUATION_2 or punct in _PUNCTUATION_1:
                self.tokens.append(Token("op", punct, i))
                self.i += len(punct)
                return
        raise self.refuse(i, f"unexpected character '{c}'")


def tokenize(source: str, start: int = 0, end: int | None = None) -> list[Token]:
    """Tokens of ``source`` from offset ``start`` (to ``end``), ending with an eof token."""
    return _Lexer(source, start, end).run()
