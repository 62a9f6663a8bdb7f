"""Every malformed config in tests/fixtures/config/bad is refused with file, line, field and message (exit 3)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit.cli import root
from toolkit.config import load_config
from toolkit.errors import EXIT_BAD_INPUT, ConfigError

BAD = Path(__file__).parents[2] / "fixtures" / "config" / "bad"
CASES = sorted(BAD.glob("*.yaml"))


def _expectations(path: Path) -> tuple[dict[str, str], int]:
    lines = path.read_text(encoding="utf-8").splitlines()
    header = [line for line in lines if line.startswith("# expect-")]
    found = dict(re.match(r"# expect-([a-z]+): ?(.*)", line).groups() for line in header)  # type: ignore[union-attr]
    return found, len(header)


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 25


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_refused_with_location_and_message(path: Path) -> None:
    expect, header_lines = _expectations(path)
    with pytest.raises(ConfigError) as caught:
        load_config(path, expect.get("env"), environ={})
    error = caught.value
    assert error.location.file == str(path)
    assert error.location.line == int(expect["line"]) + header_lines
    assert (error.location.field or "") == expect["field"]
    assert expect["message"] in error.reason


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_cli_exit_code_and_no_traceback(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expect, header_lines = _expectations(path)
    monkeypatch.delenv("TOOLKIT_TEST_UNDEFINED_URL", raising=False)
    args = ["render", "--config", str(path), "--out", str(tmp_path / "out")]
    if expect.get("env"):
        args += ["--env", expect["env"]]
    result = CliRunner().invoke(root, args)
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert "Traceback" not in result.output
    assert f"{path}:{int(expect['line']) + header_lines}" in result.output
    assert not (tmp_path / "out").exists()
