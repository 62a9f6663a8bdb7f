"""apply_plan(parallel=N): the writes of one dependency level overlap; results, events and the rollback keep
plan order; a failure or a stop request in a parallel batch rolls back every write. Through the real SDK.

The plane is served behind a gate that holds backend PUTs until ``HELD`` of them are in flight together
(or a bound passes): serial writes never get there, so ``max_in_flight`` tells them apart.
"""

from __future__ import annotations

import asyncio
import copy
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from publish_helpers import SMALL_CONFIG, desired_of, make_config, remote_state
from toolkit.config.models import EnvironmentConfig
from toolkit.emulator.management import ManagementPlane, ResourceKey, ResourceKind, TlsMaterial
from toolkit.publish import ApimTarget, RetryPolicy, apply_plan, connect_target, plan_against
from toolkit.publish.apply import ApplyFailed, ApplyInterrupted
from toolkit.publish.plan import Op
from toolkit.testing.emulator_servers import serve_app_in_thread

HELD = 3  # SMALL_CONFIG's single backends b1, b2, b3: one dependency level
HOLD_BOUND = 10.0  # seconds a held write waits for the others at most (serial writes wait this long once each)


class BackendPutGate:
    """ASGI wrapper: counts backend PUTs in flight and holds each until ``HELD`` are in flight (or the bound)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.in_flight = 0
        self.max_in_flight = 0
        self._all_here: asyncio.Event | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "PUT" or "/backends/" not in scope["path"]:
            await self.app(scope, receive, send)
            return
        if self._all_here is None:
            self._all_here = asyncio.Event()
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        if self.in_flight >= HELD:
            self._all_here.set()
        try:
            try:
                await asyncio.wait_for(self._all_here.wait(), HOLD_BOUND)
            except asyncio.TimeoutError:
                pass
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


@pytest.fixture
def gate(plane: ManagementPlane) -> BackendPutGate:
    return BackendPutGate(plane.app)


@pytest.fixture
def target(gate: BackendPutGate, tls: TlsMaterial, plane: ManagementPlane) -> Iterator[ApimTarget]:
    """A publish target on the gated plane (overrides the conftest one)."""
    with serve_app_in_thread(gate, ssl=tls) as url, connect_target(
            EnvironmentConfig(target="local"), management_url=url, ca_bundle=str(tls.ca_bundle_path),
            environ={"TOOLKIT_EMULATOR_TOKEN": plane.token}, retry=RetryPolicy(attempts=1)) as connected:
        yield connected


def _events() -> tuple[list[tuple[str, str]], Any]:
    seen: list[tuple[str, str]] = []
    return seen, lambda kind, text: seen.append((kind, text))


def test_the_writes_of_one_level_overlap_and_are_reported_in_plan_order(
        target: ApimTarget, plane: ManagementPlane, gate: BackendPutGate, tmp_path: Path) -> None:
    desired = desired_of(make_config(tmp_path, SMALL_CONFIG))
    plan = plan_against(target, desired, env="local")
    seen, on_event = _events()
    outcome = apply_plan(target.client, plan, desired.resources, on_event=on_event, parallel=4)
    assert gate.max_in_flight == HELD
    assert outcome.done == plan.actions and outcome.writes == len(plan.actions)
    assert [text for kind, text in seen if kind == "done"] == [f"create {c.ref.label}" for c in plan.actions]
    assert plan_against(target, desired, env="local").actions == []


def test_serial_writes_never_overlap(target: ApimTarget, gate: BackendPutGate, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.modules[__name__], "HOLD_BOUND", 0.05)
    desired = desired_of(make_config(tmp_path, SMALL_CONFIG))
    apply_plan(target.client, plan_against(target, desired, env="local"), desired.resources, parallel=1)
    assert gate.max_in_flight == 1


def test_a_failure_in_one_parallel_write_rolls_back_every_write(
        target: ApimTarget, plane: ManagementPlane, gate: BackendPutGate, tmp_path: Path) -> None:
    desired = desired_of(make_config(tmp_path, SMALL_CONFIG))
    plan = plan_against(target, desired, env="local")
    plane.faults.fail_nth_write(2, status=400, kind="backend", method="PUT")  # one of the three held together
    seen, on_event = _events()
    with pytest.raises(ApplyFailed) as caught:
        apply_plan(target.client, plan, desired.resources, on_event=on_event, parallel=4)
    outcome = caught.value.outcome
    assert gate.max_in_flight == HELD
    assert remote_state(plane) == {} and outcome.target_as_before
    backends = [c for c in plan.actions if c.ref.kind.value == "backend"][:HELD]
    assert outcome.failed in backends and sum(c in outcome.done for c in backends) == HELD - 1
    assert len(outcome.restored) == len(outcome.done) == 2 + HELD - 1  # the named values and two backends
    assert outcome.done == [c for c in plan.actions if c in outcome.done]  # plan order
    assert outcome.restored[:HELD - 1] == [f"deleted {c.ref.label} (created by this apply)"
                                           for c in reversed(outcome.done[2:])]  # undone in reverse plan order


def test_a_stop_request_during_a_parallel_batch_rolls_back_every_write(
        target: ApimTarget, plane: ManagementPlane, gate: BackendPutGate, tmp_path: Path) -> None:
    desired = desired_of(make_config(tmp_path, SMALL_CONFIG))
    plan = plan_against(target, desired, env="local")
    seen, on_event = _events()
    stop_after_named_values = lambda: sum(kind == "done" for kind, _ in seen) >= 2 and gate.max_in_flight > 0  # noqa: E731
    with pytest.raises(ApplyInterrupted) as caught:
        apply_plan(target.client, plan, desired.resources, on_event=on_event, stop=stop_after_named_values,
                   parallel=4)
    outcome = caught.value.outcome
    assert remote_state(plane) == {} and caught.value.exit_code == 130
    assert outcome.interrupted and len(outcome.restored) == len(outcome.done) >= 2
    assert all(c.op is Op.CREATE for c in outcome.done)


def test_the_etag_pre_check_reads_in_parallel_and_still_refuses_a_stale_plan(
        target: ApimTarget, plane: ManagementPlane, tmp_path: Path) -> None:
    from toolkit.errors import StalePlanError

    desired = desired_of(make_config(tmp_path, SMALL_CONFIG))
    apply_plan(target.client, plan_against(target, desired, env="local"), desired.resources, parallel=4)
    changed = desired_of(make_config(tmp_path / "v2", SMALL_CONFIG.replace("value: hello", "value: hi")
                                     .replace("https://b2.", "https://b2-moved.")))
    plan = plan_against(target, changed, env="local")
    assert len(plan.actions) == 2
    key = ResourceKey(ResourceKind.BACKEND, "b2")
    plane.store.put(key, copy.deepcopy(plane.store.get(key).properties))  # another writer: a new ETag
    before = remote_state(plane)
    with pytest.raises(StalePlanError, match="nothing was written.*backend 'b2' was changed on the target"):
        apply_plan(target.client, plan, changed.resources, parallel=4)
    assert remote_state(plane) == before
