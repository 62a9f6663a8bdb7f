"""`toolkit validate --report DIR / --junit FILE` through the CLI against a running emulator, and the partial
report Ctrl-C leaves."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from junitparser import JUnitXml

from toolkit.report import REPORT_FILES
from toolkit.report.summary_json import schema


def _env(gateway: Any, cwd: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(cwd), "TOOLKIT_EMULATOR_URL": gateway.emulator.control_url,
            "TOOLKIT_EMULATOR_TOKEN": gateway.emulator.control_token}


def _scan_for_secrets(folder: Path, secrets: list[str]) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            for secret in secrets:
                assert secret not in text, f"{path.name} holds a secret"


def test_report_and_junit_through_the_cli(committed_gateway: Any, config_path: Path, tmp_path: Path) -> None:
    cwd = config_path.parent
    result = subprocess.run([sys.executable, "-m", "toolkit", "validate", "auth", "semantic-cache", "--seed", "6",
                             "--report", str(tmp_path / "report"), "--junit", str(tmp_path / "ci" / "validate.xml")],
                            capture_output=True, text=True, cwd=cwd, env=_env(committed_gateway, cwd), timeout=300)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "report").iterdir()) == sorted(REPORT_FILES)
    assert "report.html" in result.stderr and "semantic-cache: sending requests" in result.stderr
    summary = json.loads((tmp_path / "report" / "summary.json").read_text(encoding="utf-8"))
    jsonschema.validate(summary, schema(), cls=jsonschema.Draft202012Validator)
    assert [s["verdict"] for s in summary["scenarios"]] == ["pass", "pass"] and summary["target"].startswith("local")
    junit = JUnitXml.fromfile(str(tmp_path / "ci" / "validate.xml"))
    assert junit.tests == sum(len(s["checks"]) for s in summary["scenarios"]) and junit.failures == 0
    _scan_for_secrets(tmp_path, [committed_gateway.emulator.control_token, *_subscription_keys(committed_gateway)])


def _subscription_keys(gateway: Any) -> list[str]:
    """Every key of every subscription on the emulator, including those validation created for itself."""
    from toolkit.emulator.management.store import ResourceKind

    keys = [resource.properties.get(f"{slot}Key") for resource in gateway.emulator.plane.store.list(ResourceKind.SUBSCRIPTION)
            for slot in ("primary", "secondary")]
    assert len(keys) >= 4
    return [key for key in keys if key]


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_writes_a_partial_inconclusive_report(committed_gateway: Any, config_path: Path, tmp_path: Path,
                                                     stop: signal.Signals) -> None:
    cwd = config_path.parent
    process = subprocess.Popen([sys.executable, "-m", "toolkit", "validate", "load-balancing", "priority-failover",
                                "--report", str(tmp_path / "report")], stderr=subprocess.PIPE, stdout=subprocess.PIPE,
                               text=True, cwd=cwd, env=_env(committed_gateway, cwd))
    assert process.stderr is not None
    seen = []
    for line in process.stderr:  # wait until traffic runs
        seen.append(line)
        if "load-balancing: sending requests" in line:
            break
    process.send_signal(stop)
    _, rest = process.communicate(timeout=120)
    assert process.returncode == 130, "".join(seen) + rest
    assert "partial report is inconclusive" in rest and "Traceback" not in rest
    summary = json.loads((tmp_path / "report" / "summary.json").read_text(encoding="utf-8"))
    jsonschema.validate(summary, schema(), cls=jsonschema.Draft202012Validator)
    assert (summary["partial"], summary["verdict"]) == (True, "inconclusive")
    verdicts = {s["scenario"]: s for s in summary["scenarios"]}
    assert verdicts["load-balancing"]["verdict"] == "inconclusive" and "interrupted" in verdicts["load-balancing"]["sentence"]
    assert summary["exit_code"] == 130  # what the process exited with
    assert verdicts["load-balancing"]["requests"] >= 1  # the requests it sent before the interruption
    assert verdicts["priority-failover"]["sentence"].startswith("not run")
    assert summary["requests"] >= 1
    assert "Partial report" in (tmp_path / "report" / "report.html").read_text(encoding="utf-8")


def test_a_report_folder_that_cannot_be_written_is_refused_before_any_traffic(tmp_path: Path, config_path: Path) -> None:
    """Found by an audit: the whole run was sent, then the report failed (exit 3) and the verdicts were lost."""
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the report folder's parent should be", encoding="utf-8")
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "toolkit", "validate", "auth", "--report", str(blocked / "report")],
                            capture_output=True, text=True, cwd=config_path.parent,
                            env={**os.environ, "TOOLKIT_EMULATOR_URL": "http://127.0.0.1:9"}, timeout=120)
    assert result.returncode == 3, result.stderr
    assert f"{blocked / 'report'}: the report cannot be written there" in result.stderr
    assert "sending requests" not in result.stderr and time.perf_counter() - started < 60


def test_ctrl_c_with_format_json_prints_the_verdicts_so_far(committed_gateway: Any, config_path: Path,
                                                           tmp_path: Path) -> None:
    """Found by an audit: an interrupted run printed nothing on stdout, where a pipeline reads one object."""
    cwd = config_path.parent
    process = subprocess.Popen([sys.executable, "-m", "toolkit", "validate", "--format", "json"],  # all six: ~15 s
                               stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=cwd,
                               env=_env(committed_gateway, cwd))
    time.sleep(4)
    process.send_signal(signal.SIGINT)
    printed, rest = process.communicate(timeout=120)
    assert process.returncode == 130, rest
    result = json.loads(printed)
    assert result["exit_code"] == 130 and result["interrupted"].startswith("interrupted")
    assert [s["verdict"] for s in result["scenarios"]].count("inconclusive") >= 1
