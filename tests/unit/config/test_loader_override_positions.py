"""Errors in environment overrides name the override's own line and the merged field (mutation gaps of
_merge_named_lists: appended items, a section given as something other than a list, merged items)."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.config import load_config
from toolkit.errors import ConfigError

BASE = (Path(__file__).parents[2] / "fixtures" / "config" / "valid-base.yaml").read_text(encoding="utf-8")


def _error(tmp_path: Path, overrides: str) -> tuple[ConfigError, list[str]]:
    text = BASE.replace("  local: {target: local}", "  local:\n    target: local\n    overrides:\n" + overrides)
    path = tmp_path / "toolkit.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    return caught.value, text.splitlines()


def test_an_error_in_an_appended_item_points_at_its_override_line(tmp_path: Path) -> None:
    error, lines = _error(tmp_path, "      backends:\n"
                                    "        - name: extra\n"
                                    "          url: https://extra.openai.azure.com/openai\n"
                                    "          region: 42x\n"
                                    "          nonsense: 1\n")
    assert error.location.field == "backends[3].nonsense"  # appended after the three base backends
    assert lines[error.location.line - 1].strip() == "nonsense: 1"


def test_an_error_in_the_second_appended_item_points_at_that_item(tmp_path: Path) -> None:
    error, lines = _error(tmp_path, "      named_values:\n"
                                    "        - {name: one, value: a}\n"
                                    "        - {name: two, value: b, colour: red}\n")
    assert error.location.field == "named_values[1].colour"
    assert "colour: red" in lines[error.location.line - 1]


def test_a_section_overridden_with_something_else_than_a_list_points_at_the_override(tmp_path: Path) -> None:
    error, lines = _error(tmp_path, "      pools: {name: pool}\n")
    assert error.location.field.startswith("pools")
    assert lines[error.location.line - 1].strip() == "pools: {name: pool}"


def test_an_error_in_a_merged_item_points_at_the_override_not_the_base(tmp_path: Path) -> None:
    error, lines = _error(tmp_path, "      backends:\n"
                                    "        - name: west\n"
                                    "          circuit_breaker: {count: 0, interval: PT1M, status_codes: [429], trip_duration: PT1M}\n")
    assert error.location.field.startswith("backends[1].circuit_breaker")
    assert "circuit_breaker: {count: 0" in lines[error.location.line - 1]


def test_an_override_adds_an_object_the_base_item_does_not_have(tmp_path: Path) -> None:
    text = BASE.replace("  local: {target: local}", "  local:\n    target: local\n    overrides:\n      backends:\n"
                        "        - name: west\n"
                        "          circuit_breaker: {count: 2, interval: PT1M, status_codes: [503], trip_duration: PT30S}\n")
    path = tmp_path / "toolkit.yaml"
    path.write_text(text, encoding="utf-8")
    rule = load_config(path, environ={}).gateway.backend("west").circuit_breaker
    assert rule is not None and (rule.count, rule.trip_duration) == (2, "PT30S")


def test_a_relative_emulator_state_is_anchored_at_the_config_folder_an_absolute_one_is_kept(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    absolute = tmp_path / "elsewhere" / "state.json"
    text = BASE.replace("  local: {target: local}",
                        f"  local: {{target: local, emulator_state: state/local.json}}\n"
                        f"  other: {{target: local, emulator_state: '{absolute}'}}")
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "toolkit.yaml").write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    environments = load_config(folder / "toolkit.yaml", "local", environ={}).gateway.environments
    assert environments["local"].emulator_state == str(folder / "state" / "local.json")
    assert environments["other"].emulator_state == str(absolute)
