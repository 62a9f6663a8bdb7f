"""The runner: which scenarios run and in what order, what each one is given (its settings, seed, engine, embedder),
what a verdict records of its run, and what a failing target or a bad settings file does to the run.

The scenarios here are stand-in modules put in place of the real ones; the gateway is an httpx.MockTransport."""

from __future__ import annotations

import random
import shutil
import sys
import types
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from toolkit.errors import ConfigError, RemoteError
from toolkit.validate import runner
from toolkit.validate.context import Context
from toolkit.validate.expectations import CacheRule, Expectations, Member
from toolkit.validate.runner import ValidationRun, expand, run_scenarios
from toolkit.validate.settings import SCENARIOS
from toolkit.validate.target import Target
from toolkit.validate.traffic import Caller
from toolkit.validate.verdict import Outcome, Verdict

VALIDATIONS = Path(__file__).resolve().parents[3] / "validations"
EXPECT = Expectations(
    source="test", api="a", api_path="openai", key_header="api-key", subscription_required=True, deployment="d",
    api_version="v", pool="p", members=(Member("east", 1, None, "East US"),))


def _gateway(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"id": "c", "usage": {"prompt_tokens": 1, "completion_tokens": 1}},
                          headers={"x-ms-region": "East US"})


class Engine:
    name = "stand-in engine"


class Control:
    secret = "control-token"


def _scenarios(monkeypatch: pytest.MonkeyPatch, runs: dict[str, Callable[[Context], Verdict]]) -> list[str]:
    """Put a stand-in module in place of each named scenario's; returns the names in the order they ran."""
    ran: list[str] = []
    modules = dict(runner.MODULES)
    for name, run in runs.items():
        module = types.ModuleType(f"stand_in_{name.replace('-', '_')}")

        def scenario(ctx: Context, run: Callable[[Context], Verdict] = run, name: str = name) -> Verdict:
            ran.append(name)
            return run(ctx)

        module.run = scenario  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, module.__name__, module)
        modules[name] = module.__name__
    monkeypatch.setattr(runner, "MODULES", modules)
    return ran


def _target(**fields: Any) -> Target:
    return Target("the label", "http://gw", "key-1", **fields)


def _http() -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(_gateway))


def test_expand_gives_the_canonical_order_without_repeats_and_all_for_nothing() -> None:
    assert expand([]) == list(SCENARIOS)
    assert expand(["auth", "all"]) == list(SCENARIOS)
    assert expand(["auth", "load-balancing", "auth"]) == ["load-balancing", "auth"]


def test_each_scenario_runs_in_turn_with_its_settings_seed_engine_and_the_requests_it_sent(tmp_path: Path) -> None:
    for name in ("load-balancing", "auth"):
        shutil.copy(VALIDATIONS / f"{name}.yaml", tmp_path)
    with (tmp_path / "auth.yaml").open("a", encoding="utf-8") as settings_file:
        settings_file.write("\nbackend_header: x-served-by\n")
    seen: dict[str, dict[str, Any]] = {}
    with pytest.MonkeyPatch.context() as monkeypatch:
        def sends(count: int, claimed: int) -> Callable[[Context], Verdict]:
            def run(ctx: Context) -> Verdict:
                seen[ctx.scenario] = {"engine": ctx.engine, "draw": ctx.rng.random(), "budget": ctx.budget,
                                      "burn": ctx.allow_quota_burn, "settings": ctx.settings,
                                      "embed": ctx.embed, "sleep": ctx.sleep, "target": ctx.target,
                                      "nonce": ctx.caller.nonce(), "header": ctx.caller.backend_header}
                for _ in range(count):
                    ctx.ask("p1", "hello")
                return Verdict(ctx.scenario, Outcome.PASS, "fine", requests=claimed, seconds=-1.0)
            return run

        ran = _scenarios(monkeypatch, {"load-balancing": sends(3, 1), "auth": sends(2, 10)})
        heard: list[Verdict] = []
        engine, http, target = Engine(), _http(), _target()

        def embed(texts: list[str]) -> None:
            return None

        def sleep(seconds: float) -> None:
            return None

        result = run_scenarios(None, EXPECT, target, ["auth", "load-balancing"],  # type: ignore[arg-type]
                               validations_dir=tmp_path, seed=40, max_requests=7, allow_quota_burn=True,
                               http=http, embed=embed, sleep=sleep, on_verdict=heard.append, engine=engine)
    assert ran == ["load-balancing", "auth"]  # the canonical order, not the order asked
    assert [v.scenario for v in result.verdicts] == ran and heard == result.verdicts
    # a verdict's requests: what it claims or what its scenario sent, the larger; its time measured here
    assert [v.requests for v in result.verdicts] == [3, 10]
    assert all(0.0 <= v.seconds < 60 for v in result.verdicts)
    assert len(result.log) == 5
    # seeds: the run's seed plus the scenario's index; the concurrent engine only for routing scenarios
    assert seen["load-balancing"]["draw"] == random.Random(40).random()
    assert seen["auth"]["draw"] == random.Random(41).random()
    assert seen["load-balancing"]["engine"] is engine and seen["auth"]["engine"] is None
    assert result.engines == {"load-balancing": "stand-in engine", "auth": "builtin"}
    assert seen["auth"]["budget"] == 7 and seen["auth"]["burn"] is True and seen["auth"]["embed"] is embed
    assert seen["auth"]["sleep"] is sleep and seen["auth"]["target"] is target
    # the caller: the same seed (its nonces), and the backend header of the scenario's settings file
    for index, name in enumerate(("load-balancing", "auth")):
        twin = Caller(http, target, EXPECT, result.log, seed=40 + index)
        assert seen[name]["nonce"] == twin.nonce()
    assert [seen[name]["header"] for name in ("load-balancing", "auth")] == ["x-ms-region", "x-served-by"]
    assert result.to_json() == {"exit_code": 0, "requests": 5, "engines": result.engines,
                                "scenarios": [v.to_json() for v in result.verdicts]}
    assert type(seen["auth"]["settings"]).__name__ != type(seen["load-balancing"]["settings"]).__name__
    assert result.target == "the label"
    assert not http.is_closed  # the caller's client is the caller's to close


def test_without_a_seed_the_runs_differ_and_without_a_client_the_run_closes_its_own(
        monkeypatch: pytest.MonkeyPatch) -> None:
    draws: list[float] = []
    burns: set[bool] = set()

    def auth(ctx: Context) -> Verdict:
        draws.append(ctx.rng.random())
        burns.add(ctx.allow_quota_burn)
        return Verdict(ctx.scenario, Outcome.PASS, "ok")

    _scenarios(monkeypatch, {"auth": auth})
    made: list[httpx.Client] = []

    class Client(httpx.Client):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(transport=httpx.MockTransport(_gateway), **kwargs)
            made.append(self)

    monkeypatch.setattr(runner.httpx, "Client", Client)
    for _ in range(40):
        run_scenarios(None, EXPECT, _target(), ["auth"], validations_dir=VALIDATIONS)  # type: ignore[arg-type]
    assert len(set(draws)) == 40  # a seed drawn from 2**31: 40 runs repeat one with a chance of ~4e-7
    assert burns == {False}  # burning the quota is opt-in
    assert len(made) == 40 and all(client.is_closed for client in made)
    assert made[0].timeout == httpx.Timeout(60.0)


def test_a_failing_target_makes_the_scenario_inconclusive_and_the_run_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuses(ctx: Context) -> Verdict:
        raise RemoteError("the gateway answered 503 twice")

    def vanishes(ctx: Context) -> Verdict:
        raise httpx.ConnectError("refused")

    ran = _scenarios(monkeypatch, {"load-balancing": refuses, "circuit-breaker": vanishes,
                                   "auth": lambda ctx: Verdict(ctx.scenario, Outcome.PASS, "ok")})
    result = run_scenarios(None, EXPECT, _target(), ["all"], validations_dir=VALIDATIONS,  # type: ignore[arg-type]
                           http=_http(), embed=lambda texts: None)
    assert ran == ["load-balancing", "circuit-breaker", "auth"]
    by_name = {v.scenario: v for v in result.verdicts}
    assert by_name["load-balancing"].outcome is Outcome.INCONCLUSIVE
    assert by_name["load-balancing"].sentence == "the target failed during the run: the gateway answered 503 twice"
    assert by_name["circuit-breaker"].outcome is Outcome.INCONCLUSIVE
    assert by_name["circuit-breaker"].sentence == "the target stopped answering (ConnectError)"
    assert by_name["auth"].outcome is Outcome.PASS and result.exit_code == 5


def test_a_bug_in_a_scenario_escapes_with_what_was_done_and_the_secrets_to_mask(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(ctx: Context) -> Verdict:
        raise ZeroDivisionError("a bug")

    _scenarios(monkeypatch, {"load-balancing": lambda ctx: Verdict(ctx.scenario, Outcome.FAIL, "off"), "auth": broken})
    run = ValidationRun([])
    target = _target(second_key="key-2", control=Control(), _keys={"fresh": "key-3", "empty": ""})
    with pytest.raises(ZeroDivisionError):
        run_scenarios(None, EXPECT, target, ["load-balancing", "auth"],  # type: ignore[arg-type]
                      validations_dir=VALIDATIONS, http=_http(), embed=lambda texts: None, run=run)
    assert [v.scenario for v in run.verdicts] == ["load-balancing"]  # what finished is kept
    assert run.secrets == ["key-1", "key-2", "key-3", "control-token"]  # every key the run used; no empty one
    assert run.exit_code == 1


def test_every_settings_file_is_read_before_any_traffic(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("load-balancing", "auth"):
        shutil.copy(VALIDATIONS / f"{name}.yaml", tmp_path)
    (tmp_path / "auth.yaml").write_text("max_requests: many\n", encoding="utf-8")
    ran = _scenarios(monkeypatch, {"load-balancing": lambda ctx: Verdict(ctx.scenario, Outcome.PASS, "ok")})
    with pytest.raises(ConfigError) as raised:
        run_scenarios(None, EXPECT, _target(), ["load-balancing", "auth"],  # type: ignore[arg-type]
                      validations_dir=tmp_path, http=_http())
    assert "auth.yaml" in str(raised.value) and ran == []


def test_the_embedder_calls_the_caches_embeddings_deployment_once_it_is_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    from toolkit.validate import embeddings

    built: list[tuple[Any, ...]] = []
    urls: dict[str, str | None] = {"embed-backend": "http://embeddings"}
    config = object()  # the loaded toolkit.yaml, as far as the runner is concerned: passed on

    def embeddings_url(given: Any, backend: str, target: Target) -> str | None:
        assert given is config and target.label == "the label"
        return urls.get(backend)

    def http_embedder(http: httpx.Client, url: str, target: Target) -> Callable[[list[str]], Any]:
        built.append((http, url, target.label))
        return lambda texts: [len(text) for text in texts]

    monkeypatch.setattr(embeddings, "embeddings_url", embeddings_url)
    monkeypatch.setattr(embeddings, "http_embedder", http_embedder)
    http, cached = _http(), replace(EXPECT, cache=CacheRule(0.1, "embed-backend", (), None))
    assert runner._embedder(config, EXPECT, _target(), http) is None  # type: ignore[arg-type]  # no cache
    no_backend = replace(EXPECT, cache=CacheRule(0.1, None, (), None))
    assert runner._embedder(config, no_backend, _target(), http) is None  # type: ignore[arg-type]
    embed = runner._embedder(config, cached, _target(), http)  # type: ignore[arg-type]
    assert embed is not None and built == []  # nothing built until a scenario asks
    assert embed(["ab", "c"]) == [2, 1] and embed(["xyz"]) == [3]
    assert built == [(http, "http://embeddings", "the label")]  # built once, on the run's client
    unknown = replace(EXPECT, cache=CacheRule(0.1, "nowhere", (), None))
    with pytest.raises(RuntimeError, match="no embeddings endpoint for backend 'nowhere'"):
        runner._embedder(config, unknown, _target(), http)(["a"])  # type: ignore[arg-type, misc]

    # a run given no embedder gives the scenarios this one
    asked: list[Any] = []
    _scenarios(monkeypatch, {"semantic-cache": lambda ctx: (asked.append(ctx.embed(["four"])),
                                                            Verdict(ctx.scenario, Outcome.PASS, "ok"))[1]})
    run_scenarios(config, cached, _target(), ["semantic-cache"], validations_dir=VALIDATIONS,  # type: ignore[arg-type]
                  http=http)
    assert asked == [[4]] and built[-1] == (http, "http://embeddings", "the label")
