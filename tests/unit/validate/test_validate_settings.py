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


def test_missing_file_names_where_parameters_come_from(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        load_settings("auth", tmp_path)
    assert info.value.message == f"{tmp_path / 'auth.yaml'}: scenario file not found"
    assert info.value.hint == "every scenario reads its parameters from validations/<scenario>.yaml"


@pytest.mark.parametrize(("content", "reason"), [
    (b"prompts: [caf\xe9]\n", "cannot read: 'utf-8' codec can't decode byte 0xe9"),  # Latin-1, not UTF-8
    (None, "cannot read: [Errno 21] Is a directory"),
])
def test_an_unreadable_file_is_bad_input_naming_it(tmp_path: Path, content: bytes | None, reason: str) -> None:
    path = tmp_path / "load-balancing.yaml"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    with pytest.raises(ConfigError) as info:
        load_settings("load-balancing", tmp_path)
    assert info.value.message.startswith(f"{path}: {reason}") and info.value.exit_code == 3


def test_a_top_level_that_is_not_a_mapping_is_refused_at_line_1(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings("load-balancing", _write(tmp_path, "- prompts\n- alpha\n"))
    assert info.value.message == f"{tmp_path / 'load-balancing.yaml'}:1: the top level must be a mapping of settings"


def test_a_bad_value_names_the_file_in_full(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings("load-balancing", _write(tmp_path, "prompts: [hi]\nalpha: 0.7\n"))
    assert info.value.message.startswith(f"{tmp_path / 'load-balancing.yaml'}:2: alpha")


def test_a_cache_scenario_whose_set1_repeats_nothing_is_refused_at_its_line(tmp_path: Path) -> None:
    text = ("set1:\n  - What is rain?\n  - What is snow?\nset2: [a, b]\ncontrols: [c]\n")
    (tmp_path / "semantic-cache.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings("semantic-cache", tmp_path)
    message = str(info.value)
    assert "semantic-cache.yaml:" in message and "set1" in message
    assert "semantic-cache.yaml:1: set1: must ask at least one prompt again: its repeats are what must hit the cache" in message
    (tmp_path / "semantic-cache.yaml").write_text(text.replace("What is snow?", "What is rain?"), encoding="utf-8")
    assert load_settings("semantic-cache", tmp_path).set1 == ["What is rain?"] * 2
