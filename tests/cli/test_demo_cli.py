"""`toolkit demo`: the whole loop on the emulator, every check passing on the sample config."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit.cli import root


def test_demo_runs_the_loop_and_passes(repo_root: Path) -> None:
    result = CliRunner().invoke(root, ["demo", "--config", str(repo_root / "toolkit.yaml"), "--requests", "40"])
    assert result.exit_code == 0, result.output
    for step in ("1/4 render", "2/4 lint", "3/4 publish", "4/4 traffic"):
        assert step in result.output
    for check in ("pool priorities and weights", "semantic cache", "token limit", "JWT validation",
                  "circuit breaker and spill-over"):
        assert f"PASS  {check}" in result.output
    assert "openai-westus 0/40" in result.output  # priority 2 idle while priority 1 is healthy


def test_demo_fails_when_the_gateway_misbehaves(repo_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A gateway that ignores priorities must fail the demo's routing check (exit 1)."""
    import toolkit.emulator.gateway.pool as pool

    original = pool.PoolRouter.choose

    def ignore_priorities(self: pool.PoolRouter, is_available: object) -> str | None:
        original(self, is_available)  # keep the RNG stream as it was
        return self.members[-1].name  # always the lowest-priority member

    monkeypatch.setattr(pool.PoolRouter, "choose", ignore_priorities)
    result = CliRunner().invoke(root, ["demo", "--config", str(repo_root / "toolkit.yaml"), "--requests", "20"])
    assert result.exit_code == 1, result.output
    assert "FAIL  pool priorities and weights" in result.output
