"""Policy ``format``: ``rawxml`` (expressions unescaped, as stored) and ``xml`` (well-formed, expressions escaped).

The plane stores every policy as rawxml. A PUT in ``xml`` is unescaped inside policy expressions
(``@(...)``/``@{...}`` attribute values and text nodes); a GET in ``xml`` (the default) escapes them
again with :func:`toolkit.artifacts.policy_xml.escape_expressions`.
"""

from __future__ import annotations

import re
from xml.sax.saxutils import unescape

FORMATS = ("xml", "rawxml")

_TOKEN = re.compile(
    r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|<![^>]*>|</[^>]*>"
    r"|<[A-Za-z_:][^\s/>]*(?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*\s*/?>"
    r"|[^<]+",
    re.DOTALL,
)
_ATTRIBUTE_VALUE = re.compile(r"(=\s*)(\"[^\"]*\"|'[^']*')")
_ENTITIES = {"&quot;": '"', "&apos;": "'"}


def to_raw(value: str, fmt: str) -> str:
    """The rawxml form of a policy sent in ``fmt``."""
    return value if fmt == "rawxml" else unescape_expressions(value)


def from_raw(raw: str, fmt: str) -> str:
    """A stored rawxml policy rendered in ``fmt``."""
    if fmt == "rawxml":
        return raw
    from toolkit.artifacts.policy_xml import escape_expressions

    return escape_expressions(raw)


def unescape_expressions(text: str) -> str:
    """Well-formed policy XML with the inside of every policy expression un-escaped (the rawxml form).

    Text that does not tokenise as well-formed XML is returned unchanged (the validator reports it).
    """
    out: list[str] = []
    position = 0
    for match in _TOKEN.finditer(text):
        if match.start() != position:
            return text
        token = match.group(0)
        position = match.end()
        if token.startswith("<"):
            if token[1:2] not in ("!", "?", "/"):
                token = _ATTRIBUTE_VALUE.sub(_unescape_attribute, token)
        elif _is_expression(token):
            token = unescape(token, _ENTITIES)
        out.append(token)
    return "".join(out) if position == len(text) else text


def _unescape_attribute(match: re.Match[str]) -> str:
    quoted = match.group(2)
    inner = quoted[1:-1]
    if not _is_expression(inner):
        return match.group(0)
    return f"{match.group(1)}{quoted[0]}{unescape(inner, _ENTITIES)}{quoted[0]}"


def _is_expression(text: str) -> bool:
    return text.lstrip().startswith(("@(", "@{"))
