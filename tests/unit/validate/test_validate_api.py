"""`toolkit.validate(...)`, the library entry point, and open_run: what they pass on to the runner, which
engine they open, that the engine and the target are always closed, and where the expectations come from.

The runner, the target and the config loading are stood in for (they have tests of their own)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from toolkit.validate import api, engines
from toolkit.validate.runner import ValidationRun


class Closing:
    def __init__(self, name: str = "") -> None:
        self.name, self.closed = name, 0

    def close(self) -> None:
        self.closed += 1


class Stand:
    """open_run, run_scenarios and open_engine stood in for, with what each was given."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, fails: Exception | None = None) -> None:
        self.target, self.engine, self.fails = Closing(), Closing("locust"), fails
        self.opened: list[tuple[Any, ...]] = []
        self.runs: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
        self.engines: list[tuple[str, int, int]] = []
        monkeypatch.setattr(api, "open_run", self.open_run)
        monkeypatch.setattr(api, "run_scenarios", self.run_scenarios)
        monkeypatch.setattr(engines, "open_engine", self.open_engine)

    def open_run(self, config: Any, env: Any, artifacts: Any, **options: Any) -> tuple[Any, Any, Any]:
        self.opened.append((config, env, artifacts, options))
        return "loaded", "expect", self.target

    def run_scenarios(self, *args: Any, **options: Any) -> ValidationRun:
        self.runs.append((args, options))
        if self.fails is not None:
            raise self.fails
        return ValidationRun([])

    def open_engine(self, name: str, *, users: int, workers: int) -> Closing:
        self.engines.append((name, users, workers))
        return self.engine


def test_validate_runs_the_scenarios_asked_with_the_projects_validations_on_the_builtin_engine(
        monkeypatch: pytest.MonkeyPatch) -> None:
    stand = Stand(monkeypatch)
    result = api.validate("auth", config="project/toolkit.yaml", env="dev")
    assert isinstance(result, ValidationRun)
    assert stand.opened == [("project/toolkit.yaml", "dev", None,
                             {"emulator": None, "credential": None, "environ": None})]
    ((args, options),) = stand.runs
    assert args == ("loaded", "expect", stand.target, ["auth"])  # one name: a list of one scenario
    assert options == {"validations_dir": Path("project/validations"), "seed": None, "max_requests": None,
                       "allow_quota_burn": False, "http": None, "on_verdict": None, "run": None, "engine": None}
    assert stand.engines == [] and stand.target.closed == 1


def test_validate_passes_every_option_on_and_closes_the_locust_engine_it_opened(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    stand = Stand(monkeypatch)
    run, environ = ValidationRun([]), {"A": "1"}

    def sleep(seconds: float) -> None:
        return None

    def heard(verdict: Any) -> None:
        return None

    api.validate(["load-balancing", "auth"], config=tmp_path / "toolkit.yaml", env="prod", artifacts="tree",
                 validations=tmp_path / "mine", seed=3, max_requests=9, allow_quota_burn=True, emulator="emu",
                 credential="cred", http="client", environ=environ, sleep=sleep, on_verdict=heard, run=run,
                 engine="locust", workers=3)  # type: ignore[arg-type]
    assert stand.opened == [(tmp_path / "toolkit.yaml", "prod", "tree",
                             {"emulator": "emu", "credential": "cred", "environ": environ})]
    ((args, options),) = stand.runs
    assert args[3] == ["load-balancing", "auth"]
    assert options == {"validations_dir": tmp_path / "mine", "seed": 3, "max_requests": 9, "allow_quota_burn": True,
                       "http": "client", "on_verdict": heard, "run": run, "engine": stand.engine, "sleep": sleep}
    assert stand.engines == [("locust", 12, 3)]  # 4 users per worker unless told
    assert stand.engine.closed == 1 and stand.target.closed == 1
    monkeypatch.chdir(tmp_path)
    api.validate(engine="locust", users=5)
    assert stand.engines[-1] == ("locust", 5, 2) and stand.runs[-1][0][3] == ["all"]
    assert stand.opened[-1][0] == "toolkit.yaml"  # the project of the current folder


def test_a_failing_run_still_closes_the_engine_and_the_target(monkeypatch: pytest.MonkeyPatch) -> None:
    stand = Stand(monkeypatch, fails=KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        api.validate(engine="locust")
    assert stand.engine.closed == 1 and stand.target.closed == 1


def _loading(monkeypatch: pytest.MonkeyPatch, target: str) -> dict[str, list[Any]]:
    """open_run's collaborators stood in for; returns what each was called with."""
    from toolkit.artifacts import io
    from toolkit.config import loader
    from toolkit.render import pipeline
    from toolkit.validate import expectations, target as target_module

    calls: dict[str, list[Any]] = {"load": [], "read": [], "render": [], "expect": [], "target": [], "require": []}
    class Loaded:
        env_name, gateway = "dev", "the gateway"
        environment = SimpleNamespace(target=target)

        def require(self, *settings: str) -> Any:
            calls["require"].append(settings)
            return "the checked environment"

    monkeypatch.setattr(loader, "load_config", lambda config, env, environ: calls["load"].append(
        (config, env, environ)) or Loaded())
    monkeypatch.setattr(io, "read_tree", lambda path: calls["read"].append(path) or "read tree")
    monkeypatch.setattr(pipeline, "render_artifacts", lambda gateway, policies: calls["render"].append(
        (gateway, policies)) or "rendered tree")
    monkeypatch.setattr(expectations, "load_expectations", lambda loaded, tree, source: calls["expect"].append(
        (type(loaded).__name__, tree, source)) or "expect")
    monkeypatch.setattr(target_module, "open_target", lambda env, emulator, credential, environ: calls[
        "target"].append((env, emulator, credential, environ)) or "target")
    return calls


def test_open_run_renders_the_projects_policies_for_the_emulator(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _loading(monkeypatch, "emulator")
    loaded, expect, target = api.open_run("proj/toolkit.yaml", "dev", None, emulator="emu", environ={"A": "1"})
    assert (expect, target) == ("expect", "target")
    assert calls["load"] == [("proj/toolkit.yaml", "dev", {"A": "1"})] and calls["read"] == []
    assert calls["render"] == [("the gateway", Path("proj/policies"))]
    assert calls["expect"] == [("Loaded", "rendered tree", "proj/toolkit.yaml rendered for dev")]
    assert calls["require"] == []  # the emulator needs no gateway URL or key from the environment
    assert calls["target"] == [(loaded.environment, "emu", None, {"A": "1"})]


def test_open_run_reads_a_given_tree_and_needs_azures_url_and_key(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _loading(monkeypatch, "azure")
    api.open_run("toolkit.yaml", "prod", "apimartifacts", credential="cred")
    assert calls["read"] == ["apimartifacts"] and calls["render"] == []
    assert calls["expect"] == [("Loaded", "read tree", "apimartifacts")]
    assert calls["require"] == [("gateway_url", "subscription_key")]
    assert calls["target"] == [("the checked environment", None, "cred", None)]
