"""Validation and load through Locust (a master and 2 local workers) against a real emulator: the same
verdicts as the built-in driver, every request in the log, and `toolkit load`'s per-backend figures."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import toolkit
from toolkit.validate.control import ControlClient

# Never imported here: importing Locust monkey-patches the process (gevent) and would stall the in-process emulator.
pytestmark = [pytest.mark.timeout(300),
              pytest.mark.skipif(importlib.util.find_spec("locust") is None, reason="Locust is not installed")]


def _both(config_path: Path, emulator: Any, scenarios: list[str]) -> dict[str, Any]:
    return {engine: toolkit.validate(scenarios, config=config_path, env="local", emulator=emulator, seed=3,
                                     environ={}, engine=engine, workers=2, users=8)
            for engine in ("builtin", "locust")}


def test_load_balancing_through_locust_gets_the_builtin_verdict(committed_gateway: Any, config_path: Path) -> None:
    runs = _both(config_path, committed_gateway.emulator, ["load-balancing", "auth"])
    assert runs["locust"].engines == {"load-balancing": "locust", "auth": "builtin"}
    assert runs["builtin"].engines == {"load-balancing": "builtin", "auth": "builtin"}
    for run in runs.values():
        assert [v.outcome.value for v in run.verdicts] == ["pass", "pass"], [v.sentence for v in run.verdicts]
        assert sum(v.requests for v in run.verdicts) == len(run.log)
    rows = runs["locust"].log.for_scenario("load-balancing")
    answered = [row for row in rows if row.ok]  # on a busy machine Locust sends more and meets the backends' 429s
    fresh = [row for row in answered if not row.cache_hit]  # nonces keep hits rare; shares skip them
    assert len({row.completion_id for row in fresh}) == len(fresh) >= 0.95 * len(answered)
    assert len(answered) >= 0.8 * len(rows), {row.status for row in rows if not row.ok}
    assert {row.backend for row in rows if row.ok} == {"openai-eastus", "openai-northcentralus"}


def test_wrong_weights_fail_through_locust_as_through_the_builtin_driver(publish_mutated: Any,
                                                                          config_path: Path) -> None:
    def skew(document: dict[str, Any]) -> None:
        members = document["pools"][0]["members"]
        members[0].update(weight=90)
        members[1].update(weight=10)

    with publish_mutated(skew) as gateway:
        runs = _both(config_path, gateway.emulator, ["load-balancing"])
    for run in runs.values():
        verdict = run.verdicts[0]
        assert verdict.outcome.value == "fail" and "expected 50%" in verdict.sentence, verdict.sentence
    assert runs["locust"].engines == {"load-balancing": "locust"}


def _emulator_env(gateway: Any) -> dict[str, str]:
    return {"TOOLKIT_EMULATOR_URL": gateway.emulator.control_url,
            "TOOLKIT_EMULATOR_TOKEN": gateway.emulator.control_token}


def _toolkit(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "toolkit", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "PYTHONPATH": str(cwd), **env}, timeout=240)


def test_validate_cli_says_which_scenarios_stayed_on_the_builtin_driver(committed_gateway: Any,
                                                                        config_path: Path) -> None:
    result = _toolkit("validate", "priority-failover", "auth", "--engine", "locust", "--workers", "2",
                      env=_emulator_env(committed_gateway), cwd=config_path.parent)
    assert result.returncode == 0, result.stderr
    assert "auth: sequential by nature, sent by the built-in driver, not locust" in result.stderr
    assert committed_gateway.subscription_key not in result.stdout + result.stderr


@pytest.mark.parametrize("engine", ["builtin", "locust"])
def test_load_reports_per_backend_figures_that_add_up(committed_gateway: Any, config_path: Path,
                                                      engine: str) -> None:
    emulator = committed_gateway.emulator
    control = ControlClient(emulator.control_url, token=emulator.control_token)
    control.advance(61)  # a fresh token-limit window, so backends answer and not only the gateway's 429
    control.close()
    result = _toolkit("load", "--env", "local", "--users", "4", "--duration", "3s", "--engine", engine,
                      "--workers", "2", "--format", "json", env=_emulator_env(committed_gateway),
                      cwd=config_path.parent)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    total, backends = report["total"], report["backends"]
    assert report["engine"] == engine and total["requests"] > 0
    assert sum(b["requests"] for b in backends) == total["requests"]
    assert sum(b["ok"] for b in backends) == total["ok"]
    assert total["ok"] + sum(total["errors"].values()) == total["requests"]
    names = {b["backend"] for b in backends}
    assert names <= {"openai-eastus", "openai-northcentralus", "(gateway: no backend header)"}, names
    assert "openai-eastus" in names and "openai-northcentralus" in names, names
    for figures in [total, *backends]:
        latency = figures["latency_ms"]
        assert latency["p50"] <= latency["p90"] <= latency["p99"]
    assert committed_gateway.subscription_key not in result.stdout + result.stderr


@pytest.mark.parametrize(("args", "code", "words"), [
    (["--users", "0", "--duration", "3s"], 2, "--users"),
    (["--users", "2", "--duration", "3s", "--engine", "jmeter"], 2, "--engine"),
    (["--users", "2", "--duration", "soon"], 2, "'soon' is not a duration"),
    (["--users", "2", "--duration", "0s"], 2, "longer than zero"),
    (["--users", "1", "--duration", "3s", "--engine", "locust", "--workers", "2"], 3, "fewer than the 2 Locust"),
    (["--users", "1", "--duration", "0.000001s"], 3, "sent no request"),  # was exit 0 with zero requests
])
def test_load_bad_input_is_a_clear_usage_error(committed_gateway: Any, config_path: Path, args: list[str], code: int,
                                               words: str) -> None:
    result = _toolkit("load", *args, env=_emulator_env(committed_gateway), cwd=config_path.parent)
    assert result.returncode == code, result.stderr
    assert words in result.stderr and "Traceback" not in result.stderr


def test_load_against_an_unreachable_gateway_is_exit_4(config_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    result = _toolkit("load", "--users", "1", "--duration", "1s",
                      env={"TOOLKIT_EMULATOR_URL": closed, "TOOLKIT_EMULATOR_TOKEN": "x"}, cwd=config_path.parent)
    assert result.returncode == 4, result.stderr
    assert "did not answer" in result.stderr and "Traceback" not in result.stderr
