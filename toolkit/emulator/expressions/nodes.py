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
    """`42`, `1.5`, `"text"`, `true`, `null`."""

    value: object
    type: CsType


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
