"""apply_plan's stop(): a stop request rolls back what was written; a KeyboardInterrupt stops at once and lists
exactly what is left changed. Against the emulator through the real SDK."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from publish_helpers import SMALL_CONFIG, desired_of, make_config, remote_state
from toolkit.emulator.management import ManagementPlane
from toolkit.publish import ApimTarget, apply_plan, plan_against
from toolkit.publish.apply import ApplyInterrupted

FRESH_WRITES = 8


def _stop_after(count: int) -> tuple[Any, Any]:
    """(on_event, stop): stop() turns True once ``count`` writes are done."""
    done: list[str] = []
    return (lambda kind, text: done.append(text) if kind == "done" else None), (lambda: len(done) >= count)


@pytest.mark.parametrize("after", [0, 3, FRESH_WRITES])
def test_a_stop_request_rolls_back_what_was_written(target: ApimTarget, plane: ManagementPlane, tmp_path: Path,
                                                    after: int) -> None:
    desired = desired_of(make_config(tmp_path, SMALL_CONFIG))
    plan = plan_against(target, desired, env="local")
    on_event, stop = _stop_after(after)
    with pytest.raises(ApplyInterrupted) as caught:
        apply_plan(target.client, plan, desired.resources, on_event=on_event, stop=stop)
    outcome = caught.value.outcome
    assert remote_state(plane) == {}
    assert outcome.interrupted and len(outcome.done) == after and len(outcome.restored) == after
    assert caught.value.exit_code == 130
    assert caught.value.message == (f"interrupted after {after} of {FRESH_WRITES} write(s); rolled back {after} "
                                    "change(s): the target is as before the apply")


def test_a_second_interrupt_during_the_rollback_stops_it_and_lists_what_is_left(
        target: ApimTarget, plane: ManagementPlane, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    desired = desired_of(make_config(tmp_path, SMALL_CONFIG))
    plan = plan_against(target, desired, env="local")
    on_event, stop = _stop_after(4)
    deletes: list[Any] = []
    original = target.client.delete

    def delete(ref: Any, if_match: Any) -> None:
        deletes.append(ref)
        if len(deletes) == 2:  # Ctrl-C again while undoing the third write
            raise KeyboardInterrupt
        original(ref, if_match)

    monkeypatch.setattr(target.client, "delete", delete)
    with pytest.raises(ApplyInterrupted) as caught:
        apply_plan(target.client, plan, desired.resources, on_event=on_event, stop=stop)
    outcome = caught.value.outcome
    written = [c.ref.label for c in plan.actions[:4]]
    assert outcome.restored == [f"deleted {written[3]} (created by this apply)"]
    assert outcome.unrestored == [(written[2], "state unknown: interrupted while undoing its create"),
                                  (written[1], "create not undone: stopped"), (written[0], "create not undone: stopped")]
    assert caught.value.exit_code == 4 and "3 resource(s) left changed by this apply" in caught.value.message
    assert len(remote_state(plane)) == 3


def test_an_interrupt_during_a_write_stops_at_once(target: ApimTarget, plane: ManagementPlane, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    desired = desired_of(make_config(tmp_path, SMALL_CONFIG))
    plan = plan_against(target, desired, env="local")
    original = target.client.put
    puts: list[Any] = []

    def put(ref: Any, body: Any, if_match: Any = None) -> Any:
        puts.append(ref)
        if len(puts) == 3:
            raise KeyboardInterrupt
        return original(ref, body, if_match)

    monkeypatch.setattr(target.client, "put", put)
    with pytest.raises(ApplyInterrupted) as caught:
        apply_plan(target.client, plan, desired.resources)
    labels = [c.ref.label for c in plan.actions[:3]]
    assert caught.value.outcome.unrestored == [(labels[2], "state unknown: interrupted while writing (create)"),
                                               (labels[1], "create not undone: stopped"),
                                               (labels[0], "create not undone: stopped")]
    assert caught.value.exit_code == 4 and not caught.value.outcome.restored
    assert len(remote_state(plane)) == 2
