"""Recursive-descent parser: source text → syntax tree, refusing syntax outside the subset."""

from __future__ import annotations

from dataclasses import fields

from .cstypes import CsType
from .errors import UnsupportedExpression
from .lexer import Token, tokenize
from .nodes import Binary, Call, Cast, Conditional, Index, Literal, Member, Name, Node, TypeRef, Unary

# Tokens that are valid C# but outside the subset, with the message that refuses them.
UNSUPPORTED_OPERATORS = {
    "=>": "lambda expressions (=>) are not supported",
    "??": "the null-coalescing operator ?? is not supported",
    "?.": "the null-conditional operator ?. is not supported",
    "*": "operator * is not supported",
    "/": "operator / is not supported",
    "%": "operator % is not supported",
    "-": "subtraction (operator -) is not supported",
    "=": "assignment (=) is not supported",
    "++": "operator ++ is not supported",
    "--": "operator -- is not supported",
    "+=": "operator += is not supported",
    "-=": "operator -= is not supported",
    "*=": "operator *= is not supported",
    "/=": "operator /= is not supported",
    "%=": "operator %= is not supported",
    "&=": "operator &= is not supported",
    "|=": "operator |= is not supported",
    "^=": "operator ^= is not supported",
    "&": "operator & is not supported",
    "|": "operator | is not supported",
    "^": "operator ^ is not supported",
    "~": "operator ~ is not supported",
    "<<": "operator << is not supported",
    "::": "operator :: is not supported",
    "->": "operator -> is not supported",
    "{": "braces ({...}) are not supported",
    "[": "array syntax ([...]) is not supported",
}
UNSUPPORTED_KEYWORDS = {
    "new": "object creation (new) is not supported",
    "typeof": "typeof is not supported",
    "nameof": "nameof is not supported",
    "sizeof": "sizeof is not supported",
    "default": "default expressions are not supported",
    "is": "type tests (is) are not supported",
    "as": "type conversions (as) are not supported",
    "switch": "switch expressions are not supported",
    "with": "with expressions are not supported",
    "this": "this is not supported",
    "base": "base is not supported",
    "checked": "checked is not supported",
    "unchecked": "unchecked is not supported",
    "await": "await is not supported",
    "throw": "throw expressions are not supported",
    "delegate": "anonymous methods (delegate) are not supported",
    "stackalloc": "stackalloc is not supported",
    "ref": "ref is not supported",
    "out": "out arguments are not supported",
    "var": "variable declarations (var) are not supported",
    "if": "if statements are not supported",
    "for": "loops are not supported",
    "foreach": "loops are not supported",
    "while": "loops are not supported",
    "do": "loops are not supported",
    "try": "try statements are not supported",
    "return": "return is supported only as @{ return <expression>; }",
}
# C# predefined type keywords: `(keyword)` is always a cast.
PREDEFINED_TYPES = frozenset(
    "bool byte sbyte char decimal double float int uint long ulong short ushort object string dynamic".split()
)
_RESERVED = frozenset(UNSUPPORTED_KEYWORDS) | PREDEFINED_TYPES | {"true", "false", "null"}


class _NotAType(Exception):
    """Backtracking signal: the tokens do not spell a type."""


# The emulator compiles and runs expressions recursively, so it bounds how deep they nest: brackets,
# casts, `!`, arguments and `?:` branches (MAX_NESTING), and the syntax tree as a whole, where each
# operator of a chain like a + b + c adds a level (MAX_TREE_DEPTH). Real policies stay far below.
MAX_NESTING = 32
MAX_TREE_DEPTH = 100
_TOO_DEEP = "the local emulator does not support expressions nested deeper than {limit} levels (APIM does)"


class Parser:
    """Parses one policy expression; see the grammar in the package docstring."""

    def __init__(self, source: str, tokens: list[Token]) -> None:
        self.source = source
        self.tokens = tokens
        self.i = 0
        self.nesting = 0
        self._closing_paren: dict[int, int] | None = None

    # -- token helpers -------------------------------------------------------------------------

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind != "eof":
            self.i += 1
        return tok

    def at_op(self, text: str) -> bool:
        return self.peek().is_op(text)

    def refuse(self, offset: int, message: str, hint: str | None = None) -> UnsupportedExpression:
        return UnsupportedExpression.at(self.source, offset, message, hint)

    def unexpected(self, tok: Token, expected: str) -> UnsupportedExpression:
        """Error for ``tok`` where ``expected`` should be; names unsupported C# by what it is."""
        if tok.kind == "op" and tok.text in UNSUPPORTED_OPERATORS:
            return self.refuse(tok.pos, UNSUPPORTED_OPERATORS[tok.text])
        if tok.kind == "ident" and tok.text in UNSUPPORTED_KEYWORDS:
            return self.refuse(tok.pos, UNSUPPORTED_KEYWORDS[tok.text])
        if tok.kind == "op" and tok.text == "!" and expected != "an operand":
            return self.refuse(tok.pos, "the null-forgiving operator ! is not supported")
        return self.refuse(tok.pos, f"unexpected {tok.describe()}, expected {expected}")

    def expect_op(self, text: str) -> Token:
        tok = self.peek()
        if not tok.is_op(text):
            raise self.unexpected(tok, f"'{text}'")
        return self.advance()

    # -- expressions ---------------------------------------------------------------------------

    def expression(self) -> Node:
        self.enter()
        try:
            condition = self.logical_or()
            if not self.at_op("?"):
                return condition
            question = self.advance()
            then = self.expression()
            self.expect_op(":")
            return Conditional(question.pos, condition, then, self.expression())
        finally:
            self.nesting -= 1

    def enter(self) -> None:
        """One level deeper; refused past MAX_NESTING (before Python's recursion limit is near)."""
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise self.refuse(self.peek().pos, _TOO_DEEP.format(limit=MAX_NESTING))

    def _left_assoc(self, operators: tuple[str, ...], operand) -> Node:  # noqa: ANN001
        left = operand()
        while self.peek().kind == "op" and self.peek().text in operators:
            op = self.advance()
            left = Binary(op.pos, op.text, left, operand())
        return left

    def logical_or(self) -> Node:
        return self._left_assoc(("||",), self.logical_and)

    def logical_and(self) -> Node:
        return self._left_assoc(("&&",), self.equality)

    def equality(self) -> Node:
        return self._left_assoc(("==", "!="), self.relational)

    def relational(self) -> Node:
        return self._left_assoc(("<", "<=", ">", ">="), self.additive)

    def additive(self) -> Node:
        return self._left_assoc(("+",), self.unary)

    def nested_unary(self) -> Node:
        """The operand of `!` or a cast: one level deeper."""
        self.enter()
        try:
            return self.unary()
        finally:
            self.nesting -= 1

    def unary(self) -> Node:
        tok = self.peek()
        if tok.is_op("!"):
            self.advance()
            return Unary(tok.pos, "!", self.nested_unary())
        if tok.is_op("-"):
            self.advance()
            number = self.peek()
            if number.kind not in ("int", "double"):
                raise self.refuse(tok.pos, "unary minus is supported only on numeric literals")
            self.advance()
            return self.postfix(self.number(number, negative=True, pos=tok.pos))
        if tok.is_op("("):
            cast = self.try_cast()
            if cast is not None:
                return Cast(tok.pos, cast, self.nested_unary())
        return self.postfix(self.primary())

    def primary(self) -> Node:
        tok = self.peek()
        if tok.kind in ("int", "double"):
            self.advance()
            return self.number(tok, negative=False, pos=tok.pos)
        if tok.kind == "string":
            self.advance()
            return Literal(tok.pos, tok.value, CsType.STRING)
        if tok.kind == "ident":
            if tok.text in ("true", "false"):
                self.advance()
                return Literal(tok.pos, tok.text == "true", CsType.BOOL)
            if tok.text == "null":
                self.advance()
                return Literal(tok.pos, None, CsType.NULL)
            if tok.text in _RESERVED:
                raise self.unexpected(tok, "an operand")
            self.advance()
            if self.at_op("("):
                return Call(tok.pos, None, tok.text, None, self.arguments("(", ")"))
            return Name(tok.pos, tok.text)
        if tok.is_op("("):
            self.refuse_lambda_at(self.i)
            self.advance()
            inner = self.expression()
            self.expect_op(")")
            return inner
        raise self.unexpected(tok, "an operand")

    def number(self, tok: Token, *, negative: bool, pos: int) -> Literal:
        value = -tok.value if negative else tok.value  # type: ignore[operator]
        if tok.kind == "double":
            return Literal(pos, value, CsType.DOUBLE)
        if not -(2**31) <= value <= 2**31 - 1:  # type: ignore[operator]
            raise self.refuse(pos, f"integer literal {tok.text} is outside the int range (long is not supported)")
        return Literal(pos, value, CsType.INT)

    def postfix(self, node: Node) -> Node:
        while True:
            tok = self.peek()
            if tok.is_op("."):
                self.advance()
                name = self.peek()
                if name.kind != "ident" or name.text in _RESERVED:
                    raise self.unexpected(name, "a member name")
                self.advance()
                type_args = self.try_type_arguments() if self.at_op("<") else None
                if type_args is not None or self.at_op("("):
                    node = Call(name.pos, node, name.text, type_args, self.arguments("(", ")"))
                else:
                    node = Member(name.pos, node, name.text)
            elif tok.is_op("["):
                node = Index(tok.pos, node, self.arguments("[", "]"))
            else:
                return node

    def arguments(self, open_: str, close: str) -> tuple[Node, ...]:
        self.expect_op(open_)
        args: list[Node] = []
        if self.at_op(close):
            self.advance()
            return ()
        while True:
            args.append(self.expression())
            if self.at_op(","):
                self.advance()
                continue
            if self.peek().is_op(":"):
                raise self.refuse(self.peek().pos, "named arguments are not supported")
            self.expect_op(close)
            return tuple(args)

    # -- types (speculative: `<` may be less-than, `(` may be a parenthesis) --------------------

    def type_ref(self) -> TypeRef:
        start = self.peek()
        if start.kind != "ident" or start.text in ("true", "false", "null"):
            raise _NotAType
        self.advance()
        parts = [start.text]
        while self.at_op(".") and self.peek(1).kind == "ident":
            self.advance()
            parts.append("." + self.advance().text)
        if self.at_op("<"):
            parts.append("<" + ", ".join(t.name for t in self.type_list()) + ">")
        while self.at_op("?") or (self.at_op("[") and self.peek(1).is_op("]")):
            parts.append("?" if self.advance().text == "?" else "[" + self.advance().text)
        return TypeRef(start.pos, "".join(parts))

    def type_list(self) -> list[TypeRef]:
        self.advance()  # '<'
        types = [self.type_ref()]
        while self.at_op(","):
            self.advance()
            types.append(self.type_ref())
        if not self.at_op(">"):
            raise _NotAType
        self.advance()
        return types

    def try_type_arguments(self) -> tuple[TypeRef, ...] | None:
        """`<T, ...>` followed by `(`: a generic method call; otherwise leave `<` as less-than."""
        saved = self.i
        try:
            types = self.type_list()
            if self.at_op("("):
                return tuple(types)
        except _NotAType:
            pass
        self.i = saved
        return None

    def try_cast(self) -> TypeRef | None:
        """`(T)` before an operand is a cast (C#'s rule); anything else is a parenthesis."""
        saved = self.i
        self.advance()  # '('
        try:
            target = self.type_ref()
            if self.at_op(")"):
                self.advance()
                nxt = self.peek()
                if target.name in PREDEFINED_TYPES or (
                    nxt.kind in ("ident", "int", "double", "string") and nxt.text not in ("is", "as")
                ) or nxt.is_op("(") or nxt.is_op("!") or nxt.is_op("~"):
                    return target
        except _NotAType:
            pass
        self.i = saved
        return None

    def refuse_lambda_at(self, index: int) -> None:
        """`(x, y) => ...`: refuse at the arrow rather than at the comma."""
        close = self.closing_paren().get(index)
        if close is None:
            return
        arrow = self.tokens[close + 1] if close + 1 < len(self.tokens) else self.tokens[close]
        if arrow.is_op("=>"):
            raise self.unexpected(arrow, "")

    def closing_paren(self) -> dict[int, int]:
        """Token index of each '(' -> index of its ')', computed once (a scan per '(' is quadratic)."""
        if self._closing_paren is None:
            self._closing_paren, open_at = {}, []
            for j, tok in enumerate(self.tokens):
                if tok.is_op("("):
                    open_at.append(j)
                elif tok.is_op(")") and open_at:
                    self._closing_paren[open_at.pop()] = j
        return self._closing_paren


def parse(source: str) -> Node:
    """Parse a whole attribute value (`@(expr)` or `@{ return expr; }`) into a syntax tree."""
    start = len(source) - len(source.lstrip())
    form = source[start : start + 2]
    if form not in ("@(", "@{"):
        raise UnsupportedExpression.at(source, start, "not a policy expression (must start with @( or @{)")
    parser = Parser(source, tokenize(source, start + 1))
    if form == "@(":
        parser.advance()
        if parser.at_op(")"):
            raise parser.refuse(parser.peek().pos, "empty expression")
        node = parser.expression()
        parser.expect_op(")")
    else:
        node = _return_block(parser)
    tail = parser.peek()
    if tail.kind != "eof":
        raise parser.refuse(tail.pos, f"unexpected {tail.describe()} after the end of the expression")
    deepest = _deepest(node)
    if deepest is not None:
        raise parser.refuse(deepest.pos, _TOO_DEEP.format(limit=MAX_TREE_DEPTH))
    return node


def _deepest(root: Node) -> Node | None:
    """A node deeper than MAX_TREE_DEPTH in the tree (None when there is none); iterative, no recursion."""
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_TREE_DEPTH:
            return node
        for field in fields(node):
            child = getattr(node, field.name)
            for item in child if isinstance(child, tuple) else (child,):
                if isinstance(item, Node):
                    stack.append((item, depth + 1))
    return None


_BLOCK_FORM = "statement blocks are supported only as @{ return <expression>; }"


def _return_block(parser: Parser) -> Node:
    parser.advance()  # '{'
    keyword = parser.peek()
    if not keyword.is_word("return"):
        raise parser.refuse(keyword.pos, f"{_BLOCK_FORM}; found {keyword.describe()}")
    parser.advance()
    node = parser.expression()
    parser.expect_op(";")
    end = parser.peek()
    if not end.is_op("}"):
        raise parser.refuse(end.pos, f"{_BLOCK_FORM}; found a second statement")
    parser.advance()
    return node
