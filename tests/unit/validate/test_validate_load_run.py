"""`toolkit load`'s soak as run_load drives it: what it asks the engine to send (the prompts, shape and backend header
of validations/load-balancing.yaml, or the defaults), that the engine and the target are closed whatever happens,
and what a soak with no reply, or with no answer at all, means.

The gateway side is stood in for: open_run gives a target with no network, and the engine is a stand-in whose soak
returns hand-made replies (the real soak runs in tests/e2e)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from toolkit.errors import InputError, RemoteError
from toolkit.validate import api, engines
from toolkit.validate.expectations import Expectations, Member
from toolkit.validate.load import DEFAULT_PROMPTS, GATEWAY, run_load
from toolkit.validate.target import Target
from toolkit.validate.traffic import NONCE_WORDS, Reply, RequestShape

VALIDATIONS = Path(__file__).resolve().parents[3] / "validations"
EXPECT = Expectations(
    source="test", api="a", api_path="openai", key_header="api-key", subscription_required=True, deployment="d",
    api_version="v", pool="p", members=(Member("east", 1, None, "East US"), Member("west", 1, None, "West US")))


class ClosingTarget(Target):
    closed = 0

    def close(self) -> None:
        self.closed += 1


class StandInEngine:
    def __init__(self, replies: list[Reply] | Exception) -> None:
        self.replies, self.plans, self.closed = replies, [], 0

    def soak(self, plan: Any) -> list[Reply]:
        self.plans.append(plan)
        if isinstance(self.replies, Exception):
            raise self.replies
        return self.replies

    def close(self) -> None:
        self.closed += 1


class Gateway:
    """open_run and open_engine stood in for, with what they were asked."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, replies: list[Reply] | Exception) -> None:
        self.target = ClosingTarget("t", "http://gw.example", "key")
        self.engine = StandInEngine(replies)
        self.opened: list[tuple[Any, ...]] = []
        self.engines: list[tuple[str, int, int]] = []
        monkeypatch.setattr(api, "open_run", self.open_run)
        monkeypatch.setattr(engines, "open_engine", self.open_engine)

    def open_run(self, config: Any, env: Any, artifacts: Any, *, emulator: Any, credential: Any,
                 environ: Any) -> tuple[Any, Expectations, Target]:
        self.opened.append((config, env, artifacts, emulator, credential, environ))
        return None, EXPECT, self.target

    def open_engine(self, name: str, *, users: int, workers: int) -> StandInEngine:
        self.engines.append((name, users, workers))
        return self.engine


def _reply(status: int = 200, region: str | None = "East US", error: str | None = None,
           started: float = 100.0, header: str = "x-ms-region") -> Reply:
    return Reply(started, 20.0, status, {header: region} if region else {}, b"", error)


def _project(tmp_path: Path, *, validations: bool) -> Path:
    """A project folder, with the sample's validations/load-balancing.yaml given a system message, its own
    max_tokens and a backend header in mixed case (so none of them is the default), or without it."""
    if validations:
        (tmp_path / "validations").mkdir()
        settings = yaml.safe_load((VALIDATIONS / "load-balancing.yaml").read_text(encoding="utf-8"))
        settings["request"] = {**settings.get("request", {}), "system": "Answer in one word.", "max_tokens": 33}
        settings["backend_header"] = "X-Served-By"
        (tmp_path / "validations" / "load-balancing.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    return tmp_path / "toolkit.yaml"


def test_the_soak_sends_the_load_balancing_scenarios_request_and_counts_replies_per_backend(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from toolkit.validate.settings import load_settings

    replies = [_reply(header="x-served-by"), _reply(region="West US", started=101.0, header="x-served-by"),
               _reply(429, region=None), _reply(0, None, "ReadTimeout")]
    gateway = Gateway(monkeypatch, replies)
    config = _project(tmp_path, validations=True)
    report = run_load(config=config, env="dev", users=3, seconds=2.5, engine="builtin", workers=4,
                      emulator="the emulator", credential="a credential", environ={"X": "1"})
    assert gateway.opened == [(config, "dev", None, "the emulator", "a credential", {"X": "1"})]
    assert gateway.engines == [("builtin", 3, 4)]
    settings = load_settings("load-balancing", tmp_path / "validations")
    (plan,) = gateway.engine.plans
    assert plan.prompts == tuple(settings.prompts) and plan.nonce_words == NONCE_WORDS
    assert (plan.wanted, plan.seconds, plan.users) == (("x-served-by",), 2.5, 3)
    assert plan.outgoing.body["max_tokens"] == settings.request.max_tokens == 33
    assert plan.outgoing.body["messages"] == [{"role": "system", "content": "Answer in one word."},
                                              {"role": "user", "content": settings.prompts[0]}]
    assert plan.outgoing.url.startswith("http://gw.example/")
    assert gateway.engine.closed == 1 and gateway.target.closed == 1
    # the replies counted under the backend of their region header (through the expectations' members)
    assert {row.name: row.requests for row in report.backends} == {"east": 1, "west": 1, GATEWAY: 1,
                                                                  "(no response)": 1}
    assert (report.engine, report.users, report.workers, report.seconds) == ("builtin", 3, 0, 2.5)
    assert report.total.requests == 4 and report.total.ok == 2


def test_without_the_scenario_file_the_soak_uses_the_defaults_and_locust_reports_its_workers(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    gateway = Gateway(monkeypatch, [_reply()])
    report = run_load(config=_project(tmp_path, validations=False), users=1, seconds=1, engine="locust", workers=3)
    (plan,) = gateway.engine.plans
    assert plan.prompts == DEFAULT_PROMPTS and plan.wanted == ("x-ms-region",)
    default = RequestShape()  # the request shape of a scenario file that sets none
    assert plan.outgoing.body["messages"] == [{"role": "system", "content": default.system},
                                              {"role": "user", "content": DEFAULT_PROMPTS[0]}]
    assert plan.outgoing.body["max_tokens"] == default.max_tokens
    assert gateway.engines == [("locust", 1, 3)] and report.workers == 3
    assert report.backends[0].name == "east"


@pytest.mark.parametrize(("users", "seconds"), [(0, 10.0), (-1, 10.0), (1, 0.0), (1, -5.0)])
def test_a_soak_without_users_or_time_is_refused_before_anything_opens(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, users: int, seconds: float) -> None:
    gateway = Gateway(monkeypatch, [_reply()])
    with pytest.raises(InputError, match=rf"at least one user and a positive duration \(got {users} users"):
        run_load(config=_project(tmp_path, validations=False), users=users, seconds=seconds)
    assert gateway.opened == [] and gateway.engines == []


def test_one_user_for_a_moment_is_a_soak_on_the_builtin_engine_by_default(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    gateway = Gateway(monkeypatch, [_reply()])
    monkeypatch.chdir(tmp_path)  # the project: toolkit.yaml of the current folder
    assert run_load(users=1, seconds=0.01).total.requests == 1
    assert gateway.engines == [("builtin", 1, 2)] and gateway.opened[0][:3] == ("toolkit.yaml", None, None)


def test_an_engine_that_fails_is_closed_and_so_is_the_target(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    gateway = Gateway(monkeypatch, RuntimeError("the engine broke"))
    with pytest.raises(RuntimeError, match="the engine broke"):
        run_load(config=_project(tmp_path, validations=False), users=2, seconds=1)
    assert gateway.engine.closed == 1 and gateway.target.closed == 1


def test_a_soak_that_sent_nothing_asks_for_a_longer_duration(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    gateway = Gateway(monkeypatch, [])
    with pytest.raises(InputError, match=r"the soak sent no request in 1.5 s: give a longer --duration"):
        run_load(config=_project(tmp_path, validations=False), users=2, seconds=1.5)
    assert gateway.target.closed == 1


def test_a_gateway_that_answered_nothing_is_a_remote_error_naming_the_commonest_failure(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    replies = [_reply(0, None, "ConnectError"), _reply(0, None, "ReadTimeout"), _reply(0, None, "ConnectError"),
               _reply(0, None, None)]
    Gateway(monkeypatch, replies)
    with pytest.raises(RemoteError) as raised:
        run_load(config=_project(tmp_path, validations=False), users=2, seconds=1)
    assert raised.value.message == "the gateway at http://gw.example answered none of 4 requests (ConnectError)"
    Gateway(monkeypatch, [_reply(0, None, None), _reply(0, None, None), _reply(0, None, "ReadTimeout")])
    with pytest.raises(RemoteError, match=r"none of 3 requests \(NoResponse\)"):
        run_load(config=_project(tmp_path, validations=False), users=2, seconds=1)
    # one answer, even a refusal, is a soak to report
    Gateway(monkeypatch, [_reply(0, None, "ConnectError"), _reply(503, region=None)])
    assert run_load(config=_project(tmp_path, validations=False), users=2, seconds=1).total.requests == 2
