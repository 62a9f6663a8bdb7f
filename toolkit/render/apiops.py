"""`toolkit render --apiops`: the APIOps base tree plus one ``configuration.<env>.yaml`` per environment.

The base tree is the config's shared sections without any environment's overrides, so it names no
environment (not the emulator, not a tenant). Each environment's differences from it (named values,
backend URLs and credentials) go to its configuration file, which the APIOps publisher merges in.
``${VAR}`` references are written as ``{#VAR#}`` placeholders (the APIOps pipelines' replace-tokens
step), so no value from this machine's environment or .env lands in committed files.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from toolkit.artifacts.apiops_config import configuration_file, dump_configuration, overrides_between
from toolkit.artifacts.model import ArtifactSet
from toolkit.config import load_config
from toolkit.config.models import GatewayConfig
from toolkit.errors import ConfigError
from toolkit.render.auth import all_named_values
from toolkit.render.pipeline import render_artifacts

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")
_TOKEN_ONLY = re.compile(r"(?:[^{}]*\{#[A-Za-z_][A-Za-z0-9_]*#\}[^{}]*)+")


def token_environ(config_text: str) -> dict[str, str]:
    """Every ``${VAR}`` of the config mapped to the ``{#VAR#}`` placeholder."""
    return {name: f"{{#{name}#}}" for name in _VARIABLE.findall(config_text)}


def _add_secret_placeholders(sections: dict[str, list[dict[str, Any]]], gateway: GatewayConfig) -> None:
    """A secret named value's artifact has no value, so the publisher needs it from the configuration file:
    add ``value: "{#VAR#}"`` for each secret whose value comes from variables (a literal secret is never written)."""
    named = {entry["name"]: entry for entry in sections.get("namedValues", [])}
    for named_value in all_named_values(gateway):
        if named_value.secret and named_value.key_vault is None and _TOKEN_ONLY.fullmatch(named_value.value or ""):
            entry = named.setdefault(named_value.name, {"name": named_value.name, "properties": {}})
            entry["properties"]["value"] = named_value.value
    if named:
        sections["namedValues"] = sorted(named.values(), key=lambda entry: entry["name"])


def render_apiops(config_path: str | Path, templates_dir: str | Path) -> ArtifactSet:
    """The base tree with a configuration file per environment that differs from it."""
    config_path = Path(config_path)
    environ = token_environ(config_path.read_text(encoding="utf-8"))
    base_config = load_config(config_path, environ=environ, apply_overrides=False)
    base = render_artifacts(base_config.gateway, templates_dir, config_file=str(config_path))
    tree = ArtifactSet({p: base.get(p) or "" for p in base.paths()})
    for env in base_config.gateway.environments:
        loaded = load_config(config_path, env, environ=environ)
        rendered = render_artifacts(loaded.gateway, templates_dir, config_file=str(config_path))
        sections, inexpressible = overrides_between(base, rendered)
        _add_secret_placeholders(sections, loaded.gateway)
        if inexpressible:
            raise ConfigError(f"environment {env!r} changes {', '.join(inexpressible)}, which an APIOps configuration "
                              "file cannot override (it overrides named values and backends only)",
                              file=str(config_path), field=f"environments.{env}.overrides",
                              hint="move environment-specific values into named values referenced as {{name}}")
        if sections:
            tree.put(configuration_file(env), dump_configuration(sections, env))
    return tree
