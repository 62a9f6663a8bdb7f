"""Syntax tree → a tree of closures, with C#'s static type rules checked at compile time.

Evaluation is one call per node: no parsing, lookups by name or regex happen after compile.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable
from typing import Any

from . import library, nullables, out_calls
from .cstypes import (CAST_ALIASES, CAST_TARGETS, LONG_NAMES, NUMERIC, CsType, cs_equals, dotnet_name_of, format_value, same_type, to_lower, to_upper)
from .dotnet import as_int  # C# int addition is unchecked: it wraps to 32 bits
from .errors import (
    NULL_REFERENCE,
    CsError,
    EvaluationFailure,
    UnsupportedExpression,
    argument_null,
    invalid_cast,
    key_not_found,
)
from .members import MEMBERS_BY_PATH, METHODS_BY_NAME, NAMESPACES, STRING_METHODS, SUPPORTED_MEMBERS
from .nodes import (
    Binary,
    Block,
    Call,
    Cast,
    Conditional,
    Index,
    Interpolated,
    Lambda,
    Literal,
    Member,
    Name,
    NamedArg,
    New,
    Node,
    OutArg,
    NullSafe,
    Placeholder,
    TypeTest,
    Unary,
)
from .compiled import (
    _D,
    _NOT_CONSTANT,
    Compiled,
    Fn,
    Frame,
    _cast_hint,
    _constant,
    _not_a_value,
    converted,
    guard,
    is_long_form,
)
from .constants import ConstantEvaluator, ConstantRefused
from .dynamic_compiler import DynamicCompiler
from .jtoken import JObject
from .views import VIEWS

__all__ = ["Compiled", "Compiler", "Frame", "checked_cast", "guard"]

_MISSING = object()
_T = CsType


def _members_under(path: str) -> str:
    """Hint listing what may follow ``path`` (one level down)."""
    prefix = path + "."
    names = sorted(
        {m.path.removeprefix(prefix).removesuffix("[]").split(".")[0] for m in SUPPORTED_MEMBERS if m.path.startswith(prefix)}
        | ({"[name]"} if path + "[]" in MEMBERS_BY_PATH else set())
    )
    return f"supported after {path}: " + ", ".join(names) if names else ""


_CAST_CHECKS: dict[CsType, Callable[[object], bool]] = {
    _T.STRING: lambda v: v is None or type(v) is str,
    _T.INT: lambda v: type(v) is int,
    _T.BOOL: lambda v: type(v) is bool,
    _T.DOUBLE: lambda v: type(v) is float,
}
_DOTNET_TARGET = {_T.STRING: "System.String", _T.INT: "System.Int32", _T.BOOL: "System.Boolean",
                  _T.DOUBLE: "System.Double"}  # fmt: skip


def checked_cast(fn: Fn, target: CsType, pos: int, written: str | None = None) -> Fn:
    """Closure that unboxes an object value to ``target`` the way a C# cast does; ``written``: the type as the cast
    names it ((decimal) computes as a double, but its failure names System.Decimal)."""
    check, name = _CAST_CHECKS[target], dotnet_name_of(written) if written else _DOTNET_TARGET[target]

    def run(ctx: Any) -> object:
        value = fn(ctx)
        if not check(value):
            raise EvaluationFailure(invalid_cast(value, name), pos)
        return value

    return run


# Real APIM context members the emulator has no value for: refused as the emulator's limit.
APIM_CONTEXT_MEMBERS = frozenset({
    "context.Request.Certificate", "context.Request.ClientCertificate", "context.Deployment.Certificates",
    "context.Deployment.Gateway", "context.Deployment.GatewayId", "context.Api.Revision",
    "context.Api.IsCurrentRevision", "context.Api.Workspace", "context.Api.Protocols", "context.Api.ServiceUrl",
    "context.Api.SubscriptionKeyParameterNames", "context.Api.SubscriptionRequired", "context.Operation.Workspace",
    "context.Product.Groups", "context.Product.ApprovalRequired", "context.Product.State",
    "context.Product.SubscriptionLimit", "context.Product.SubscriptionRequired", "context.Subscription.CreatedDate",
    "context.Subscription.EndDate", "context.Subscription.StartDate", "context.Subscription.SecondaryKey",
    "context.User.Groups", "context.User.Identities", "context.User.Note", "context.User.RegistrationDate",
    "context.Workspace", "context.GraphQL",
})


# Context objects the emulator knows to be null (no subscription; no error yet): a member read without ?. throws, as
# in APIM. context.Product and context.User are never set (the emulator's subscriptions have no product or owner): their
# members read null.
_NULL_OBJECTS = frozenset({"context.Subscription", "context.LastError"})


def _of_present(present: Fn, read: Fn, pos: int) -> Fn:
    def member(ctx: Any) -> object:
        if present(ctx) is None:
            raise EvaluationFailure(NULL_REFERENCE, pos)
        return read(ctx)
    return member


_FIRST_MEMBER = {"context.Response": "StatusCode", "context.LastError": "Message", "context.Request": "Method",
                 "context.Deployment": "Region", "context.Product": "Name", "context.User": "Email"}


class Compiler(DynamicCompiler):
    """Compiles one expression's syntax tree; ``source`` is only used for error messages."""

    def __init__(self, source: str) -> None:
        self.source = source
        # locals: the root scope's are an expression's pattern and out variables (x is T v, out var v), the others
        # those of @{ } blocks and lambda parameters
        self.scopes: list[dict[str, tuple[int, CsType]]] = [{}]
        self.type_names: dict[int, str] = {}  # a local's declared type, as written (string[] value): out checks it
        self.expression_slots: dict[int, int] = {}  # id of a pattern or out argument -> its variable's slot
        self.iteration_slots: set[int] = set()  # foreach variables: read-only
        self.nullable_slots: dict[int, str] = {}  # locals declared int?, long?, ...: the value type (nullables.py)
        self.long_slots: set[int] = set()  # locals holding longs (long x, var x = 5L): a long by their form
        self.slot_count = 0
        self.returns: list[Compiled] = []
        self.constants = ConstantEvaluator(self.is_char_literal)
        self._dispatch: dict[type, Callable[[Any], Compiled]] = {
            Literal: self._literal, Name: self._name, Member: self._member, Call: self._call,
            Index: self._index, Cast: self._cast, Unary: self._unary, Binary: self._binary,
            Conditional: self._conditional, Interpolated: self._interpolated, New: self._new,
            NullSafe: self._null_safe, Lambda: self._lambda_outside_call, Block: self._block,
            NamedArg: self._named_outside_call, Placeholder: self._placeholder, TypeTest: self._type_test,
        }  # fmt: skip
        self._path_methods: dict[str, Callable[[Call, str], Compiled]] = {
            "context.Request.Headers.GetValueOrDefault": self._header_method,
            "context.Response.Headers.GetValueOrDefault": self._header_method,
            "context.Variables.GetValueOrDefault": self._variable_get,
            "context.Variables.ContainsKey": self._variable_contains,
        }

    def refuse(self, pos: int, message: str, hint: str | None = None, *, limit: bool = False) -> UnsupportedExpression:
        return UnsupportedExpression.at(self.source, pos, message, hint, limit=limit)

    # -- entry points --------------------------------------------------------------------------

    def node(self, node: Node) -> Compiled:
        """Compile any node (may be a namespace or context.Response)."""
        return self._dispatch[type(node)](node)

    def value(self, node: Node) -> Compiled:
        """Compile a node that must produce a value."""
        return self._as_value(self.node(node))

    def _as_value(self, c: Compiled) -> Compiled:
        if c.type is _T.NAMESPACE and c.path in VIEWS:
            return Compiled(guard(VIEWS[c.path], c.pos), _D, c.pos)
        if c.type is _T.STATIC:
            raise self.refuse(c.pos, f"{c.path} is a type, not a value")
        if c.type is _T.LAMBDA:
            raise self.refuse(c.pos, "lambda expressions (=>) are supported only as method arguments")
        if c.type is _T.NAMESPACE:
            raise self.refuse(c.pos, f"{c.path} is not a value", _members_under(c.path or ""))
        if c.type is _T.RESPONSE:
            raise self.refuse(
                c.pos, f"{c.path} can only be compared with null or read through ?.",
                f"use {c.path} != null, or read a member: {c.path}?.{_FIRST_MEMBER.get(c.path or '', 'Id')}",
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
        if self.is_char_literal(node):  # 'a': typed as text for the compiler, a char when run ('a' is char)
            return _constant(library.CsChar(node.value), node.type, node.pos)
        return _constant(node.value, node.type, node.pos)

    def _name(self, node: Name) -> Compiled:
        local = self.local(node.ident)
        if local is not None:
            slot, type_ = local
            return Compiled(lambda ctx: ctx.slots[slot], type_, node.pos, nullable=self.nullable_slots.get(slot, ""),
                            long=slot in self.long_slots)
        if node.ident == "context":
            return Compiled(_not_a_value, _T.NAMESPACE, node.pos, path="context")
        if node.ident in library.STATIC_CLASSES or node.ident in library.STATIC_NAMESPACES \
                or node.ident in library.CONSTRUCTORS:
            return Compiled(_not_a_value, _T.STATIC, node.pos, path=node.ident)
        raise self.refuse(
            node.pos, f"{node.ident} is not supported",
            "expressions may use literals, context.* members, operators and a few string methods",
        )  # fmt: skip

    def _member(self, node: Member) -> Compiled:
        target = self.node(node.target)
        if target.type is _T.STATIC:
            return self._static_member(target, node)
        if target.type is _T.NAMESPACE and target.path in VIEWS and f"{target.path}.{node.name}" not in MEMBERS_BY_PATH \
                and f"{target.path}.{node.name}" not in NAMESPACES:
            target = self._as_value(target)
        if target.path is None or target.path not in NAMESPACES:
            target = self._as_value(target)
            return self._runtime_member(target, node)
        path = f"{target.path}.{node.name}"
        spec = MEMBERS_BY_PATH.get(path)
        if spec is not None and spec.kind in ("property", "optional"):
            read = operator.attrgetter(spec.attr) if spec.kind == "property" else (
                lambda ctx, name=spec.attr: getattr(ctx, name, None))
            if target.path in _NULL_OBJECTS and target.type is _T.RESPONSE:  # context.Subscription.Key of none
                read = _of_present(target.fn, read, node.pos)
            return Compiled(read, CsType(spec.type), node.pos, path=path)  # type: ignore[arg-type]
        if spec is not None and spec.kind == "object":  # null, or True when present (no attribute: never null)
            present = operator.attrgetter(spec.attr) if spec.attr else (lambda ctx: True)
            return Compiled(lambda ctx: None if present(ctx) is None else True, _T.RESPONSE, node.pos, path=path)
        if path in NAMESPACES or path in VIEWS:
            return Compiled(_not_a_value, _T.NAMESPACE, node.pos, path=path)
        if path + "[]" in MEMBERS_BY_PATH or path in self._path_methods:
            raise self.refuse(node.pos, f"{path} is not a value", _members_under(path))
        raise self.refuse(node.pos, f"{path} is not supported", _members_under(target.path),
                          limit=path in APIM_CONTEXT_MEMBERS)

    def _index(self, node: Index) -> Compiled:
        target = self.node(node.target)
        if target.path != "context.Variables" and (target.type is not _T.NAMESPACE or target.path in VIEWS):
            value = self._as_value(target)
            if value.type in (_D, _T.STRING):
                keys = [self.value(a) for a in node.args]
                if len(keys) != 1:
                    raise self.refuse(node.pos, "indexers take one argument")
                tf, kf = value.fn, keys[0].fn
                return Compiled(guard(lambda ctx: library.index(tf(ctx), kf(ctx)), node.pos), _D, node.pos)
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
        if any(isinstance(arg, OutArg) for arg in node.args):
            return self._out_call(node, target)
        if target.type is _T.STATIC:
            return self._static_call(target, node)
        if target.type in (_T.NAMESPACE, _T.RESPONSE):
            path = f"{target.path}.{node.name}"
            handler = self._path_methods.get(path)
            if handler is None and target.path in VIEWS and node.name in library.METHOD_NAMES:
                return self._runtime_call(self._as_value(target), node)
            if handler is None:
                raise self.refuse(node.pos, f"{path}() is not supported", _members_under(target.path or ""))
            return handler(node, path)
        return self._value_method(self._as_value(target), node)

    def _out_call(self, node: Call, target: Compiled) -> Compiled:
        """``d.TryGetValue(key, out v)`` or ``T.TryParse(text, out v)`` (`out_calls`): the call's bool; the value goes to
        the out argument's variable."""
        if len(node.args) != 2 or not isinstance(node.args[1], OutArg) or isinstance(node.args[0], OutArg) or \
                node.name not in ("TryGetValue", "TryParse") or node.type_args:
            raise self.refuse(next(arg.pos for arg in node.args if isinstance(arg, OutArg)),
                              "out arguments are supported only in d.TryGetValue(key, out value) and "
                              "T.TryParse(text, out value)", limit=True)
        first, out = self.value(node.args[0]), node.args[1]
        argument = first.fn
        if node.name == "TryParse":
            type_name = library.canonical_class(target.path or "") if target.type is _T.STATIC else ""
            parameter = out_calls.try_parse_type(type_name)
            if parameter is None:
                raise self.refuse(node.pos, f"{target.path or 'this value'}.TryParse is not supported", limit=True)
            if first.type not in (_T.STRING, _T.NULL, _D):  # TryParse(string, out T): no other type converts to it
                raise self.refuse(first.pos, f"cannot convert from '{first.type.value}' to 'string' (C# refuses it: "
                                             "CS1503)", "pass a string: .ToString(), or (string) of a JSON value")
            parse = out_calls.try_parse(type_name)
            slot = self._out_variable(out, parameter)
            run: Callable[[Any], tuple[bool, Any]] = lambda ctx: parse(argument(ctx))  # noqa: E731
        else:
            if target.type is _T.STATIC:
                raise self.refuse(node.pos, f"{target.path}.TryGetValue() is not supported")
            parameter = out_calls.TRY_GET_VALUE_TYPES.get(target.path or "", "") if target.type is _T.NAMESPACE else ""
            slot = self._out_variable(out, parameter)
            # a receiver typed only as it runs: a JObject's values are JTokens, which an out string cannot take
            written = "" if parameter or slot is None else self.type_names.get(slot, "")
            wrong_for_json = bool(written) and not same_type(written, "JToken")
            receiver, pos = self._as_value(target).fn, node.pos

            def run(ctx: Any) -> tuple[bool, Any]:
                found = receiver(ctx)
                if found is None:
                    raise EvaluationFailure(NULL_REFERENCE, pos)
                if wrong_for_json and isinstance(found, JObject):
                    raise CsError(f"cannot convert from 'out {written}' to 'out JToken' (C# refuses it when it "
                                  f"compiles: CS1503, column {out.name_pos + 1})")
                return out_calls.try_get_value(found, argument(ctx))

        run = guard(run, node.pos)

        def call(ctx: Any) -> bool:
            result, value = run(ctx)
            if slot is not None:
                ctx.slots[slot] = value
            return result

        return Compiled(call, _T.BOOL, node.pos)

    def _out_variable(self, arg: OutArg, parameter: str) -> int | None:
        """The slot an out argument stores into (None: a discard), declared here or an existing local; its type must
        be the parameter's (``parameter``: "" when only known as the call runs), as C# wants for out (CS1503)."""
        if arg.name is None:
            return None
        if arg.declares:
            written = arg.type.name if arg.type is not None else parameter
            slot = self.expression_variable(arg, arg.name, written, arg.name_pos)
        else:
            local = self.local(arg.name)
            if local is None:
                raise self.refuse(arg.name_pos, f"only local variables can be out arguments, not '{arg.name}'")
            slot = local[0]
            if slot in self.iteration_slots:
                raise self.refuse(arg.name_pos, f"cannot pass '{arg.name}' as an out argument because it is a foreach "
                                                "iteration variable (C# refuses it: CS1657)")
            written = self.type_names.get(slot, "")
        if written and parameter and not same_type(written, parameter):  # out needs the very type (no conversion)
            raise self.refuse(arg.name_pos, f"cannot convert from 'out {written}' to 'out {parameter}' (C# refuses "
                                            "it: CS1503)", f"declare it {parameter}")
        return slot

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
        type_name = node.type_args[0].name if node.type_args else ""
        base_name = nullables.nullable_base(type_name)  # GetValueOrDefault<int?>: an int, or null when missing
        nullable = base_name or ""
        long_type = (base_name or type_name) in LONG_NAMES  # <long>: the default given converts to a long
        if long_type and default is not None and default.type in (_T.DOUBLE, _T.STRING, _T.BOOL) and not (
                self.is_char_text(node.args[1])):  # a char converts to a long ('a' is 97)
            raise self.refuse(default.pos, f"default value of type {default.type} does not match {path}<{type_name}>")
        if default is not None and not _assignable(default.type, result) and not (nullable and default.type is _T.NULL):
            raise self.refuse(default.pos, f"default value of type {default.type} does not match {path}<{result}>")
        if default is not None:
            fallback = converted(default.fn, "long", default.pos) if long_type else _widened(default, result)
        elif nullable:
            fallback = _null  # default(int?)
        else:
            fallback = _long_zero if long_type else _default_of(result)
        check = _CAST_CHECKS.get(result)
        target = _DOTNET_TARGET.get(result, "")
        if result is _D and node.type_args:
            class_name = base_name or type_name
            runtime_check = library.RUNTIME_CHECKS.get(class_name, lambda v: True)
            check, target = (lambda v: v is None or runtime_check(v)), class_name
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

        return Compiled(get, result, node.pos, nullable=nullable)

    def _variable_type(self, node: Call, path: str) -> CsType | None:
        if not node.type_args:
            return None
        type_arg = node.type_args[0]
        name = nullables.nullable_base(type_arg.name) or type_arg.name  # <int?>: an int, or null
        known = CAST_TARGETS.get(name) or CAST_ALIASES.get(name)
        if len(node.type_args) != 1 or (known is None and name not in library.CAST_NAMES):
            raise self.refuse(
                type_arg.pos, f"{path}<{', '.join(t.name for t in node.type_args)}> is not supported",
                "supported: <string>, <int>, <bool>, <double>, <JObject>, <JArray>, <JToken>, <DateTime>, ...",
            )  # fmt: skip
        return known or _D

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

    def _nullable_value_or(self, recv: Compiled, node: Call) -> Compiled:
        """``x.GetValueOrDefault()`` or ``x.GetValueOrDefault(d)`` of an ``int?`` (or another nullable value type)."""
        self._no_type_args(node, "GetValueOrDefault()")
        if len(node.args) > 1:
            raise self.refuse(node.pos, f"GetValueOrDefault() takes 0 to 1 argument(s), got {len(node.args)}")
        if node.args:
            default = self.value(node.args[0])
            if not _assignable(default.type, recv.type):
                raise self.refuse(default.pos, f"GetValueOrDefault() of a {recv.nullable}? needs a {recv.nullable}, "
                                               f"got {default.type}")
            fallback = _as_value_type(default, recv.nullable)
        else:
            zero = nullables.default_value(recv.nullable)
            if zero is None:
                raise self.refuse(node.pos, f"GetValueOrDefault() of a {recv.nullable}? without a default is not "
                                            "supported", "pass the default: GetValueOrDefault(value)", limit=True)
            fallback = lambda ctx: zero  # noqa: E731
        return Compiled(nullables.value_or(recv.fn, fallback), recv.type, node.pos, long=recv.long)

    def _nullable_method(self, recv: Compiled, node: Call) -> Compiled | None:
        """A method of a Nullable<T>: GetValueOrDefault, ToString() ("" without a value), Equals (null equals null);
        any other is refused (only .Value has the value's methods), except on a `nullables.MAYBE` mark, whose
        methods are dispatched when it runs (None)."""
        if node.name == "GetValueOrDefault":
            return self._nullable_value_or(recv, node)
        if node.name == "ToString" and not node.args:
            return Compiled(_to_string(recv.fn, recv.type, node.pos, nullable=True), _T.STRING, node.pos)
        if node.name == "Equals" and len(node.args) == 1:
            arg = self.value(node.args[0])
            return Compiled(_equals(recv.fn, arg.fn, recv.type, node.pos, boxed=True, nullable=True), _T.BOOL, node.pos)
        if recv.nullable == nullables.MAYBE:
            return None
        raise self.refuse(node.pos, f"'{nullables.described(recv.nullable)}' has no method {node.name}() with "
                                    f"{len(node.args)} argument(s) (C# refuses it: CS1061, CS1501)", "call it on .Value")

    def _value_method(self, recv: Compiled, node: Call) -> Compiled:
        spec = METHODS_BY_NAME.get(node.name)
        static = spec is not None and recv.type.value in spec.receivers and not node.type_args
        if recv.nullable:
            method = self._nullable_method(recv, node)
            if method is not None:
                return method
        if recv.type is _D or (recv.type is _T.STRING and not static and node.name in library.METHOD_NAMES) or (
                static and len(node.args) != len(spec.parameters) and node.name in _OVERLOADED  # type: ignore[union-attr]
                and recv.type is not _T.OBJECT):
            return self._runtime_call(recv, node)
        if spec is None:
            hint = "supported methods: " + ", ".join(sorted(METHODS_BY_NAME | dict.fromkeys(library.METHOD_NAMES)))
            if node.name in library.METHOD_NAMES:
                raise self.refuse(node.pos, f"{node.name}() is not supported on {recv.type} values", _cast_hint(recv))
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
            boxed = arg.type is _T.OBJECT  # 5.0.Equals((object)5): Equals(object), which converts nothing
            return self._fold(Compiled(_equals(recv.fn, arg.fn, recv.type, node.pos, boxed=boxed), _T.BOOL, node.pos),
                              recv, arg)
        if spec in STRING_METHODS and spec.parameters:
            if self.value(node.args[0]).type is _D:  # a char local or a JSON value: the runtime method checks it
                return self._runtime_call(recv, node)
            arg = self._string_args(node.args, 1, 1, f"{node.name}()", node.pos)[0]
            fn = _string_binary(recv.fn, arg.fn, _STRING_OPS[node.name], node.pos)
            return self._fold(Compiled(fn, _T.BOOL, node.pos), recv, arg)
        fn = _string_unary(recv.fn, _STRING_OPS[node.name], node.pos)
        return self._fold(Compiled(fn, _T.STRING, node.pos), recv)

    # -- operators -----------------------------------------------------------------------------

    def _nullable_cast(self, node: Cast, base: str) -> Compiled:
        """``(int?)x``: null stays null, any other value is cast as ``(int)x`` casts it (unboxed from an object)."""
        operand = self.value(node.operand)
        src, fn, pos = operand.type, operand.fn, node.pos
        target = CAST_TARGETS.get(base) or CAST_ALIASES.get(base)
        numeric = target in (_T.INT, _T.DOUBLE) or base in LONG_NAMES
        if not (src in (_D, _T.OBJECT, _T.NULL) or (src is _T.BOOL and target is _T.BOOL) or (src in NUMERIC and numeric)):
            raise self.refuse(pos, f"cannot cast {src} to ({node.type.name})")
        boxed = src is _T.OBJECT  # unboxing: the value's own type, no conversion (a JSON null is no null then)
        cast = library.unbox if boxed else library.convert
        name = "double" if target is _T.DOUBLE and not boxed else base  # decimal? and float? compute as double here

        def run(ctx: Any) -> object:
            value = fn(ctx)
            null = value is None or (not boxed and library.unwrap(value) is None)  # Newtonsoft: a JSON null is null
            return None if null else cast(value, name)

        return Compiled(guard(run, pos), target or _D, pos, nullable=base)

    def _cast(self, node: Cast) -> Compiled:
        name = node.type.name
        base = nullables.nullable_base(name)
        if base is not None:
            return self._nullable_cast(node, base)
        target = CAST_TARGETS.get(name) or CAST_ALIASES.get(name)
        if target is None and name not in library.CAST_NAMES:
            raise self.refuse(node.pos, f"cast to ({name}) is not supported",
                              "supported: " + ", ".join(f"({n})" for n in sorted(library.CAST_NAMES)))
        if target is _T.STRING and self.is_char_text(node.operand):
            raise self.refuse(node.pos, "cannot cast a char to (string) (C#: CS0030)", "use .ToString()")
        constant = self._integer_constant(node)  # (int)3000000000L is refused, (long)int.MaxValue a long constant
        if constant is not None:
            return constant
        operand = self.value(node.operand)
        src, fn, pos = operand.type, operand.fn, node.pos
        if operand.nullable and not name.endswith("?") and name not in ("object", "dynamic"):
            fn = nullables.value_of(fn, pos)  # (int)x of an int? without a value: Nullable object must have a value
        if (name in LONG_NAMES or name in ("char", "Char")) and (src in NUMERIC or src in (_D, _T.OBJECT)) or (
                name in ("char", "Char") and self.is_char_literal(node.operand)):  # a CsLong or CsChar, dynamic
            cast = library.unbox if src is _T.OBJECT else library.convert  # (long)(object)5 fails, as unboxing does
            return self._fold(Compiled(guard(lambda ctx: cast(fn(ctx), name), pos), _D, pos), operand)
        if name in ("object", "dynamic"):  # every value converts to object (boxing); nothing to check
            return Compiled(fn, _T.OBJECT if name == "object" else _D, pos)
        if src is _D:
            return Compiled(guard(lambda ctx: library.convert(fn(ctx), name), pos), target or _D, pos)
        if src is _T.OBJECT and (target is None or target not in _CAST_CHECKS):
            return Compiled(guard(lambda ctx: library.unbox(fn(ctx), name), pos), target or _D, pos)
        if target is None:
            raise self.refuse(pos, f"cannot cast {src} to ({name})")
        if src is _T.OBJECT:
            return Compiled(checked_cast(fn, target, pos, name), target, pos)
        if target is _T.DOUBLE and src in NUMERIC:
            return self._fold(Compiled(lambda ctx: None if (v := fn(ctx)) is None else float(v), _T.DOUBLE, pos), operand)
        if src is _T.INT and target is _T.INT and operand.const is _NOT_CONSTANT:
            return Compiled(nullables.value_of(fn, pos), _T.INT, pos)  # (int) of an int?: its value, or none
        if src is target or (src is _T.NULL and target is _T.STRING):
            return Compiled(fn, target, pos, operand.const)
        if target is _T.INT and src is _T.DOUBLE:  # toward zero; NaN or past the int range fails, never wraps
            return self._fold(Compiled(guard(lambda ctx: library.convert(fn(ctx), "int"), pos), _T.INT, pos), operand)
        hint = "use .ToString()" if target is _T.STRING else None
        raise self.refuse(pos, f"cannot cast {src} to ({node.type.name})", hint)

    def _unary(self, node: Unary) -> Compiled:
        operand = self.value(node.operand)
        fn = operand.fn
        if node.op == "-":
            if operand.type not in NUMERIC and operand.type is not _D:
                raise self.refuse(node.pos, f"unary minus cannot be applied to {operand.type}")
            constant = self._integer_constant(node)
            if constant is not None:
                return constant
            return self._fold(Compiled(guard(lambda ctx: library.arithmetic("-", 0, fn(ctx)), node.pos),
                                       operand.type, node.pos), operand)
        if operand.nullable and operand.nullable not in ("bool", "Boolean"):
            raise self.refuse(node.pos, f"operator ! needs a bool operand, got {nullables.described(operand.nullable)} (C# refuses it: "
                                        "CS0023)")
        if operand.nullable:  # !b of a bool? is a bool?: null stays null (C#'s lifted operator)
            return Compiled(guard(lambda ctx: None if (v := fn(ctx)) is None else not library.to_bool(v), node.pos),
                            _D, node.pos, nullable="bool")
        if operand.type is _D:
            return Compiled(guard(lambda ctx: not library.to_bool(fn(ctx)), node.pos), _T.BOOL, node.pos)
        if operand.type is not _T.BOOL:
            raise self.refuse(node.pos, f"operator ! needs a bool operand, got {operand.type}", _cast_hint(operand))
        fn = operand.fn
        return self._fold(Compiled(lambda ctx: not fn(ctx), _T.BOOL, node.pos), operand)

    def _binary(self, node: Binary) -> Compiled:
        if node.op in ("==", "!="):
            return self._equality(node)
        left, right = self.value(node.left), self.value(node.right)
        if node.op == "??":
            return self._coalesce(node, left, right)
        if node.op in ("&&", "||"):
            what = f"operator {node.op}"
            left, right = self.bool_operand(left, what, "CS0019"), self.bool_operand(right, what, "CS0019")
            for side in (left, right):
                if side.type is not _T.BOOL:
                    raise self.refuse(side.pos, f"operator {node.op} needs bool operands, got {side.type}", _cast_hint(side))
            lf, rf = left.fn, right.fn
            fn: Fn = (lambda ctx: lf(ctx) and rf(ctx)) if node.op == "&&" else (lambda ctx: lf(ctx) or rf(ctx))
            return self._fold(Compiled(fn, _T.BOOL, node.pos), left, right)
        if node.op in ("+", "-", "*", "/", "%"):
            constant = self._integer_constant(node)  # C# computes it now, checked
            if constant is not None:
                return constant
            with_chars = self._char_arithmetic(node, left, right)
            if with_chars is not None:
                return with_chars
        if node.op in ("+", "-", "*", "/", "%"):
            result = self._plus(node, left, right) if node.op == "+" else self._arithmetic(node, left, right)
            lifted = left.nullable or right.nullable  # x + 1 of an int? x is an int? (null when x is)
            if lifted and result.type in (_T.INT, _T.DOUBLE, _D):
                text_maybe = node.op == "+" and any(o.type is _D and not o.nullable for o in (left, right))
                mark = nullables.MAYBE if text_maybe else result.type.value if result.type is not _D else lifted
                return dataclasses.replace(result, nullable=mark)  # text_maybe: v + s?.Length may be text
            return result
        left_char, right_char = self.is_char_literal(node.left), self.is_char_literal(node.right)
        if _D in (left.type, right.type) or (left_char and right_char) or (
                (left_char or right_char) and NUMERIC & {left.type, right.type}):
            lf = _char_constant(left) if left_char else left.fn  # 'a' + 1 > 'a': a char literal compares by its code
            rf, op = _char_constant(right) if right_char else right.fn, node.op
            return Compiled(guard(lambda ctx: library.compare(op, lf(ctx), rf(ctx)), node.pos), _T.BOOL, node.pos)
        if left.type not in NUMERIC or right.type not in NUMERIC:
            raise self.refuse(
                node.pos, f"operator {node.op} cannot compare {left.type} with {right.type}",
                _cast_hint(left) or _cast_hint(right),
            )  # fmt: skip
        return self._fold(Compiled(_relational(left, right, _RELATIONAL[node.op]), _T.BOOL, node.pos), left, right)

    def _char_arithmetic(self, node: Binary, left: Compiled, right: Compiled) -> Compiled | None:
        """A char literal with a number, a char or a value known only when run: C# adds code points ('a' + 1 is 98,
        "123"[0] - '0' is 1), so the literal is a CsChar and the operation dynamic; None otherwise (a char joined
        to a string is text, as in C#)."""
        left_char, right_char = self.is_char_literal(node.left), self.is_char_literal(node.right)
        if not (left_char or right_char):
            return None
        other = left if right_char else right
        if not (left_char and right_char) and other.type not in NUMERIC and other.type is not _D:
            return None
        lf = _char_constant(left) if left_char else left.fn
        rf = _char_constant(right) if right_char else right.fn
        op = node.op
        return Compiled(guard(lambda ctx: library.arithmetic(op, lf(ctx), rf(ctx)), node.pos), _D, node.pos)

    def is_char_literal(self, node: Node) -> bool:
        """A literal written 'c' (a char in C#; a one-character string in the emulator)."""
        return isinstance(node, Literal) and node.type is CsType.STRING and self.source[node.pos:node.pos + 1] == "'"

    def is_char_text(self, node: Node) -> bool:
        """A char literal, or a ``?:`` whose branches are (``flag ? ',' : ';'``): text-typed, a char in C#."""
        if isinstance(node, Conditional):
            return self.is_char_text(node.then) and self.is_char_text(node.otherwise)
        return self.is_char_literal(node)

    def _equality(self, node: Binary) -> Compiled:
        left, right = self.node(node.left), self.node(node.right)
        nulls = {left.type, right.type} & {_T.NULL}
        if not nulls:
            left, right = self._as_value(left), self._as_value(right)
        elif _T.NAMESPACE in (left.type, right.type) or _T.STATIC in (left.type, right.type):
            left, right = self._as_value(left), self._as_value(right)
        chars = self.is_char_literal(node.left) or self.is_char_literal(node.right)
        if (_D in (left.type, right.type) or {left.type, right.type} == {_T.OBJECT, _T.STRING}
                or (chars and (left.type in NUMERIC or right.type in NUMERIC))):
            lf, rf, negate = left.fn, right.fn, node.op == "!="
            if self.is_char_literal(node.left):  # 'a' + 1 == 'b': the literal is a char (its code against numbers)
                lf = _char_constant(left)
            if self.is_char_literal(node.right):
                rf = _char_constant(right)
            return Compiled(guard(lambda ctx: library.equals(lf(ctx), rf(ctx)) != negate, node.pos), _T.BOOL, node.pos)
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

    def _coalesce(self, node: Binary, left: Compiled, right: Compiled) -> Compiled:
        if (left.type in NUMERIC or left.type is _T.BOOL) and not left.nullable:  # an int? may be null, an int not
            raise self.refuse(node.pos, f"operator ?? cannot be applied to {left.type} values")
        lf, rf = left.fn, _as_value_type(right, left.nullable) if left.nullable else right.fn
        result = _merge(left.type, right.type) or _D
        if left.nullable in LONG_NAMES and right.type is _T.DOUBLE:  # y ?? 2.5 of a long? is a double
            result, rf = _T.DOUBLE, right.fn
        if left.nullable:  # x ?? 1.5 of an int? is a double, x ?? 3000000000L a long: the value converts too
            lf = _widened(left, result)
            if is_long_form(node.right, right) and (left.type is _T.INT or left.nullable in LONG_NAMES):
                lf = converted(lf, "long", node.pos)  # an integer with a long: a long (a double? stays a double)
        return Compiled(lambda ctx: v if (v := lf(ctx)) is not None else rf(ctx), result, node.pos,
                        nullable=right.nullable)

    def _arithmetic(self, node: Binary, left: Compiled, right: Compiled) -> Compiled:
        types = {left.type, right.type}
        if not types <= (NUMERIC | {_D}):
            raise self.refuse(node.pos, f"operator {node.op} cannot be applied to {left.type} and {right.type}",
                              _cast_hint(left) or _cast_hint(right))
        result = _D if _D in types else (_T.INT if types == {_T.INT} else _T.DOUBLE)
        lf, rf, op = left.fn, right.fn, node.op
        return self._fold(Compiled(guard(lambda ctx: library.arithmetic(op, lf(ctx), rf(ctx)), node.pos), result,
                                   node.pos), left, right)

    def _integer_constant(self, node: Node) -> Compiled | None:
        """``node`` compiled as the integer constant C# computes when it compiles it (see `constants`: refused where
        C# refuses it), or None when C# does not read it as one."""
        try:
            found = self.constants.of(node)
        except ConstantRefused as refused:
            raise self.refuse(refused.pos, refused.message) from None
        if found is None:
            return None
        if found.kind == "int":
            return _constant(found.value, _T.INT, node.pos)
        return _constant(library.CsLong(found.value), _D, node.pos)  # a uint or a long: 64-bit arithmetic

    def _plus(self, node: Binary, left: Compiled, right: Compiled) -> Compiled:
        lf, rf = left.fn, right.fn
        types = (left.type, right.type)
        if _D in types and _T.STRING not in types:
            return Compiled(guard(lambda ctx: library.arithmetic("+", lf(ctx), rf(ctx)), node.pos), _D, node.pos)
        if _T.STRING in types:
            fn: Fn = lambda ctx: format_value(lf(ctx)) + format_value(rf(ctx))  # noqa: E731
            result = _T.STRING
        elif types == (_T.INT, _T.INT):
            fn = lambda ctx: None if (a := lf(ctx)) is None or (b := rf(ctx)) is None else as_int(a + b)  # type: ignore[operator]  # noqa: E731
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

    def bool_operand(self, c: Compiled, what: str, code: str = "CS0266") -> Compiled:
        """An operand that must be a bool (``what``: where; ``code``: C#'s error, for the message): a bool? is none,
        a dynamic value is checked when it runs."""
        if c.nullable:
            raise self.refuse(c.pos, f"{what} needs a bool, not a {nullables.described(c.nullable)} (C# refuses it: {code})",
                              "use .Value, or ?? false")
        return _as_bool(c)

    def _conditional(self, node: Conditional) -> Compiled:
        cond = self.bool_operand(self.value(node.condition), "the condition of ?:")
        if cond.type is not _T.BOOL:
            raise self.refuse(cond.pos, f"the condition of ?: must be bool, got {cond.type}", _cast_hint(cond))
        then, other = self.value(node.then), self.value(node.otherwise)
        nullable = then.nullable or other.nullable  # c ? x : 0 of an int? x is an int?, and so is c ? x : null
        result = _merge(then.type, other.type) if not (nullable and _T.NULL in (then.type, other.type)) else (
            other.type if then.type is _T.NULL else then.type)
        if result is None:
            raise self.refuse(node.pos, f"the branches of ?: have incompatible types {then.type} and {other.type}")
        cf, tf, of = cond.fn, _widen(then, result), _widen(other, result)
        longs = [is_long_form(n, c) for n, c in ((node.then, then), (node.otherwise, other))]
        # flag ? 1 : 2L is a long (both integers, one a long); flag ? 1.5 : 2L stays a double
        long = any(longs) and all(is_long or c.type is _T.INT for is_long, c in zip(longs, (then, other), strict=True))
        if long:
            tf, of = converted(tf, "long", node.then.pos), converted(of, "long", node.otherwise.pos)
        return self._fold(Compiled(lambda ctx: tf(ctx) if cf(ctx) else of(ctx), result, node.pos, long=long,
                                   nullable=nullable), cond, then, other)


# -- helpers shared by the compile methods ---------------------------------------------------------

_RELATIONAL = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_STRING_OPS: dict[str, Callable[..., object]] = {
    "Contains": operator.contains, "StartsWith": str.startswith, "EndsWith": str.endswith,
    "ToLower": to_lower, "ToUpper": to_upper,
}  # fmt: skip
_REFERENCE_TYPES = frozenset({_T.STRING, _T.OBJECT, _T.NULL})


_OVERLOADED = frozenset({"Equals", "StartsWith", "EndsWith", "Contains", "ToString"})  # overloads with more arguments


def _as_bool(c: Compiled) -> Compiled:
    """A dynamic operand of a logical operator, checked to be a bool when evaluated."""
    if c.type is not _D:
        return c
    fn = c.fn
    return Compiled(guard(lambda ctx: library.to_bool(fn(ctx)), c.pos), _T.BOOL, c.pos)


def _comparable(a: CsType, b: CsType) -> bool:
    """C#'s `==` operand rules for the subset (object needs a cast; null compares with anything)."""
    if _T.NULL in (a, b):
        return True
    if a in NUMERIC and b in NUMERIC:
        return True
    return a is b and a in (_T.STRING, _T.BOOL)


def _assignable(source: CsType, target: CsType) -> bool:
    if _D in (source, target):
        return True
    return source is target or target is _T.OBJECT or (source is _T.NULL and target in _REFERENCE_TYPES) or (
        source is _T.INT and target is _T.DOUBLE)


def _as_value_type(value: Compiled, base: str) -> Fn:
    """``value``'s function, converted as C# converts it implicitly to ``base``, a nullable's value type: ``x ?? 1`` of
    a ``long?`` is a long, of a ``double?`` a double."""
    if base in LONG_NAMES:
        return converted(value.fn, "long", value.pos)
    return _widened(value, CAST_ALIASES.get(base) or CAST_TARGETS.get(base) or _D)


def _widened(value: Compiled, target: CsType) -> Fn:
    """``value``'s function, an int (or a long?) made a double where a double is wanted (C#'s implicit conversion)."""
    fn = value.fn
    if (value.type is _T.INT or value.nullable in LONG_NAMES) and target is _T.DOUBLE:
        return lambda ctx: None if (v := fn(ctx)) is None else float(v)
    return fn


def _long_zero(ctx: Any) -> object:
    return library.CsLong(0)


def _char_constant(literal: Compiled) -> Fn:
    char = library.CsChar(literal.const)  # type: ignore[arg-type]
    return lambda ctx: char


def _null(ctx: Any) -> None:
    return None


def _default_of(type_: CsType) -> Fn:
    value: object = {_T.INT: 0, _T.BOOL: False, _T.DOUBLE: 0.0}.get(type_)
    return lambda ctx: value


def _merge(a: CsType, b: CsType) -> CsType | None:
    """Result type of `c ? a : b`, or None when C# has no conversion between the branches."""
    if a is b:
        return a
    if _D in (a, b) and _T.NULL in (a, b):
        return _D
    if {a, b} <= NUMERIC:
        return _T.DOUBLE
    if _T.NULL in (a, b):
        other = b if a is _T.NULL else a
        return other if other in _REFERENCE_TYPES else None
    if _T.OBJECT in (a, b):
        return _T.OBJECT
    if _D in (a, b):
        return _D
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


def _to_string(fn: Fn, type_: CsType, pos: int, *, nullable: bool = False) -> Fn:
    if nullable or type_ is _T.INT:  # a nullable (StatusCode is an int? here): ToString() without a value is ""
        return lambda ctx: format_value(fn(ctx))

    def run(ctx: Any) -> str:
        value = fn(ctx)
        if value is None:
            raise EvaluationFailure(NULL_REFERENCE, pos)
        return format_value(value)

    return run


def _equals(recv: Fn, arg: Fn, type_: CsType, pos: int, *, boxed: bool, nullable: bool = False) -> Fn:
    """``recv.Equals(arg)``; ``boxed``: Equals(object) (a nullable's, or an argument typed object), which converts
    nothing, as it is for a receiver typed object; ``nullable``: the receiver is a Nullable<T>, null without a value
    (any other null receiver fails, as a method call on null does)."""
    boxed = boxed or type_ is _T.OBJECT

    def run(ctx: Any) -> bool:
        value = recv(ctx)
        if value is None:
            if nullable or type_ is _T.INT:  # Nullable<T>.Equals(other) without a value (StatusCode is an int?)
                return arg(ctx) is None
            raise EvaluationFailure(NULL_REFERENCE, pos)
        return cs_equals(value, arg(ctx), boxed=boxed)

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

