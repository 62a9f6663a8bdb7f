"""validations/<scenario>.yaml: the committed files load; bad ones are exit 3 with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.errors import ConfigError, InputError
from toolkit.validate.settings import SCENARIOS, LoadBalancingSettings, load_settings

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_committed_scenario_files_load(scenario: str) -> None:
    settings = load_settings(scenario, REPO / "validations")
    assert settings.max_requests >= 10


def test_the_seed_prompts_are_the_load_balancing_prompts() -> None:
    settings = load_settings("load-balancing", REPO / "validations")
    assert isinstance(settings, LoadBalancingSettings)
    assert settings.prompts[0] == "What is climate change?" and len(settings.prompts) == 7


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "load-balancing.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_unknown_key_names_file_and_line(tmp_path: Path) -> None:
    folder = _write(tmp_path, "prompts: [hi]\nalpha: 0.05\ntolerence: 0.1\n")
    with pytest.raises(ConfigError) as info:
        load_settings("load-balancing", folder)
    assert info.value.exit_code == 3
    assert "load-balancing.yaml:3" in str(info.value) and "tolerence" in str(info.value)


def test_bad_value_names_its_line(tmp_path: Path) -> None:
    folder = _write(tmp_path, "prompts: [hi]\nalpha: 0.7\n")
    with pytest.raises(ConfigError) as info:
        load_settings("load-balancing", folder)
    assert "load-balancing.yaml:2" in str(info.value) and "alpha" in str(info.value)


def test_nested_bad_value(tmp_path: Path) -> None:
    folder = _write(tmp_path, "prompts: [hi]\nrequest:\n  max_tokens: 0\n")
    with pytest.raises(ConfigError) as info:
        load_settings("load-balancing", folder)
    assert "load-balancing.yaml:3" in str(info.value) and "request.max_tokens" in str(info.value)


def test_missing_file_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        load_settings("auth", tmp_path)
    assert info.value.exit_code == 3 and "auth.yaml" in str(info.value)
