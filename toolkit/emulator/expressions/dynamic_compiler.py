"""The compiler's half for the dynamic part of C#: runtime members and methods, static classes,
constructors, lambdas, ``?.``, interpolation and statement blocks (`Compiler` mixes it in).

Values of these constructs have the static type ``dynamic``: their members are dispatched when
evaluated (`library`), but every *name* is checked here, at publish, against the library's data.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from typing import Any

from . import library, nullables
from .compiled import (_D, TYPE_NAMES, Compiled, Fn, _cast_hint, _not_a_value, converted, converted_type, declared_type,
                       guard, implicit_refusal)
from .cstypes import CAST_ALIASES, CAST_TARGETS, LONG_NAMES, NUMERIC, CsType, dotnet_name_of
from .errors import NULL_REFERENCE, EvaluationFailure
from .nodes import Block, Call, Interpolated, Lambda, Member, NamedArg, New, Node, NullSafe, Placeholder, TypeTest


_T = CsType


class DynamicCompiler:
    """Mixin of `Compiler` (uses its ``value``, ``node``, ``refuse``, ``scopes``, ``slot_count``, ``type_names``,
    ``long_slots`` and ``expression_slots``)."""

    def _runtime_member(self, target: Compiled, node: Member) -> Compiled:
        if target.nullable and node.name in nullables.MEMBERS:
            if node.name == "HasValue":
                return Compiled(nullables.has_value(target.fn), _T.BOOL, node.pos)
            return Compiled(nullables.value_of(target.fn, node.pos), target.type, node.pos, long=target.long)
        if target.nullable and target.nullable != nullables.MAYBE:  # d.Year of a DateTime? d: .Value has it
            raise self.refuse(node.pos, f"'{target.nullable}?' does not contain a definition for '{node.name}' (C# "
                                        "refuses it: CS1061)", "read .Value first")
        if target.type is _T.OBJECT:
            raise self.refuse(node.pos, f"member '{node.name}' is not supported on object values", _cast_hint(target))
        if target.type in (_T.INT, _T.DOUBLE, _T.BOOL):  # no members at all (a nullable's are above)
            raise self.refuse(node.pos, f"'{target.type.value}' does not contain a definition for '{node.name}' "
                                        "(C# refuses it: CS1061)")
        if node.name not in library.MEMBER_NAMES:
            raise self.refuse(node.pos, f"member '{node.name}' is not supported on {target.type} values",
                              "supported members: " + ", ".join(sorted(library.MEMBER_NAMES)))
        getter, tf = library.MEMBERS[node.name], target.fn
        result = _T.INT if target.type is _T.STRING and node.name == "Length" else _D
        if target.type not in (_D, _T.STRING) and node.name != "Length":
            result = _D

        def get(ctx: Any) -> object:
            value = tf(ctx)
            if value is None:
                raise EvaluationFailure(NULL_REFERENCE, node.pos)
            return getter(value)

        return Compiled(guard(get, node.pos), result, node.pos)

    def _static_member(self, target: Compiled, node: Member) -> Compiled:
        full = f"{target.path}.{node.name}"
        key = f"{library.canonical_class(target.path or '')}.{node.name}"
        if key in library.STATIC_PROPERTIES:
            getter = library.STATIC_PROPERTIES[key]
            result = TYPE_NAMES[library.STATIC_RESULTS.get(key, "dynamic")]
            return Compiled(guard(lambda ctx: getter(), node.pos), result, node.pos)
        canonical = library.canonical_class(full)
        if canonical in library.STATIC_CLASSES or full in library.STATIC_NAMESPACES or canonical in library.CONSTRUCTORS:
            return Compiled(_not_a_value, _T.STATIC, node.pos, path=canonical)
        raise self.refuse(node.pos, f"{full} is not supported", limit=full.startswith("System."))

    def _arguments(self, args: tuple[Node, ...]) -> list[Compiled]:
        """Method arguments: lambdas and named arguments allowed (named ones bind by position)."""
        out = []
        for arg in args:
            if isinstance(arg, NamedArg):
                arg = arg.value
            out.append(self._lambda(arg) if isinstance(arg, Lambda) else self.value(arg))
        return out

    def _static_call(self, target: Compiled, node: Call) -> Compiled:
        key = f"{library.canonical_class(target.path or '')}.{node.name}"
        method = library.STATIC_METHODS.get(key)
        if method is None:
            raise self.refuse(node.pos, f"{target.path}.{node.name}() is not supported", limit=True)
        args = [a.fn for a in self._arguments(node.args)]
        self._check_arity(method, len(args), f"{key}()", node.pos)
        result = TYPE_NAMES[library.STATIC_RESULTS.get(key, "dynamic")]
        return Compiled(guard(lambda ctx: method(*[a(ctx) for a in args]), node.pos), result, node.pos)

    def _check_arity(self, fn: Any, count: int, what: str, pos: int, leading: int = 0) -> None:
        """Refuse at publish a call the emulator's implementation cannot take (it failed when run, with a Python
        TypeError), as the emulator's limit: .NET may have that overload (Convert.ToInt32(s, 16)); if it has not,
        APIM refuses the call too. ``leading``: parameters before the call's arguments (a method's receiver and
        type arguments)."""
        try:
            signature = inspect.signature(fn)
        except (TypeError, ValueError):  # a builtin without a signature: checked when called
            return
        try:
            signature.bind(*range(leading + count))
        except TypeError:
            raise self.refuse(pos, f"{what} with {count} argument{'' if count == 1 else 's'} (the emulator's {what} "
                                   f"takes {_arity(signature, leading)})", limit=True) from None

    def _runtime_call(self, recv: Compiled, node: Call) -> Compiled:
        if node.name not in library.METHOD_NAMES:
            raise self.refuse(node.pos, f"method {node.name}() is not supported",
                              "supported methods: " + ", ".join(sorted(library.METHOD_NAMES)))
        args = [a.fn for a in self._arguments(node.args)]
        type_args = tuple(t.name for t in node.type_args or ())
        name, rf, pos = node.name, recv.fn, node.pos
        typed = name in library.TYPED_METHODS
        method = library.TYPED_METHODS[name] if typed else library.METHODS[name]
        self._check_arity(method, len(args), f"{name}()", pos, leading=2 if typed else 1)  # receiver (type arguments)
        result_name = library.METHOD_RESULTS.get(name, "dynamic")
        if name in ("Value", "As", "ToObject") and type_args:
            result_name = {CsType.STRING: "string", CsType.INT: "int", CsType.BOOL: "bool", CsType.DOUBLE: "double"}.get(
                CAST_TARGETS.get(type_args[0]) or CAST_ALIASES.get(type_args[0]), "dynamic")  # type: ignore[arg-type]

        def call(ctx: Any) -> object:
            receiver = rf(ctx)
            if receiver is None:
                raise EvaluationFailure(library.null_receiver(name), pos)
            return library.call_method(receiver, name, type_args, tuple(a(ctx) for a in args))

        return Compiled(guard(call, pos), TYPE_NAMES[result_name], pos)

    def allocate(self, name: str, type_: CsType, pos: int) -> int:
        """A slot for a local (in the innermost scope); redeclaring a visible name is refused as in C#, except the
        null-conditional's own "?." (a?.b?.c: the inner one's target is the outer's value)."""
        if name != "?." and any(name in scope for scope in self.scopes):
            raise self.refuse(pos, f"a local named '{name}' is already defined in this scope")
        slot = self.slot_count
        self.slot_count += 1
        self.scopes[-1][name] = (slot, type_)
        return slot

    def local(self, name: str) -> tuple[int, CsType] | None:
        """The visible local ``name``: its slot and static type (None: no local has that name here)."""
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        return None

    def expression_variable(self, node: Node, name: str, type_name: str, pos: int) -> int:
        """The slot of a pattern's or an out argument's variable (``node``: the pattern or argument), of the type
        written ``type_name`` ("": known only as it runs). C# 7 scopes it to the statement (or lambda) it stands in,
        so it goes to the innermost scope that is not the emulator's own scope of a ``?.`` access; a node compiled
        twice (a compound assignment's value is typed, then compiled) keeps its slot."""
        scope = next(scope for scope in reversed(self.scopes) if "?." not in scope)
        slot = self.expression_slots.get(id(node))
        if slot is None:
            if any(name in visible for visible in self.scopes):
                raise self.refuse(pos, f"a local named '{name}' is already defined in this scope")
            slot = self.expression_slots[id(node)] = self.slot_count
            self.slot_count += 1
        long_local = type_name in LONG_NAMES  # a long by its form: typed when it runs, marked long
        scope[name] = (slot, _D if long_local or not type_name else declared_type(type_name) or _D)
        if type_name:
            self.type_names[slot] = type_name
        if long_local:
            self.long_slots.add(slot)
        return slot

    def _lambda(self, node: Lambda) -> Compiled:
        self.scopes.append({})
        try:
            slots = [self.allocate(p, _D, node.pos) for p in node.params]
            body = self.value(node.body)
        finally:
            self.scopes.pop()
        bf = body.fn

        def make(ctx: Any) -> object:
            def invoke(*values: object) -> object:
                for slot, value in zip(slots, values, strict=False):
                    ctx.slots[slot] = value
                return bf(ctx)

            return invoke

        return Compiled(make, _T.LAMBDA, node.pos)

    def _lambda_outside_call(self, node: Lambda) -> Compiled:
        raise self.refuse(node.pos, "lambda expressions (=>) are supported only as method arguments")

    def _named_outside_call(self, node: NamedArg) -> Compiled:
        raise self.refuse(node.pos, "named arguments are supported only in method calls")

    def _placeholder(self, node: Placeholder) -> Compiled:
        slot, type_ = self.scopes[-1]["?."]
        return Compiled(lambda ctx: ctx.slots[slot], type_, node.pos)

    def _null_safe(self, node: NullSafe) -> Compiled:
        found = self.node(node.target)
        if found.type is CsType.RESPONSE:  # context.Subscription?.Key: the member, unless the object is null
            return self._null_safe_object(node, found)
        target = self._as_value(found)
        if (target.type in NUMERIC or target.type is _T.BOOL) and not target.nullable:  # x?.ToString() of an int?
            raise self.refuse(node.pos, f"operator ?. cannot be applied to {target.type} values")
        self.scopes.append({})
        try:
            slot = self.allocate("?.", target.type, node.pos)
            access = self.value(node.access)
        finally:
            self.scopes.pop()
        tf, af = target.fn, access.fn

        def run(ctx: Any) -> object:
            value = tf(ctx)
            if value is None:
                return None
            ctx.slots[slot] = value
            return af(ctx)

        if access.type in NUMERIC or access.type is _T.BOOL:  # s?.Length is an int?: null, or the int
            return Compiled(run, _D, node.pos, nullable=access.type.value)
        return Compiled(run, access.type, node.pos, nullable=access.nullable)

    def _null_safe_object(self, node: NullSafe, target: Compiled) -> Compiled:
        """``context.X?.access`` of a context object (compiled as ``context.X.access``) null when the object is."""
        access = self.value(_on_target(node.access, node.target))
        present, af = target.fn, access.fn

        def run(ctx: Any) -> object:
            return None if present(ctx) is None else af(ctx)

        if access.type in NUMERIC or access.type is CsType.BOOL:  # context.Response?.StatusCode is an int?
            return Compiled(run, _D, node.pos, nullable=access.type.value)
        return Compiled(run, access.type, node.pos, nullable=access.nullable)

    def _interpolated(self, node: Interpolated) -> Compiled:
        parts: list[Fn] = []
        for part in node.parts:
            if isinstance(part, str):
                parts.append(lambda ctx, text=part: text)
            elif isinstance(part, tuple):  # {value,alignment:format}, either one optional
                fn, fmt, width = self.value(part[0]).fn, part[1], part[2]
                parts.append(lambda ctx, fn=fn, fmt=fmt, width=width: library.format_item(fn(ctx), fmt, width))
            else:
                fn = self.value(part).fn  # type: ignore[arg-type]
                parts.append(lambda ctx, fn=fn: "" if (v := fn(ctx)) is None else library.display(v))
        return Compiled(guard(lambda ctx: "".join(p(ctx) for p in parts), node.pos), _T.STRING, node.pos)

    def _new(self, node: New) -> Compiled:
        if node.fields is not None:
            fields = [(name, self.value(value).fn) for name, value in node.fields]
            return Compiled(lambda ctx: library.AnonymousObject((k, f(ctx)) for k, f in fields), _D, node.pos)
        values = [self.value(a) for a in node.args]
        items = [v.fn for v in values]
        if node.array:  # new long[] { ... }: the items converted as a long local's value is
            target = converted_type(node.type)
            if target is not None:
                for value in values:
                    if (refusal := implicit_refusal(value.type, target)) is not None:
                        raise self.refuse(value.pos, refusal)
                items = [converted(fn, target, a.pos) for fn, a in zip(items, node.args, strict=True)]
            array = library.LongArray if target == "long" else library.CsList  # a long[] converts later stores
            return Compiled(lambda ctx: array(f(ctx) for f in items), _D, node.pos)
        assert node.type is not None
        base = node.type.name.split("<")[0]
        ctor = library.CONSTRUCTORS.get(library.canonical_class(base))
        if ctor is None:
            raise self.refuse(node.type.pos, f"new {base}(...) is not supported",
                              "supported: new " + ", new ".join(sorted(library.CONSTRUCTORS)), limit=True)
        self._check_arity(ctor, len(items), f"new {base}()", node.pos)
        adds = [[a.fn for a in self._arguments(group)] for group in node.adds]

        def construct(ctx: Any) -> object:
            obj = ctor(*[f(ctx) for f in items])
            for group in adds:
                library.call_method(obj, "Add", (), tuple(f(ctx) for f in group))
            return obj

        return Compiled(guard(construct, node.pos), _D, node.pos)

    def _block(self, node: Block) -> Compiled:
        from .blocks import compile_block

        return compile_block(self, node)


    def _type_test(self, node: TypeTest) -> Compiled:
        base = nullables.nullable_base(node.type.name)  # o is int? tests for an int; o as int? gives one, or null
        name = base or node.type.name
        check = library.RUNTIME_CHECKS.get(name)
        if check is None:
            raise self.refuse(node.type.pos, f"type tests against {name} are not supported",
                              "supported: " + ", ".join(sorted(library.RUNTIME_CHECKS)), limit=True)
        operand = self.value(node.operand)
        fn = operand.fn
        if node.op == "as":
            target = CAST_TARGETS.get(name) or CAST_ALIASES.get(name)
            if (target in NUMERIC or target is CsType.BOOL) and base is None:
                raise self.refuse(node.pos, f"the as operator needs a reference type, not {name}")
            result = target if base is not None and target is not None else CsType.STRING if target is CsType.STRING else _D
            return Compiled(lambda ctx: v if (v := fn(ctx)) is not None and check(v) else None, result, node.pos,
                            nullable=base or "")
        if node.name is not None:  # x is T name: name holds the value when the test is true (C# 7)
            return self._declaration_pattern(node, name, operand, check)
        negate = node.op == "is not"
        return Compiled(lambda ctx: ((v := fn(ctx)) is not None and check(v)) != negate, CsType.BOOL, node.pos)

    def _declaration_pattern(self, node: TypeTest, type_name: str, operand: Compiled,
                             check: Callable[[Any], bool]) -> Compiled:
        assert node.name is not None
        if operand.type is CsType.NULL:
            raise self.refuse(node.operand.pos, "a pattern needs a value, not null (C# refuses it: CS8117)")
        known = operand.type in (CsType.STRING, CsType.INT, CsType.DOUBLE, CsType.BOOL) and not operand.nullable
        written = "char" if self.is_char_text(node.operand) else _NAMES.get(operand.type, "")  # 'a' is text here
        if known and dotnet_name_of(type_name) not in (dotnet_name_of(written), "System.Object"):
            raise self.refuse(node.type.pos, f"an expression of type '{written}' can never be of type '{type_name}' "
                                             "(C# refuses it: CS8121)")
        fn = operand.fn
        slot = self.expression_variable(node, node.name, type_name, node.name_pos)

        def test(ctx: Any) -> bool:
            value = fn(ctx)
            if value is None or not check(value):
                return False
            ctx.slots[slot] = value
            return True

        return Compiled(test, CsType.BOOL, node.pos)


def _on_target(access: Node, target: Node) -> Node:
    """A ``?.`` access with ``target`` in place of its `Placeholder` (the start of its chain of members, calls and
    indexers)."""
    if isinstance(access, Placeholder):
        return target
    return dataclasses.replace(access, target=_on_target(access.target, target))  # type: ignore[attr-defined]


_NAMES = {CsType.STRING: "string", CsType.INT: "int", CsType.DOUBLE: "double", CsType.BOOL: "bool"}


def _arity(signature: inspect.Signature, leading: int = 0) -> str:
    """How many arguments a signature takes after its ``leading`` ones, in words: "1", "0 or 1", "2 to 4",
    "1 or more"."""
    params = list(signature.parameters.values())[leading:]
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        least = sum(1 for p in params if p.kind is p.POSITIONAL_OR_KEYWORD and p.default is p.empty)
        return f"{least} or more"
    least = sum(1 for p in params if p.default is p.empty)
    most = len(params)
    return str(most) if least == most else (f"{least} or {most}" if most == least + 1 else f"{least} to {most}")
