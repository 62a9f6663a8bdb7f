"""C#'s flow analysis of a policy expression, as the C# compiler runs it when APIM compiles a policy.

APIM compiles a multi-statement expression as a C# method body ("All code paths within multi-statement expressions
must end with a return statement": learn.microsoft.com/azure/api-management/api-management-policy-expressions), so
what C#'s flow analysis refuses, APIM refuses when the policy is published:

- CS0161: the end of a block is reachable (a path ends without ``return``);
- CS0165: a local is read where it is not definitely assigned (``string s; if (c) { s = "a"; } return s;``, or a
  pattern variable where its test may have failed: ``o is string s || s.Length > 0``);
- CS0163: a switch section's end is reachable (it would fall through to the next one);
- CS0139: ``continue`` with no loop around it (a switch is not one).

Reachability follows C#'s rules: what follows ``return``, ``break`` or ``continue`` is unreachable; an ``if`` whose
condition is the constant true never takes its else branch (false: its then branch); a ``for`` with no condition,
or the constant true, ends only through a reachable ``break``; a ``foreach`` may run no time; a switch ends through
a reachable ``break``, or when it has no default label (with a constant subject: when no label matches it and none
is the default); try/catch ends where either part does. Definite assignment follows the same paths: after a
statement, a local is assigned when every path reaching its end assigned it; a ``catch`` starts with what was
assigned before the ``try``; at an unreachable point every local counts as assigned (C# reports nothing there).
Inside a condition it follows ``&&``, ``||``, ``!`` and ``?:``: ``x is T v`` assigns v when it is true, so
``if (!(o is string s)) { return ""; } return s;`` reads an assigned s; an ``out`` argument assigns its variable
once the call returns. Constant conditions are C#'s constant expressions of bool
(`constants.ConstantEvaluator.boolean`). Pattern and out variables belong to the scope the expression stands in
(an ``if`` condition's: the enclosing block, as C# 7 scopes them), as the compiler declares them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

from .constants import ConstantEvaluator
from .errors import UnsupportedExpression
from .nodes import (
    Assign,
    Binary,
    Block,
    Call,
    Conditional,
    ExprStatement,
    For,
    Foreach,
    If,
    Jump,
    Lambda,
    Literal,
    Name,
    Node,
    NullSafe,
    OutArg,
    Return,
    Switch,
    Try,
    TypeRef,
    TypeTest,
    Unary,
    VarDecl,
)

_FALLS_THROUGH = "control cannot fall through from one case label to another (C# refuses it: CS0163)"
_FALLS_OUT = "control cannot fall out of switch from final case label (C# refuses it: CS8070)"
# The locals definitely assigned at a point of the block (by their declaration's number), or None where the point is
# unreachable (where C# counts every local as assigned).
State = frozenset[int] | None
Refuse = Callable[..., UnsupportedExpression]


def check_block(block: Block, refuse: Refuse, constants: ConstantEvaluator) -> None:
    """Refuse ``block`` (``refuse(pos, message, hint)``) where C#'s flow analysis refuses it (see the module)."""
    if _Flow(refuse, constants).statement(block, frozenset()) is not None:
        raise refuse(block.pos, "not all code paths return a value (C# refuses it: CS0161)",
                     "end every path of the block with a return")


def check_expression(node: Node, refuse: Refuse, constants: ConstantEvaluator) -> None:
    """Refuse an ``@( )`` expression that reads a pattern or out variable where it is not definitely assigned
    (``x is string s || s.Length > 0``: CS0165)."""
    _Flow(refuse, constants).expr(node, frozenset())


def _join(a: State, b: State) -> State:
    """The state where two paths meet: assigned on both (an unreachable path adds no constraint)."""
    if a is None:
        return b
    if b is None:
        return a
    return a & b


@dataclasses.dataclass
class _Scope:
    """A block's (or lambda's, loop's, catch's) names: local number (None: a lambda's parameter), and the names its
    closed inner scopes declared, which it may not declare itself (CS0136)."""

    names: dict[str, int | None] = dataclasses.field(default_factory=dict)
    nested: set[str] = dataclasses.field(default_factory=set)


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
        # name -> local's number (None: a lambda's parameter); the root scope holds an @( )'s pattern and out variables
        self.scopes: list[_Scope] = [_Scope()]
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

    def enter(self, parameters: tuple[str, ...] = ()) -> None:
        self.scopes.append(_Scope(dict.fromkeys(parameters)))

    def leave(self) -> None:
        """Close the innermost scope: its names and its inner scopes' are now "declared inside" its parent's."""
        scope = self.scopes.pop()
        self.scopes[-1].nested |= scope.nested | set(scope.names)

    def scoped(self, node: Node, state: State) -> State:
        self.enter()
        try:
            return self.statement(node, state)
        finally:
            self.leave()

    def sequence(self, nodes: tuple[Node, ...], state: State) -> State:
        for node in nodes:
            state = self.statement(node, state)
        return state

    def block(self, node: Block, state: State) -> State:
        self.enter()
        try:
            return self.sequence(node.statements, state)
        finally:
            self.leave()

    def declare(self, name: str, pos: int) -> int:
        self.declared += 1
        scope = self.scopes[-1]
        if name in scope.nested:  # C# gives a name one meaning in a block and the blocks inside it
            raise self.refuse(pos, f"a local named '{name}' cannot be declared here: a scope inside this one already "
                                   f"declares it (C# refuses it: CS0136)")
        scope.names[name] = self.declared
        return self.declared

    def declaration(self, node: VarDecl, state: State) -> State:
        for name, pos, init in node.names:
            local = self.declare(name, pos)
            if init is not None:
                state = _assigned(self.expr(init, state), local)
        return state

    def assign(self, node: Assign, state: State) -> State:
        local = self.local(node.target.ident) if isinstance(node.target, Name) else None
        if node.op != "=" or local is None:  # x += 1 reads x; a[i] = v reads a and i
            state = self.expr(node.target, state)
        state = self.expr(node.value, state)
        return state if local is None else _assigned(state, local)

    def expression(self, node: ExprStatement, state: State) -> State:
        return self.expr(node.expr, state)

    def if_(self, node: If, state: State) -> State:
        then_in, otherwise_in = self.cond(node.condition, state)
        then = self.scoped(node.then, then_in)
        otherwise = self.scoped(node.otherwise, otherwise_in) if node.otherwise is not None else otherwise_in
        return _join(then, otherwise)

    def foreach(self, node: Foreach, state: State) -> State:
        self.enter()  # the collection's pattern and out variables are the foreach's (C# 7)
        self.targets.append(_Target(loop=True))
        try:
            state = self.expr(node.items, state)
            self.scoped(node.body, _assigned(state, self.declare(node.name, node.pos)))
        finally:
            self.targets.pop()
            self.leave()
        return state  # the collection may be empty: the body may not run at all

    def for_(self, node: For, state: State) -> State:
        self.enter()
        target = _Target(loop=True)
        try:
            if node.init is not None:
                state = self.statement(node.init, state)
            body_in, done = self.cond(node.condition, state) if node.condition is not None else (state, None)
            self.targets.append(target)
            try:
                body = self.scoped(node.body, body_in)
                if node.step is not None:
                    self.statement(node.step, _join(body, target.continues))
            finally:
                self.targets.pop()
        finally:
            self.leave()
        return _join(done, target.breaks)

    def switch(self, node: Switch, state: State) -> State:
        state = self.expr(node.subject, state)
        subject = self.constant(node.subject)
        labels = [label for section_labels, _ in node.sections for label in section_labels if label is not None]
        has_default = any(None in section_labels for section_labels, _ in node.sections)
        matched = subject is not None and any(_same(self.constant(label), subject) for label in labels)
        target = _Target(loop=False)
        self.targets.append(target)
        self.enter()  # the switch block's: every section's locals are in scope in the others
        try:
            for number, (section_labels, body) in enumerate(node.sections, 1):  # labels are constants (CS0150)
                taken = subject is None or any(
                    _same(self.constant(label), subject) if label is not None else not matched for label in section_labels)
                if self.sequence(body, state if taken else None) is not None:
                    first = section_labels[0]
                    raise self.refuse(first.pos if first is not None else node.pos, _FALLS_OUT if number == len(
                        node.sections) else _FALLS_THROUGH, "end the section with break or return")
        finally:
            self.leave()
            self.targets.pop()
        falls_out = not has_default and not matched  # no section is chosen for some (or this constant) subject
        return _join(state if falls_out else None, target.breaks)

    def return_(self, node: Return, state: State) -> State:
        if node.value is not None:
            self.expr(node.value, state)
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
        body = self.scoped(node.body, state)
        self.enter()  # the catch variable's
        try:
            caught = state if node.name is None else _assigned(state, self.declare(node.name, node.name_pos))
            if node.when is not None:
                caught, _ = self.cond(node.when, caught)
            return _join(body, self.scoped(node.handler, caught))
        finally:
            self.leave()

    # -- reads ---------------------------------------------------------------------------------

    def local(self, name: str) -> int | None:
        """The number of the local ``name`` names here (None: not a local, or a lambda's parameter)."""
        for scope in reversed(self.scopes):
            if name in scope.names:
                return scope.names[name]
        return None

    def read(self, node: Name, state: State) -> None:
        """Refuse the read of a local that ``state`` has not assigned (CS0165)."""
        local = self.local(node.ident)
        if local is not None and state is not None and local not in state:
            raise self.refuse(node.pos, f"use of unassigned local variable '{node.ident}' (C# refuses it: CS0165)",
                              "assign it on every path before reading it")

    def expr(self, node: Node, state: State) -> State:
        """Check the reads of an expression evaluated in ``state``; the state once it has run (an out argument assigns
        its variable). Its operands run in C#'s order; where one runs only on some paths (``&&``, ``||``, ``?:``,
        ``??``, ``?.``), what it assigns counts only on those."""
        if isinstance(node, Name):
            self.read(node, state)
            return state
        if isinstance(node, (Unary, Binary, TypeTest)) and _is_condition(node):
            when_true, when_false = self.cond(node, state)
            return _join(when_true, when_false)
        if isinstance(node, Conditional):
            when_true, when_false = self.cond(node.condition, state)
            return _join(self.expr(node.then, when_true), self.expr(node.otherwise, when_false))
        if isinstance(node, Binary) and node.op == "??":
            state = self.expr(node.left, state)
            self.expr(node.right, state)
            return state
        if isinstance(node, NullSafe):
            state = self.expr(node.target, state)
            self.expr(node.access, state)
            return state
        if isinstance(node, Lambda):  # its body runs when it is called: what it assigns stays inside
            self.enter(node.params)  # its parameters shadow nothing C# would let them
            try:
                self.expr(node.body, state)
            finally:
                self.leave()
            return state
        if isinstance(node, Call):
            return self.call(node, state)
        for child in _children(node):
            state = self.expr(child, state)
        return state

    def call(self, node: Call, state: State) -> State:
        """A call's target and arguments, in order; its out arguments' variables are assigned once it returns."""
        if node.target is not None:
            state = self.expr(node.target, state)
        assigned: list[int] = []
        for arg in node.args:
            if not isinstance(arg, OutArg):
                state = self.expr(arg, state)
            elif arg.name is not None:  # out _ is a discard
                local = self.declare(arg.name, arg.name_pos) if arg.declares else self.local(arg.name)
                if local is not None:
                    assigned.append(local)
        for local in assigned:
            state = _assigned(state, local)
        return state

    def cond(self, node: Node, state: State) -> tuple[State, State]:
        """The states after a condition when it is true and when it is false. A constant condition is never false
        (or true); ``x is T name`` assigns name only when true; ``&&``, ``||``, ``!`` and ``?:`` combine them."""
        constant = self.constants.boolean(node)
        if constant is not None:
            return (state, None) if constant else (None, state)
        if isinstance(node, Unary) and node.op == "!":
            when_true, when_false = self.cond(node.operand, state)
            return when_false, when_true
        if isinstance(node, Binary) and node.op in ("&&", "||"):
            left_true, left_false = self.cond(node.left, state)
            if node.op == "&&":
                right_true, right_false = self.cond(node.right, left_true)
                return right_true, _join(left_false, right_false)
            right_true, right_false = self.cond(node.right, left_false)
            return _join(left_true, right_true), right_false
        if isinstance(node, Conditional):
            when_true, when_false = self.cond(node.condition, state)
            then, otherwise = self.cond(node.then, when_true), self.cond(node.otherwise, when_false)
            return _join(then[0], otherwise[0]), _join(then[1], otherwise[1])
        if isinstance(node, TypeTest) and node.name is not None:
            state = self.expr(node.operand, state)
            return _assigned(state, self.declare(node.name, node.name_pos)), state
        if isinstance(node, Binary) and node.op in ("==", "!=", "??"):
            compared = self.compared(node, state)
            if compared is not None:
                return compared
        state = self.expr(node, state)
        return state, state

    def compared(self, node: Binary, state: State) -> tuple[State, State] | None:
        """``x == true``, ``x != false``, ``x ?? false``, ... of a condition (or a ``?.`` giving a bool?), as Roslyn
        follows them (C# 10's "improved definite assignment", which Roslyn applies whatever the language version):
        ``d?.TryGetValue(k, out var v) == true`` assigns v when true. None: not such a comparison."""
        if node.op == "??":
            when_true, when_false, when_null = self.nullable_condition(node.left, state)
            right_true, right_false = self.cond(node.right, when_null)
            return _join(when_true, right_true), _join(when_false, right_false)
        for side, other in ((node.left, node.right), (node.right, node.left)):
            constant = self.constants.boolean(other)
            if constant is not None and self.constants.boolean(side) is None:
                true_, false_, null = self.nullable_condition(side, state)
                if node.op == "==":  # null == true and null == false are false
                    return (true_, _join(false_, null)) if constant else (false_, _join(true_, null))
                return (_join(false_, null), true_) if constant else (_join(true_, null), false_)
        return None

    def nullable_condition(self, node: Node, state: State) -> tuple[State, State, State]:
        """The states after a bool (or bool?) expression when it is true, false and null (None: it never is)."""
        if isinstance(node, NullSafe):  # a?.b?.M(): null when a is, or when b is
            state = self.expr(node.target, state)
            when_true, when_false, when_null = self.nullable_condition(node.access, state)
            return when_true, when_false, _join(state, when_null)
        when_true, when_false = self.cond(node, state)
        return when_true, when_false, None

    def constant(self, node: Node) -> object:
        """A switch subject's or label's constant value (an integer, a string or a bool), or None."""
        integer = self.constants.of(node)
        if integer is not None:
            return integer.value
        if isinstance(node, Literal) and isinstance(node.value, (str, bool)):
            return node.value
        return None


def _is_condition(node: Unary | Binary | TypeTest) -> bool:
    """Whether `_Flow.cond` follows this node's paths (an operator of conditions, or a declaration pattern)."""
    if isinstance(node, Unary):
        return node.op == "!"
    if isinstance(node, Binary):
        return node.op in ("&&", "||")
    return node.name is not None


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
