"""Syntax tree of a parsed expression; every node keeps the 0-based offset it is reported at."""

from __future__ import annotations

from dataclasses import dataclass

from .cstypes import CsType


@dataclass(frozen=True, slots=True)
class Node:
    """Base of all nodes."""

    pos: int


@dataclass(frozen=True, slots=True)
class Literal(Node):
    """`42`, `1.5`, `"text"`, `true`, `null`; ``kind``: an integer literal's C# type ("int", "uint" or "long")."""

    value: object
    type: CsType
    kind: str = ""


@dataclass(frozen=True, slots=True)
class Name(Node):
    """A bare identifier (`context`, or something refused like `DateTime`)."""

    ident: str


@dataclass(frozen=True, slots=True)
class Member(Node):
    """`target.name` (pos is the member name)."""

    target: Node
    name: str


@dataclass(frozen=True, slots=True)
class TypeRef(Node):
    """A type written in a cast or type argument, as text (`int`, `JObject`)."""

    name: str


@dataclass(frozen=True, slots=True)
class Call(Node):
    """`target.name<type_args>(args)`; target is None for a bare `name(args)` (pos is the name)."""

    target: Node | None
    name: str
    type_args: tuple[TypeRef, ...] | None
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Index(Node):
    """`target[args]` (pos is the '[')."""

    target: Node
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Cast(Node):
    """`(type)operand` (pos is the '(')."""

    type: TypeRef
    operand: Node


@dataclass(frozen=True, slots=True)
class Unary(Node):
    """`!operand` (pos is the operator)."""

    op: str
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary(Node):
    """`left op right` (pos is the operator)."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Conditional(Node):
    """`condition ? then : otherwise` (pos is the '?')."""

    condition: Node
    then: Node
    otherwise: Node


@dataclass(frozen=True, slots=True)
class NullSafe(Node):
    """`target?.rest`: `access` (a Member, Call or Index whose target is `Placeholder`) runs unless target is null."""

    target: Node
    access: Node


@dataclass(frozen=True, slots=True)
class Placeholder(Node):
    """The already-evaluated target inside a `NullSafe` access."""


@dataclass(frozen=True, slots=True)
class Interpolated(Node):
    """`$"text {expr} text"`: parts are str or Node."""

    parts: tuple[object, ...]


@dataclass(frozen=True, slots=True)
class Lambda(Node):
    """`x => body` or `(x, y) => body` (only as a method argument)."""

    params: tuple[str, ...]
    body: Node


@dataclass(frozen=True, slots=True)
class New(Node):
    """`new T(args)`, `new T[] { items }` / `new[] { items }` (array=True), `new { a = x }` (fields)."""

    type: TypeRef | None
    args: tuple[Node, ...]
    array: bool = False
    fields: tuple[tuple[str, Node], ...] | None = None
    adds: tuple[tuple[Node, ...], ...] = ()  # collection initializer: Add(...) per item


@dataclass(frozen=True, slots=True)
class NamedArg(Node):
    """`name: value` in an argument list (matched by position; only names the value)."""

    name: str
    value: Node


# -- statements (inside @{ ... }) -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VarDecl(Node):
    """`var x = e;`, `T x;`, `T a = 1, b;` (type None for var)."""

    type: TypeRef | None
    names: tuple[tuple[str, int, Node | None], ...]


@dataclass(frozen=True, slots=True)
class Assign(Node):
    """`target = value;` or a compound `target += value;` (op is "=", "+=", ...)."""

    target: Node
    op: str
    value: Node


@dataclass(frozen=True, slots=True)
class ExprStatement(Node):
    """A method call evaluated for its effect (`obj.Add(x);`)."""

    expr: Node


@dataclass(frozen=True, slots=True)
class If(Node):
    """`if (condition) then [else otherwise]`."""

    condition: Node
    then: Node
    otherwise: Node | None


@dataclass(frozen=True, slots=True)
class Foreach(Node):
    """`foreach (var name in items) body`; ``type``: the declared type (``var``: None)."""

    name: str
    items: Node
    body: Node
    type: TypeRef | None = None


@dataclass(frozen=True, slots=True)
class Switch(Node):
    """`switch (subject) { case a: case b: ...; break; default: ...; }`: labels None is default."""

    subject: Node
    sections: tuple[tuple[tuple[Node | None, ...], tuple[Node, ...]], ...]


@dataclass(frozen=True, slots=True)
class Return(Node):
    """`return value;`."""

    value: Node | None


@dataclass(frozen=True, slots=True)
class Jump(Node):
    """`break;` or `continue;`."""

    kind: str


@dataclass(frozen=True, slots=True)
class Try(Node):
    """`try { body } catch [(T [name])] [when (filter)] { handler }`; ``type`` None: a catch of everything."""

    body: Node
    handler: Node
    type: TypeRef | None = None
    name: str | None = None
    name_pos: int = -1
    when: Node | None = None


@dataclass(frozen=True, slots=True)
class Block(Node):
    """`{ statements }`."""

    statements: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class For(Node):
    """`for (init; condition; step) body` (each part optional; the emulator caps the iterations)."""

    init: Node | None
    condition: Node | None
    step: Node | None
    body: Node


@dataclass(frozen=True, slots=True)
class TypeTest(Node):
    """`value is T`, `value is not T` (bool) or `value as T` (the value or null); pos is the keyword. ``name``: the
    variable of a declaration pattern `value is T name` (C# 7), which holds the value when the test is true."""

    operand: Node
    type: TypeRef
    op: str
    name: str | None = None
    name_pos: int = -1


@dataclass(frozen=True, slots=True)
class OutArg(Node):
    """A call's `out` argument: `out var x` or `out T x` (declares x), `out x` (a local), `out _` (discarded: name
    None); pos is the `out` keyword."""

    name: str | None
    name_pos: int
    type: TypeRef | None
    declares: bool
