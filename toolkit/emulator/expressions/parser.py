"""Recursive-descent parser: source text → syntax tree, refusing syntax outside the subset."""

from __future__ import annotations

from dataclasses import fields

from .cstypes import FORMAT_WIDTH_LIMIT, CsLong, CsType
from .errors import UnsupportedExpression
from .lexer import Token, tokenize
from .nodes import (
    Assign,
    Binary,
    Block,
    Call,
    Cast,
    Conditional,
    ExprStatement,
    For,
    Foreach,
    If,
    Index,
    Interpolated,
    Jump,
    Lambda,
    Literal,
    Member,
    Name,
    NamedArg,
    New,
    Node,
    NullSafe,
    OutArg,
    Placeholder,
    Return,
    Switch,
    Try,
    TypeRef,
    TypeTest,
    Unary,
    VarDecl,
)

# Tokens that are valid C# but outside the subset, with the message that refuses them.
UNSUPPORTED_OPERATORS = {
    "=>": "lambda expressions (=>) are supported only as method arguments",
    "=": "assignment (=) is supported only as a statement inside @{ ... }",
    "++": "operator ++ is not supported",
    "--": "operator -- is not supported",
    "+=": "compound assignment is supported only as a statement inside @{ ... }",
    "-=": "compound assignment is supported only as a statement inside @{ ... }",
    "*=": "compound assignment is supported only as a statement inside @{ ... }",
    "/=": "compound assignment is supported only as a statement inside @{ ... }",
    "%=": "compound assignment is supported only as a statement inside @{ ... }",
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
    "{": "braces ({...}) are not supported here",
}
UNSUPPORTED_KEYWORDS = {
    "typeof": "typeof is not supported",
    "nameof": "nameof is not supported",
    "sizeof": "sizeof is not supported",
    "default": "default expressions are not supported",
    "switch": "switch is supported only as a statement",
    "with": "with expressions are not supported",
    "this": "this is not supported",
    "base": "base is not supported",
    "checked": "checked is not supported",
    "unchecked": "unchecked is not supported",
    "await": "await is not supported",
    "throw": "throw is not supported",
    "delegate": "anonymous methods (delegate) are not supported",
    "stackalloc": "stackalloc is not supported",
    "ref": "ref is not supported",
    "out": "out arguments are not supported",
    "var": "variable declarations (var) are supported only as statements inside @{ ... }",
    "if": "if is supported only as a statement inside @{ ... }",
    "foreach": "foreach is supported only as a statement inside @{ ... }",
    "for": "loops are supported only as statements inside @{ ... }",
    "while": "while and do loops are not supported (use foreach or for)",
    "do": "while and do loops are not supported (use foreach or for)",
    "goto": "goto is not supported",
    "lock": "lock is not supported",
    "const": "const locals are not supported (declare it without const)",
    "using": "using is supported only as a statement inside @{ ... }",
    "try": "try is supported only as a statement inside @{ ... }",
    "return": "return is supported only inside @{ ... }",
    "break": "break is supported only inside @{ ... }",
    "continue": "continue is supported only inside @{ ... }",
    "case": "case is supported only inside a switch statement",
    "catch": "catch is supported only after try",
    "else": "else is supported only after if",
}
# C# predefined type keywords: `(keyword)` is always a cast.
PREDEFINED_TYPES = frozenset(
    "bool byte sbyte char decimal double float int uint long ulong short ushort object string dynamic".split()
)
_RESERVED = frozenset(UNSUPPORTED_KEYWORDS) | PREDEFINED_TYPES | {"true", "false", "null", "new", "in"}
_ASSIGNMENTS = ("=", "+=", "-=", "*=", "/=", "%=")
# Tokens after which `x is int?` ends: there the "?" marks a nullable type, anywhere else it starts a ?: conditional
_AFTER_NULLABLE_TYPE = (")", ";", ",", "]", "}", "==", "!=", "&&", "||", "?", "??", ":")
_CONSTANT_TOKENS = ("int", "long", "double", "string", "char")  # token kinds of literals: `x is 5` is a pattern
_PATTERN_WORDS = frozenset({"and", "or", "not", "when"})  # C# 9 pattern combinators, case guards: no variable names


# The emulator compiles and runs expressions recursively, so it bounds how deep they nest: brackets,
# casts, `!`, arguments, `?:` branches and statement blocks (MAX_NESTING), and the syntax tree as a whole,
# where each operator of a chain like a + b + c adds a level (MAX_TREE_DEPTH). Real policies stay far below.
MAX_NESTING = 32
MAX_TREE_DEPTH = 100
_TOO_DEEP = "the local emulator does not support expressions nested deeper than {limit} levels (APIM does)"


class _NotAType(Exception):
    """Backtracking signal: the tokens do not spell a type."""


class Parser:
    """Parses one policy expression; see the grammar in the package docstring."""

    def __init__(self, source: str, tokens: list[Token]) -> None:
        self.source = source
        self.tokens = tokens
        self.i = 0
        self.nesting = 0

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

    def refuse(self, offset: int, message: str, hint: str | None = None, *, limit: bool = False) -> UnsupportedExpression:
        return UnsupportedExpression.at(self.source, offset, message, hint, limit=limit)

    def unexpected(self, tok: Token, expected: str) -> UnsupportedExpression:
        """Error for ``tok`` where ``expected`` should be; names unsupported C# by what it is."""
        if tok.kind == "op" and tok.text in UNSUPPORTED_OPERATORS:
            return self.refuse(tok.pos, UNSUPPORTED_OPERATORS[tok.text], limit=True)
        if tok.kind == "ident" and tok.text in UNSUPPORTED_KEYWORDS:
            return self.refuse(tok.pos, UNSUPPORTED_KEYWORDS[tok.text], limit=True)
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
            condition = self.coalesce()
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

    def coalesce(self) -> Node:
        left = self.logical_or()
        if self.at_op("??"):
            op = self.advance()
            return Binary(op.pos, "??", left, self.coalesce())
        return left

    def logical_or(self) -> Node:
        return self._left_assoc(("||",), self.logical_and)

    def logical_and(self) -> Node:
        return self._left_assoc(("&&",), self.equality)

    def equality(self) -> Node:
        return self._left_assoc(("==", "!="), self.relational)

    def relational(self) -> Node:
        left = self._left_assoc(("<", "<=", ">", ">="), self.additive)
        while self.peek().is_word("is") or self.peek().is_word("as"):
            op = self.advance()
            negate = op.text == "is" and self.peek().is_word("not")
            if negate:
                self.advance()
            if op.text == "is" and self.peek().is_word("null"):
                null = self.advance()
                left = Binary(op.pos, "!=" if negate else "==", left, Literal(null.pos, None, CsType.NULL))
                continue
            if op.text == "is" and (self.peek().kind in _CONSTANT_TOKENS or self.peek().text in ("true", "false")):
                raise self.refuse(self.peek().pos, "constant patterns (x is 5) are not supported", "compare with ==",
                                  limit=True)
            if op.text == "is" and self.peek().is_word("var"):
                raise self.refuse(self.peek().pos, "var patterns (x is var y) are not supported", limit=True)
            try:
                type_ref = self.type_ref(in_expression=True)
            except _NotAType:
                raise self.unexpected(self.peek(), "a type") from None
            name = self.peek()
            if op.text == "is" and name.kind == "ident" and name.text not in _RESERVED | _PATTERN_WORDS:
                if negate:  # C# 9, like `is not` itself; the variable would be assigned when the test is false
                    raise self.refuse(name.pos, "a declaration pattern after is not is not supported", limit=True)
                self.advance()  # `x is T name`: C# 7's declaration pattern
                left = TypeTest(op.pos, left, type_ref, "is", None if name.text == "_" else name.text, name.pos)
                continue
            left = TypeTest(op.pos, left, type_ref, "is not" if negate else op.text)
        return left

    def additive(self) -> Node:
        return self._left_assoc(("+", "-"), self.multiplicative)

    def multiplicative(self) -> Node:
        return self._left_assoc(("*", "/", "%"), self.unary)

    def nested_unary(self) -> Node:
        """The operand of `!`, `-` or a cast: one level deeper."""
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
            if number.kind in ("int", "long", "double"):
                self.advance()
                return self.postfix(self.number(number, negative=True, pos=tok.pos))
            return Unary(tok.pos, "-", self.nested_unary())
        if tok.is_op("("):
            cast = self.try_cast()
            if cast is not None:
                return Cast(tok.pos, cast, self.nested_unary())
        return self.postfix(self.primary())

    def primary(self) -> Node:
        tok = self.peek()
        if tok.kind in ("int", "long", "double"):
            self.advance()
            return self.number(tok, negative=False, pos=tok.pos)
        if tok.kind == "string":
            self.advance()
            return Literal(tok.pos, tok.value, CsType.STRING)
        if tok.kind == "interp":
            self.advance()
            return self.interpolated(tok)
        if tok.is_word("new"):
            return self.new_expression()
        if tok.kind == "ident" and self.peek(1).is_op("=>") and tok.text not in _RESERVED:
            self.advance()
            self.advance()
            return Lambda(tok.pos, (tok.text,), self.expression())
        if tok.kind == "ident" and tok.text in PREDEFINED_TYPES and self.peek(1).is_op("."):
            self.advance()
            return Name(tok.pos, tok.text)
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
            lambda_ = self.parenthesized_lambda()
            if lambda_ is not None:
                return lambda_
            self.advance()
            inner = self.expression()
            self.expect_op(")")
            return inner
        raise self.unexpected(tok, "an operand")

    def number(self, tok: Token, *, negative: bool, pos: int) -> Literal:
        value = -tok.value if negative else tok.value  # type: ignore[operator]
        if tok.kind == "double":
            return Literal(pos, value, CsType.DOUBLE)
        # A literal past int.MaxValue is a uint or a long, and stays one when negated, with one exception in C#:
        # the decimal literal 2147483648 right after a minus is int.MinValue (0x80000000 negated is a long).
        kind = _integer_kind(tok, negative)
        if tok.kind == "long" or (tok.value > 2**31 - 1 and kind != "int"):  # type: ignore[operator]
            # 10L, or a literal no int holds (C# makes it a long): a CsLong, whose arithmetic is 64-bit
            if not -(2**63) <= value <= 2**63 - 1:  # type: ignore[operator]
                if value <= 2**64 - 1:  # type: ignore[operator]
                    raise self.refuse(pos, f"integer literal {tok.text} is a ulong: ulong values are not supported",
                                      limit=True)
                raise self.refuse(pos, f"integer literal {tok.text} is outside the ulong range (C#: CS1021)")
            return Literal(pos, CsLong(value), CsType.DYNAMIC, kind)
        return Literal(pos, value, CsType.INT, kind)

    def postfix(self, node: Node) -> Node:
        while True:
            tok = self.peek()
            if tok.is_op("?.") or (tok.is_op("?") and self.peek(1).is_op("[")):
                self.advance()
                # the rest of the chain is part of the access: a?.b.c() is null when a is (C#'s null-conditional
                # operator short-circuits the whole chain of member accesses, calls and indexers after it)
                access = self.postfix(self.postfix_one(Placeholder(tok.pos), dot=tok.text == "?."))
                return NullSafe(tok.pos, node, access)
            step = self.postfix_one(node, dot=False) if tok.is_op(".") or tok.is_op("[") else None
            if step is None:
                return node
            node = step

    def postfix_one(self, node: Node, *, dot: bool) -> Node:
        """One member access, call or index applied to ``node`` (after '?.', ``dot`` is True)."""
        tok = self.peek()
        if dot or tok.is_op("."):
            if not dot:
                self.advance()
            name = self.peek()
            if name.kind != "ident" or name.text in _RESERVED:
                raise self.unexpected(name, "a member name")
            self.advance()
            type_args = self.try_type_arguments() if self.at_op("<") else None
            if type_args is not None or self.at_op("("):
                return Call(name.pos, node, name.text, type_args, self.arguments("(", ")"))
            return Member(name.pos, node, name.text)
        return Index(tok.pos, node, self.arguments("[", "]"))

    def arguments(self, open_: str, close: str) -> tuple[Node, ...]:
        self.expect_op(open_)
        args: list[Node] = []
        if self.at_op(close):
            self.advance()
            return ()
        while True:
            tok = self.peek()
            if tok.kind == "ident" and self.peek(1).is_op(":") and tok.text not in _RESERVED:
                self.advance()
                self.advance()
                args.append(NamedArg(tok.pos, tok.text, self.expression()))
            elif tok.is_word("out"):
                args.append(self.out_argument())
            else:
                args.append(self.expression())
            if self.at_op(","):
                self.advance()
                continue
            self.expect_op(close)
            return tuple(args)

    def out_argument(self) -> OutArg:
        """`out var x` / `out T x` (declaring x), `out x` (a local), `out _` / `out var _` (a discard)."""
        out = self.advance()
        declared: TypeRef | None = None
        if self.peek().is_word("var") and self.peek(1).kind == "ident":
            self.advance()
            declares = True
        else:
            saved = self.i
            try:
                declared = self.type_ref()
                if not (self.peek().kind == "ident" and self.peek().text not in _RESERVED):
                    raise _NotAType
            except _NotAType:
                declared, self.i = None, saved
            declares = declared is not None
        name = self.peek()
        if name.kind != "ident" or name.text in _RESERVED:
            raise self.unexpected(name, "a variable after out")
        self.advance()
        return OutArg(out.pos, None if name.text == "_" else name.text, name.pos, declared, declares)

    # -- newer syntax: new, lambdas, interpolation -----------------------------------------------

    def new_expression(self) -> Node:
        new = self.advance()
        if self.at_op("{"):  # new { a = 1, b = x }
            self.advance()
            fields: list[tuple[str, Node]] = []
            while not self.at_op("}"):
                name = self.peek()
                if name.kind != "ident":
                    raise self.unexpected(name, "a property name")
                self.advance()
                if self.at_op("="):
                    self.advance()
                    fields.append((name.text, self.expression()))
                else:
                    self.i -= 1
                    value = self.expression()
                    fields.append((value.name if isinstance(value, Member) else name.text, value))
                if not self.at_op(","):
                    break
                self.advance()
            self.expect_op("}")
            return New(new.pos, None, (), fields=tuple(fields))
        if self.at_op("["):  # new[] { ... }
            self.advance()
            self.expect_op("]")
            return New(new.pos, None, self.arguments("{", "}"), array=True)
        try:
            saved = self.i
            type_ref = self.type_ref()
        except _NotAType:
            self.i = saved
            raise self.unexpected(self.peek(), "a type after new") from None
        if type_ref.name.endswith("[]"):
            items = self.arguments("{", "}") if self.at_op("{") else ()
            return New(new.pos, TypeRef(type_ref.pos, type_ref.name[:-2]), items, array=True)
        if self.at_op("["):
            raise self.refuse(self.peek().pos, "arrays with a size (new T[n]) are not supported",
                              "list the items: new T[] { ... }", limit=True)
        args = self.arguments("(", ")") if self.at_op("(") else ()
        adds: list[tuple[Node, ...]] = []
        if self.at_op("{"):  # collection initializer: each item is an Add(...) call
            self.advance()
            while not self.at_op("}"):
                if self.at_op("{"):
                    adds.append(self.arguments("{", "}"))
                else:
                    item = self.expression()
                    if self.at_op("="):
                        raise self.refuse(self.peek().pos, "object initializers are not supported", limit=True)
                    adds.append((item,))
                if not self.at_op(","):
                    break
                self.advance()
            self.expect_op("}")
        return New(new.pos, type_ref, args, adds=tuple(adds))

    def parenthesized_lambda(self) -> Lambda | None:
        """`(a, b) => body` / `() => body`; None when the parenthesis is something else."""
        j, params = self.i + 1, []
        while self.tokens[j].kind == "ident" and self.tokens[j].text not in _RESERVED:
            params.append(self.tokens[j].text)
            j += 1
            if self.tokens[j].is_op(","):
                j += 1
                continue
            break
        if not (self.tokens[j].is_op(")") and self.tokens[j + 1].is_op("=>")):
            return None
        pos = self.peek().pos
        self.i = j + 2
        return Lambda(pos, tuple(params), self.expression())

    def interpolated(self, tok: Token) -> Interpolated:
        parts: list[object] = []
        for part in tok.value:  # type: ignore[attr-defined]
            if isinstance(part, str):
                parts.append(part)
                continue
            start, end, *fmt = part
            inner = Parser(self.source, tokenize(self.source, start, end))
            if inner.peek().kind == "eof":
                raise self.refuse(start, "empty interpolation hole")
            hole = inner.expression()
            width = inner.alignment() if inner.at_op(",") else 0
            parts.append((hole, fmt[0] if fmt else None, width) if fmt or width else hole)
            if inner.peek().kind != "eof":
                raise inner.unexpected(inner.peek(), "'}'")
        return Interpolated(tok.pos, tuple(parts))

    def alignment(self) -> int:
        """A hole's `,alignment` (after the comma): a constant int, the width to pad to (negative: on the right)."""
        self.advance()
        sign = -1 if self.at_op("-") else 1
        if sign < 0:
            self.advance()
        token = self.peek()
        if token.kind == "eof":
            raise self.unexpected(token, "an alignment")
        self.advance()
        if token.kind == "string" and token.text.startswith("'"):  # a char converts to int: its code
            width = ord(token.value)  # type: ignore[arg-type]
        else:
            what = (_integer_kind(token, sign < 0) if token.kind == "int" else _LITERAL_WORDS.get(token.text)
                    if token.kind == "ident" else _LITERAL_KINDS.get(token.kind))
            if what is None:
                raise self.refuse(token.pos, "the alignment of an interpolation hole is taken as an integer literal "
                                             "here", "write {value,10} or {value,-10}", limit=True)
            if what != "int":
                raise self.refuse(token.pos, f"an interpolation hole's alignment must be an int constant, not a {what} "
                                             f"(C# refuses it: {_NOT_INT[what]})")
            width = int(token.value)  # type: ignore[call-overload]
        if width >= FORMAT_WIDTH_LIMIT:
            raise self.refuse(token.pos, f"an alignment of {FORMAT_WIDTH_LIMIT:,} or more is not supported",
                              "String.Format refuses such a width (FormatException)", limit=True)
        return sign * width

    # -- types (speculative: `<` may be less-than, `(` may be a parenthesis) --------------------

    def type_ref(self, *, in_expression: bool = False) -> TypeRef:
        """A type's name; ``in_expression`` (after ``is`` / ``as``): a "?" is the nullable mark only where the
        expression can end after it, so ``x is string ? a : b`` is a conditional, as C# reads it."""
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
            if self.at_op("?") and in_expression and not (self.peek(1).kind == "eof" or any(
                    self.peek(1).is_op(op) for op in _AFTER_NULLABLE_TYPE)):
                break
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
                    nxt.kind in ("ident", "int", "long", "double", "string") and nxt.text not in ("is", "as")
                ) or nxt.is_op("(") or nxt.is_op("!") or nxt.is_op("~"):
                    return target
        except _NotAType:
            pass
        self.i = saved
        return None


def _is_type_pattern(p: Parser) -> bool:
    """Whether a case label is C# 7's type pattern (`case int n:`, `case JObject o when ...:`), not a constant."""
    saved = p.i
    try:
        p.type_ref()
        return p.peek().kind == "ident" and p.peek().text not in _RESERVED
    except _NotAType:
        return False
    finally:
        p.i = saved


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


# The C# type of a literal token, by its word or its kind (integers: `_integer_kind`), and C#'s error when one that is not
# an int is where an int constant must be.
_LITERAL_WORDS = {"true": "bool", "false": "bool", "null": "null"}
_LITERAL_KINDS = {"long": "long", "double": "double", "string": "string", "interp": "string"}
_NOT_INT = {"null": "CS0037", "uint": "CS0266", "long": "CS0266", "double": "CS0266", "bool": "CS0029",
            "string": "CS0029"}


def _integer_kind(tok: Token, negative: bool) -> str:
    """An integer literal's C# type: the first of int, uint and long that holds it, unless its suffix says (U: a uint,
    L: a long); negated, a uint is a long (C#'s unary minus on a uint). A ulong is refused before this."""
    suffix, value = tok.text.lower()[-2:], tok.value  # no hexadecimal digit is an l or a u
    if "l" in suffix or value > 2**32 - 1:  # type: ignore[operator]
        return "long"
    if "u" not in suffix and value <= 2**31 - 1:  # type: ignore[operator]
        return "int"
    if not negative:
        return "uint"
    int_min = value == 2**31 and "u" not in suffix and tok.text[:2].lower() not in ("0x", "0b")  # -2147483648
    return "int" if int_min else "long"


def _deepest(root: Node) -> Node | None:
    """A node deeper than MAX_TREE_DEPTH in the tree (None when there is none); iterative, no recursion."""
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_TREE_DEPTH:
            return node
        for field in fields(node):
            stack.extend((item, depth + 1) for item in _child_nodes(getattr(node, field.name)))
    return None


def _child_nodes(value: object) -> list[Node]:
    """The nodes in a field: a node, or nodes inside (nested) tuples."""
    if isinstance(value, Node):
        return [value]
    if isinstance(value, tuple):
        return [node for item in value for node in _child_nodes(item)]
    return []


def _return_block(parser: Parser) -> Block:
    """``@{ statements }``: the statement grammar lives in `StatementParser`."""
    return StatementParser(parser).block()


class StatementParser:
    """Statements inside ``@{ ... }``: declarations, assignments, calls, if, foreach, switch, try, return."""

    def __init__(self, parser: Parser) -> None:
        self.p = parser

    def block(self) -> Block:
        p = self.p
        open_ = p.expect_op("{")
        p.enter()
        try:
            statements = []
            while not p.at_op("}"):
                if p.peek().kind == "eof":
                    raise p.refuse(p.peek().pos, "unexpected the end of the expression, expected '}'")
                statements.append(self.statement())
        finally:
            p.nesting -= 1
        p.advance()
        return Block(open_.pos, tuple(statements))

    def body(self) -> Node:
        if self.p.at_op("{"):
            return self.block()
        self.p.enter()  # `if (a) if (b) ...` nests without braces
        try:
            return self.statement()
        finally:
            self.p.nesting -= 1

    def statement(self) -> Node:  # noqa: C901 - one branch per statement kind
        p = self.p
        tok = p.peek()
        if tok.is_op("{"):
            return self.block()
        if tok.is_op(";"):
            p.advance()
            return Block(tok.pos, ())
        if tok.kind == "ident":
            word = tok.text
            if word == "return":
                p.advance()
                value = None if p.at_op(";") else p.expression()
                p.expect_op(";")
                return Return(tok.pos, value)
            if word in ("break", "continue"):
                p.advance()
                p.expect_op(";")
                return Jump(tok.pos, word)
            if word == "if":
                p.advance()
                p.expect_op("(")
                condition = p.expression()
                p.expect_op(")")
                then = self.body()
                otherwise = None
                if p.peek().is_word("else"):
                    p.advance()
                    otherwise = self.body()
                return If(tok.pos, condition, then, otherwise)
            if word == "foreach":
                p.advance()
                p.expect_op("(")
                declared = p.type_ref()  # var or a type
                name = p.advance()
                if name.kind != "ident":
                    raise p.unexpected(name, "a variable name")
                if not p.peek().is_word("in"):
                    raise p.unexpected(p.peek(), "'in'")
                p.advance()
                items = p.expression()
                p.expect_op(")")
                return Foreach(tok.pos, name.text, items, self.body(),
                               None if declared.name == "var" else declared)
            if word == "switch":
                return self.switch()
            if word == "for":
                return self.for_loop()
            if word == "using":
                return self.using()
            if word == "try":
                p.advance()
                body = self.block()
                if not p.peek().is_word("catch"):
                    raise p.unexpected(p.peek(), "catch (try/finally is not supported)")
                p.advance()
                caught: TypeRef | None = None
                name: Token | None = None
                if p.at_op("("):  # catch (T) or catch (T name)
                    p.advance()
                    try:
                        caught = p.type_ref()
                    except _NotAType:
                        raise p.unexpected(p.peek(), "an exception type") from None
                    if p.peek().kind == "ident" and p.peek().text not in _RESERVED:
                        name = p.advance()
                    p.expect_op(")")
                when = None
                if p.peek().is_word("when"):  # an exception filter (C# 6)
                    p.advance()
                    p.expect_op("(")
                    when = p.expression()
                    p.expect_op(")")
                handler = self.block()
                if p.peek().is_word("catch"):
                    if caught is None and when is None:  # a catch of everything must come last
                        raise p.refuse(p.peek().pos, "a catch clause after a general catch clause (C# refuses it: "
                                                     "CS1017)")
                    raise p.refuse(p.peek().pos, "a second catch clause is not supported", "catch (Exception e) once",
                                   limit=True)
                return Try(tok.pos, body, handler, caught, name.text if name else None, name.pos if name else -1, when)
            if word in UNSUPPORTED_KEYWORDS and word not in ("var",):
                raise p.unexpected(tok, "a statement")
            declaration = self.declaration()
            if declaration is not None:
                return declaration
        expr = p.expression()
        if p.peek().kind == "op" and p.peek().text in _ASSIGNMENTS:
            op = p.advance()
            value = p.expression()
            p.expect_op(";")
            return Assign(op.pos, expr, op.text, value)
        if p.peek().kind == "op" and p.peek().text in ("++", "--"):
            op = p.advance()
            p.expect_op(";")
            return Assign(op.pos, expr, op.text[0] + "=", Literal(op.pos, 1, CsType.INT))
        if p.peek().kind == "op" and p.peek().text in UNSUPPORTED_OPERATORS:  # x &= 1: valid C#, not the subset's
            raise p.unexpected(p.peek(), "a statement")
        if not isinstance(expr, (Call, NullSafe)):
            raise p.refuse(tok.pos, "only calls, assignments and declarations can be statements")
        p.expect_op(";")
        return ExprStatement(expr.pos, expr)

    def using(self) -> Block:
        """`using (var x = e) body`: x is a local of the body (disposal changes nothing in the emulator)."""
        p = self.p
        tok = p.advance()
        p.expect_op("(")
        type_ref = p.type_ref()
        name = p.advance()
        if name.kind != "ident":
            raise p.unexpected(name, "a variable name")
        p.expect_op("=")
        init = p.expression()
        p.expect_op(")")
        declared = None if type_ref.name == "var" else type_ref
        return Block(tok.pos, (VarDecl(type_ref.pos, declared, ((name.text, name.pos, init),)), self.body()))

    def for_loop(self) -> For:
        p = self.p
        tok = p.advance()
        p.expect_op("(")
        init: Node | None = None
        if p.at_op(";"):
            p.advance()
        else:
            init = self.declaration()  # consumes its ';'
            if init is None:
                init = self._assignments(";")
                p.advance()  # ';'
        condition = None if p.at_op(";") else p.expression()
        p.expect_op(";")
        step = None if p.at_op(")") else self._assignments(")")
        p.expect_op(")")
        return For(tok.pos, init, condition, step, self.body())

    def _assignments(self, end: str) -> Node:
        """A for loop's initializer or step: `i = 0`, `i++`, `x += 2`, a call (`list.Add(1)`), or several of them
        between commas (a Block)."""
        p = self.p
        steps: list[Node] = []
        while True:
            target = p.expression()
            if isinstance(target, Call) and (p.at_op(",") or p.at_op(end)):
                steps.append(ExprStatement(target.pos, target))
            else:
                op = p.advance()
                if op.kind != "op" or op.text not in ("++", "--", *_ASSIGNMENTS):
                    raise p.unexpected(op, "an assignment, an increment or a call")
                value = Literal(op.pos, 1, CsType.INT) if op.text in ("++", "--") else p.expression()
                steps.append(Assign(op.pos, target, op.text[0] + "=" if op.text in ("++", "--") else op.text, value))
            if not p.at_op(","):
                break
            p.advance()
        if not p.at_op(end):
            raise p.unexpected(p.peek(), f"'{end}'")
        return steps[0] if len(steps) == 1 else Block(steps[0].pos, tuple(steps))

    def declaration(self) -> VarDecl | None:
        """`var x = e;` / `T x [= e], y;` or None when the tokens are not a declaration."""
        p = self.p
        saved = p.i
        try:
            type_ref = p.type_ref()
        except _NotAType:
            p.i = saved
            return None
        name = p.peek()
        if name.kind != "ident" or name.text in _RESERVED or not (p.peek(1).is_op("=") or p.peek(1).is_op(";")
                                                                   or p.peek(1).is_op(",")):
            p.i = saved
            return None
        names = []
        while True:
            name = p.advance()
            init = None
            if p.at_op("="):
                p.advance()
                init = p.expression()
            names.append((name.text, name.pos, init))
            if not p.at_op(","):
                break
            p.advance()
        p.expect_op(";")
        is_var = type_ref.name == "var"
        if is_var and any(init is None for _, _, init in names):
            raise p.refuse(type_ref.pos, "an implicitly typed variable (var) needs an initializer")
        if is_var and len(names) > 1:
            raise p.refuse(type_ref.pos, "an implicitly typed variable (var) cannot have several declarators (C# "
                                         "refuses it: CS0819)", "write one declaration per variable")
        return VarDecl(type_ref.pos, None if is_var else type_ref, tuple(names))

    def switch(self) -> Switch:
        p = self.p
        tok = p.advance()
        p.expect_op("(")
        subject = p.expression()
        p.expect_op(")")
        p.expect_op("{")
        sections: list[tuple[tuple[Node | None, ...], tuple[Node, ...]]] = []
        while not p.at_op("}"):
            labels: list[Node | None] = []
            while p.peek().is_word("case") or p.peek().is_word("default"):
                if p.advance().text == "case":
                    if _is_type_pattern(p):
                        raise p.refuse(p.peek().pos, "type patterns in case labels (case T x:) are not supported",
                                       "test the type with is in an if", limit=True)
                    labels.append(p.expression())
                    if p.peek().is_word("when"):
                        raise p.refuse(p.peek().pos, "case guards (case x when ...:) are not supported",
                                       "test the condition with an if in the section", limit=True)
                else:
                    labels.append(None)
                p.expect_op(":")
            if not labels:
                raise p.unexpected(p.peek(), "case or default")
            body: list[Node] = []
            while not (p.at_op("}") or p.peek().is_word("case") or p.peek().is_word("default")):
                if p.peek().kind == "eof":
                    raise p.unexpected(p.peek(), "'}'")
                body.append(self.statement())
            sections.append((tuple(labels), tuple(body)))
        p.advance()
        return Switch(tok.pos, subject, tuple(sections))
