"""Rollback: whichever write fails (500, or a 409 that outlasts the retries), the target ends as it began."""

from __future__ import annotations

from pathlib import Path

import pytest

from publish_helpers import SECRET_V1, SECRET_V2, SMALL_CONFIG, SMALL_CONFIG_V2, desired_of, make_config, remote_state
from toolkit.emulator.management import ManagementPlane
from toolkit.publish import ApimTarget, ApplyFailed, apply_plan, plan_against

FRESH_WRITES = 8  # SMALL_CONFIG: 2 named values, 3 backends, 1 pool, 1 API, 1 API policy
V2_WRITES = 6  # v1 -> v2: secret value, b1, pool and API policy updated, b4 created, b2 deleted


@pytest.mark.parametrize("nth", range(1, FRESH_WRITES + 1))
def test_fresh_apply_rolls_back_to_empty(target: ApimTarget, plane: ManagementPlane, tmp_path: Path, nth: int) -> None:
    desired = desired_of(make_config(tmp_path, SMALL_CONFIG))
    plan = plan_against(target, desired, env="local")
    assert len(plan.actions) == FRESH_WRITES
    plane.faults.fail_nth_write(nth, 500)
    with pytest.raises(ApplyFailed) as caught:
        apply_plan(target.client, plan, desired.resources)
    outcome = caught.value.outcome
    assert remote_state(plane) == {}
    assert len(outcome.done) == nth - 1 and len(outcome.restored) == nth - 1 and not outcome.unrestored
    assert outcome.failed == plan.actions[nth - 1] and "HTTP 500" in (outcome.error or "")
    assert caught.value.exit_code == 4 and "the target is as before the apply" in caught.value.message


def _v1_then_v2_plan(target: ApimTarget, tmp_path: Path):  # type: ignore[no-untyped-def]
    v1 = desired_of(make_config(tmp_path / "v1", SMALL_CONFIG))
    apply_plan(target.client, plan_against(target, v1, env="local"), v1.resources)
    v2 = desired_of(make_config(tmp_path / "v2", SMALL_CONFIG_V2, SECRET_V2))
    return v2, plan_against(target, v2, env="local", prune=True)


def test_the_v2_plan_touches_every_kind_of_change(target: ApimTarget, tmp_path: Path) -> None:
    _, plan = _v1_then_v2_plan(target, tmp_path)
    assert len(plan.actions) == V2_WRITES
    assert {c.op.value for c in plan.actions} == {"create", "update", "delete"}


@pytest.mark.parametrize("nth", range(1, V2_WRITES + 1))
def test_update_create_delete_apply_rolls_back_to_the_snapshot(target: ApimTarget, plane: ManagementPlane,
                                                              tmp_path: Path, nth: int) -> None:
    desired, plan = _v1_then_v2_plan(target, tmp_path)
    before = remote_state(plane)
    plane.faults.fail_nth_write(nth, 500)
    with pytest.raises(ApplyFailed) as caught:
        apply_plan(target.client, plan, desired.resources)
    assert remote_state(plane) == before  # resource by resource, secret value included
    assert not caught.value.outcome.unrestored
    assert SECRET_V2 not in caught.value.message


def test_a_conflict_that_outlasts_the_retries_rolls_back(target: ApimTarget, plane: ManagementPlane, tmp_path: Path,
                                                         sleeps: list[float]) -> None:
    desired, plan = _v1_then_v2_plan(target, tmp_path)
    before = remote_state(plane)
    for nth in range(3, 7):  # writes 3..6 all answer 409: the retry budget (4 tries) runs out on write 3
        plane.faults.fail_nth_write(nth, 409)
    with pytest.raises(ApplyFailed) as caught:
        apply_plan(target.client, plan, desired.resources)
    assert "HTTP 409" in (caught.value.outcome.error or "")
    assert len(sleeps) == 3
    assert remote_state(plane) == before


def test_a_failed_rollback_step_is_reported(target: ApimTarget, plane: ManagementPlane, tmp_path: Path) -> None:
    desired = desired_of(make_config(tmp_path, SMALL_CONFIG))
    plan = plan_against(target, desired, env="local")
    plane.faults.fail_nth_write(3, 500)  # the third create fails ...
    plane.faults.fail_nth_write(4, 500)  # ... and so does the first rollback delete
    with pytest.raises(ApplyFailed) as caught:
        apply_plan(target.client, plan, desired.resources)
    outcome = caught.value.outcome
    assert len(outcome.unrestored) == 1 and len(outcome.restored) == 1
    assert "rollback incomplete" in caught.value.message and "as before" not in caught.value.message
    assert len(remote_state(plane)) == 1
    # the NOT-restored list names the resource left changed, never a "restored ..." step label
    (label, reason), = outcome.unrestored
    assert label == plan.actions[1].ref.label and reason.startswith("create not undone: ") and "HTTP 500" in reason
    assert outcome.restored == [f"deleted {plan.actions[0].ref.label} (created by this apply)"]


def test_a_failed_restore_never_echoes_a_secret(target: ApimTarget, plane: ManagementPlane, tmp_path: Path) -> None:
    desired, plan = _v1_then_v2_plan(target, tmp_path)
    assert plan.actions[0].ref.label == "named-value 'api-secret'" and plan.actions[0].op.value == "update"
    plane.faults.fail_nth_write(V2_WRITES, 500)  # the last write fails; the undos run newest first ...
    plane.faults.fail_nth_write(2 * V2_WRITES - 1, 500, message=f"cannot set {SECRET_V1} over {SECRET_V2}")
    with pytest.raises(ApplyFailed) as caught:  # ... so the secret's undo, the last one, is the one that fails
        apply_plan(target.client, plan, desired.resources)
    (label, reason), = caught.value.outcome.unrestored
    assert label == "named-value 'api-secret'" and "cannot set (secret) over (secret)" in reason
    assert SECRET_V1 not in reason + caught.value.message and SECRET_V2 not in reason + caught.value.message
