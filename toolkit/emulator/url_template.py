"""APIM operation URL templates: parsing, the parameters they name, and matching a request against them.

A template is a path of segments, each a literal (``chat``), a parameter (``{deployment-id}``),
a literal with parameters (``{name}.json``) or a trailing wildcard (``*`` or ``{*rest}``),
optionally followed by a query part (``?api-version={api-version}``) whose parameters the request
must carry. APIM compares literal segments case-insensitively (emulator decision: APIM does not
document it; observed behaviour is case-insensitive paths) and prefers the most specific template
when several match: more literal segments first, then templates without a wildcard.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qsl, unquote

_PARAM = re.compile(r"\{([^{}]*)\}")
_Segment = tuple[re.Pattern[str], tuple[str, ...]]  # a path segment's pattern and the parameters it captures


class TemplateError(ValueError):
    """A URL template APIM would refuse (the message says why)."""


class RequestTarget:
    """A request's path (after the API path) split into percent-decoded segments, and its query string parsed
    on first use: computed once per request, then matched against each of the API's templates."""

    __slots__ = ("parts", "query", "_values")

    def __init__(self, path: str, query: str = "") -> None:
        stripped = path.strip("/")
        self.parts = [unquote(part) if "%" in part else part for part in stripped.split("/")] if stripped else []
        self.query = query
        self._values: dict[str, str] | None = None

    def query_values(self) -> dict[str, str]:
        """The query parameters (the last value of a repeated name)."""
        if self._values is None:
            self._values = dict(parse_qsl(self.query, keep_blank_values=True))
        return self._values


@dataclass(frozen=True)
class UrlTemplate:
    """A parsed template: path segment patterns, query parameters and the names of all parameters."""

    text: str
    segments: tuple[_Segment | None, ...]  # None = the trailing wildcard
    literal_segments: int
    wildcard: bool
    wildcard_name: str | None  # ``{*rest}`` captures the rest of the path; ``*`` captures nothing
    query: tuple[tuple[str, str], ...]  # (query name, template parameter name)
    parameters: tuple[str, ...]

    def match(self, path: str, query: str = "") -> dict[str, str] | None:
        """The template parameters' values when ``path`` (after the API path) and ``query`` match, else None."""
        return self.match_target(RequestTarget(path, query))

    def match_target(self, target: RequestTarget) -> dict[str, str] | None:
        """``match`` for a request split once (`RequestTarget`) and tried against several templates."""
        parts = target.parts
        fixed = self.segments[:-1] if self.wildcard else self.segments
        if len(parts) < len(fixed) or (not self.wildcard and len(parts) != len(fixed)):
            return None
        values: dict[str, str] = {}
        for (pattern, names), part in zip(fixed, parts):  # type: ignore[misc]
            found = pattern.fullmatch(part)
            if found is None:
                return None
            if names:
                values.update(zip(names, found.groups()))
        if self.wildcard_name:
            values[self.wildcard_name] = "/".join(parts[len(fixed):])
        if self.query:
            given = target.query_values()
            for name, parameter in self.query:
                if not given.get(name):
                    return None
                values[parameter] = given[name]
        return values

    @property
    def specificity(self) -> tuple[int, int, int]:
        """Sort key: higher is more specific (literal segments, no wildcard, query parameters)."""
        return self.literal_segments, 0 if self.wildcard else 1, len(self.query)


@lru_cache(maxsize=4096)
def parse_template(text: str) -> UrlTemplate:
    """Parse ``text``; TemplateError when it is not a template APIM accepts."""
    if not text.startswith("/"):
        raise TemplateError(f"URL template {text!r} must start with '/'")
    path, _, query_text = text.partition("?")
    raw_segments = path.strip("/").split("/") if path.strip("/") else []
    segments: list[_Segment | None] = []
    names: list[str] = []
    literal = 0
    wildcard, wildcard_name = False, None
    for index, segment in enumerate(raw_segments):
        if segment == "*" or re.fullmatch(r"\{\*[^{}]+\}", segment):
            if index != len(raw_segments) - 1:
                raise TemplateError(f"URL template {text!r}: a wildcard must be the last segment")
            wildcard = True
            segments.append(None)
            if segment != "*":
                wildcard_name = segment[2:-1]
                names.append(wildcard_name)
            continue
        if not segment:
            raise TemplateError(f"URL template {text!r} has an empty segment")
        segments.append(_segment_pattern(segment, text, names))
        literal += 0 if _PARAM.search(segment) else 1
    query: list[tuple[str, str]] = []
    for pair in filter(None, query_text.split("&")):
        name, _, value = pair.partition("=")
        found = _PARAM.fullmatch(value)
        if not name or found is None or not found.group(1):
            raise TemplateError(f"URL template {text!r}: query part {pair!r} must be name={{parameter}}")
        query.append((name, found.group(1)))
        names.append(found.group(1))
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise TemplateError(f"URL template {text!r} repeats parameter(s) {', '.join(duplicates)}")
    return UrlTemplate(text, tuple(segments), literal, wildcard, wildcard_name, tuple(query), tuple(names))


def _segment_pattern(segment: str, text: str, names: list[str]) -> _Segment:
    pattern, position, own = "", 0, []
    for found in _PARAM.finditer(segment):
        name = found.group(1)
        if not name or "*" in name:
            raise TemplateError(f"URL template {text!r}: {found.group(0)!r} is not a parameter name")
        pattern += re.escape(segment[position:found.start()]) + "([^/]+?)"
        own.append(name)
        position = found.end()
    if "{" in segment[position:] or "}" in segment[position:]:
        raise TemplateError(f"URL template {text!r}: unbalanced braces in {segment!r}")
    names.extend(own)
    return re.compile(pattern + re.escape(segment[position:]), re.IGNORECASE), tuple(own)
