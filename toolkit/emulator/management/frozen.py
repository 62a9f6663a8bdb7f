"""Deep-frozen JSON values: the store keeps properties frozen so that reads can share them without copying.

``FrozenDict`` and ``FrozenList`` are ``dict`` and ``list`` subclasses (``isinstance``, ``json.dumps``
and ``dict(...)`` keep working) that refuse every in-place change. ``copy.deepcopy`` of one gives back
plain, mutable ``dict``/``list`` values: the way for a caller to get a copy it may change.
"""

from __future__ import annotations

import copy
from typing import Any, NoReturn


def _refuse(self: Any, *args: Any, **kwargs: Any) -> NoReturn:
    raise TypeError(f"stored {type(self).__name__[6:].lower()} is read-only: copy.deepcopy() it to change a copy")


class FrozenDict(dict):  # type: ignore[type-arg]
    """A read-only dict (its values are frozen too)."""

    __slots__ = ()
    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = __ior__ = _refuse

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        return {key: copy.deepcopy(value, memo) for key, value in self.items()}

    def __copy__(self) -> dict[str, Any]:
        return dict(self)

    def __reduce__(self) -> Any:
        return (dict, (dict(self),))


class FrozenList(list):  # type: ignore[type-arg]
    """A read-only list (its items are frozen too)."""

    __slots__ = ()
    __setitem__ = __delitem__ = append = extend = insert = pop = remove = clear = sort = reverse = _refuse
    __iadd__ = __imul__ = _refuse

    def __deepcopy__(self, memo: dict[int, Any]) -> list[Any]:
        return [copy.deepcopy(value, memo) for value in self]

    def __copy__(self) -> list[Any]:
        return list(self)

    def __reduce__(self) -> Any:
        return (list, (list(self),))


def freeze(value: Any) -> Any:
    """A deep-frozen copy of a JSON-like value (dicts and lists frozen; scalars as they are)."""
    if isinstance(value, dict):
        return value if type(value) is FrozenDict else FrozenDict((key, freeze(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return value if type(value) is FrozenList else FrozenList(freeze(item) for item in value)
    return value


__all__ = ["FrozenDict", "FrozenList", "freeze"]
