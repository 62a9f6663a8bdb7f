"""toolkit validate end to end: the committed config on a real emulator, the CLI's exit codes and formats,
and the Azure path (target: azure pointed at the emulator's gateway, no control API)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from azure.core.credentials import AccessToken

import toolkit
from toolkit.validate import Outcome, ValidationRun, Verdict


def test_all_six_scenarios_pass_on_the_committed_config(committed_gateway: Any, config_path: Path) -> None:
    run = toolkit.validate("all", config=config_path, env="local", emulator=committed_gateway.emulator, seed=3,
                           environ={})
    assert isinstance(run, ValidationRun) and all(isinstance(v, Verdict) for v in run.verdicts)
    assert [v.scenario for v in run.verdicts] == ["load-balancing", "priority-failover", "circuit-breaker",
                                                  "semantic-cache", "token-limit", "auth"]
    assert [v.outcome for v in run.verdicts] == [Outcome.PASS] * 6, [v.sentence for v in run.verdicts]
    assert run.exit_code == 0
    assert {row.scenario for row in run.log.rows} == {v.scenario for v in run.verdicts}
    assert sum(v.requests for v in run.verdicts) == len(run.log)


def _emulator_env(gateway: Any) -> dict[str, str]:
    return {"TOOLKIT_EMULATOR_URL": gateway.emulator.control_url, "TOOLKIT_EMULATOR_TOKEN": gateway.emulator.control_token}


def _cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "toolkit", "validate", *args], capture_output=True, text=True,
                          cwd=cwd, env={**os.environ, "PYTHONPATH": str(cwd), **env}, timeout=300)


def test_cli_json_on_a_running_emulator(committed_gateway: Any, config_path: Path) -> None:
    result = _cli("auth", "semantic-cache", "--format", "json", "--seed", "4",
                  env=_emulator_env(committed_gateway), cwd=config_path.parent)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert [s["verdict"] for s in document["scenarios"]] == ["pass", "pass"]
    assert document["scenarios"][0]["scenario"] == "semantic-cache" and document["scenarios"][1]["requests"] >= 10
    assert committed_gateway.subscription_key not in result.stdout + result.stderr


def test_cli_bad_scenario_file_is_exit_3_with_file_and_line(tmp_path: Path, config_path: Path,
                                                            committed_gateway: Any) -> None:
    for path in (config_path.parent / "validations").iterdir():
        (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "auth.yaml").write_text("prompt: hi\njwt_cases: [expired, sideways]\n", encoding="utf-8")
    result = _cli("auth", "--validations", str(tmp_path),
                  env=_emulator_env(committed_gateway), cwd=config_path.parent)
    assert result.returncode == 3, result.stderr
    assert "auth.yaml:2" in result.stderr and "jwt_cases" in result.stderr and "Traceback" not in result.stderr


def test_cli_local_env_without_an_emulator_is_bad_input(config_path: Path) -> None:
    result = _cli("auth", env={"TOOLKIT_EMULATOR_URL": "", "TOOLKIT_EMULATOR_TOKEN": ""}, cwd=config_path.parent)
    assert result.returncode == 3 and "TOOLKIT_EMULATOR_URL" in result.stderr


def test_cli_fail_is_exit_1_with_the_sentence(publish_mutated: Any, config_path: Path) -> None:
    with publish_mutated(lambda d: d["apis"][0].pop("jwt")) as gateway:
        result = _cli("auth", env=_emulator_env(gateway), cwd=config_path.parent)
    assert result.returncode == 1, result.stderr
    assert "FAIL" in result.stdout and "without a JWT got 200" in result.stdout


class EmulatorIssuerCredential:
    """The emulator's test issuer behind azure-identity's TokenCredential interface (get_token)."""

    def __init__(self, control_url: str, control_token: str) -> None:
        self.control_url, self.headers = control_url, {"Authorization": f"Bearer {control_token}"}

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        audience = scopes[0].removesuffix("/.default")
        token = httpx.post(f"{self.control_url}/tokens", json={"audience": audience}, headers=self.headers).json()["token"]
        return AccessToken(token, int(time.time()) + 3600)


@pytest.fixture
def azure_like(tmp_path: Path, committed_gateway: Any, config_path: Path) -> Path:
    """toolkit.yaml with an environment `ci` (target: azure) whose gateway is the running emulator's."""
    document = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    emulator = committed_gateway.emulator
    embeddings = httpx.get(f"{emulator.control_url}/backends",
                           headers={"Authorization": f"Bearer {emulator.control_token}"}).json()["backends"]["embeddings"]["url"]
    document["environments"]["ci"] = {
        "target": "azure", "subscription_id": "s", "resource_group": "rg", "service": "apim",
        "gateway_url": emulator.gateway_url, "subscription_key": committed_gateway.subscription_key,
        # The cache's embeddings deployment, as the config names it (here: the emulator's, on loopback).
        "overrides": {"backends": [{"name": "embeddings",
                                    "url": f"{embeddings}/openai/deployments/text-embedding-3-small/embeddings"}]},
    }
    path = tmp_path / "toolkit.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    (tmp_path / "policies").symlink_to(config_path.parent / "policies")
    (tmp_path / "validations").symlink_to(config_path.parent / "validations")
    return path


def test_the_azure_path_without_azure(azure_like: Path, committed_gateway: Any) -> None:
    emulator = committed_gateway.emulator
    emulator.reset()
    control, headers = emulator.control_url, {"Authorization": f"Bearer {emulator.control_token}"}

    def wait(seconds: float) -> None:  # the test's own clock control: validation itself has none on Azure
        httpx.post(f"{control}/clock", json={"advance": seconds}, headers=headers)

    second = httpx.post(f"{control}/subscriptions", json={"name": "second"}, headers=headers).json()["primaryKey"]
    credential = EmulatorIssuerCredential(control, emulator.control_token)
    run = toolkit.validate("all", config=azure_like, env="ci", credential=credential,
                           seed=2, environ={"TOOLKIT_VALIDATE_SECOND_KEY": second}, sleep=wait)
    verdicts = {v.scenario: v for v in run.verdicts}
    for name in ("priority-failover", "circuit-breaker"):
        assert verdicts[name].outcome is Outcome.INCONCLUSIVE
        assert "fault injection" in verdicts[name].sentence or "--allow-quota-burn" in verdicts[name].sentence
    for name in ("load-balancing", "semantic-cache", "token-limit", "auth"):
        assert verdicts[name].outcome is Outcome.PASS, (name, verdicts[name].sentence)
    assert run.exit_code == 5
    # Nothing was reset, injected or advanced by validation itself: every request went to the gateway.
    assert {row.phase for row in run.log.rows if row.scenario == "circuit-breaker"} == set()


def test_a_tight_token_limit_does_not_disturb_routing(publish_mutated: Any, config_path: Path) -> None:
    # 3,000 tokens per minute is spent in ~50 routing requests: the run must move to fresh counters rather
    # than count the gateway's 429s as routing, and still decide.
    with publish_mutated(lambda d: d["apis"][0]["token_limit"].update(tokens_per_minute=3000)) as gateway:
        run = toolkit.validate(["load-balancing"], config=config_path, env="local", emulator=gateway.emulator,
                               seed=6, environ={})
    verdict = run.verdicts[0]
    assert verdict.outcome is Outcome.PASS, verdict.sentence
    assert verdict.requests > 3000 // 60  # more than one counter's worth of traffic was sent


def test_expectations_from_an_artifacts_tree(tmp_path: Path, committed_gateway: Any, config_path: Path) -> None:
    from toolkit.artifacts.io import read_tree, write_tree

    tree = read_tree(config_path.parent / "apimartifacts")
    pool = json.loads(tree.get("backends/openai-backend-pool/backendInformation.json"))
    pool["properties"]["pool"]["services"][0]["weight"] = 90
    pool["properties"]["pool"]["services"][1]["weight"] = 10
    tree.put("backends/openai-backend-pool/backendInformation.json", json.dumps(pool))
    write_tree(tmp_path / "tree", tree)
    run = toolkit.validate(["load-balancing"], config=config_path, env="local", artifacts=tmp_path / "tree",
                           emulator=committed_gateway.emulator, seed=8, environ={})
    verdict = run.verdicts[0]
    assert verdict.outcome is Outcome.FAIL and "expected 90%" in verdict.sentence + str(verdict.checks)
    assert verdict.expected["source"] == str(tmp_path / "tree")


def test_a_token_quota_is_refused_with_403(publish_mutated: Any, tmp_path: Path) -> None:
    def quota(document: dict[str, Any]) -> None:
        document["apis"][0]["token_limit"].update(token_quota=6000, token_quota_period="Hourly")

    with publish_mutated(quota) as gateway:
        run = toolkit.validate(["token-limit"], config=tmp_path / "toolkit.yaml", env="local",
                               emulator=gateway.emulator, seed=2, environ={})
    verdict = run.verdicts[0]
    assert verdict.outcome is Outcome.PASS, verdict.sentence
    assert verdict.expected["refusal"] == 403 and "the first 403 came after" in verdict.sentence


def test_quota_burn_that_does_not_exhaust_the_deployments_is_inconclusive(azure_like: Path,
                                                                          committed_gateway: Any) -> None:
    # The simulated deployments have no tokens-per-minute limit here, so the burst cannot take them out.
    emulator = committed_gateway.emulator
    emulator.reset()
    run = toolkit.validate(["priority-failover"], config=azure_like, env="ci", allow_quota_burn=True,
                           credential=EmulatorIssuerCredential(emulator.control_url, emulator.control_token),
                           seed=3, environ={})
    verdict = run.verdicts[0]
    assert verdict.outcome is Outcome.INCONCLUSIVE and "did not leave the pool" in verdict.sentence
    assert any(row.phase == "quota-burn" for row in run.log.rows)
