"""Pydantic validation errors of toolkit.yaml as one ConfigError: every problem, each with file:line and field.

The first problem is the headline (its location is the error's location); the others follow, one a line.
A misspelt key is reported once, as the unknown key with the closest known name, instead of as an unknown
key plus a "required field is missing" elsewhere. Problems repeated through a YAML alias (the same line and
message at several fields) are listed once with all their fields.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Collection
from typing import Any

from pydantic import BaseModel, ValidationError

from toolkit.config.yaml_reader import Path_, Positions, dotted
from toolkit.errors import ConfigError

_SECRET_FIELD = re.compile(r"(?i)(key|token|secret|password)")  # api_key, client_secret...: never echoed
MAX_LISTED = 20  # problems (and fields of one problem) listed; a hostile file must not flood the terminal


class _Problem:
    __slots__ = ("loc", "message", "file", "line")

    def __init__(self, loc: Path_, message: str, positions: Positions, file: str) -> None:
        self.loc = loc
        self.message = message
        self.file, self.line = positions.locate(loc, file)


def config_error(exc: ValidationError, positions: Positions, file: str, *,
                 hidden: Collection[str] = ()) -> ConfigError:
    """Every validation error of ``exc``, located; the first one is the headline.

    A refused value that contains one of ``hidden`` (the values of the ${VAR}s the file uses) is not echoed:
    a secret interpolated into the wrong field must not reach the terminal or a CI log."""
    from toolkit.config.models import GatewayConfig

    errors = exc.errors(include_url=False)
    locs = [_loc(error) for error in errors]
    misspelt = _misspellings(errors, locs, GatewayConfig)
    problems: list[_Problem] = []
    for error, loc in zip(errors, locs):
        if error["type"] == "missing" and loc in misspelt:
            continue  # reported as the misspelt key next to it
        problems.append(_Problem(loc, _message(error, loc, misspelt, positions, file, hidden), positions, file))
    groups = _group(problems)
    head, *rest = groups
    message = head[0].message
    if len(head) > 1:
        more = f" and {len(head) - 1 - MAX_LISTED} more" if len(head) - 1 > MAX_LISTED else ""
        message += f" (also at {', '.join(dotted(p.loc) for p in head[1:MAX_LISTED + 1])}{more})"
    for group in rest[:MAX_LISTED]:
        where = f"{group[0].file}:{group[0].line}" if group[0].line else group[0].file
        fields = ", ".join(dotted(p.loc) for p in group[:MAX_LISTED])
        more = f" (and {len(group) - MAX_LISTED} more)" if len(group) > MAX_LISTED else ""
        message += f"\n  {where}: {fields}{more}: {group[0].message}"
    if len(rest) > MAX_LISTED:
        message += f"\n  ... and {len(rest) - MAX_LISTED} more problems"
    return ConfigError(message, file=head[0].file, line=head[0].line, field=dotted(head[0].loc) or None)


def _loc(error: Any) -> Path_:
    loc: Path_ = tuple(part for part in error["loc"] if not (isinstance(part, str) and part.startswith("function-")))
    ref_path = getattr((error.get("ctx") or {}).get("error"), "path", None)
    if ref_path:
        loc = loc + tuple(int(p) if p.isdigit() else p for p in ref_path.split("."))
    return loc


def _message(error: Any, loc: Path_, misspelt: dict[Path_, str], positions: Positions, file: str,
             hidden: Collection[str]) -> str:
    original = (error.get("ctx") or {}).get("error")
    if error["type"] == "extra_forbidden":
        suggestion = misspelt.get(loc) or _closest(loc)
        hint = f" (did you mean {suggestion!r}?)" if suggestion else ""
        return f"unknown key {loc[-1]!r}{hint}"
    if error["type"] == "missing":
        return f"required field {loc[-1]!r} is missing"
    if error["type"] == "literal_error":
        return f"{error['msg']} (got {_preview(error.get('input'), loc, hidden)})"
    if original is not None:
        message = str(original)
        other = getattr(original, "other_path", None)
        if other:
            where, line = positions.locate(tuple(int(p) if p.isdigit() else p for p in other.split(".")), file)
            message += f" (first at {where}:{line})" if line else ""
        return message
    if isinstance(error.get("input"), (dict, list)):
        return error["msg"]
    return f"{error['msg']} (got {_preview(error.get('input'), loc, hidden)})"


def _preview(value: Any, loc: Path_, hidden: Collection[str]) -> str:
    text = repr(value)
    if any(secret in str(value) for secret in hidden):
        return "the value of a ${VAR}, not shown"
    if loc and (_SECRET_FIELD.search(str(loc[-1])) or (loc[0] == "named_values" and loc[-1] == "value")):
        return "the value of a secret field, not shown"  # auth.api_key: 1234..., any named value (secret or not)
    return text if len(text) <= 60 else text[:57] + "..."


def _misspellings(errors: list[Any], locs: list[Path_], root: type[BaseModel]) -> dict[Path_, str]:
    """Unknown keys that are close to a required field missing beside them: extra loc -> intended name,
    and the missing loc -> the extra key (so the missing error is folded into the unknown-key one)."""
    missing = {loc[:-1]: [] for loc, e in zip(locs, errors) if e["type"] == "missing"}
    for loc, error in zip(locs, errors):
        if error["type"] == "missing":
            missing[loc[:-1]].append(str(loc[-1]))
    found: dict[Path_, str] = {}
    for loc, error in zip(locs, errors):
        if error["type"] != "extra_forbidden" or loc[:-1] not in missing:
            continue
        match = difflib.get_close_matches(str(loc[-1]), missing[loc[:-1]], n=1, cutoff=0.6)
        if match:
            found[loc] = match[0]
            found[loc[:-1] + (match[0],)] = str(loc[-1])
    return found


def _closest(loc: Path_) -> str | None:
    """The known key of the model at ``loc``'s parent closest to the unknown key, if any is close."""
    from toolkit.config.models import GatewayConfig

    model = _model_at(GatewayConfig, loc[:-1])
    if model is None:
        return None
    names = [field.alias or name for name, field in model.model_fields.items()]
    match = difflib.get_close_matches(str(loc[-1]), names, n=1, cutoff=0.6)
    return match[0] if match else None


def _model_at(model: type[BaseModel], path: Path_) -> type[BaseModel] | None:
    current: Any = model
    for part in path:
        if isinstance(current, type) and issubclass(current, BaseModel):
            if not isinstance(part, str) or part not in current.model_fields:
                return None
            current = current.model_fields[part].annotation
        else:
            current = _element_type(current)
        current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    """Optional[X] / Annotated[X, ...] -> X."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            options = [a for a in typing.get_args(annotation) if a is not type(None)]
            models = [a for a in options if isinstance(a, type) and issubclass(a, BaseModel)]
            annotation = models[0] if models else options[0]
        else:
            return annotation


def _element_type(annotation: Any) -> Any:
    """list[X] -> X, dict[K, X] -> X."""
    args = typing.get_args(annotation)
    return args[-1] if args else None


def _group(problems: list[_Problem]) -> list[list[_Problem]]:
    """Problems with the same place and message (one line reached through several aliases) together."""
    groups: dict[tuple[str, int | None, str], list[_Problem]] = {}
    for problem in problems:
        groups.setdefault((problem.file, problem.line, problem.message), []).append(problem)
    return list(groups.values())
