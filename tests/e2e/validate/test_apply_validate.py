"""`toolkit apply FEATURE --validate [--rollback-on-fail]` against a running emulator, through the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from toolkit.artifacts.layout import ArtifactPath
from toolkit.config import load_config
from toolkit.local import local_gateway
from toolkit.publish import connect_target

POOL = ArtifactPath.backend("openai-backend-pool")


@pytest.fixture
def fresh_gateway(config_path: Path) -> Iterator[Any]:
    with local_gateway(load_config(config_path, "local", environ={}), seed=9) as gateway:
        yield gateway


def _drifted_config(tmp_path: Path, config_path: Path) -> Path:
    """Weights 60/40, and toolkit.yaml's regions of East US and West US swapped: what was applied then does not
    behave as this config says (responses from East US are read as West US, a priority-2 backend)."""
    document = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    members = document["pools"][0]["members"]
    members[0]["weight"], members[1]["weight"] = 60, 40
    regions = {b["name"]: b for b in document["backends"]}
    regions["openai-eastus"]["region"], regions["openai-westus"]["region"] = "West US", "East US"
    return _project(tmp_path, config_path, document)


def _project(tmp_path: Path, config_path: Path, document: dict[str, Any]) -> Path:
    """``document`` as toolkit.yaml in ``tmp_path``, beside the repository's policies/ and validations/."""
    path = tmp_path / "toolkit.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    for folder in ("policies", "validations"):
        (tmp_path / folder).symlink_to(config_path.parent / folder)
    return path


def _apply(gateway: Any, config: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3]),
           "TOOLKIT_EMULATOR_URL": gateway.emulator.control_url, "TOOLKIT_EMULATOR_TOKEN": gateway.emulator.control_token}
    return subprocess.run([sys.executable, "-m", "toolkit", "apply", "backend-pool", "--config", str(config), "--yes",
                           *flags], capture_output=True, text=True, env=env, timeout=300)


def _weights(gateway: Any, config_path: Path) -> list[int]:
    environment = load_config(config_path, "local", environ={}).environment
    with connect_target(environment, emulator=gateway.emulator) as target:
        live = target.client.get(POOL)
    return [member["weight"] for member in live.body["properties"]["pool"]["services"]]


def test_a_failed_validation_rolls_the_apply_back(tmp_path: Path, config_path: Path, fresh_gateway: Any) -> None:
    result = _apply(fresh_gateway, _drifted_config(tmp_path, config_path), "--validate", "--rollback-on-fail")
    assert result.returncode == 1, result.stderr
    assert "FAIL" in result.stderr and "openai-westus took" in result.stderr
    assert "rolled back to the pre-apply state" in result.stderr and POOL.label in result.stderr
    assert _weights(fresh_gateway, config_path) == [50, 50, 100]


def test_without_rollback_the_change_stays(tmp_path: Path, config_path: Path, fresh_gateway: Any) -> None:
    result = _apply(fresh_gateway, _drifted_config(tmp_path, config_path), "--validate")
    assert result.returncode == 1, result.stderr
    assert "rolled back" not in result.stderr
    assert _weights(fresh_gateway, config_path) == [60, 40, 100]


def test_a_passing_validation_keeps_the_apply(tmp_path: Path, config_path: Path, fresh_gateway: Any) -> None:
    document = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    document["pools"][0]["members"][0]["weight"] = 70
    result = _apply(fresh_gateway, _project(tmp_path, config_path, document), "--validate", "--rollback-on-fail")
    assert result.returncode == 0, result.stderr
    assert "PASS" in result.stderr and "load-balancing" in result.stderr and "priority-failover" in result.stderr
    assert _weights(fresh_gateway, config_path) == [70, 50, 100]


def test_rollback_on_fail_needs_validate(config_path: Path, fresh_gateway: Any) -> None:
    result = _apply(fresh_gateway, config_path, "--rollback-on-fail")
    assert result.returncode == 2 and "--rollback-on-fail needs --validate" in result.stderr
