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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from toolkit.artifacts.layout import ArtifactPath, Kind
from toolkit.artifacts.model import ArtifactSet, dump_json
from toolkit.errors import ArtifactError

CONFIGURATION_FILE = re.compile(r"^configuration\.([A-Za-z0-9._-]+)\.yaml$")
# Artifact kinds an APIOps configuration file can override, and their section names.
SECTIONS = {Kind.NAMED_VALUE: "namedValues", Kind.BACKEND: "backends", Kind.VERSION_SET: "versionSets"}


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


_TOKEN = re.compile(r"\{#([A-Za-z_][A-Za-z0-9_]*)#\}")


def load_configuration(path: Path, environ: Mapping[str, str]) -> dict[str, Any]:
    """A configuration file with its ``{#NAME#}`` placeholders replaced from ``environ`` (as the pipeline's
    replace-tokens step does); ArtifactError (exit 3) for bad YAML or a placeholder nobody set."""
    try:
        text = path.read_text(encoding="utf-8")
        document = yaml.safe_load(text) or {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{path}: cannot read ({exc})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ArtifactError(f"{path}:{mark.line + 1 if mark else 1}: not valid YAML") from None
    if not isinstance(document, dict):
        raise ArtifactError(f"{path}:1: an APIOps configuration file is a mapping of sections (namedValues, backends)")
    missing = sorted({name for value in _strings(document) for name in _TOKEN.findall(value) if name not in environ})
    if missing:
        line = next((i for i, row in enumerate(text.splitlines(), start=1)
                     if f"{{#{missing[0]}#}}" in row and not row.lstrip().startswith("#")), 1)
        raise ArtifactError(f"{path}:{line}: {{#{missing[0]}#}} is not set",
                            hint=f"export {', '.join(missing)} (the pipeline's replace-tokens step sets them)")
    return _replace_tokens(document, environ)


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
