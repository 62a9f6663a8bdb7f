"""The one reader of toolkit.yaml: YAML with line numbers, environment overlays, ${VAR}, .env.

Errors name the file, the line and the dotted field, and raise ConfigError (exit 3).
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from toolkit.config.models import GatewayConfig, LoadedConfig
from toolkit.errors import ConfigError

DEFAULT_CONFIG = "toolkit.yaml"
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
Path_ = tuple[str | int, ...]


class _Positions:
    """Where each value of the merged document came from: path -> (file, line)."""

    def __init__(self) -> None:
        self._lines: dict[Path_, tuple[str, int]] = {}

    def record(self, path: Path_, file: str, line: int) -> None:
        self._lines[path] = (file, line)

    def locate(self, path: Path_, default_file: str) -> tuple[str, int | None]:
        """The closest recorded position at or above ``path``."""
        for end in range(len(path), -1, -1):
            found = self._lines.get(path[:end])
            if found:
                return found
        return default_file, None

    def drop_below(self, path: Path_) -> None:
        for key in [k for k in self._lines if k[: len(path)] == path and len(k) > len(path)]:
            del self._lines[key]

    def rebase(self, source: Path_, target: Path_) -> None:
        """Copy the positions recorded under ``source`` to the same relative place under ``target``."""
        for key, value in list(self._lines.items()):
            if key[: len(source)] == source:
                self._lines[target + key[len(source) :]] = value


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that keeps node marks; duplicate keys are reported by the composer below."""


def _compose(text: str, file: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=_UniqueKeyLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark else None
        raise ConfigError(f"not valid YAML: {exc.problem}", file=file, line=line) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", file=file) from None


def _construct(node: yaml.Node, file: str, path: Path_, positions: _Positions) -> Any:
    """Turn a YAML node into plain data, recording the line of every value."""
    positions.record(path, file, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node, file)
            if not isinstance(key, str):
                raise ConfigError(f"keys must be text, got {key!r}", file=file, line=key_node.start_mark.line + 1)
            if key in result:
                raise ConfigError(
                    f"duplicate key {key!r}", file=file, line=key_node.start_mark.line + 1, field=_dotted(path + (key,))
                )
            result[key] = _construct(value_node, file, path + (key,), positions)
            positions.record(path + (key,), file, key_node.start_mark.line + 1)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, file, path + (index,), positions) for index, item in enumerate(node.value)]
    return _scalar(node, file)


def _scalar(node: yaml.Node, file: str) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        raise ConfigError("a key must be a plain value", file=file, line=node.start_mark.line + 1)
    loader = _UniqueKeyLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def _deep_merge(base: Any, overlay: Any, path: Path_, positions: _Positions, source: Path_) -> Any:
    """Objects merge key by key; lists and scalars replace (APIOps configuration.<env>.yaml semantics)."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        merged = dict(base)
        for key, value in overlay.items():
            merged[key] = _deep_merge(base.get(key), value, path + (key,), positions, source + (key,))
        return merged
    positions.drop_below(path)
    positions.rebase(source, path)
    return copy.deepcopy(overlay)


def _merge_named_lists(base: Any, overlay: Any, path: Path_, positions: _Positions, source: Path_) -> Any:
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


def _interpolate(value: Any, variables: Mapping[str, str], path: Path_, positions: _Positions, file: str) -> Any:
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
            field=_dotted(path),
            hint=f"export {name}=... or add it to the .env file next to the config (or write ${{{name}:-default}})",
        )

    return _VAR.sub(replace, value)


def _dotted(path: Path_) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _environment_variables(config_dir: Path, environ: Mapping[str, str] | None) -> dict[str, str]:
    """.env next to the config, overridden by the process environment (as python-dotenv does by default)."""
    from dotenv import dotenv_values

    values: dict[str, str] = {}
    env_file = config_dir / ".env"
    if env_file.is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)
    return values


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
    try:
        text = Path(file).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("config file not found", file=file, hint="run from the project folder or pass --config") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", file=file) from None

    positions = _Positions()
    node = _compose(text, file)
    document = _construct(node, file, (), positions) if node is not None else {}
    if not isinstance(document, dict):
        raise ConfigError("the top level must be a mapping of sections (apis, backends, pools, environments)", file=file, line=1)

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
    selected = _interpolate(selected, variables, env_path, positions, file)

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
        raise _config_error(exc, positions, file) from None
    return LoadedConfig(gateway=_anchor_paths(gateway, Path(file).resolve().parent), env_name=env_name, path=file)


def _anchor_paths(gateway: GatewayConfig, config_dir: Path) -> GatewayConfig:
    """Relative paths in environments are relative to the config file, not to the current folder."""
    environments = {
        name: env.model_copy(update={"emulator_state": str(config_dir / env.emulator_state)})
        if not Path(env.emulator_state).is_absolute() else env
        for name, env in gateway.environments.items()
    }
    return gateway.model_copy(update={"environments": environments})


def _strip_vars(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_vars(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_vars(v) for v in value]
    if isinstance(value, str):
        return _VAR.sub(lambda m: m.group(2) if m.group(2) is not None else f"unset-{m.group(1)}", value)
    return value


def _config_error(exc: ValidationError, positions: _Positions, file: str) -> ConfigError:
    """The first validation error, with file:line and the dotted field."""
    error = exc.errors(include_url=False)[0]
    loc: Path_ = tuple(part for part in error["loc"] if not (isinstance(part, str) and part.startswith("function-")))
    original = (error.get("ctx") or {}).get("error")
    ref_path = getattr(original, "path", None)
    if ref_path:
        loc = loc + tuple(int(p) if p.isdigit() else p for p in ref_path.split("."))
    message = str(original) if original is not None else error["msg"]
    if error["type"] == "extra_forbidden":
        message = f"unknown key {loc[-1]!r}"
    elif error["type"] == "missing":
        message = f"required field {loc[-1]!r} is missing"
    elif error["type"] == "literal_error":
        message = f"{error['msg']} (got {error.get('input')!r})"
    elif original is None:
        message = f"{message} (got {error.get('input')!r})" if not isinstance(error.get("input"), (dict, list)) else message
    where, line = positions.locate(loc, file)
    extra = len(exc.errors()) - 1
    if extra:
        message += f" (and {extra} more error{'s' if extra > 1 else ''})"
    return ConfigError(message, file=where, line=line, field=_dotted(loc) or None)
