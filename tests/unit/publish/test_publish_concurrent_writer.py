"""Rollback next to another writer: a second SDK client really writes during the apply (no fault stands in for
it); the rollback never overwrites what that writer made, lists it, and never claims the target is as before."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from publish_helpers import action_index, remote_state, v1_then_v2
from toolkit.artifacts.layout import Kind
from toolkit.emulator.management import ManagementPlane, TlsMaterial
from toolkit.publish import ApimTarget, ApplyFailed, Op, Plan, apply_plan
from toolkit.publish.apply import ApplyInterrupted
from toolkit.publish.errors import http_error
from toolkit.publish.target import LOCAL_RESOURCE_GROUP as RG
from toolkit.publish.target import LOCAL_SERVICE as SVC
from toolkit.testing.emulator_servers import management_client

OTHER_URL = "https://other-writer.example.com/openai"


@pytest.fixture
def other(management_url: str, tls: TlsMaterial, plane: Any) -> Iterator[Any]:
    """A second, independent SDK client: someone else working on the same service."""
    client = management_client(management_url, tls.ca_bundle_path, token=plane.token)
    yield client
    client.close()


def _other_writes_backend(other: Any, name: str) -> None:
    body = {"properties": {"url": OTHER_URL, "protocol": "http", "description": "made by another writer"}}
    other.backend.create_or_update(RG, SVC, name, io.BytesIO(json.dumps(body).encode()))


def _then_fail_the_last_write(plane: ManagementPlane, plan: Plan, ours: int, action: Callable[[], None]) -> Callable[[], None]:
    """``action``, then a 500 armed for the plan's last write (the other writer's own write is not counted)."""
    def run() -> None:
        action()
        plane.faults.fail_nth_write(len(plan.actions) - ours - 1, 500)
    return run


def _after_write(plan: Plan, index: int, action: Callable[[], None]) -> Callable[[str, str], None]:
    """An on_event hook that runs ``action`` once, right after the apply's write number ``index`` (0-based)."""
    done = []

    def hook(kind: str, text: str) -> None:
        if kind == "done":
            done.append(text)
            if len(done) == index + 1:
                action()
    return hook


def _backend(plane: ManagementPlane, name: str) -> dict[str, Any] | None:
    return remote_state(plane).get(("backend", name, ""))


def _without(state: dict[Any, Any], name: str) -> dict[Any, Any]:
    return {k: v for k, v in state.items() if k != ("backend", name, "")}


@pytest.mark.parametrize("op,name", [(Op.UPDATE, "b1"), (Op.CREATE, "b4")])
def test_a_resource_another_writer_changed_after_our_write_is_not_restored(
        target: ApimTarget, plane: ManagementPlane, other: Any, tmp_path: Path, op: Op, name: str) -> None:
    desired, plan = v1_then_v2(target, tmp_path)
    before = remote_state(plane)
    ours = action_index(plan, op, name)
    assert ours < len(plan.actions) - 1
    writes = _then_fail_the_last_write(plane, plan, ours, lambda: _other_writes_backend(other, name))
    with pytest.raises(ApplyFailed) as caught:
        apply_plan(target.client, plan, desired.resources, on_event=_after_write(plan, ours, writes))
    assert caught.value.outcome.failed == plan.actions[-1]
    outcome = caught.value.outcome
    assert (_backend(plane, name) or {}).get("url") == OTHER_URL  # the other writer's change survives
    assert _without(remote_state(plane), name) == _without(before, name)  # everything else is as before
    assert outcome.changed_by_others == [f"backend '{name}'"]
    assert not outcome.unrestored and not outcome.target_as_before
    assert "as before the apply" not in caught.value.message
    assert "1 resource(s) changed by another writer, not restored" in caught.value.message
    assert caught.value.exit_code == 4


def test_a_write_that_meets_another_writer_gets_412_and_their_change_is_kept(
        target: ApimTarget, plane: ManagementPlane, other: Any, tmp_path: Path) -> None:
    desired, plan = v1_then_v2(target, tmp_path)
    before = remote_state(plane)
    theirs = action_index(plan, Op.UPDATE, "b1")
    assert theirs > 0
    with pytest.raises(ApplyFailed) as caught:  # just before our write of b1, someone else writes b1
        apply_plan(target.client, plan, desired.resources,
                   on_event=_after_write(plan, theirs - 1, lambda: _other_writes_backend(other, "b1")))
    outcome = caught.value.outcome
    assert outcome.failed == plan.actions[theirs] and "HTTP 412" in caught.value.message
    assert (_backend(plane, "b1") or {}).get("url") == OTHER_URL  # not overwritten by the rollback
    assert _without(remote_state(plane), "b1") == _without(before, "b1")
    assert len(outcome.restored) == theirs and outcome.changed_by_others == ["backend 'b1'"]
    assert "as before the apply" not in caught.value.message


def test_a_resource_another_writer_deleted_is_not_re_created(target: ApimTarget, plane: ManagementPlane, other: Any,
                                                            tmp_path: Path) -> None:
    desired, plan = v1_then_v2(target, tmp_path)
    ours = action_index(plan, Op.UPDATE, "api-secret", Kind.NAMED_VALUE)
    deletes = _then_fail_the_last_write(plane, plan, ours,
                                        lambda: other.named_value.delete(RG, SVC, "api-secret", if_match="*"))
    with pytest.raises(ApplyFailed) as caught:
        apply_plan(target.client, plan, desired.resources, on_event=_after_write(plan, ours, deletes))
    assert ("named-value", "api-secret", "") not in remote_state(plane)  # not re-created by the rollback
    assert caught.value.outcome.changed_by_others == ["named-value 'api-secret'"]


def test_a_failed_write_that_landed_is_undone_but_not_someone_elses(target: ApimTarget, plane: ManagementPlane,
                                                                    tmp_path: Path) -> None:
    """A 500 after the commit: our body is on the target, so it is ours to undo (its ETag is the current one)."""
    desired, plan = v1_then_v2(target, tmp_path)
    before = remote_state(plane)
    b1 = plan.actions[action_index(plan, Op.UPDATE, "b1")]
    original = target.client.put

    def put_then_fail(ref: Any, body: Any, if_match: Any = None) -> Any:
        etag = original(ref, body, if_match)
        if ref == b1.ref and if_match == b1.etag:
            raise http_error("write backend 'b1': HTTP 500: committed, then failed", 500)
        return etag

    target.client.put = put_then_fail  # type: ignore[method-assign]
    with pytest.raises(ApplyFailed) as caught:
        apply_plan(target.client, plan, desired.resources)
    assert caught.value.outcome.failed == b1 and remote_state(plane) == before
    assert caught.value.outcome.target_as_before and not caught.value.outcome.changed_by_others


def test_a_412_is_never_ours_even_when_the_other_writer_wrote_our_body(
        target: ApimTarget, plane: ManagementPlane, other: Any, tmp_path: Path) -> None:
    desired, plan = v1_then_v2(target, tmp_path)
    theirs = action_index(plan, Op.UPDATE, "b1")
    b1 = plan.actions[theirs].ref

    def same_as_ours() -> None:
        other.backend.create_or_update(RG, SVC, "b1", io.BytesIO(json.dumps(desired.resources[b1]).encode()))

    with pytest.raises(ApplyFailed) as caught:
        apply_plan(target.client, plan, desired.resources, on_event=_after_write(plan, theirs - 1, same_as_ours))
    assert "HTTP 412" in caught.value.message
    assert caught.value.outcome.changed_by_others == ["backend 'b1'"]
    assert (_backend(plane, "b1") or {})["circuitBreaker"]["rules"][0]["failureCondition"]["count"] == 5  # theirs, kept


def test_a_failed_delete_that_landed_is_re_created(target: ApimTarget, plane: ManagementPlane, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    desired, plan = v1_then_v2(target, tmp_path)
    before = remote_state(plane)
    original = target.client.delete

    calls: list[Any] = []

    def delete_then_fail(ref: Any, if_match: Any) -> None:
        original(ref, if_match)
        calls.append(ref)
        if len(calls) == 1:  # the plan's delete; the rollback's own deletes work
            raise http_error(f"delete {ref.label}: HTTP 500: committed, then failed", 500)

    monkeypatch.setattr(target.client, "delete", delete_then_fail)
    with pytest.raises(ApplyFailed) as caught:
        apply_plan(target.client, plan, desired.resources)
    assert caught.value.outcome.failed is not None and caught.value.outcome.failed.op is Op.DELETE
    assert f"re-created {caught.value.outcome.failed.ref.label}" in caught.value.outcome.restored
    assert remote_state(plane) == before and caught.value.outcome.target_as_before


def test_a_resource_another_writer_re_created_after_our_delete_is_kept(
        target: ApimTarget, plane: ManagementPlane, other: Any, tmp_path: Path) -> None:
    desired, plan = v1_then_v2(target, tmp_path)
    deleted = action_index(plan, Op.DELETE, "b2")
    assert deleted == len(plan.actions) - 1
    done: list[str] = []

    def on_event(kind: str, text: str) -> None:
        if kind == "done":
            done.append(text)
            if len(done) == deleted + 1:
                _other_writes_backend(other, "b2")

    with pytest.raises(ApplyInterrupted) as caught:  # stopped after the last write: everything is undone ...
        apply_plan(target.client, plan, desired.resources, on_event=on_event, stop=lambda: len(done) > deleted)
    assert (_backend(plane, "b2") or {}).get("url") == OTHER_URL  # ... but b2 is the other writer's now
    assert caught.value.outcome.changed_by_others == ["backend 'b2'"] and caught.value.exit_code == 4


def test_a_resource_we_created_and_another_writer_deleted_counts_as_restored(
        target: ApimTarget, plane: ManagementPlane, other: Any, tmp_path: Path) -> None:
    desired, plan = v1_then_v2(target, tmp_path)
    before = remote_state(plane)
    created = action_index(plan, Op.CREATE, "b4")
    gone = _after_write(plan, created, lambda: other.backend.delete(RG, SVC, "b4", if_match="*"))
    with pytest.raises(ApplyFailed) as caught:  # the pool update then fails: its member b4 is missing
        apply_plan(target.client, plan, desired.resources, on_event=gone)
    outcome = caught.value.outcome
    assert outcome.failed is not None and outcome.failed.ref.name == "pool"
    assert "backend 'b4' (created by this apply) was already deleted" in outcome.restored
    assert remote_state(plane) == before and outcome.target_as_before
