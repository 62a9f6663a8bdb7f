"""A write whose answer is lost on the way back (it reached the target, the connection broke before the reply):
it is never mistaken for another writer's change. The loss is made in the SDK's own pipeline (its transport),
so azure-core's retry policy sees a real read error, as after a network blip."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import ServiceResponseError

from publish_helpers import SECRET_V2, action_index, remote_state, v1_then_v2
from toolkit.emulator.management import ManagementPlane
from toolkit.publish import ApimTarget, ApplyFailed, Op, apply_plan, plan_against


def _lose_answer(monkeypatch: pytest.MonkeyPatch, target: ApimTarget, method: str, path: str, *,
                 landed: bool = True) -> list[str]:
    """The first ``method`` request whose URL contains ``path`` gets no answer: it is sent (and so lands) when
    ``landed``, then the transport raises the read error requests raises when the connection drops."""
    transport = target.client.sdk._client._pipeline._transport
    original: Callable[..., Any] = transport.send
    lost: list[str] = []

    def send(request: Any, **kwargs: Any) -> Any:
        if not lost and request.method == method and path in request.url:
            lost.append(f"{request.method} {path}")
            if landed:
                original(request, **kwargs)
            raise ServiceResponseError("('Connection aborted.', RemoteDisconnected('closed without response'))")
        return original(request, **kwargs)

    monkeypatch.setattr(transport, "send", send)
    return lost


@pytest.mark.parametrize("method,path,landed", [
    ("PUT", "/backends/b1?", True),  # an update that landed: its resend would have met our own ETag (412)
    ("PUT", "/backends/b1?", False),  # an update that did not land: sent once more
    ("DELETE", "/backends/b2?", True),  # a delete that landed
    ("PUT", "/namedValues/api-secret?", True),  # a long-running update of a secret
])
def test_a_write_whose_answer_was_lost_is_ours(target: ApimTarget, plane: ManagementPlane, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch, method: str, path: str,
                                               landed: bool) -> None:
    desired, plan = v1_then_v2(target, tmp_path)
    lost = _lose_answer(monkeypatch, target, method, path, landed=landed)
    outcome = apply_plan(target.client, plan, desired.resources)
    assert lost, "the answer was not lost: the test did not test anything"
    assert outcome.done == plan.actions and not outcome.changed_by_others and not outcome.unrestored
    assert not plan_against(target, desired, env="local", prune=True).has_changes  # the target is as v2 says
    secret = remote_state(plane)[("named-value", "api-secret", "")]
    assert secret["value"] == SECRET_V2


def test_a_lost_answer_then_a_failure_rolls_back_everything(target: ApimTarget, plane: ManagementPlane,
                                                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    desired, plan = v1_then_v2(target, tmp_path)
    before = remote_state(plane)
    assert action_index(plan, Op.UPDATE, "b1") < len(plan.actions) - 1
    lost = _lose_answer(monkeypatch, target, "PUT", "/backends/b1?")
    plane.faults.fail_nth_write(len(plan.actions), 500)  # the last write of the plan fails (b1's PUT is sent once)
    with pytest.raises(ApplyFailed) as caught:
        apply_plan(target.client, plan, desired.resources)
    outcome = caught.value.outcome
    assert lost and outcome.failed == plan.actions[-1]
    assert not outcome.changed_by_others and not outcome.unrestored and outcome.target_as_before
    assert "backend 'b1'" not in " ".join(outcome.changed_by_others)
    assert remote_state(plane) == before
    assert "the target is as before the apply" in caught.value.message


def test_a_lost_answer_on_a_rollback_write_is_restored(target: ApimTarget, plane: ManagementPlane,
                                                       tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rollback's conditional PUT that puts b1 back loses its answer: still counted as restored."""
    desired, plan = v1_then_v2(target, tmp_path)
    before = remote_state(plane)
    b1 = action_index(plan, Op.UPDATE, "b1")
    plane.faults.fail_nth_write(len(plan.actions), 500)
    seen: list[str] = []

    def on_event(kind: str, text: str) -> None:  # once b1 is written, the next PUT of b1 (the undo) loses its answer
        seen.append(text)
        if kind == "done" and "backend 'b1'" in text:
            _lose_answer(monkeypatch, target, "PUT", "/backends/b1?")

    with pytest.raises(ApplyFailed) as caught:
        apply_plan(target.client, plan, desired.resources, on_event=on_event)
    outcome = caught.value.outcome
    assert f"restored {plan.actions[b1].ref.label}" in outcome.restored
    assert outcome.target_as_before and remote_state(plane) == before


def test_another_writer_during_a_lost_answer_is_still_theirs(target: ApimTarget, plane: ManagementPlane,
                                                             tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No answer, and the resource holds neither our body nor the planned version: another writer's, left alone."""
    desired, plan = v1_then_v2(target, tmp_path)
    transport = target.client.sdk._client._pipeline._transport
    original: Callable[..., Any] = transport.send
    other = {"properties": {"url": "https://other-writer.example.com/openai", "protocol": "http"}}
    done: list[bool] = []

    def send(request: Any, **kwargs: Any) -> Any:
        if not done and request.method == "PUT" and "/backends/b1?" in request.url:
            done.append(True)
            import io
            import json

            from toolkit.publish.target import LOCAL_RESOURCE_GROUP, LOCAL_SERVICE

            target.client.sdk.backend.create_or_update(LOCAL_RESOURCE_GROUP, LOCAL_SERVICE, "b1",
                                                       io.BytesIO(json.dumps(other).encode()))
            raise ServiceResponseError("connection dropped before the request was processed")
        return original(request, **kwargs)

    monkeypatch.setattr(transport, "send", send)
    with pytest.raises(ApplyFailed) as caught:
        apply_plan(target.client, plan, desired.resources)
    outcome = caught.value.outcome
    assert outcome.failed == plan.actions[action_index(plan, Op.UPDATE, "b1")]
    assert outcome.changed_by_others == ["backend 'b1'"]
    assert remote_state(plane)[("backend", "b1", "")]["url"] == other["properties"]["url"]
