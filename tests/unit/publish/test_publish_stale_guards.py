"""Stale-plan guards: a resource created or deleted on the target after planning, or a plan made for another
target, stops apply before anything is written (exit 4)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from publish_helpers import SECRET_V2, SMALL_CONFIG, SMALL_CONFIG_V2, desired_of, make_config, remote_state
from toolkit.emulator.management import ManagementPlane
from toolkit.errors import StalePlanError
from toolkit.publish import ApimTarget, apply_plan, check_saved_plan, plan_against
from toolkit.publish.target import LOCAL_RESOURCE_GROUP as RG
from toolkit.publish.target import LOCAL_SERVICE as SVC


def _raw(body: dict[str, Any]) -> io.BytesIO:
    return io.BytesIO(json.dumps(body).encode())


def _refused(target: ApimTarget, plane: ManagementPlane, plan: Any, desired: Any) -> str:
    before = remote_state(plane)
    plane.counters.reset()
    with pytest.raises(StalePlanError) as caught:
        apply_plan(target.client, plan, desired.resources)
    assert caught.value.exit_code == 4 and plane.counters.writes == 0 and remote_state(plane) == before
    return caught.value.message


def test_a_resource_created_after_planning_stops_the_apply(target: ApimTarget, plane: ManagementPlane, sdk: Any,
                                                           tmp_path: Path) -> None:
    desired = desired_of(make_config(tmp_path, SMALL_CONFIG))
    plan = plan_against(target, desired, env="local")
    sdk.backend.create_or_update(RG, SVC, "b2", _raw({"properties": {"url": "https://mine", "protocol": "http"}}))
    assert "backend 'b2' was created on the target" in _refused(target, plane, plan, desired)


def test_a_resource_deleted_after_planning_stops_the_apply(target: ApimTarget, plane: ManagementPlane, sdk: Any,
                                                           tmp_path: Path) -> None:
    v1 = desired_of(make_config(tmp_path / "v1", SMALL_CONFIG))
    apply_plan(target.client, plan_against(target, v1, env="local"), v1.resources)
    v2 = desired_of(make_config(tmp_path / "v2", SMALL_CONFIG_V2, SECRET_V2))
    plan = plan_against(target, v2, env="local", prune=True)
    sdk.named_value.delete(RG, SVC, "greeting", if_match="*")  # unchanged in the v2 plan: not a write, not checked
    sdk.named_value.delete(RG, SVC, "api-secret", if_match="*")  # updated by the v2 plan
    message = _refused(target, plane, plan, v2)
    assert "named-value 'api-secret' was deleted on the target" in message and "greeting" not in message


def test_a_plan_for_another_target_is_refused(target: ApimTarget, tmp_path: Path) -> None:
    desired = desired_of(make_config(tmp_path, SMALL_CONFIG))
    plan = plan_against(target, desired, env="local")
    check_saved_plan(plan, desired, target)  # the same target: accepted
    plan.target = "apim-prod in rg-prod"
    with pytest.raises(StalePlanError) as caught:
        check_saved_plan(plan, desired, target)
    assert caught.value.message == f"the plan was made for apim-prod in rg-prod, not {target.label}"
