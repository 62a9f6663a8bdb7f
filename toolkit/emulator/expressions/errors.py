"""Errors of the expression subset: refused at compile (publish) time, failed at evaluation."""

from __future__ import annotations

from toolkit.errors import InputError

from .cstypes import dotnet_name_of, dotnet_type_name

# .NET exception messages, so a failed expression reads like it would on APIM.
NULL_REFERENCE = "Object reference not set to an instance of an object."
NULLABLE_WITHOUT_VALUE = "Nullable object must have a value."


def emulator_limit(what: str) -> str:
    """The refusal for something APIM runs and the emulator does not."""
    return f"{_LIMIT} {what} (APIM does)"


_LIMIT = "the local emulator does not support"
LIMIT_MARK = "(the emulator's limit)"  # ends a failure of the emulator's own bounds (a loop's iterations)


def names_emulator_limit(message: str) -> bool:
    """Whether ``message`` holds an `emulator_limit` refusal (something APIM accepts and the emulator does not)."""
    return f"{_LIMIT} " in message


# Failures no .NET code would see thrown: the emulator's gaps (a Python TypeError or AttributeError of a value the
# emulator does not handle), and what C# would have refused when it compiled, found only as the expression runs (a
# member the value has no definition of, CS1061; an argument of the wrong type, CS1503).
_NOT_THROWN = ("A value of the wrong type was used (", "C# refuses it", "does not contain a definition for",
               "does not contain this member")


def thrown_by_dotnet(detail: str) -> bool:
    """Whether a failure is an exception .NET would throw, which a catch of the expression's may take; not the
    emulator's limits, its gaps, nor what C# refuses when it compiles."""
    return not (names_emulator_limit(detail) or detail.endswith(LIMIT_MARK) or any(mark in detail for mark in _NOT_THROWN))


def invalid_cast(value: object, target: str) -> str:
    """Message of the InvalidCastException (or NullReferenceException when unboxing null)."""
    if value is None:
        return NULL_REFERENCE
    return f"Unable to cast object of type '{dotnet_type_name(value)}' to type '{dotnet_name_of(target)}'."


def key_not_found(key: str) -> str:
    """Message of the KeyNotFoundException raised by `context.Variables[key]`."""
    return f"The given key '{key}' was not present in the dictionary."


def argument_null(parameter: str) -> str:
    """Message of the ArgumentNullException for a null argument."""
    return f"Value cannot be null. (Parameter '{parameter}')"


def locate(source: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of a 0-based offset into ``source``."""
    line = source.count("\n", 0, offset) + 1
    return line, offset - (source.rfind("\n", 0, offset) + 1) + 1


def _where(source: str, line: int, column: int) -> str:
    shown = " ".join(source.split())
    if len(shown) > 160:
        shown = shown[:157] + "..."
    if "\n" in source.strip():
        return f"line {line}, column {column} of {shown}"
    return f"column {column} of {shown}"


class UnsupportedExpression(InputError):
    """The expression is outside the emulator's subset (or ill-typed); refused at publish time.

    ``column`` is 1-based within ``line`` of the expression text (``line`` is 1 unless the
    text spans lines); the caller adds the file and XML line.
    """

    def __init__(
        self,
        message: str,
        column: int,
        *,
        source: str = "",
        line: int = 1,
        hint: str | None = None,
        limit: bool = False,
    ) -> None:
        self.reason = message
        self.limit = limit  # valid APIM C# that the emulator cannot run (not an error APIM would report)
        self.column = column
        self.line = line
        self.source = source
        text = f"{message}, at {_where(source, line, column)}" if source else f"{message}, at column {column}"
        super().__init__(text, hint=hint)

    @classmethod
    def at(cls, source: str, offset: int, message: str, hint: str | None = None, *,
           limit: bool = False) -> UnsupportedExpression:
        """Build the error for a 0-based ``offset`` into ``source`` (``limit``: the emulator's, not APIM's)."""
        line, column = locate(source, offset)
        return cls(message, column, source=source, line=line, hint=hint, limit=limit)


class ExpressionRuntimeError(Exception):
    """An expression failed while evaluated (null dereference, bad cast, missing variable).

    The engine turns it into on-error: ``reason`` and ``message`` are what APIM puts in
    ``context.LastError`` for a failed expression ([3P]: observed APIM traces).
    """

    reason = "ExpressionValueEvaluationFailure"

    def __init__(self, detail: str, *, source: str, column: int, line: int = 1) -> None:
        self.detail = detail
        self.source = source
        self.column = column
        self.line = line
        self.message = f"Expression evaluation failed. {detail}"
        super().__init__(f"{self.message} ({_where(source, line, column)})")


class CsError(Exception):
    """A .NET exception thrown by a library call while evaluating (message as .NET words it)."""


class EvaluationFailure(Exception):
    """Raised inside compiled closures; `CompiledExpression.evaluate` adds the source text."""

    __slots__ = ("detail", "offset")

    def __init__(self, detail: str, offset: int) -> None:
        super().__init__(detail)
        self.detail = detail
        self.offset = offset
