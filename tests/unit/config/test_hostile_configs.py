"""Hostile configs (tests/fixtures/hostile/configs): refused with exit 3, the file named, no traceback, no hang."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit.cli import root
from toolkit.errors import EXIT_BAD_INPUT

HOSTILE = Path(__file__).parents[2] / "fixtures" / "hostile" / "configs"
CASES = sorted(HOSTILE.glob("*.yaml"))


def _expected_message(path: Path) -> str | None:
    match = re.search(rb"^# expect-message: (.*)$", path.read_bytes(), re.MULTILINE)
    return match.group(1).decode() if match else None


def test_corpus_is_there() -> None:
    assert len(CASES) >= 30


@pytest.mark.timeout(20)
@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_hostile_config_is_refused_cleanly(path: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(root, ["render", "--config", str(path), "--out", str(out)])
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert "Traceback" not in result.output
    assert str(path) in result.output
    expected = _expected_message(path)
    if expected:
        assert expected in result.output
    assert not out.exists()
