"""Backend ``credentials`` (ARM BackendCredentialsContract) as the gateway applies them when forwarding.

``header`` and ``query`` map a name to a list of values (APIM sends each value; repeated values of a
header are comma-joined here); ``authorization`` is ``{"scheme", "parameter"}`` sent as the
Authorization header. ``{{named value}}`` references are resolved when the gateway rebuilds, so a
secret named value (an Azure OpenAI api-key) never appears in a published document. Client
certificates (``certificate``, ``certificateIds``) are refused at publish as the emulator's limit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

_NAMED_VALUE = re.compile(r"\{\{([^{}]+)\}\}")
Pairs = tuple[tuple[str, str], ...]


def resolve_named_values(value: Any, named_values: Mapping[str, str]) -> Any:
    """``value`` (strings, lists, objects) with ``{{name}}`` replaced (names case-insensitive; unknown left as is)."""
    folded = {k.lower(): v for k, v in named_values.items()}
    if isinstance(value, str):
        return _NAMED_VALUE.sub(lambda m: folded.get(m.group(1).strip().lower(), m.group(0)), value)
    if isinstance(value, list):
        return [resolve_named_values(item, named_values) for item in value]
    if isinstance(value, dict):
        return {key: resolve_named_values(item, named_values) for key, item in value.items()}
    return value


def credential_pairs(properties: Mapping[str, Any]) -> tuple[Pairs, Pairs]:
    """(headers, query parameters) a backend's ``credentials`` add to every forwarded request."""
    credentials = properties.get("credentials") or {}
    headers: list[tuple[str, str]] = []
    for name, values in (credentials.get("header") or {}).items():
        headers.append((str(name), ", ".join(str(v) for v in _as_list(values))))
    authorization = credentials.get("authorization") or {}
    if authorization.get("scheme"):
        headers.append(("Authorization", f"{authorization['scheme']} {authorization.get('parameter') or ''}".strip()))
    query = [(str(name), str(v)) for name, values in (credentials.get("query") or {}).items() for v in _as_list(values)]
    return tuple(headers), tuple(query)


def with_query(url: str, query: Pairs) -> str:
    """``url`` with the credential query parameters appended."""
    if not query:
        return url
    return url + ("&" if "?" in url else "?") + urlencode(query)


def _as_list(values: Any) -> list[Any]:
    return values if isinstance(values, list) else [values]
