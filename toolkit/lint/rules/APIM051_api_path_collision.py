"""APIM051: two APIs served on the same path (ignoring case)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from toolkit.artifacts.layout import Kind
from toolkit.lint.core import Finding, LintContext, Rule, Severity
from toolkit.lint.jsonlines import key_lines, line_of
from toolkit.lint.rules._documents import json_object


class ApiPathCollision(Rule):
    """Two APIs have the same ``path`` (compared ignoring case and surrounding slashes).

    APIM routes requests by API path case-insensitively, and refuses a second API on a path
    already in use, so the publish fails halfway through. APIs of one version set share a path
    on purpose and differ by ``apiVersion``; those are compared with their version (and
    revisions, ``<api>;rev=<n>``, are never compared with their own API).

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
        """One finding per API sharing its path (and version) with another API."""
        routes: dict[tuple[str, str, str], list[tuple[str, str, str, int]]] = defaultdict(list)
        for document in ctx.documents:
            if document.kind is not Kind.API or ";rev=" in document.path:
                continue
            data = json_object(document.text)
            properties = data.get("properties") if data else None
            path = properties.get("path") if isinstance(properties, dict) else None
            if not isinstance(path, str):
                continue
            version_set = properties.get("apiVersionSetId")
            version = properties.get("apiVersion")
            key = (path.strip("/").lower(), str(version_set or "").lower(), str(version or "").lower())
            try:
                line = line_of(key_lines(document.text), ("properties", "path"))
            except RecursionError:
                line = 1
            routes[key].append((document.path.split("/")[1], path, document.file, line))
        for apis in routes.values():
            for name, path, file, line in apis if len(apis) > 1 else ():
                others = ", ".join(f"'{o_name}' (path '{o_path}')" for o_name, o_path, _, _ in apis if o_name != name)
                yield self.finding(file, line, f"API '{name}' has path '{path}', the same as API {others} ignoring "
                                   "case: APIM routes by path case-insensitively and refuses the second API")
