"""Syntax tree → a tree of closures, with C#'s static type rules checked at compile time.

Evaluation is one call per node: no parsing, lookups by name or regex happen after compile.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .cstypes import CAST_TARGETS, NUMERIC, CsType, cs_equals, format_double, format_value
from .errors import (
    NULL_REFERENCE,
    NULLABLE_WITHOUT_VALUE,
    EvaluationFailure,
    UnsupportedExpression,
    argument_null,
    invalid_cast,
    key_not_found,
)
from .members import MEMBERS_BY_PATH, METHODS_BY_NAME, NAMESPACES, STRING_METHODS, SUPPORTED_MEMBERS
from .nodes import Binary, Call, Cast, Conditional, Index, Literal, Member, Name, Node, Unary

Fn = Callable[[Any], object]
_NOT_CONSTANT = object()
_MISSING = object()
_T = CsType


@dataclass(slots=True)
class Compiled:
    """A compiled sub-expression: its closure, static type, constant value if any, context path."""

    fn: Fn
    type: CsType
    pos: int
    const: object = _NOT_CONSTANT
    path: str | None = None  # set for context.* chains


def _constant(value: object, type_: CsType, pos: int) -> Compiled:
    return Compiled(lambda ctx: value, type_, pos, value)


def _not_a_value(ctx: object) -> object:  # pragma: no cover - refused before it can run
    raise AssertionError("namespace evaluated")


def _members_under(path: str) -> str:
    """Hint listing what may follow ``path`` (one level down)."""
    prefix = path + "."
    names = sorted(
        {m.path.removeprefix(prefix).removesuffix("[]").split(".")[0] for m in SUPPORTED_MEMBERS if m.path.startswith(prefix)}
        | ({"[name]"} if path + "[]" in MEMBERS_BY_PATH else set())
    )
    return f"supported after {path}: " + ", ".join(names) if names else ""


def _wrap_int(value: int) -> int:
    """C# int addition is unchecked: wrap to 32 bits."""
    return ((value + 0x80000000) & 0xFFFFFFFF) - 0x80000000


_CAST_CHECKS: dict[CsType, Callable[[object], bool]] = {
    _T.STRING: lambda v: v is None or type(v) is str,
    _T.INT: lambda v: type(v) is int,
    _T.BOOL: lambda v: type(v) is bool,
    _T.DOUBLE: lambda v: type(v) is float,
}
_DOTNET_TARGET = {_T.STRING: "System.String", _T.INT: "System.Int32", _T.BOOL: "System.Boolean",
                  _T.DOUBLE: "System.Double"}  # fmt: skip


def checked_cast(fn: Fn, target: CsType, pos: int) -> Fn:
    """Closure that unboxes an object value to ``target`` the way a C# cast does."""
    check, name = _CAST_CHECKS[target], _DOTNET_TARGET[target]

    def run(ctx: Any) -> object:
        value = fn(ctx)
        if not check(value):
            raise EvaluationFailure(invalid_cast(value, name), pos)
        return value

    return run


class Compiler:
    """Compiles one expression's syntax tree; ``source`` is only used for error messages."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._dispatch: dict[type, Callable[[Any], Compiled]] = {
            Literal: self._literal, Name: self._name, Member: self._member, Call: self._call,
            Index: self._index, Cast: self._cast, Unary: self._unary, Binary: self._binary,
            Conditional: self._conditional,
        }  # fmt: skip
        self._path_methods: dict[str, Callable[[Call, str], Compiled]] = {
            "context.Request.Headers.GetValueOrDefault": self._header_method,
            "context.Response.Headers.GetValueOrDefault": self._header_method,
            "context.Variables.GetValueOrDefault": self._variable_get,
            "context.Variables.ContainsKey": self._variable_contains,
        }

    def refuse(self, pos: int, message: str, hint: str | None = None) -> UnsupportedExpression:
        return UnsupportedExpression.at(self.source, pos, message, hint)

    # -- entry points --------------------------------------------------------------------------

    def node(self, node: Node) -> Compiled:
        """Compile any node (may be a namespace or context.Response)."""
        return self._dispatch[type(node)](node)

    def value(self, node: Node) -> Compiled:
        """Compile a node that must produce a value."""
        return self._as_value(self.node(node))

    def _as_value(self, c: Compiled) -> Compiled:
        if c.type is _T.NAMESPACE:
            raise self.refuse(c.pos, f"{c.path} is not a value", _members_under(c.path or ""))
        if c.type is _T.RESPONSE:
            raise self.refuse(
                c.pos, "context.Response can only be compared with null",
                "use context.Response != null, or read context.Response.StatusCode",
            )  # fmt: skip
        return c

    def _fold(self, c: Compiled, *parts: Compiled) -> Compiled:
        """Evaluate now when every operand is constant (and the evaluation cannot fail)."""
        if all(p.const is not _NOT_CONSTANT for p in parts):
            try:
                return _constant(c.fn(None), c.type, c.pos)
            except EvaluationFailure:
                pass
        return c

    # -- leaves and member access --------------------------------------------------------------

    def _literal(self, node: Literal) -> Compiled:
        return _constant(node.value, node.type, node.pos)

    def _name(self, node: Name) -> Compiled:
        if node.ident == "context":
            return Compiled(_not_a_value, _T.NAMESPACE, node.pos, path="context")
        raise self.refuse(
            node.pos, f"{node.ident} is not supported",
            "expressions may use literals, context.* members, operators and a few string methods",
        )  # fmt: skip

    def _member(self, node: Member) -> Compiled:
        target = self.node(node.target)
        if target.path is None or target.path not in NAMESPACES:
            target = self._as_value(target)
            raise self.refuse(node.pos, f"member '{node.name}' is not supported on {target.type} values")
        path = f"{target.path}.{node.name}"
        spec = MEMBERS_BY_PATH.get(path)
        if spec is not None and spec.kind == "property":
            return Compiled(operator.attrgetter(spec.attr), CsType(spec.type), node.pos, path=path)  # type: ignore[arg-type]
        if spec is not None and spec.kind == "object":
            present = operator.attrgetter(spec.attr)  # type: ignore[arg-type]
            return Compiled(lambda ctx: None if present(ctx) is None else True, _T.RESPONSE, node.pos, path=path)
        if path in NAMESPACES:
            return Compiled(_not_a_value, _T.NAMESPACE, node.pos, path=path)
        if path + "[]" in MEMBERS_BY_PATH or path in self._path_methods:
            raise self.refuse(node.pos, f"{path} is not a value", _members_under(path))
        raise self.refuse(node.pos, f"{path} is not supported", _members_under(target.path))

    def _index(self, node: Index) -> Compiled:
        target = self.node(node.target)
        if target.path != "context.Variables":
            what = target.path or f"{self._as_value(target).type} values"
            hint = "use GetValueOrDefault(name, default)" if target.path and target.path.endswith(".Headers") else None
            raise self.refuse(node.pos, f"indexing {what} is not supported", hint)
        key = self._string_args(node.args, 1, 1, "context.Variables[...]", node.pos)[0].fn
        pos = node.pos

        def get(ctx: Any) -> object:
            name = key(ctx)
            if name is None:
                raise EvaluationFailure(argument_null("key"), pos)
            value = ctx.variables.get(name, _MISSING)
            if value is _MISSING:
                raise EvaluationFailure(key_not_found(name), pos)  # type: ignore[arg-type]
            return value

        return Compiled(get, _T.OBJECT, node.pos)

    # -- calls ---------------------------------------------------------------------------------

    def _call(self, node: Call) -> Compiled:
        if node.target is None:
            raise self.refuse(node.pos, f"function {node.name}() is not supported")
        target = self.node(node.target)
        if target.type in (_T.NAMESPACE, _T.RESPONSE):
            path = f"{target.path}.{node.name}"
            handler = self._path_methods.get(path)
            if handler is None:
                raise self.refuse(node.pos, f"{path}() is not supported", _members_under(target.path or ""))
            return handler(node, path)
        return self._value_method(self._as_value(target), node)

    def _string_args(self, args: tuple[Node, ...], low: int, high: int, what: str, pos: int) -> list[Compiled]:
        """Compile ``args`` that must be strings, checking their count."""
        if not low <= len(args) <= high:
            wanted = str(low) if low == high else f"{low} to {high}"
            raise self.refuse(pos, f"{what} takes {wanted} argument(s), got {len(args)}")
        compiled = [self.value(a) for a in args]
        for c in compiled:
            if c.type not in (_T.STRING, _T.NULL):
                hint = "cast it: (string)..." if c.type is _T.OBJECT else None
                raise self.refuse(c.pos, f"{what} needs a string argument, got {c.type}", hint)
        return compiled

    def _no_type_args(self, node: Call, what: str) -> None:
        if node.type_args:
            raise self.refuse(node.type_args[0].pos, f"type arguments on {what} are not supported")

    def _header_method(self, node: Call, path: str) -> Compiled:
        self._no_type_args(node, path)
        args = self._string_args(node.args, 1, 2, f"{path}()", node.pos)
        name = args[0].fn
        default = args[1].fn if len(args) == 2 else (lambda ctx: None)
        pos = node.pos
        response = path.startswith("context.Response.")

        def get(ctx: Any) -> object:
            header = name(ctx)
            if header is None:
                raise EvaluationFailure(argument_null("headerName"), pos)
            value = ctx.response_header(header) if response else ctx.request_header(header)
            return default(ctx) if value is None else value

        return Compiled(get, _T.STRING, node.pos)

    def _variable_get(self, node: Call, path: str) -> Compiled:
        if not 1 <= len(node.args) <= 2:
            raise self.refuse(node.pos, f"{path}() takes 1 to 2 argument(s), got {len(node.args)}")
        name = self._string_args(node.args[:1], 1, 1, f"{path}()", node.pos)[0].fn
        default = self.value(node.args[1]) if len(node.args) == 2 else None
        declared = self._variable_type(node, path)
        result = declared or (default.type if default is not None else _T.OBJECT)
        if result is _T.NULL:
            result = _T.OBJECT
        if default is not None and not _assignable(default.type, result):
            raise self.refuse(default.pos, f"default value of type {default.type} does not match {path}<{result}>")
        fallback = default.fn if default is not None else _default_of(result)
        check = _CAST_CHECKS.get(result)
        target = _DOTNET_TARGET.get(result, "")
        pos = node.pos

        def get(ctx: Any) -> object:
            key = name(ctx)
            if key is None:
                raise EvaluationFailure(argument_null("variableName"), pos)
            value = ctx.variables.get(key, _MISSING)
            if value is _MISSING:
                return fallback(ctx)
            if check is not None and not check(value):
                raise EvaluationFailure(invalid_cast(value, target), pos)
            return value

        return Compiled(get, result, node.pos)

    def _variable_type(self, node: Call, path: str) -> CsType | None:
        if not node.type_args:
            return None
        type_arg = node.type_args[0]
        if len(node.type_args) != 1 or type_arg.name not in CAST_TARGETS:
            raise self.refuse(
                type_arg.pos, f"{path}<{', '.join(t.name for t in node.type_args)}> is not supported",
                "supported: <string>, <int>, <bool>",
            )  # fmt: skip
        return CAST_TARGETS[type_arg.name]

    def _variable_contains(self, node: Call, path: str) -> Compiled:
        self._no_type_args(node, path)
        name = self._string_args(node.args, 1, 1, f"{path}()", node.pos)[0].fn
        pos = node.pos

        def contains(ctx: Any) -> bool:
            key = name(ctx)
            if key is None:
                raise EvaluationFailure(argument_null("key"), pos)
            return key in ctx.variables

        return Compiled(contains, _T.BOOL, node.pos)

    def _value_method(self, recv: Compiled, node: Call) -> Compiled:
        spec = METHODS_BY_NAME.get(node.name)
        if spec is None:
            hint = "supported methods: " + ", ".join(sorted(METHODS_BY_NAME))
            raise self.refuse(node.pos, f"method {node.name}() is not supported", hint)
        self._no_type_args(node, f"{node.name}()")
        if recv.type.value not in spec.receivers:
            hint = "cast it first: (string)..." if recv.type is _T.OBJECT else None
            raise self.refuse(node.pos, f"{node.name}() is not supported on {recv.type} values", hint)
        if len(node.args) != len(spec.parameters):
            raise self.refuse(node.pos, f"{node.name}() takes {len(spec.parameters)} argument(s), got {len(node.args)}")
        if node.name == "ToString":
            return self._fold(Compiled(_to_string(recv.fn, recv.type, node.pos), _T.STRING, node.pos), recv)
        if node.name == "Equals":
            arg = self.value(node.args[0])
            return self._fold(Compiled(_equals(recv.fn, arg.fn, recv.type, node.pos), _T.BOOL, node.pos), recv, arg)
        if spec in STRING_METHODS and spec.parameters:
            arg = self._string_args(node.args, 1, 1, f"{node.name}()", node.pos)[0]
            fn = _string_binary(recv.fn, arg.fn, _STRING_OPS[node.name], node.pos)
            return self._fold(Compiled(fn, _T.BOOL, node.pos), recv, arg)
        fn = _string_unary(recv.fn, _STRING_OPS[node.name], node.pos)
        return self._fold(Compiled(fn, _T.STRING, node.pos), recv)

    # -- operators -----------------------------------------------------------------------------

    def _cast(self, node: Cast) -> Compiled:
        target = CAST_TARGETS.get(node.type.name)
        if target is None:
            raise self.refuse(node.pos, f"cast to ({node.type.name}) is not supported", "supported: (string), (int), (bool)")
        operand = self.value(node.operand)
        src, fn, pos = operand.type, operand.fn, node.pos
        if src is _T.OBJECT:
            return Compiled(checked_cast(fn, target, pos), target, pos)
        if src is _T.INT and target is _T.INT and operand.const is _NOT_CONSTANT:
            return Compiled(_has_value(fn, pos), _T.INT, pos)  # (int) on the nullable status
        if src is target or (src is _T.NULL and target is _T.STRING):
            return Compiled(fn, target, pos, operand.const)
        if target is _T.INT and src is _T.DOUBLE:
            return self._fold(Compiled(lambda ctx: int(fn(ctx)), _T.INT, pos), operand)  # type: ignore[call-overload]
        hint = "use .ToString()" if target is _T.STRING else None
        raise self.refuse(pos, f"cannot cast {src} to ({node.type.name})", hint)

    def _unary(self, node: Unary) -> Compiled:
        operand = self.value(node.operand)
        if operand.type is not _T.BOOL:
            raise self.refuse(node.pos, f"operator ! needs a bool operand, got {operand.type}", _cast_hint(operand))
        fn = operand.fn
        return self._fold(Compiled(lambda ctx: not fn(ctx), _T.BOOL, node.pos), operand)

    def _binary(self, node: Binary) -> Compiled:
        if node.op in ("==", "!="):
            return self._equality(node)
        left, right = self.value(node.left), self.value(node.right)
        if node.op in ("&&", "||"):
            for side in (left, right):
                if side.type is not _T.BOOL:
                    raise self.refuse(side.pos, f"operator {node.op} needs bool operands, got {side.type}", _cast_hint(side))
            lf, rf = left.fn, right.fn
            fn: Fn = (lambda ctx: lf(ctx) and rf(ctx)) if node.op == "&&" else (lambda ctx: lf(ctx) or rf(ctx))
            return self._fold(Compiled(fn, _T.BOOL, node.pos), left, right)
        if node.op == "+":
            return self._plus(node, left, right)
        if left.type not in NUMERIC or right.type not in NUMERIC:
            raise self.refuse(
                node.pos, f"operator {node.op} cannot compare {left.type} with {right.type}",
                _cast_hint(left) or _cast_hint(right),
            )  # fmt: skip
        return self._fold(Compiled(_relational(left, right, _RELATIONAL[node.op]), _T.BOOL, node.pos), left, right)

    def _equality(self, node: Binary) -> Compiled:
        left, right = self.node(node.left), self.node(node.right)
        nulls = {left.type, right.type} & {_T.NULL}
        if not nulls:
            left, right = self._as_value(left), self._as_value(right)
        elif _T.NAMESPACE in (left.type, right.type):
            left, right = self._as_value(left), self._as_value(right)
        if not _comparable(left.type, right.type):
            raise self.refuse(
                node.pos, f"operator {node.op} cannot compare {left.type} with {right.type}",
                _cast_hint(left) or _cast_hint(right),
            )  # fmt: skip
        negate = node.op == "!="
        if right.const is not _NOT_CONSTANT or left.const is not _NOT_CONSTANT:
            varying, const = (left, right.const) if right.const is not _NOT_CONSTANT else (right, left.const)
            vf = varying.fn
            if const is None:
                fn: Fn = (lambda ctx: vf(ctx) is not None) if negate else (lambda ctx: vf(ctx) is None)
            else:
                fn = (lambda ctx: vf(ctx) != const) if negate else (lambda ctx: vf(ctx) == const)
        else:
            lf, rf = left.fn, right.fn
            fn = (lambda ctx: lf(ctx) != rf(ctx)) if negate else (lambda ctx: lf(ctx) == rf(ctx))
        return self._fold(Compiled(fn, _T.BOOL, node.pos), left, right)

    def _plus(self, node: Binary, left: Compiled, right: Compiled) -> Compiled:
        lf, rf = left.fn, right.fn
        types = (left.type, right.type)
        if _T.STRING in types:
            fn: Fn = lambda ctx: format_value(lf(ctx)) + format_value(rf(ctx))  # noqa: E731
            result = _T.STRING
        elif types == (_T.INT, _T.INT):
            fn = lambda ctx: None if (a := lf(ctx)) is None or (b := rf(ctx)) is None else _wrap_int(a + b)  # type: ignore[operator]  # noqa: E731
            result = _T.INT
        elif left.type in NUMERIC and right.type in NUMERIC:
            fn = lambda ctx: None if (a := lf(ctx)) is None or (b := rf(ctx)) is None else float(a + b)  # type: ignore[operator]  # noqa: E731
            result = _T.DOUBLE
        else:
            raise self.refuse(
                node.pos, f"operator + cannot be applied to {left.type} and {right.type}",
                _cast_hint(left) or _cast_hint(right),
            )  # fmt: skip
        return self._fold(Compiled(fn, result, node.pos), left, right)

    def _conditional(self, node: Conditional) -> Compiled:
        cond = self.value(node.condition)
        if cond.type is not _T.BOOL:
            raise self.refuse(cond.pos, f"the condition of ?: must be bool, got {cond.type}", _cast_hint(cond))
        then, other = self.value(node.then), self.value(node.otherwise)
        result = _merge(then.type, other.type)
        if result is None:
            raise self.refuse(node.pos, f"the branches of ?: have incompatible types {then.type} and {other.type}")
        cf, tf, of = cond.fn, _widen(then, result), _widen(other, result)
        return self._fold(Compiled(lambda ctx: tf(ctx) if cf(ctx) else of(ctx), result, node.pos), cond, then, other)


# -- helpers shared by the compile methods ---------------------------------------------------------

_RELATIONAL = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_STRING_OPS: dict[str, Callable[..., object]] = {
    "Contains": operator.contains, "StartsWith": str.startswith, "EndsWith": str.endswith,
    "ToLower": str.lower, "ToUpper": str.upper,
}  # fmt: skip
_REFERENCE_TYPES = frozenset({_T.STRING, _T.OBJECT, _T.NULL})


def _cast_hint(c: Compiled) -> str | None:
    return "cast the object value first, e.g. (string)context.Variables[\"name\"]" if c.type is _T.OBJECT else None


def _comparable(a: CsType, b: CsType) -> bool:
    """C#'s `==` operand rules for the subset (object needs a cast; null compares with anything)."""
    if _T.NULL in (a, b):
        return True
    if a in NUMERIC and b in NUMERIC:
        return True
    return a is b and a in (_T.STRING, _T.BOOL)


def _assignable(source: CsType, target: CsType) -> bool:
    return source is target or target is _T.OBJECT or (source is _T.NULL and target in _REFERENCE_TYPES)


def _default_of(type_: CsType) -> Fn:
    value: object = {_T.INT: 0, _T.BOOL: False, _T.DOUBLE: 0.0}.get(type_)
    return lambda ctx: value


def _merge(a: CsType, b: CsType) -> CsType | None:
    """Result type of `c ? a : b`, or None when C# has no conversion between the branches."""
    if a is b:
        return a
    if {a, b} <= NUMERIC:
        return _T.DOUBLE
    if _T.NULL in (a, b):
        other = b if a is _T.NULL else a
        return other if other in _REFERENCE_TYPES else None
    if _T.OBJECT in (a, b):
        return _T.OBJECT
    return None


def _widen(c: Compiled, result: CsType) -> Fn:
    fn = c.fn
    if result is _T.DOUBLE and c.type is _T.INT:
        return lambda ctx: None if (v := fn(ctx)) is None else float(v)  # type: ignore[arg-type]
    return fn


def _relational(left: Compiled, right: Compiled, op: Callable[[Any, Any], bool]) -> Fn:
    lf, rf = left.fn, right.fn
    if right.const is not _NOT_CONSTANT:
        c = right.const
        return lambda ctx: (a := lf(ctx)) is not None and op(a, c)
    return lambda ctx: (a := lf(ctx)) is not None and (b := rf(ctx)) is not None and op(a, b)


def _has_value(fn: Fn, pos: int) -> Fn:
    def run(ctx: Any) -> object:
        value = fn(ctx)
        if value is None:
            raise EvaluationFailure(NULLABLE_WITHOUT_VALUE, pos)
        return value

    return run


def _to_string(fn: Fn, type_: CsType, pos: int) -> Fn:
    if type_ is _T.INT:  # int? in the emulator (StatusCode): null.ToString() is ""
        return lambda ctx: "" if (v := fn(ctx)) is None else str(v)
    if type_ is _T.DOUBLE:
        return lambda ctx: format_double(fn(ctx))  # type: ignore[arg-type]

    def run(ctx: Any) -> str:
        value = fn(ctx)
        if value is None:
            raise EvaluationFailure(NULL_REFERENCE, pos)
        return format_value(value)

    return run


def _equals(recv: Fn, arg: Fn, type_: CsType, pos: int) -> Fn:
    def run(ctx: Any) -> bool:
        value = recv(ctx)
        if value is None:
            if type_ is _T.INT:  # Nullable<int>.Equals(other)
                return arg(ctx) is None
            raise EvaluationFailure(NULL_REFERENCE, pos)
        return cs_equals(value, arg(ctx))

    return run


def _string_unary(recv: Fn, op: Callable[..., object], pos: int) -> Fn:
    def run(ctx: Any) -> object:
        value = recv(ctx)
        if value is None:
            raise EvaluationFailure(NULL_REFERENCE, pos)
        return op(value)

    return run


def _string_binary(recv: Fn, arg: Fn, op: Callable[..., object], pos: int) -> Fn:
    def run(ctx: Any) -> object:
        value = recv(ctx)
        if value is None:
            raise EvaluationFailure(NULL_REFERENCE, pos)
        other = arg(ctx)
        if other is None:
            raise EvaluationFailure(argument_null("value"), pos)
        return op(value, other)

    return run
