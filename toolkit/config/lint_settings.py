"""The ``lint:`` section of toolkit.yaml: lint findings the project accepts on purpose, each with a reason.

    lint:
      ignore:
        - rule: APIM022
          path: "policy fragments/retry-with-payg/*"
          reason: "retries only on 429 before the body is read; tracked in JIRA-123"

``path`` is an fnmatch pattern over a file's path inside the artifact tree (``*`` also crosses ``/``).
Kept apart from models.py (one small model); validation errors get file:line:field like every other key.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from toolkit.errors import ConfigError, InputError

if TYPE_CHECKING:
    from toolkit.config.yaml_reader import Positions
    from toolkit.lint.suppressions import Suppression

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class LintIgnore(BaseModel):
    """One accepted rule at the paths a pattern matches, and why."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    rule: str
    path: Text
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]

    @field_validator("rule")
    @classmethod
    def _known_rule(cls, value: str) -> str:
        from toolkit.lint.suppressions import check_rule

        try:
            return check_rule(value, "rule")
        except InputError as exc:
            raise ValueError(exc.message.removeprefix("rule: ")) from None

    @field_validator("reason")
    @classmethod
    def _has_reason(cls, value: str) -> str:
        if not value:
            raise ValueError("a suppression needs a reason: write why this finding is accepted")
        return value

    @field_validator("path")
    @classmethod
    def _relative(cls, value: str) -> str:
        if value.startswith("/"):
            raise ValueError(f"{value!r}: write the path inside the artifact tree, without a leading '/'")
        return value


class LintSettings(BaseModel):
    """``lint:`` of toolkit.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    ignore: list[LintIgnore] = Field(default_factory=list, max_length=500)


class _LintOnly(BaseModel):
    """Validates just the ``lint:`` section, so `toolkit lint` needs nothing else of the config."""

    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)

    lint: LintSettings = Field(default_factory=LintSettings)


def read_lint_settings(config_file: str | Path) -> tuple[LintSettings, dict[int, int]]:
    """The ``lint:`` section of ``config_file`` and the line of each ``lint.ignore`` entry (by index).

    ConfigError (exit 3, file:line:field) when the file cannot be read or the section is invalid.
    """
    from toolkit.config.validation_errors import config_error
    from toolkit.config.yaml_reader import Positions, read_config_text, read_yaml

    file = str(config_file)
    positions = Positions()
    document = read_yaml(read_config_text(file), file, positions)
    section = document.get("lint") if isinstance(document, dict) else None
    try:
        settings = _LintOnly.model_validate({"lint": section} if section is not None else {}).lint
    except ValidationError as exc:
        raise config_error(exc, positions, file) from None
    return settings, ignore_lines(positions, file, len(settings.ignore))


def ignore_lines(positions: Positions, file: str, count: int) -> dict[int, int]:
    """The line of each of the first ``count`` ``lint.ignore`` entries that ``positions`` recorded."""
    lines: dict[int, int] = {}
    for index in range(count):
        where, line = positions.locate(("lint", "ignore", index), file)
        if line is not None and where == file:
            lines[index] = line
    return lines


def suppressions(settings: LintSettings, config_file: str | Path,
                 lines: dict[int, int] | None = None) -> list[Suppression]:
    """The ``lint.ignore`` entries as lint suppressions, each naming where it is written (``toolkit.yaml:14``).

    Without ``lines`` the file's own ``lint:`` section is read again for them; an entry that is not written
    there as it is in ``settings`` (an environment's override replaced the list) is named by its field instead.
    """
    from toolkit.lint.suppressions import Suppression

    file = str(config_file)
    if lines is None:
        try:
            written, found = read_lint_settings(file)
        except ConfigError:
            written, found = LintSettings(), {}
        lines = {index: line for index, line in found.items()
                 if index < len(settings.ignore) and written.ignore[index] == settings.ignore[index]}
    return [Suppression((entry.rule,), entry.reason, f"{file}:{lines[index]}" if index in lines else
                        f"{file}: lint.ignore[{index}]", path=entry.path)
            for index, entry in enumerate(settings.ignore)]
