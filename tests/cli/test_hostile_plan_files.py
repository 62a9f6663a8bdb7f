"""`toolkit apply --plan FILE` with hostile plan files (tests/fixtures/hostile/plans): each is refused with exit 3,
naming the file and the field, quickly, without a traceback or an internal error, and nothing is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit.cli import root
from toolkit.emulator.management import ManagementPlane

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "hostile" / "plans"
EXPECTED = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))  # file -> words the message names
CASES = sorted(p.name for p in CORPUS.iterdir() if p.name != "expected.json")


def test_every_case_has_an_expectation() -> None:
    assert CASES == sorted(EXPECTED)


@pytest.mark.timeout(30)  # a bound against hangs, not a speed target
@pytest.mark.parametrize("case", CASES)
def test_a_hostile_plan_file_is_refused_cleanly(case: str, served_env: dict[str, str], plane: ManagementPlane,
                                                repo_root: Path) -> None:
    path = CORPUS / case
    result = CliRunner(env=served_env).invoke(
        root, ["apply", "--plan", str(path), "--yes", "--config", str(repo_root / "toolkit.yaml")])
    assert result.exit_code == 3, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert str(path) in result.stderr and EXPECTED[case] in result.stderr, result.stderr
    assert plane.counters.writes == 0
