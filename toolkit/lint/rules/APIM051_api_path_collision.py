"""APIM051: two APIs served on the same path (ignoring case), unless one version set tells them apart."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from toolkit.artifacts.arm_ids import version_set_name
from toolkit.artifacts.layout import Kind
from toolkit.lint.core import Finding, LintContext, Rule, Severity
from toolkit.lint.jsonlines import key_lines, line_of
from toolkit.lint.rules._documents import json_object


@dataclass(frozen=True)
class _Api:
    name: str
    path: str
    version_set: str | None
    version: str
    file: str
    line: int


class ApiPathCollision(Rule):
    """Two APIs have the same ``path`` (compared ignoring case and surrounding slashes).

    APIM routes requests by API path case-insensitively, and refuses a second API on a path
    already in use ("... unless it's a part of the same version set"), so the publish fails
    halfway through: an error. APIs of one version set share a path on purpose and differ by
    ``apiVersion`` (revisions, ``<api>;rev=<n>``, are never compared with their own API).
    Two APIs of one version set with the same version (or both without one) are a warning:
    APIM accepts the pair (real extracted trees hold one) but which one its gateway serves is
    undocumented; the local emulator serves the API whose id sorts first, and the finding names it.

    Anti-pattern:
        apis/chat/apiInformation.json          {"properties": {"path": "openai"}}
        apis/chat-v2/apiInformation.json       {"properties": {"path": "OpenAI/"}}

    Best practice:
        Distinct paths ("openai", "openai-v2"), or one version set with an apiVersion per API.
    """

    code = "APIM051"
    name = "api-path-collision"
    severity = Severity.ERROR
    summary = "Two APIs have the same path (APIM compares paths ignoring case)."

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        """One finding per API sharing its path with an API it cannot be told apart from."""
        by_path: dict[str, list[_Api]] = defaultdict(list)
        for api in _apis(ctx):
            by_path[api.path.strip("/").lower()].append(api)
        for apis in by_path.values():
            if len(apis) < 2:
                continue
            sets = {api.version_set for api in apis}
            if len(sets) == 1 and None not in sets:
                yield from self._same_version(apis)
                continue
            for api in apis:
                others = ", ".join(f"'{o.name}' (path '{o.path}')" for o in apis if o is not api)
                yield self.finding(api.file, api.line, f"API '{api.name}' has path '{api.path}', the same as API "
                                   f"{others} ignoring case: APIM routes by path case-insensitively and refuses "
                                   "the second API unless both belong to one version set")

    def _same_version(self, apis: list[_Api]) -> Iterator[Finding]:
        """APIs of one version set on one path: a warning for each version more than one of them has."""
        by_version: dict[str, list[_Api]] = defaultdict(list)
        for api in apis:
            by_version[api.version.lower()].append(api)
        for same in by_version.values():
            if len(same) < 2:
                continue
            served = min(api.name for api in same)
            version = f"version '{same[0].version}'" if same[0].version else "no version"
            for api in same:
                others = ", ".join(f"'{o.name}'" for o in same if o is not api)
                yield Finding(self.code, Severity.WARNING, api.file, api.line,
                              f"API '{api.name}' has path '{api.path}' and {version} in version set "
                              f"'{api.version_set}', as API {others}: which one APIM's gateway serves is "
                              f"undocumented; the local emulator serves '{served}'")


def _apis(ctx: LintContext) -> Iterator[_Api]:
    for document in ctx.documents:
        if document.kind is not Kind.API or ";rev=" in document.path:
            continue
        data = json_object(document.text)
        properties = data.get("properties") if data else None
        path = properties.get("path") if isinstance(properties, dict) else None
        if not isinstance(path, str):
            continue
        set_id = properties.get("apiVersionSetId")
        version_set = (version_set_name(set_id) or set_id.lower()) if isinstance(set_id, str) and set_id else None
        try:
            line = line_of(key_lines(document.text), ("properties", "path"))
        except RecursionError:
            line = 1
        yield _Api(document.path.split("/")[1], path, version_set, str(properties.get("apiVersion") or ""),
                   document.file, line)
