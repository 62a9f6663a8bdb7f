"""Newtonsoft.Json's JToken model as policy expressions see it (JObject, JArray, JValue, JProperty).

Only what real policies use: parsing, indexers (a missing key reads as C# null, a JSON null as a
JValue of type Null), explicit conversions (``(string)token``), ``Value<T>``, ``ToString()``
(indented like Newtonsoft's default) and enumeration for LINQ.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any


class JsonReaderError(Exception):
    """Text that is not JSON (Newtonsoft's JsonReaderException)."""


class JToken:
    """Base of the JSON values."""

    __slots__ = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.DOTNET_NAME = "Newtonsoft.Json.Linq." + cls.__name__  # named in cast and member errors

    def to_python(self) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def type_name(self) -> str:  # JTokenType member name
        raise NotImplementedError

    def to_string(self) -> str:
        """``ToString()``: indented JSON for containers, the raw text for a string value."""
        return json.dumps(self.to_python(), indent=2, ensure_ascii=False)

    def compact(self) -> str:
        """``ToString(Formatting.None)`` / JsonConvert.SerializeObject."""
        return json.dumps(self.to_python(), separators=(",", ":"), ensure_ascii=False)

    def __iter__(self) -> Iterator[Any]:
        raise TypeError(f"Cannot enumerate a {self.type_name} token.")

    @property
    def has_values(self) -> bool:
        return False


class JValue(JToken):
    """A JSON string, number, boolean or null."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def to_python(self) -> Any:
        from datetime import datetime

        v = self.value
        if isinstance(v, datetime):  # as Newtonsoft writes a date: ISO 8601, its kind's zone, no trailing zeros
            from .formatting import format_datetime

            return format_datetime(v, "yyyy-MM-ddTHH:mm:ss.FFFFFFFK")
        return v

    @property
    def type_name(self) -> str:
        from datetime import datetime

        v = self.value
        if v is None:
            return "Null"
        if isinstance(v, datetime):
            return "Date"
        if isinstance(v, bool):
            return "Boolean"
        if isinstance(v, int):
            return "Integer"
        if isinstance(v, float):
            return "Float"
        return "String"

    def to_string(self) -> str:
        v = self.value
        if v is None:
            return ""
        if isinstance(v, bool):
            return "True" if v else "False"
        if isinstance(v, str):
            return v
        from .cstypes import format_value

        return format_value(v)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JValue) and self.value == other.value

    __hash__ = None  # type: ignore[assignment]


class JProperty(JToken):
    """``name: value`` inside a JObject."""

    __slots__ = ("name", "value")

    def __init__(self, name: str, value: Any) -> None:
        self.name = name
        self.value = to_token(value)

    def to_python(self) -> Any:
        return {self.name: self.value.to_python()}

    @property
    def type_name(self) -> str:
        return "Property"

    def to_string(self) -> str:
        return json.dumps(self.name) + ": " + self.value.to_string() if not isinstance(self.value, JValue) \
            else json.dumps(self.name) + ": " + json.dumps(self.value.value, ensure_ascii=False)


class JObject(JToken):
    """A JSON object; ``obj["key"]`` is the token or null."""

    __slots__ = ("items",)

    def __init__(self, items: dict[str, JToken] | None = None) -> None:
        self.items: dict[str, JToken] = items if items is not None else {}

    def to_python(self) -> Any:
        return {k: v.to_python() for k, v in self.items.items()}

    @property
    def type_name(self) -> str:
        return "Object"

    def get(self, key: str) -> JToken | None:
        return self.items.get(key)

    def set(self, key: str, value: Any) -> None:
        self.items[key] = to_token(value)

    def add(self, item: Any) -> None:
        """``Add(JProperty)`` or ``Add(name, value)`` (the latter via `set`); a duplicate name fails."""
        if not isinstance(item, JProperty):
            raise TypeError("Can not add a non-property value to a JObject.")
        if item.name in self.items:
            raise ValueError(f"Can not add property {item.name} to Newtonsoft.Json.Linq.JObject. "
                             "Property with the same name already exists on object.")
        self.items[item.name] = item.value

    def __iter__(self) -> Iterator[Any]:
        return (JProperty(k, v) for k, v in list(self.items.items()))

    @property
    def has_values(self) -> bool:
        return bool(self.items)


class JArray(JToken):
    """A JSON array."""

    __slots__ = ("values",)

    def __init__(self, values: list[JToken] | None = None) -> None:
        self.values: list[JToken] = values if values is not None else []

    def to_python(self) -> Any:
        return [v.to_python() for v in self.values]

    @property
    def type_name(self) -> str:
        return "Array"

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self.values))

    @property
    def has_values(self) -> bool:
        return bool(self.values)


def from_python(value: Any) -> JToken:
    """A JToken for parsed JSON (dict, list, scalars)."""
    if isinstance(value, dict):
        return JObject({str(k): from_python(v) for k, v in value.items()})
    if isinstance(value, list):
        return JArray([from_python(v) for v in value])
    return JValue(value)


def to_token(value: Any) -> JToken:
    """``JToken.FromObject``-like conversion of an expression value (strings, numbers, arrays, anonymous objects)."""
    if isinstance(value, JToken):
        return value
    if isinstance(value, (list, tuple)):
        return JArray([to_token(v) for v in value])
    if isinstance(value, dict):
        return JObject({str(k): to_token(v) for k, v in value.items()})
    from datetime import datetime

    if value is None or isinstance(value, (str, int, float, bool, datetime)):
        return JValue(value)  # a DateTime stays a Date token, as Newtonsoft keeps it
    from .cstypes import format_value

    return JValue(format_value(value))


def parse(text: str | None, expected: type[JToken] | None = None) -> JToken:
    """``JToken.Parse`` / ``JObject.Parse`` / ``JArray.Parse``."""
    if text is None:
        raise JsonReaderError("Value cannot be null. (Parameter 'json')")
    try:
        token = from_python(json.loads(text))
    except ValueError as exc:
        raise JsonReaderError(f"Unexpected character encountered while parsing value: {exc}") from None
    if expected is not None and expected is not JToken and not isinstance(token, expected):
        raise JsonReaderError(f"Error reading {expected.__name__} from JsonReader. Current JsonReader item is not "
                              f"{'an object' if expected is JObject else 'an array'}: {token.type_name}.")
    return token


def serialize(value: Any) -> str:
    """``JsonConvert.SerializeObject(value)``: compact JSON."""
    return to_token(value).compact()
