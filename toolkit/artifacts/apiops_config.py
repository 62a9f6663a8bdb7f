"""APIOps ``configuration.<env>.yaml``: per-environment overrides of a base artifact tree.

The APIOps publisher reads one such file per environment (``CONFIGURATION_YAML_PATH``). Each
top-level section (``namedValues``, ``backends``, ...) lists ``{name, properties}`` objects; the
publisher finds the artifact of that name (case-insensitive) and merges the override into its
information file: objects merge key by key, anything else replaces (Azure/apiops,
``tools/code/publisher/OverrideDto.cs``). Values may hold ``{#TOKEN#}`` placeholders that the
pipeline substitutes from its secrets (the "Replace Tokens" step of the APIOps pipelines).
Unlike the publisher, toolkit refuses what would be dropped silently: an unknown section or key, a
duplicate, an override whose name matches nothing in the tree (``file:line: field: message``, exit 3).
"""

from __future__ import annotations

import copy
import difflib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from toolkit.artifacts.layout import ArtifactPath, Kind
from toolkit.artifacts.model import ArtifactSet, dump_json
from toolkit.config.yaml_reader import Path_, Positions, dotted, read_yaml
from toolkit.errors import ArtifactError, ConfigError, SourceLocation

CONFIGURATION_FILE = re.compile(r"^configuration\.([A-Za-z0-9._-]+)\.yaml$")
# Artifact kinds an APIOps configuration file can override, and their section names.
SECTIONS = {Kind.NAMED_VALUE: "namedValues", Kind.BACKEND: "backends", Kind.VERSION_SET: "versionSets"}
SERVICE_NAME = "apimServiceName"  # APIOps' name of the target service: accepted, unused (toolkit.yaml names it)
KNOWN_KEYS = (*SECTIONS.values(), SERVICE_NAME)
ITEM_KEYS = ("name", "properties")


def configuration_file(env: str) -> str:
    """``configuration.<env>.yaml``."""
    return f"configuration.{env}.yaml"


def merge(current: Any, override: Any) -> Any:
    """The APIOps publisher's merge: objects key by key (recursively), anything else is replaced."""
    if isinstance(current, dict) and isinstance(override, dict):
        merged = {k: copy.deepcopy(v) for k, v in current.items()}
        for key, value in override.items():
            merged[key] = merge(current[key], value) if key in current else copy.deepcopy(value)
        return merged
    return copy.deepcopy(override)


def overrides_between(base: ArtifactSet, target: ArtifactSet) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
    """The configuration that turns ``base`` into ``target`` for named values and backends, and the paths
    whose difference a configuration file cannot express (other kinds, added or removed resources)."""
    sections: dict[str, list[dict[str, Any]]] = {}
    inexpressible: list[str] = []
    for path in sorted(set(base.paths()) | set(target.paths())):
        parsed = ArtifactPath.parse(path)
        before, after = base.get(path), target.get(path)
        if parsed is None or before == after:
            continue
        if parsed.kind not in SECTIONS or before is None or after is None:
            inexpressible.append(path)
            continue
        old, new = json.loads(before).get("properties", {}), json.loads(after).get("properties", {})
        changed = {k: v for k, v in new.items() if old.get(k) != v}
        if set(old) - set(new):  # a removed field cannot be expressed as a merge
            inexpressible.append(path)
            continue
        sections.setdefault(SECTIONS[parsed.kind], []).append({"name": parsed.name, "properties": changed})
    return sections, inexpressible


def dump_configuration(sections: dict[str, list[dict[str, Any]]], env: str) -> str:
    """The YAML text of a configuration file (sections in a fixed order, keys as written)."""
    header = (f"# APIOps publisher overrides for environment '{env}' (CONFIGURATION_YAML_PATH), written by\n"
              "# `toolkit render --apiops`. {#NAME#} placeholders are replaced by the pipeline from its secrets.\n")
    ordered = {name: sections[name] for name in SECTIONS.values() if name in sections}
    return header + yaml.safe_dump(ordered, sort_keys=False, allow_unicode=True, width=1000)


def apply_configuration(artifacts: ArtifactSet, configuration: dict[str, Any]) -> ArtifactSet:
    """``artifacts`` with a configuration file's overrides merged in, as the APIOps publisher applies them.
    ArtifactError (exit 3) for a bad shape or for an override whose name matches nothing in the tree."""
    if not isinstance(configuration, Configuration):
        configuration = Configuration(configuration)
    result = ArtifactSet({p: artifacts.get(p) or "" for p in artifacts.paths()})
    for kind, section in SECTIONS.items():
        items = configuration.get(section) or []
        present = {path.name.lower(): path.name for path, _ in artifacts.artifacts(kind)}
        for index, item in enumerate(items):
            if item["name"].lower() not in present:
                close = difflib.get_close_matches(item["name"], present.values(), n=1)
                raise configuration.error((section, index, "name"), f"no {_label(kind)} {item['name']!r} in the tree",
                                          hint=f"did you mean {close[0]!r}?" if close else None)
        overrides = {item["name"].lower(): item for item in items}
        for path, text in artifacts.artifacts(kind):
            override = overrides.get(path.name.lower())
            if override is not None:
                document = merge(json.loads(text), {"properties": override["properties"]})
                result.put(path, dump_json(document))
    return result


def _label(kind: Kind) -> str:
    """``named value``, ``backend``, ``version set``."""
    return kind.value.replace("-", " ")


class Configuration(dict[str, Any]):
    """The sections of a configuration file, checked, with where each value was written (for messages).

    Known top-level keys: the SECTIONS, each a list of ``{name: text, properties: mapping}`` items (one per
    name), and APIOps' ``apimServiceName`` (text; toolkit takes the target from toolkit.yaml instead).
    """

    def __init__(self, document: Any, file: str = "configuration", positions: Positions | None = None) -> None:
        self.file, self.positions = file, positions or Positions()
        if not isinstance(document, dict):
            raise self.error((), "an APIOps configuration file is a mapping of sections "
                                 f"({', '.join(SECTIONS.values())})")
        super().__init__(document)
        for key, value in document.items():
            if key == SERVICE_NAME:
                self._expect(isinstance(value, str), (key,), f"must be text, got {value!r}")
            else:
                self._expect(key in SECTIONS.values(), (key,), f"unknown section (known: {', '.join(KNOWN_KEYS)})")
                self._check_section(key, value)

    def error(self, path: Path_, message: str, *, hint: str | None = None) -> ArtifactError:
        """``file:line: field: message`` for the value at ``path``."""
        file, line = self.positions.locate(path, self.file)
        return ArtifactError(f"{SourceLocation(file, line, dotted(path) or None)}: {message}", hint=hint)

    def _expect(self, condition: bool, path: Path_, message: str) -> None:
        if not condition:
            raise self.error(path, message)

    def _check_section(self, section: str, items: Any) -> None:
        self._expect(isinstance(items, list | None), (section,),
                     f"must be a list of {{name, properties}} items, got {items!r}")
        seen: dict[str, int | None] = {}
        for index, item in enumerate(items or []):
            at: Path_ = (section, index)
            self._expect(isinstance(item, dict), at, f"must be a mapping with name and properties, got {item!r}")
            for key in item:
                self._expect(key in ITEM_KEYS, at + (key,), "unknown key (an item has name and properties; "
                                                            "the fields to override go under properties)")
            for key in ITEM_KEYS:
                self._expect(key in item, at + (key,), "missing")
            name, properties = item["name"], item["properties"]
            self._expect(isinstance(name, str) and name != "", at + ("name",), f"must be text, got {name!r}")
            self._expect(isinstance(properties, dict), at + ("properties",),
                         f"must be a mapping of the fields to override, got {properties!r}")
            self._expect(name.lower() not in seen, at + ("name",),
                         f"{name!r} is already overridden (line {seen.get(name.lower())})")
            seen[name.lower()] = self.positions.locate(at, self.file)[1]


_TOKEN = re.compile(r"\{#([A-Za-z_][A-Za-z0-9_]*)#\}")


def load_configuration(path: Path, environ: Mapping[str, str]) -> Configuration:
    """A configuration file with its ``{#NAME#}`` placeholders replaced from ``environ`` (as the pipeline's
    replace-tokens step does); ArtifactError (exit 3) for bad YAML, a bad shape or a placeholder nobody set."""
    if path.is_dir():
        raise ArtifactError(f"{path}: is a folder, not a configuration file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{path}: cannot read ({exc})") from None
    positions = Positions()
    try:
        document = read_yaml(text, str(path), positions)
    except ConfigError as exc:  # not valid YAML (with the parser's reason), a duplicate key, a refused value
        raise ArtifactError(exc.message, hint=exc.hint) from None
    missing = sorted({name for value in _strings(document) for name in _TOKEN.findall(value) if name not in environ})
    if missing:
        line = next((i for i, row in enumerate(text.splitlines(), start=1)
                     if f"{{#{missing[0]}#}}" in row and not row.lstrip().startswith("#")), 1)
        raise ArtifactError(f"{path}:{line}: {{#{missing[0]}#}} is not set",
                            hint=f"export {', '.join(missing)} (the pipeline's replace-tokens step sets them)")
    return Configuration(_replace_tokens({} if document is None else document, environ), str(path), positions)


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def _replace_tokens(value: Any, environ: Mapping[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _replace_tokens(v, environ) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_tokens(v, environ) for v in value]
    if isinstance(value, str):
        return _TOKEN.sub(lambda match: environ[match.group(1)], value)
    return value
