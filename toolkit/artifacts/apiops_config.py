"""APIOps ``configuration.<env>.yaml``: per-environment overrides of a base artifact tree.

The APIOps publisher reads one such file per environment (``CONFIGURATION_YAML_PATH``). Each
top-level section (``namedValues``, ``backends``, ...) lists ``{name, properties}`` objects; the
publisher finds the artifact of that name (case-insensitive) and merges the override into its
information file: objects merge key by key, anything else replaces (Azure/apiops,
``tools/code/publisher/OverrideDto.cs``). Values may hold ``{#TOKEN#}`` placeholders that the
pipeline substitutes from its secrets (the "Replace Tokens" step of the APIOps pipelines).
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import yaml

from toolkit.artifacts.layout import ArtifactPath, Kind
from toolkit.artifacts.model import ArtifactSet, dump_json

CONFIGURATION_FILE = re.compile(r"^configuration\.([A-Za-z0-9._-]+)\.yaml$")
# Artifact kinds an APIOps configuration file can override, and their section names.
SECTIONS = {Kind.NAMED_VALUE: "namedValues", Kind.BACKEND: "backends"}


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
    """``artifacts`` with a configuration file's overrides merged in, as the APIOps publisher applies them."""
    result = ArtifactSet({p: artifacts.get(p) or "" for p in artifacts.paths()})
    for kind, section in SECTIONS.items():
        overrides = {str(o["name"]).lower(): o for o in configuration.get(section) or [] if isinstance(o, dict)}
        for path, text in artifacts.artifacts(kind):
            override = overrides.get(path.name.lower())
            if override is not None:
                document = merge(json.loads(text), {k: v for k, v in override.items() if k != "name"})
                result.put(path, dump_json(document))
    return result
