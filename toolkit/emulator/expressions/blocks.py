"""Statement blocks ``@{ ... }``: locals, assignments, calls, if, foreach, for, switch, try/catch, return.

Each statement compiles to a closure returning None to go on, or a signal: `BREAK`, `CONTINUE`,
or a `Returned` value. Locals live in the evaluation's `Frame` slots. Loops are bounded: a
``for`` runs at most `MAX_ITERATIONS` times (then the expression fails), ``foreach`` walks a
finite collection, so evaluation stays linear in the data it reads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import library, nullables
from .compiler import Compiled, guard
from .compiled import converted, converted_type, declared_type, implicit_refusal, is_long_form
from .cstypes import LONG_NAMES, NUMERIC, CsType, dotnet_name_of
from .errors import LIMIT_MARK, NULL_REFERENCE, CsError, EvaluationFailure, invalid_cast, thrown_by_dotnet
from .flow import check_block
from .nodes import (
    Assign,
    Binary,
    Block,
    ExprStatement,
    For,
    Foreach,
    If,
    Index,
    Jump,
    Name,
    Node,
    Return,
    Switch,
    Try,
    VarDecl,
)

if TYPE_CHECKING:
    from .compiler import Compiler

MAX_ITERATIONS = 10_000
Stmt = Callable[[Any], Any]
BREAK = object()
CONTINUE = object()
_D = CsType.DYNAMIC


class Returned:
    """The value of a ``return`` statement travelling out of nested blocks."""

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value


def compile_block(compiler: Compiler, block: Block) -> Compiled:
    """The whole ``@{ }`` body as one value: what its ``return`` produces (null if none runs)."""
    body = _BlockCompiler(compiler).block(block)
    types = {r.type for r in compiler.returns}
    if not types:
        raise compiler.refuse(block.pos, "a statement block must return a value")
    check_block(block, compiler.refuse, compiler.constants)  # what C#'s flow analysis refuses (CS0161, CS0165, ...)
    result = types.pop() if len(types) == 1 else _D
    if result is CsType.NULL:
        result = CsType.STRING

    def run(ctx: Any) -> object:
        signal = body(ctx)
        return signal.value if isinstance(signal, Returned) else None

    return Compiled(run, result, block.pos)


class _BlockCompiler:
    def __init__(self, compiler: Compiler) -> None:
        self.c = compiler
        self._dispatch: dict[type, Callable[[Any], Stmt]] = {
            Block: self.block, VarDecl: self.declaration, Assign: self.assign, ExprStatement: self.call,
            If: self.if_, Foreach: self.foreach, For: self.for_, Switch: self.switch, Return: self.return_,
            Jump: self.jump, Try: self.try_,
        }  # fmt: skip
        self.loop_depth = 0
        # Locals whose every value stored converts: long (a CsLong), DateTimeOffset (a DateTime converts).
        self.converted_slots: dict[int, str] = {}
        self.char_slots: set[int] = set()  # locals declared char (or var of a char literal): values are CsChar

    def statement(self, node: Node) -> Stmt:
        return self._dispatch[type(node)](node)

    def block(self, node: Block) -> Stmt:
        self.c.scopes.append({})
        try:
            return self.sequence(node.statements)
        finally:
            self.c.scopes.pop()

    def sequence(self, nodes: tuple[Node, ...]) -> Stmt:
        statements = tuple(self.statement(n) for n in nodes)

        def run(ctx: Any) -> object:
            for statement in statements:
                signal = statement(ctx)
                if signal is not None:
                    return signal
            return None

        return run

    def declaration(self, node: VarDecl) -> Stmt:
        declared = declared_type(node.type.name) if node.type is not None else None
        setters = []
        for name, pos, init in node.names:
            value = self.c.value(init) if init is not None else None
            nullable = (nullables.nullable_base(node.type.name) or "" if node.type is not None  # int? x
                        else value.nullable if value is not None else "")  # var x = GetValueOrDefault<int?>(...)
            long_local = (node.type.name.rstrip("?") in LONG_NAMES if node.type is not None  # long x = 5: a CsLong
                          else value is not None and is_long_form(init, value))  # var x = 5L
            char_local = (node.type.name.rstrip("?") in _CHAR_NAMES if node.type is not None  # char c = 'a'
                          else init is not None and self.c.is_char_text(init))  # var c = 'a'
            type_ = _D if long_local or char_local else declared or (value.type if value is not None else _D)
            if type_ is CsType.NULL:
                type_ = _D
            if char_local:
                fn = self._as_char(value, init, pos) if value is not None else (lambda ctx: None)
            else:
                fn = _coerce(self.c, value, type_, pos, bool(nullable), init) if value is not None else (lambda ctx: None)
            target = "long" if long_local else converted_type(node.type)
            if target is not None and value is not None:
                self._check_implicit(value, target, init.pos if init is not None else pos)
                fn = converted(fn, target, pos)
            slot = self.c.allocate(name, type_, pos)
            if target is not None:
                self.converted_slots[slot] = target
            if target == "long":
                self.c.long_slots.add(slot)
            if char_local:
                self.char_slots.add(slot)
            if nullable:
                self.c.nullable_slots[slot] = nullable
            written = node.type.name if node.type is not None else "long" if long_local else _TYPE_WORDS.get(type_, "")
            if written:  # what an out argument of this local must be (CS1503)
                self.c.type_names[slot] = written
            setters.append((slot, fn))

        def run(ctx: Any) -> None:
            for slot, fn in setters:
                ctx.slots[slot] = fn(ctx)

        return run

    def _as_char(self, value: Compiled, init: Node, pos: int, *, compound: bool = False) -> Callable[[Any], Any]:
        """A char local's value as a CsChar: a char literal, or a char found when run (``text[0]``, a char local,
        a LINQ result); any other value cannot be stored in a char, as C# says (an int needs a (char) cast),
        except the result of a compound assignment (``c += 1``: C# narrows it back to a char)."""
        if not compound and self.c.is_char_literal(init):
            char = library.CsChar(value.const)
            return lambda ctx: char
        if value.type not in (_D, CsType.NULL) and not compound and not self.c.is_char_text(init):
            # an int, a string or an object needs a (char) cast, as in C#; `flag ? ',' : ';'` is a char
            raise self.c.refuse(pos, f"cannot assign a {value.type} value to a char variable",
                                "an int becomes a char with a (char) cast")
        fn = value.fn

        def as_char(ctx: Any) -> object:
            v = library.unwrap(fn(ctx))
            if v is None or type(v) is library.CsChar:
                return v
            if compound and isinstance(v, int) and not isinstance(v, bool):
                return library.CsChar(chr(v & 0xFFFF))
            if isinstance(v, str) and len(v) == 1:  # a char literal that went through a ternary or an array
                return library.CsChar(v)
            raise CsError(invalid_cast(v, "System.Char"))

        return guard(as_char, pos)

    def assign(self, node: Assign) -> Stmt:
        target = node.target
        # x op= v is x = x op v, typed and checked as that operator is (text joins, numbers; C#'s refusals)
        value = self.c.value(node.value if node.op == "=" else Binary(node.pos, node.op[0], target, node.value))
        if isinstance(target, Name):
            local = self.c.local(target.ident)
            if local is None:
                raise self.c.refuse(target.pos, f"only local variables can be assigned, not '{target.ident}'")
            slot, type_ = local
            if slot in self.c.iteration_slots:
                raise self.c.refuse(target.pos, f"cannot assign to '{target.ident}' because it is a foreach iteration "
                                                f"variable (C# refuses it: CS1656)")
            if node.op != "=" and type_ is CsType.INT and is_long_form(node.value, self.c.value(node.value)):
                raise self.c.refuse(node.pos, "cannot implicitly convert type 'long' to 'int' (C# refuses it: CS0266)",
                                    "cast it: (int)...")  # x += 2L: C# converts back only what converts implicitly
            if slot in self.char_slots:  # c = 'b' on a char c: still a char
                fn = self._as_char(value, node.value, node.pos, compound=node.op != "=")
            else:
                fn = _coerce(self.c, value, type_, node.pos, slot in self.c.nullable_slots, node.value)
            if slot in self.converted_slots:  # x = 5 on a long x: still a long; a DateTime into a DateTimeOffset
                if node.op == "=":
                    self._check_implicit(value, self.converted_slots[slot], node.value.pos)
                fn = converted(fn, self.converted_slots[slot], node.pos)

            def set_local(ctx: Any) -> None:
                ctx.slots[slot] = fn(ctx)

            return set_local
        if isinstance(target, Index) and len(target.args) == 1:
            container = self.c.value(target.target)
            if container.type not in (_D,):
                raise self.c.refuse(target.pos, f"cannot assign to an index of {container.type} values")
            of, kf, vf = container.fn, self.c.value(target.args[0]).fn, value.fn
            return guard(lambda ctx: library.set_index(of(ctx), kf(ctx), vf(ctx)), node.pos)
        raise self.c.refuse(node.pos, "only local variables and indexers can be assigned")

    def call(self, node: ExprStatement) -> Stmt:
        fn = self.c.value(node.expr).fn

        def run(ctx: Any) -> None:
            fn(ctx)

        return run

    def if_(self, node: If) -> Stmt:
        condition = _bool_fn(self.c, node.condition)
        then = self._scoped(node.then)
        otherwise = self._scoped(node.otherwise) if node.otherwise is not None else None

        def run(ctx: Any) -> object:
            if condition(ctx):
                return then(ctx)
            return otherwise(ctx) if otherwise is not None else None

        return run

    def _scoped(self, node: Node) -> Stmt:
        self.c.scopes.append({})
        try:
            return self.statement(node)
        finally:
            self.c.scopes.pop()

    def _loop_body(self, node: Node) -> Stmt:
        self.loop_depth += 1
        try:
            return self._scoped(node)
        finally:
            self.loop_depth -= 1

    def _check_implicit(self, value: Compiled, target: str, pos: int) -> None:
        refusal = implicit_refusal(value.type, target)
        if refusal is not None:
            raise self.c.refuse(pos, refusal)

    def foreach(self, node: Foreach) -> Stmt:
        # foreach (long x in ...): C# casts each item to the declared type (explicitly: (int) of a long truncates)
        nullable = nullables.nullable_base(node.type.name) or "" if node.type is not None else ""  # foreach (int? v ...)
        target = _FOREACH_CONVERSIONS.get(dotnet_name_of(nullable or node.type.name)) if node.type is not None else None
        self.c.scopes.append({})  # the collection's pattern and out variables are the foreach's too (C# 7)
        try:
            items = self.c.value(node.items)
            if items.type in NUMERIC or items.type in (CsType.BOOL, CsType.NULL, CsType.OBJECT):
                raise self.c.refuse(node.items.pos, f"foreach cannot enumerate {items.type} values")
            slot = self.c.allocate(node.name, _D, node.pos)
            self.c.iteration_slots.add(slot)  # read-only: each item is converted once, as it is stored below
            if nullable:
                self.c.nullable_slots[slot] = nullable
            body = self._loop_body(node.body)
        finally:
            self.c.scopes.pop()
        items_fn, pos = items.fn, node.pos
        convert = None if target is None else converted(lambda value: value, target, pos)

        def run(ctx: Any) -> object:
            items = items_fn(ctx)
            if items is None:  # foreach calls GetEnumerator() on the collection: of null, a NullReferenceException
                raise EvaluationFailure(NULL_REFERENCE, pos)
            try:
                values = library.enumerate_items(items)
            except library.CAUGHT as exc:
                raise EvaluationFailure(library.message_of(exc), pos) from None
            for value in values:
                ctx.slots[slot] = value if convert is None else convert(value)
                signal = body(ctx)
                if signal is BREAK:
                    break
                if signal is not None and signal is not CONTINUE:
                    return signal
            return None

        return run

    def for_(self, node: For) -> Stmt:
        self.c.scopes.append({})
        try:
            init = self.statement(node.init) if node.init is not None else (lambda ctx: None)
            condition = _bool_fn(self.c, node.condition) if node.condition is not None else (lambda ctx: True)
            step = self.statement(node.step) if node.step is not None else (lambda ctx: None)
            body = self._loop_body(node.body)
        finally:
            self.c.scopes.pop()
        pos = node.pos

        def run(ctx: Any) -> object:
            init(ctx)
            for _ in range(MAX_ITERATIONS):
                if not condition(ctx):
                    return None
                signal = body(ctx)
                if signal is BREAK:
                    return None
                if signal is not None and signal is not CONTINUE:
                    return signal
                step(ctx)
            raise EvaluationFailure(f"the loop ran more than {MAX_ITERATIONS} times {LIMIT_MARK}", pos)

        return run

    def switch(self, node: Switch) -> Stmt:
        subject = self.c.value(node.subject).fn
        sections = []
        self.loop_depth += 1  # break leaves the switch
        self.c.scopes.append({})  # the switch block's: every section's locals are in scope in the others (C#)
        try:
            for labels, body in node.sections:  # a section that falls through is refused by `flow` (CS0163)
                label_fns = [None if label is None else self.c.value(label).fn for label in labels]
                sections.append((label_fns, self.sequence(body)))
        finally:
            self.c.scopes.pop()
            self.loop_depth -= 1

        def run(ctx: Any) -> object:
            value = subject(ctx)
            chosen = None
            for labels, body in sections:
                if any(label is not None and library.equals(value, label(ctx)) for label in labels):
                    chosen = body
                    break
            if chosen is None:
                chosen = next((body for labels, body in sections if None in labels), None)
            if chosen is None:
                return None
            signal = chosen(ctx)
            return None if signal is BREAK else signal

        return run

    def return_(self, node: Return) -> Stmt:
        if node.value is None:
            raise self.c.refuse(node.pos, "return needs a value in a policy expression")
        value = self.c.value(node.value)
        self.c.returns.append(value)
        fn = value.fn
        return lambda ctx: Returned(fn(ctx))

    def jump(self, node: Jump) -> Stmt:
        if self.loop_depth == 0:
            raise self.c.refuse(node.pos, f"{node.kind} outside a loop or switch")
        signal = BREAK if node.kind == "break" else CONTINUE
        return lambda ctx: signal

    def try_(self, node: Try) -> Stmt:
        """``try``/``catch``: a catch takes every .NET exception (``catch``, ``catch (Exception e)``), never the
        emulator's own limits or gaps, nor what C# refuses when it compiles (`errors.thrown_by_dotnet`); ``e.Message`` is the exception's message; ``when (filter)`` takes only those it
        holds for (a filter that fails holds for none). A catch of one exception type is the emulator's limit: it does
        not tell .NET's exception types apart."""
        caught = dotnet_name_of(node.type.name) if node.type is not None else "System.Exception"
        if not caught.endswith("Exception"):  # .NET's exception types are named so (string, JObject are none)
            raise self.c.refuse(node.type.pos, f"the type caught must be System.Exception or derive from it, not "
                                               f"{node.type.name} (C# refuses it: CS0155)")
        if caught not in ("System.Exception", "Exception"):
            raise self.c.refuse(node.type.pos, f"a catch of {node.type.name} alone is not supported (the emulator does "
                                               "not tell .NET's exception types apart)", "catch (Exception e)",
                                limit=True)
        body = self._scoped(node.body)
        self.c.scopes.append({})  # the catch variable's
        try:
            slot = self.c.allocate(node.name, _D, node.name_pos) if node.name is not None else None
            accepts = _bool_fn(self.c, node.when) if node.when is not None else None
            handler = self._scoped(node.handler)
        finally:
            self.c.scopes.pop()

        def run(ctx: Any) -> object:
            try:
                return body(ctx)
            except EvaluationFailure as failure:
                if not thrown_by_dotnet(failure.detail):
                    raise
                if slot is not None:
                    ctx.slots[slot] = library.CaughtException(failure.detail)
                if accepts is not None and not _holds(accepts, ctx):
                    raise
                return handler(ctx)

        return run


_CHAR_NAMES = frozenset({"char", "Char"})
_TYPE_WORDS = {CsType.STRING: "string", CsType.INT: "int", CsType.DOUBLE: "double", CsType.BOOL: "bool"}
# A foreach variable's declared type (.NET's name) -> the conversion of each item (a type not here: items as they are).
_FOREACH_CONVERSIONS = {"System.Int64": "long", "System.Int32": "int", "System.Double": "double",
                        "System.DateTimeOffset": "DateTimeOffset"}


def _coerce(compiler: Compiler, value: Compiled, type_: CsType, pos: int, nullable: bool,
            source: Node) -> Callable[[Any], Any]:
    """The value (of the expression ``source``) converted to a local's declared type (int widens to double; dynamic
    values are checked); ``nullable``: the local is an ``int?`` (or another nullable value type), which null
    converts to. What C# does not convert implicitly is refused: an int? or a long into an int (CS0266)."""
    fn = value.fn
    if type_ is _D or type_ is CsType.OBJECT:  # every value converts to object (boxing)
        return fn
    if value.nullable and not nullable and type_ in (CsType.INT, CsType.DOUBLE, CsType.BOOL):
        what = nullables.described(value.nullable) if value.nullable == nullables.MAYBE else f"type '{value.nullable}?'"
        raise compiler.refuse(pos, f"cannot implicitly convert {what} to '{type_.value}' (C# "
                                   "refuses it: CS0266)", "use .Value, or ?? with a default")
    if type_ is CsType.INT and is_long_form(source, value):
        raise compiler.refuse(pos, "cannot implicitly convert type 'long' to 'int' (C# refuses it: CS0266)",
                              "cast it: (int)...")
    if value.type is type_ or (nullable and value.type is CsType.NULL):
        return fn
    if type_ is CsType.DOUBLE and value.type is CsType.INT:
        return lambda ctx: None if (v := fn(ctx)) is None else float(v)
    if value.type is CsType.NULL and type_ is CsType.STRING:
        return fn
    if value.type in (_D, CsType.OBJECT):
        name = {CsType.STRING: "string", CsType.INT: "int", CsType.BOOL: "bool", CsType.DOUBLE: "double"}[type_]

        def convert(ctx: Any) -> object:
            v = library.unwrap(fn(ctx))
            if v is None and nullable:  # int? n = s?.Length
                return None
            if type(v) is library.CsChar and name in ("int", "double"):  # int n = text[0]: the char's code
                v = ord(v)
            if name == "double" and isinstance(v, int) and not isinstance(v, bool):  # an int or a long widens
                return float(v)
            return library.unbox(v, name)

        return guard(convert, pos)
    raise compiler.refuse(pos, f"cannot assign a {value.type} value to a {type_} variable")


def _holds(accepts: Callable[[Any], bool], ctx: Any) -> bool:
    """An exception filter's verdict: one that throws holds for no exception (.NET passes the exception on); one that
    meets the emulator's limit fails the expression with it."""
    try:
        return accepts(ctx)
    except EvaluationFailure as failure:
        if not thrown_by_dotnet(failure.detail):
            raise
        return False


def _bool_fn(compiler: Compiler, node: Node) -> Callable[[Any], bool]:
    condition = compiler.value(node)
    if condition.nullable:
        compiler.bool_operand(condition, "a condition")  # a bool? is no condition (CS0266)
    if condition.type not in (CsType.BOOL, _D):
        raise compiler.refuse(node.pos, f"a condition must be bool, got {condition.type}")
    fn = condition.fn
    if condition.type is CsType.BOOL:
        return fn  # type: ignore[return-value]
    return guard(lambda ctx: library.to_bool(fn(ctx)), node.pos)  # type: ignore[return-value]
