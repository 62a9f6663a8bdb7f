"""APIM050: resources of one kind whose names differ only in case."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from toolkit.artifacts.layout import ArtifactPath, Kind
from toolkit.lint.core import Finding, LintContext, Rule, Severity
from toolkit.lint.rules._documents import json_object

# Each resource kind and the kinds of the files that make one up (a folder of the tree).
_KINDS = {
    Kind.BACKEND: "backend",
    Kind.NAMED_VALUE: "named value",
    Kind.API: "API",
    Kind.API_POLICY: "API",
    Kind.FRAGMENT: "policy fragment",
    Kind.FRAGMENT_POLICY: "policy fragment",
}


class NameCaseCollision(Rule):
    """Two backends, named values, APIs or policy fragments have names that differ only in case.

    APIM resource names are case-insensitive: ``east`` and ``EAST`` are one backend, so the
    second PUT overwrites the first (or a publish fails halfway, after part of the tree is
    applied). The same holds for named value display names, which ``{{references}}`` match
    case-insensitively: two named values whose display names differ only in case make every
    reference ambiguous.

    Anti-pattern:
        backends/aoai-east/backendInformation.json
        backends/AOAI-East/backendInformation.json

    Best practice:
        One folder per resource, names unique ignoring case:
        backends/aoai-east/backendInformation.json
        backends/aoai-west/backendInformation.json
    """

    code = "APIM050"
    name = "name-case-collision"
    severity = Severity.ERROR
    summary = "Resource names (or named value display names) of one kind differ only in case."

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        """One finding per colliding resource, on its first file, naming the others."""
        first_file: dict[tuple[str, str], str] = {}
        for document in ctx.documents:
            kind = _KINDS.get(document.kind)
            if kind is not None:
                parsed = ArtifactPath.parse(document.path)
                if parsed is not None:
                    first_file.setdefault((kind, parsed.name), document.file)
        groups: dict[tuple[str, str], list[str]] = defaultdict(list)
        for kind, name in sorted(first_file):
            groups[kind, name.lower()].append(name)
        for (kind, _), names in groups.items():
            for name in names if len(names) > 1 else ():
                others = ", ".join(f"'{other}'" for other in names if other != name)
                yield self.finding(first_file[kind, name], 1, f"{kind} '{name}' differs only in case from {others}: "
                                   "APIM names are case-insensitive, so they are one resource")
        yield from self._display_names(ctx)

    def _display_names(self, ctx: LintContext) -> Iterator[Finding]:
        by_lower: dict[str, list[tuple[str, str, str]]] = defaultdict(list)  # display name -> (shown, folder, file)
        for document in ctx.documents:
            if document.kind is not Kind.NAMED_VALUE:
                continue
            data = json_object(document.text)
            properties = data.get("properties") if data else None
            shown = properties.get("displayName") if isinstance(properties, dict) else None
            if isinstance(shown, str) and shown:
                folder = ArtifactPath.parse(document.path)
                by_lower[shown.lower()].append((shown, folder.name if folder else document.path, document.file))
        for entries in by_lower.values():
            folders = {folder.lower() for _, folder, _ in entries}
            if len(folders) < 2:  # one resource (or folders colliding by case: reported above)
                continue
            for shown, folder, file in entries:
                others = ", ".join(f"'{o_folder}' ('{o_shown}')" for o_shown, o_folder, _ in entries if o_folder != folder)
                yield self.finding(file, 1, f"named value '{folder}' has display name '{shown}', the same ignoring "
                                   f"case as {others}: {{{{{shown}}}}} references are ambiguous")
