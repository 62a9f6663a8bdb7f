"""HTTP headers as policies see them: case-insensitive names, set-header's joining rules."""

from __future__ import annotations

from collections.abc import Iterable
from http import HTTPStatus

# set-header docs: these headers are never comma-joined; each value is its own header line.
UNJOINED_HEADERS = frozenset({
    "user-agent", "www-authenticate", "proxy-authenticate", "cookie", "set-cookie", "warning", "date",
    "expires", "if-modified-since", "if-unmodified-since", "last-modified", "retry-after",
})


def breaks_header_line(text: str) -> bool:
    """Whether ``text`` holds a CR, LF or NUL, which no header name or value may (RFC 9110, 5.5): written into a
    message, it would end the header's line and start one of its author's choosing."""
    return "\n" in text or "\r" in text or "\0" in text


def reason_phrase(status: int) -> str:
    """The standard reason phrase of a status ('' when unknown)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


class HeaderMap:
    """HTTP headers by case-insensitive name; repeated values kept in order."""

    __slots__ = ("_values",)

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        values: dict[str, list[str]] = {}
        for name, value in items:
            key = name.lower()
            existing = values.get(key)
            if existing is None:
                values[key] = [value]
            else:
                existing.append(value)
        self._values = values

    def get(self, name: str) -> str | None:
        """The value, repeated values comma-joined; None when absent."""
        values = self._values.get(name.lower())
        if values is None:
            return None
        return values[0] if len(values) == 1 else ",".join(values)

    def get_all(self, name: str) -> list[str]:
        """Every value of the header, in order."""
        return list(self._values.get(name.lower(), ()))

    def set(self, name: str, values: list[str]) -> None:
        """Replace the header's values (comma-joined unless it is one of `UNJOINED_HEADERS`)."""
        key = name.lower()
        self._values[key] = values if key in UNJOINED_HEADERS or len(values) < 2 else [",".join(values)]

    def append(self, name: str, values: list[str]) -> None:
        """Add values after the existing ones (joined into the existing line unless unjoined)."""
        key = name.lower()
        existing = self._values.get(key)
        if key in UNJOINED_HEADERS:
            self._values[key] = (existing or []) + values
        elif existing is None:
            self._values[key] = [",".join(values)]
        else:
            existing[-1] = ",".join([existing[-1], *values])

    def remove(self, name: str) -> None:
        """Delete the header (no error when absent)."""
        self._values.pop(name.lower(), None)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._values

    def __len__(self) -> int:
        return len(self._values)

    def items(self) -> list[tuple[str, str]]:
        """(name, value) pairs, one per value, names lower-case."""
        return [(key, value) for key, values in self._values.items() for value in values]

    def to_dict(self) -> dict[str, str]:
        """Name → value with repeated values comma-joined."""
        return {key: values[0] if len(values) == 1 else ",".join(values) for key, values in self._values.items()}

    def copy(self) -> HeaderMap:
        """An independent copy."""
        clone = HeaderMap()
        clone._values = {key: list(values) for key, values in self._values.items()}
        return clone

    def __repr__(self) -> str:
        return f"HeaderMap({self.items()!r})"
