"""Which API a request calls: the longest API path that prefixes the URL, then, among the APIs of one
version set on that path, the version the request asks for (APIM's versioning schemes).

- ``Segment``: the version is the path segment after the API path (``/<path>/<version>/<operation>``);
  each version is routed as its own prefix, so the operation path starts after the version.
- ``Query``: ``?<versionQueryName>=<version>``; ``Header``: ``<versionHeaderName>: <version>``
  (header names ignore case, the version value is compared exactly).
- The ``Original`` version (an API of the set without ``apiVersion``) answers without a version.
- A version no API of the set has (or none given and there is no original) matches nothing: APIM's 404.
- Two APIs of one set with the same version (APIM accepted such a pair in a real tree; which one its
  gateway serves is undocumented): the emulator serves the one whose API id sorts first, always.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qsl

SCHEMES = frozenset({"Segment", "Query", "Header"})


class RoutedApi(Protocol):
    """What routing reads of a published API."""

    name: str
    path: str
    version: str
    scheme: str  # "Segment", "Query", "Header", or "" (not in a version set)
    version_name: str  # the query parameter or header holding the version ("" for Segment)


@dataclass(frozen=True)
class VersionScheme:
    """How an API's version set tells versions apart: ``scheme`` and the query/header name."""

    scheme: str = ""
    version_name: str = ""


def scheme_of(version_set: Mapping[str, Any] | None) -> VersionScheme:
    """The scheme of a stored version set (an unknown or missing set: not versioned)."""
    if version_set is None or version_set.get("versioningScheme") not in SCHEMES:
        return VersionScheme()
    scheme = str(version_set["versioningScheme"])
    field = {"Query": "versionQueryName", "Header": "versionHeaderName"}.get(scheme)
    return VersionScheme(scheme, str(version_set.get(field) or "") if field else "")


def route_prefix(api: RoutedApi) -> str:
    """The URL prefix an API answers on: ``/<path>``, plus ``/<version>`` for a Segment version ("" = root)."""
    parts = [api.path] if api.path else []
    if api.scheme == "Segment" and api.version:
        parts.append(api.version)
    return "/" + "/".join(parts) if parts else ""


class RouteTable:
    """Published APIs grouped by route prefix, longest prefix first; a group holds one API, or the APIs of one
    version set that share the prefix (sorted by id: the first of two with the same version is served)."""

    def __init__(self, apis: Iterable[RoutedApi]) -> None:
        groups: dict[str, list[RoutedApi]] = {}
        for api in apis:
            groups.setdefault(route_prefix(api).lower(), []).append(api)
        self._groups: list[tuple[str, tuple[RoutedApi, ...]]] = sorted(
            ((prefix, tuple(sorted(group, key=lambda a: a.name))) for prefix, group in groups.items()),
            key=lambda item: len(item[0]), reverse=True)

    def apis(self) -> list[RoutedApi]:
        """Every routed API, in the order requests are matched."""
        return [api for _, group in self._groups for api in group]

    def match(self, path: str, query: str, headers: Sequence[tuple[str, str]]) -> tuple[RoutedApi, str] | None:
        """(the API, the URL prefix it matched) for a request, or None (APIM's 404)."""
        lowered = path.lower()  # APIM matches API paths ignoring case
        for prefix, group in self._groups:
            if prefix and lowered != prefix and not lowered.startswith(prefix + "/"):
                continue
            api = group[0] if len(group) == 1 and not group[0].scheme else _pick_version(group, query, headers)
            return (api, path[:len(prefix)]) if api is not None else None
        return None


def _pick_version(group: Sequence[RoutedApi], query: str, headers: Sequence[tuple[str, str]]) -> RoutedApi | None:
    """The API of ``group`` whose version the request asks for (the original when it asks for none)."""
    wanted = requested_version(group[0], query, headers) if group[0].scheme in ("Query", "Header") else None
    for api in group:
        if api.scheme == "Segment" or not api.scheme:
            return api  # a Segment group is one version (its prefix holds it); an unversioned API stands alone
        if api.version == (wanted or ""):
            return api
    return None


def requested_version(api: RoutedApi, query: str, headers: Sequence[tuple[str, str]]) -> str | None:
    """The version a request names in the query parameter or header of ``api``'s scheme, or None."""
    if api.scheme == "Query":
        for name, value in parse_qsl(query, keep_blank_values=True):
            if name == api.version_name:
                return value
        return None
    wanted = api.version_name.lower()
    return next((value.strip() for name, value in headers if name.lower() == wanted), None)
