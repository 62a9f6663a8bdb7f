"""C#'s flow analysis of a statement block ``@{ ... }``, as the C# compiler runs it when APIM compiles a policy.

APIM compiles a multi-statement expression as a C# method body ("All code paths within multi-statement expressions
must end with a return statement": learn.microsoft.com/azure/api-management/api-management-policy-expressions), so
what C#'s flow analysis refuses, APIM refuses when the policy is published:

- CS0161: the end of the block is reachable (a path ends without ``return``);
- CS0165: a local is read where it is not definitely assigned (``string s; if (c) { s = "a"; } return s;``);
- CS0163: a switch section's end is reachable (it would fall through to the next one);
- CS0139: ``continue`` with no loop around it (a switch is not one).

Reachability follows C#'s rules: what follows ``return``, ``break`` or ``continue`` is unreachable; an ``if`` whose
condition is the constant true never takes its else branch (false: its then branch); a ``for`` with no condition,
or the constant true, ends only through a reachable ``break``; a ``foreach`` may run no time; a switch ends through
a reachable ``break``, or when it has no default label (with a constant subject: when no label matches it and none
is the default); try/catch ends where either part does. Definite assignment follows the same paths: after a
statement, a local is assigned when every path reaching its end assigned it; a ``catch`` starts with what was
assigned before the ``try``; at an unreachable point every local counts as assigned (C# reports nothing there).
Constant conditions are C#'s constant expressions of bool (`constants.ConstantEvaluator.boolean`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

from .constants import ConstantEvaluator
from .errors import UnsupportedExpression
from .nodes import (
    Assign,
    Block,
    ExprStatement,
    For,
    Foreach,
    If,
    Jump,
    Lambda,
    Literal,
    Name,
    Node,
    Return,
    Switch,
    Try,
    TypeRef,
    VarDecl,
)

# The locals definitely assigned at a point of the block (by their declaration's number), or None where the point is
# unreachable (where C# counts every local as assigned).
State = frozenset[int] | None
Refuse = Callable[..., UnsupportedExpression]


def check_block(block: Block, refuse: Refuse, constants: ConstantEvaluator) -> None:
    """Refuse ``block`` (``refuse(pos, message, hint)``) where C#'s flow analysis refuses it (see the module)."""
    if _Flow(refuse, constants).statement(block, frozenset()) is not None:
        raise refuse(block.pos, "not all code paths return a value (C# refuses it: CS0161)",
                     "end every path of the block with a return")


def _join(a: State, b: State) -> State:
    """The state where two paths meet: assigned on both (an unreachable path adds no constraint)."""
    if a is None:
        return b
    if b is None:
        return a
    return a & b


@dataclasses.dataclass
class _Target:
    """A loop or switch that break (and, for a loop, continue) jumps to: the states those jumps carry."""

    loop: bool
    breaks: State = None
    continues: State = None


class _Flow:
    def __init__(self, refuse: Refuse, constants: ConstantEvaluator) -> None:
        self.refuse = refuse
        self.constants = constants
        self.scopes: list[dict[str, int | None]] = []  # name -> local's number; None: a lambda parameter shadowing
        self.declared = 0
        self.targets: list[_Target] = []
        self._dispatch: dict[type, Callable[[Node, State], State]] = {
            Block: self.block, VarDecl: self.declaration, Assign: self.assign, ExprStatement: self.expression,
            If: self.if_, Foreach: self.foreach, For: self.for_, Switch: self.switch, Return: self.return_,
            Jump: self.jump, Try: self.try_,
        }  # fmt: skip

    def statement(self, node: Node, state: State) -> State:
        """The state at the end of ``node``, entered with ``state``."""
        return self._dispatch[type(node)](node, state)

    def scoped(self, node: Node, state: State) -> State:
        self.scopes.append({})
        try:
            return self.statement(node, state)
        finally:
            self.scopes.pop()

    def sequence(self, nodes: tuple[Node, ...], state: State) -> State:
        for node in nodes:
            state = self.statement(node, state)
        return state

    def block(self, node: Block, state: State) -> State:
        self.scopes.append({})
        try:
            return self.sequence(node.statements, state)
        finally:
            self.scopes.pop()

    def declare(self, name: str) -> int:
        self.declared += 1
        self.scopes[-1][name] = self.declared
        return self.declared

    def declaration(self, node: VarDecl, state: State) -> State:
        for name, _, init in node.names:
            local = self.declare(name)
            if init is not None:
                self.reads(init, state)
                state = _assigned(state, local)
        return state

    def assign(self, node: Assign, state: State) -> State:
        local = self.local(node.target.ident) if isinstance(node.target, Name) else None
        if node.op != "=" or local is None:  # x += 1 reads x; a[i] = v reads a and i
            self.reads(node.target, state)
        self.reads(node.value, state)
        return state if local is None else _assigned(state, local)

    def expression(self, node: ExprStatement, state: State) -> State:
        self.reads(node.expr, state)
        return state

    def if_(self, node: If, state: State) -> State:
        self.reads(node.condition, state)
        constant = self.constants.boolean(node.condition)
        then = self.scoped(node.then, None if constant is False else state)
        otherwise_in = None if constant is True else state
        otherwise = self.scoped(node.otherwise, otherwise_in) if node.otherwise is not None else otherwise_in
        return _join(then, otherwise)

    def foreach(self, node: Foreach, state: State) -> State:
        self.reads(node.items, state)
        self.scopes.append({})
        self.targets.append(_Target(loop=True))
        try:
            self.scoped(node.body, _assigned(state, self.declare(node.name)))
        finally:
            self.targets.pop()
            self.scopes.pop()
        return state  # the collection may be empty: the body may not run at all

    def for_(self, node: For, state: State) -> State:
        self.scopes.append({})
        target = _Target(loop=True)
        try:
            if node.init is not None:
                state = self.statement(node.init, state)
            if node.condition is not None:
                self.reads(node.condition, state)
            constant = True if node.condition is None else self.constants.boolean(node.condition)
            self.targets.append(target)
            try:
                body = self.scoped(node.body, None if constant is False else state)
                if node.step is not None:
                    self.statement(node.step, _join(body, target.continues))
            finally:
                self.targets.pop()
        finally:
            self.scopes.pop()
        return _join(None if constant is True else state, target.breaks)

    def switch(self, node: Switch, state: State) -> State:
        self.reads(node.subject, state)
        subject = self.constant(node.subject)
        labels = [label for section_labels, _ in node.sections for label in section_labels if label is not None]
        has_default = any(None in section_labels for section_labels, _ in node.sections)
        matched = subject is not None and any(_same(self.constant(label), subject) for label in labels)
        target = _Target(loop=False)
        self.targets.append(target)
        try:
            for section_labels, body in node.sections:  # labels are constants in C# (CS0150): they read no local
                taken = subject is None or any(
                    _same(self.constant(label), subject) if label is not None else not matched for label in section_labels)
                self.scopes.append({})
                try:
                    end = self.sequence(body, state if taken else None)
                finally:
                    self.scopes.pop()
                if end is not None:
                    first = section_labels[0]
                    raise self.refuse(first.pos if first is not None else node.pos,
                                      "control cannot fall through from one case label to another: end the section "
                                      "with break or return (C# refuses it: CS0163)")
        finally:
            self.targets.pop()
        falls_out = not has_default and not matched  # no section is chosen for some (or this constant) subject
        return _join(state if falls_out else None, target.breaks)

    def return_(self, node: Return, state: State) -> State:
        if node.value is not None:
            self.reads(node.value, state)
        return None

    def jump(self, node: Jump, state: State) -> State:
        if node.kind == "break":
            if self.targets and state is not None:  # no target: refused by the compiler ("break outside a loop ...")
                self.targets[-1].breaks = _join(self.targets[-1].breaks, state)
            return None
        loop = next((target for target in reversed(self.targets) if target.loop), None)
        if loop is None:
            raise self.refuse(node.pos, "no enclosing loop out of which to continue: a switch is not a loop (C# "
                                        "refuses it: CS0139)")
        if state is not None:
            loop.continues = _join(loop.continues, state)
        return None

    def try_(self, node: Try, state: State) -> State:
        return _join(self.scoped(node.body, state), self.scoped(node.handler, state))

    # -- reads ---------------------------------------------------------------------------------

    def local(self, name: str) -> int | None:
        """The number of the local ``name`` names here (None: not a local, or a lambda's parameter)."""
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        return None

    def reads(self, node: Node, state: State) -> None:
        """Refuse a local that ``node`` reads and ``state`` has not assigned (CS0165)."""
        if state is None:
            return
        if isinstance(node, Name):
            local = self.local(node.ident)
            if local is not None and local not in state:
                raise self.refuse(node.pos, f"use of unassigned local variable '{node.ident}' (C# refuses it: CS0165)",
                                  "assign it on every path before reading it")
            return
        if isinstance(node, Lambda):
            self.scopes.append(dict.fromkeys(node.params))  # its parameters shadow nothing C# would let them
            try:
                self.reads(node.body, state)
            finally:
                self.scopes.pop()
            return
        for child in _children(node):
            self.reads(child, state)

    def constant(self, node: Node) -> object:
        """A switch subject's or label's constant value (an integer, a string or a bool), or None."""
        integer = self.constants.of(node)
        if integer is not None:
            return integer.value
        if isinstance(node, Literal) and isinstance(node.value, (str, bool)):
            return node.value
        return None


def _same(a: object, b: object) -> bool:
    return type(a) is type(b) and a == b  # 1 is no label of true


def _assigned(state: State, local: int) -> State:
    return None if state is None else state | {local}


def _children(node: Node) -> Iterator[Node]:
    """The expression nodes directly inside ``node`` (in source order; a type's name is no expression)."""
    for field in dataclasses.fields(node):
        yield from _nodes_in(getattr(node, field.name))


def _nodes_in(value: object) -> Iterator[Node]:
    if isinstance(value, Node):
        if not isinstance(value, TypeRef):
            yield value
    elif isinstance(value, tuple):
        for item in value:
            yield from _nodes_in(item)
