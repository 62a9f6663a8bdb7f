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
    def __init__(self, source: str, start: int) -> None:
        self.source = source
        self.i = start
        self.tokens: list[Token] = []

    def refuse(self, offset: int, message: str, hint: str | None = None) -> UnsupportedExpression:
        return UnsupportedExpression.at(self.source, offset, message, hint)

    def run(self) -> list[Token]:
        src, n = self.source, len(self.source)
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
            else:
                self.special(c)

    def skip_blank(self) -> None:
        src, n = self.source, len(self.source)
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
        while self.i < len(src) and (src[self.i].isalnum() or src[self.i] == "_"):
            self.i += 1
        self.tokens.append(Token("ident", src[start : self.i], start))

    def number(self) -> None:
        src, start, n = self.source, self.i, len(self.source)
        while self.i < n and src[self.i].isdigit():
            self.i += 1
        kind = "int"
        if self.i + 1 < n and src[self.i] == "." and src[self.i + 1].isdigit():
            kind = "double"
            self.i += 1
            while self.i < n and src[self.i].isdigit():
                self.i += 1
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
            raise self.refuse(start, f"integer literal of {len(text)} digits is outside the int range (long is not supported)")
        value = int(text) if kind == "int" else float(text)
        self.tokens.append(Token(kind, text, start, value))

    def string(self) -> None:
        src, start, n = self.source, self.i, len(self.source)
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
                nxt = src[self.i + 1] if self.i + 1 < n else ""
                if nxt not in _ESCAPES:
                    raise self.refuse(
                        self.i,
                        f"escape sequence '\\{nxt}' is not supported",
                        "supported escapes: \\\" \\\\ \\n \\t \\r \\0 \\'",
                    )
                out.append(_ESCAPES[nxt])
                self.i += 2
                continue
            out.append(c)
            self.i += 1
        self.tokens.append(Token("string", src[start : self.i], start, "".join(out)))

    def special(self, c: str) -> None:
        src, i = self.source, self.i
        nxt = src[i + 1] if i + 1 < len(src) else ""
        if c == "$":
            raise self.refuse(i, 'interpolated strings ($"...") are not supported', "concatenate with +")
        if c == "@" and nxt == '"':
            raise self.refuse(i, 'verbatim strings (@"...") are not supported')
        if c == "@":
            raise self.refuse(i, "'@' is only allowed at the start of a policy expression")
        if c == "'":
            raise self.refuse(i, "character literals ('c') are not supported", 'use a string literal "c"')
        for punct in (src[i : i + 2], c):
            if punct in _PUNCTUATION_2 or punct in _PUNCTUATION_1:
                self.tokens.append(Token("op", punct, i))
                self.i += len(punct)
                return
        raise self.refuse(i, f"unexpected character '{c}'")


def tokenize(source: str, start: int = 0) -> list[Token]:
    """Tokens of ``source`` from offset ``start``, ending with an eof token."""
    return _Lexer(source, start).run()
