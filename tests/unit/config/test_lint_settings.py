"""toolkit.yaml's lint: section: suppressions named by the line they are written on."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.config import load_config
from toolkit.config.lint_settings import read_lint_settings, suppressions
from toolkit.errors import ConfigError

CONFIG = """\
environments:
  local: {target: local}
  dev:
    target: local
    overrides:
      lint:
        ignore:
          - {rule: APIM043, path: "apis/*", reason: "dev keys are fake"}
lint:
  ignore:
    - {rule: APIM022, path: "policy fragments/*", reason: "GET only"}
    - rule: apim003
      path: "backends/pool/*"
      reason: "  members come from Bicep  "
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "toolkit.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_entries_are_read_normalised_with_their_lines(config: Path) -> None:
    settings, lines = read_lint_settings(config)
    assert [(e.rule, e.path, e.reason) for e in settings.ignore] == [
        ("APIM022", "policy fragments/*", "GET only"), ("APIM003", "backends/pool/*", "members come from Bicep")]
    assert lines == {0: 11, 1: 12}


def test_the_loaded_config_s_suppressions_name_file_and_line(config: Path) -> None:
    loaded = load_config(config, "local", environ={})
    accepted = suppressions(loaded.gateway.lint, loaded.path)
    assert [(s.rules, s.path, s.source) for s in accepted] == [
        (("APIM022",), "policy fragments/*", f"{config}:11"), (("APIM003",), "backends/pool/*", f"{config}:12")]


def test_an_environment_s_replaced_list_is_named_by_its_field_not_a_wrong_line(config: Path) -> None:
    loaded = load_config(config, "dev", environ={})
    (accepted,) = suppressions(loaded.gateway.lint, loaded.path)
    assert accepted.rules == ("APIM043",) and accepted.source == f"{config}: lint.ignore[0]"


def test_a_config_without_a_lint_section_accepts_nothing(tmp_path: Path) -> None:
    path = tmp_path / "toolkit.yaml"
    path.write_text("environments:\n  local: {target: local}\n", encoding="utf-8")
    assert read_lint_settings(path) == (read_lint_settings(path)[0], {})
    assert read_lint_settings(path)[0].ignore == []


def test_a_missing_config_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        read_lint_settings(tmp_path / "nope.yaml")
    assert caught.value.exit_code == 3 and "config file not found" in caught.value.message
