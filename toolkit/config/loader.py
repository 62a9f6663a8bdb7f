"""The one reader of toolkit.yaml: YAML with line numbers, environment overlays, ${VAR}, .env.

Errors name the file, the line and the dotted field, and raise ConfigError (exit 3).
"""

from __future__ import annotations

import copy
import io
import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from toolkit.config.models import GatewayConfig, LoadedConfig
from toolkit.config.validation_errors import config_error
from toolkit.config.yaml_reader import PlainTemplate, Positions, check_text, dotted, read_yaml, typed_like_yaml
from toolkit.config.yaml_reader import decode_utf8, read_config_text
from toolkit.errors import ConfigError

log = logging.getLogger(__name__)

DEFAULT_CONFIG = "toolkit.yaml"
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
Path_ = tuple[str | int, ...]
# Connection settings of an environment that only some verbs use (see _interpolate_environment).
DEFERRABLE_SETTINGS = frozenset({"subscription_id", "resource_group", "service", "gateway_url", "subscription_key",
                                 "tenant_id", "client_id"})


def _deep_merge(base: Any, overlay: Any, path: Path_, positions: Positions, source: Path_) -> Any:
    """Objects merge key by key; lists and scalars replace (APIOps configuration.<env>.yaml semantics)."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        merged = dict(base)
        for key, value in overlay.items():
            merged[key] = _deep_merge(base.get(key), value, path + (key,), positions, source + (key,))
        return merged
    positions.drop_below(path)
    positions.rebase(source, path)
    return copy.deepcopy(overlay)


def _merge_named_lists(base: Any, overlay: Any, path: Path_, positions: Positions, source: Path_) -> Any:
    """Top-level sections are lists of named items: an override item merges into the item of that name."""
    if not (isinstance(base, list) and isinstance(overlay, list)):
        return _deep_merge(base, overlay, path, positions, source)
    merged = list(base)
    index_by_name = {item.get("name"): i for i, item in enumerate(merged) if isinstance(item, dict)}
    for o_index, item in enumerate(overlay):
        name = item.get("name") if isinstance(item, dict) else None
        if name in index_by_name:
            i = index_by_name[name]
            merged[i] = _deep_merge(merged[i], item, path + (i,), positions, source + (o_index,))
        else:
            merged.append(copy.deepcopy(item))
            positions.rebase(source + (o_index,), path + (len(merged) - 1,))
    return merged


def _interpolate(value: Any, variables: Mapping[str, str], path: Path_, positions: Positions, file: str) -> Any:
    if isinstance(value, dict):
        return {k: _interpolate(v, variables, path + (k,), positions, file) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, variables, path + (i,), positions, file) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in variables:
            return variables[name]
        if default is not None:
            return default
        where, line = positions.locate(path, file)
        raise ConfigError(
            f"${{{name}}} is not set",
            file=where,
            line=line,
            field=dotted(path),
            hint=f"export {name}=... or add it to the .env file next to the config (or write ${{{name}:-default}})",
        )

    result = _VAR.sub(replace, value)
    where, line = positions.locate(path, file)
    check_text(result, lambda message, _node, at: ConfigError(message, file=where, line=line, field=dotted(at)), None, path)
    # An unquoted ${VAR} is typed as YAML would type its text (weight: ${W} -> 50); a quoted one stays text.
    return typed_like_yaml(result) if isinstance(value, PlainTemplate) else result


def _environment_variables(config_dir: Path, environ: Mapping[str, str] | None) -> dict[str, str]:
    """.env next to the config, overridden by the process environment (as python-dotenv does by default)."""
    values: dict[str, str] = {}
    env_file = config_dir / ".env"
    if env_file.is_file():
        values.update(_dotenv_values(env_file))
    values.update(os.environ if environ is None else environ)
    return values


class _DotenvWarnings(logging.Filter):
    """Collects python-dotenv's warnings (a line it cannot parse), which name no file, instead of printing them."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def filter(self, record: logging.LogRecord) -> bool:
        self.records.append(record)
        return False


def _dotenv_values(env_file: Path) -> dict[str, str]:
    """The values of a .env file. Text that is not UTF-8 is a ConfigError naming the file and line; a line
    python-dotenv cannot parse is skipped, as python-dotenv (and so the notebook) skips it, with a warning that
    names the file and line."""
    from dotenv import dotenv_values

    try:
        raw = env_file.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read ({exc.strerror or exc})", file=str(env_file)) from None
    text = decode_utf8(raw, str(env_file), bom=True)
    dotenv_log = logging.getLogger("dotenv.main")
    collected = _DotenvWarnings()
    dotenv_log.addFilter(collected)
    try:
        parsed = dotenv_values(stream=io.StringIO(text))
    finally:
        dotenv_log.removeFilter(collected)
    for record in collected.records:
        line = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
        log.warning("%s:%s: python-dotenv cannot parse this line; it is ignored", env_file, line)
    return {key: value for key, value in parsed.items() if value is not None}


def load_config(
    path: str | os.PathLike[str] = DEFAULT_CONFIG,
    env: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    apply_overrides: bool = True,
) -> LoadedConfig:
    """Load toolkit.yaml, apply environment ``env``'s overrides, interpolate ${VAR}, validate.

    ``env`` defaults to ``local`` when defined, else the only environment. ``apply_overrides=False``
    gives the shared sections as written (the APIOps base tree, which every environment overrides).
    """
    file = str(path)
    text = read_config_text(file)

    positions = Positions()
    document = read_yaml(text, file, positions)
    document = {} if document is None else document
    if not isinstance(document, dict):
        raise ConfigError("the top level must be a mapping of sections (apis, backends, pools, environments)", file=file,
                          line=positions.locate((), file)[1])

    environments = document.get("environments")
    if not isinstance(environments, dict) or not environments:
        line = positions.locate(("environments",), file)[1]
        raise ConfigError("define at least one environment (e.g. local: {target: local})", file=file, line=line, field="environments")
    env_name = env or ("local" if "local" in environments else next(iter(environments)))
    if env_name not in environments:
        raise ConfigError(
            f"unknown environment {env_name!r} (defined: {', '.join(environments)})",
            file=file,
            line=positions.locate(("environments",), file)[1],
            field="environments",
        )

    # Interpolate only what this run uses: the shared sections and the selected environment, so
    # ${AZURE_SUBSCRIPTION_ID} in `dev` does not have to be set to work on `local`.
    variables = _environment_variables(Path(file).resolve().parent, environ)
    selected = environments[env_name]
    env_path: Path_ = ("environments", env_name)
    shared = {k: v for k, v in document.items() if k != "environments"}
    shared = _interpolate(shared, variables, (), positions, file)
    selected, deferred = _interpolate_environment(selected, variables, env_path, positions, file)

    if apply_overrides and isinstance(selected, dict) and isinstance(selected.get("overrides"), dict):
        for key, value in selected["overrides"].items():
            source = env_path + ("overrides", key)
            shared[key] = _merge_named_lists(shared.get(key), value, (key,), positions, source)

    # Other environments are validated for shape only (their ${VAR}s stay unexpanded).
    merged = dict(shared)
    merged["environments"] = {name: (selected if name == env_name else _strip_vars(body)) for name, body in environments.items()}
    try:
        gateway = GatewayConfig.model_validate(merged)
    except ValidationError as exc:
        # A value that came from a variable may be a secret put in the wrong field: never echo it.
        hidden = {variables[name] for name, _ in _VAR.findall(text) if variables.get(name)}
        raise config_error(exc, positions, file, hidden=hidden) from None
    if deferred:
        unset = {field: None for field in deferred}
        environments_ = dict(gateway.environments)
        environments_[env_name] = environments_[env_name].model_copy(update=unset)
        gateway = gateway.model_copy(update={"environments": environments_})
    return LoadedConfig(gateway=_anchor_paths(gateway, Path(file).resolve().parent), env_name=env_name, path=file,
                        deferred=deferred)


def _interpolate_environment(selected: Any, variables: Mapping[str, str], env_path: Path_, positions: Positions,
                             file: str) -> tuple[Any, dict[str, ConfigError]]:
    """Interpolate the selected environment; a connection setting whose variable is unset is deferred.

    A verb needs only some of them (plan never sends a subscription key, validate never reads the resource
    group), so an unset ${APIM_SUBSCRIPTION_KEY} fails only the verb that uses it, through
    LoadedConfig.require, with the error it would have had here.
    """
    if not isinstance(selected, dict):
        return _interpolate(selected, variables, env_path, positions, file), {}
    result: dict[str, Any] = {}
    deferred: dict[str, ConfigError] = {}
    for key, value in selected.items():
        try:
            result[key] = _interpolate(value, variables, env_path + (key,), positions, file)
        except ConfigError as error:
            if key not in DEFERRABLE_SETTINGS:
                raise
            deferred[key] = error
            result[key] = _strip_vars(value)  # validated for shape; set to None once validated
    return result, deferred


def _anchor_paths(gateway: GatewayConfig, config_dir: Path) -> GatewayConfig:
    """Relative paths in environments are relative to the config file, not to the current folder.

    (Joining an absolute path to the folder gives that absolute path: it is kept.)"""
    environments = {
        name: env.model_copy(update={"emulator_state": str(config_dir / env.emulator_state)})
        for name, env in gateway.environments.items()
    }
    return gateway.model_copy(update={"environments": environments})


def _strip_vars(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_vars(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_vars(v) for v in value]
    if isinstance(value, str):
        text = _VAR.sub(lambda m: m.group(2) if m.group(2) is not None else f"unset-{m.group(1)}", value)
        return typed_like_yaml(text) if isinstance(value, PlainTemplate) else text
    return value
