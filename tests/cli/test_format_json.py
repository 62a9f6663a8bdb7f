"""`--format json` for render and apply: one JSON object on stdout, the same exit codes as text."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit.cli import root
from toolkit.emulator.management import ManagementPlane, TlsMaterial
from toolkit.testing.emulator_servers import serve_app_in_thread


def test_render_json_and_its_check(repo_root: Path, tmp_path: Path) -> None:
    config = str(repo_root / "toolkit.yaml")
    out = tmp_path / "apimartifacts"
    written = CliRunner().invoke(root, ["render", "--config", config, "--out", str(out), "--format", "json"])
    assert written.exit_code == 0, written.output
    document = json.loads(written.stdout)
    assert document["written"] and document["lint_errors"] == [] and document["env"] == "local"
    checked = CliRunner().invoke(root, ["render", "--config", config, "--out", str(out), "--check", "--format", "json"])
    assert checked.exit_code == 0 and json.loads(checked.stdout)["differs"] == []
    changed = out / document["written"][0]
    changed.write_text(changed.read_text(encoding="utf-8") + "\n<!-- drift -->", encoding="utf-8")
    drifted = CliRunner().invoke(root, ["render", "--config", config, "--out", str(out), "--check", "--format", "json"])
    assert drifted.exit_code == 1 and json.loads(drifted.stdout)["differs"] == [document["written"][0]]


@pytest.fixture
def env(plane: ManagementPlane, tls: TlsMaterial) -> Iterator[dict[str, str]]:
    with serve_app_in_thread(plane.app, ssl=tls) as url:
        yield {"TOOLKIT_MANAGEMENT_URL": url, "TOOLKIT_CA_BUNDLE": str(tls.ca_bundle_path),
               "TOOLKIT_EMULATOR_TOKEN": plane.token}


def test_apply_json(env: dict[str, str], repo_root: Path) -> None:
    config = str(repo_root / "toolkit.yaml")
    dry = CliRunner(env=env).invoke(root, ["apply", "--config", config, "--dry-run", "--format", "json"])
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.stdout)["dry_run"] is True and json.loads(dry.stdout)["applied"] == []
    applied = CliRunner(env=env).invoke(root, ["apply", "--config", config, "--yes", "--format", "json"])
    assert applied.exit_code == 0, applied.output
    document = json.loads(applied.stdout)  # stdout is only the document (the plan text is not printed)
    assert len(document["applied"]) == document["plan"]["summary"]["create"] == 11 and document["writes"] >= 11
    again = CliRunner(env=env).invoke(root, ["apply", "--config", config, "--yes", "--format", "json"])
    assert json.loads(again.stdout)["applied"] == [] and json.loads(again.stdout)["plan"]["summary"]["unchanged"] == 11
