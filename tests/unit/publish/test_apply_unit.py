"""apply_plan against an in-memory target (memory_target.py): order, ETags, stale plans, failures that did or did
not land, another writer, rollback, stop requests and interrupts, parallel batches. The emulator-backed publish
tests show the same through the real SDK; these are fast enough for the mutation run of apply.py."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any

import pytest

import toolkit.publish.apply as apply_module
from memory_target import API_POLICY, BACKEND, NV, MemoryTarget, plan_for, server_error
from toolkit.artifacts.layout import Kind
from toolkit.errors import InputError, StalePlanError
from toolkit.publish.apply import (
    CHANGED_BY_OTHERS,
    ApplyFailed,
    ApplyInterrupted,
    ApplyOutcome,
    apply_plan,
    with_artifact_file,
)
from toolkit.publish.errors import NoAnswer
from toolkit.publish.plan import Change, Op, Plan
from toolkit.publish.resources import Body, ResourceRef

SECRET_V1 = "s3cret-VALUE-one-42"
SECRET_V2 = "s3cret-VALUE-two-77"
GREETING, SECRET = ResourceRef(NV, "greeting"), ResourceRef(NV, "api-secret")
B1, B2, B3, POOL = (ResourceRef(BACKEND, name) for name in ("b1", "b2", "b3", "pool"))
POLICY = ResourceRef(API_POLICY, "chat")


def _backend(name: str, **extra: Any) -> Body:
    return {"properties": {"url": f"https://{name}.example.com/openai", "protocol": "http", **extra}}


def _pool(*members: str) -> Body:
    return {"properties": {"type": "Pool", "pool": {"services": [{"id": f"/backends/{m}"} for m in members]}}}


def _secret(value: str | None, **extra: Any) -> Body:
    properties: dict[str, Any] = {"displayName": "api-secret", "secret": True, **extra}
    if value is not None:
        properties["value"] = value
    return {"properties": properties}


V1: dict[ResourceRef, Body] = {
    GREETING: {"properties": {"displayName": "greeting", "value": "hello"}},
    SECRET: _secret(SECRET_V1),
    B1: _backend("b1"),
    B2: _backend("b2"),
    POOL: _pool("b1", "b2"),
}
# v1 -> v2: the secret's value, b1 and the pool change; b3 is new; b2 goes (5 writes, in this order)
V2: dict[ResourceRef, Body] = {
    GREETING: V1[GREETING],
    SECRET: _secret(SECRET_V2),
    B1: _backend("b1", description="moved"),
    B3: _backend("b3"),
    POOL: _pool("b1", "b3"),
}
V2_LABELS = ["named-value 'api-secret'", "backend 'b1'", "backend 'b3'", "backend 'pool'", "backend 'b2'"]
V2_LINES = ["update named-value 'api-secret'", "update backend 'b1'", "create backend 'b3'", "update backend 'pool'",
            "delete backend 'b2'"]
UNDONE = ["restored backend 'pool'", "deleted backend 'b3' (created by this apply)", "restored backend 'b1'",
          "restored named-value 'api-secret'"]  # the undo of the first four writes, newest first
AS_BEFORE = "the target is as before the apply"
HINT = "run `toolkit plan` to see the target's state now"


@pytest.fixture
def target() -> MemoryTarget:
    return MemoryTarget(V1)


@pytest.fixture
def plan(target: MemoryTarget) -> Plan:
    return plan_for(target, V2, delete=[B2])


def _events() -> tuple[list[tuple[str, str]], Any]:
    seen: list[tuple[str, str]] = []
    return seen, lambda kind, text: seen.append((kind, text))


def _failed(target: MemoryTarget, plan: Plan, **kw: Any) -> ApplyFailed:
    with pytest.raises(ApplyFailed) as caught:
        apply_plan(target, plan, V2, **kw)
    return caught.value


# -- a plan that goes through ------------------------------------------------------------------------

@pytest.mark.parametrize("parallel", [1, 4])
def test_an_apply_writes_the_plan_in_order_with_the_etags_it_planned(target: MemoryTarget, plan: Plan,
                                                                     parallel: int) -> None:
    planned = {ref: target.etag(ref) for ref in (SECRET, B1, POOL, B2)}
    seen, on_event = _events()
    outcome = apply_plan(target, plan, V2, on_event=on_event, parallel=parallel)
    assert target.state() == V2
    assert outcome.done == plan.actions and [c.op for c in plan.actions] == [Op.UPDATE, Op.UPDATE, Op.CREATE,
                                                                               Op.UPDATE, Op.DELETE]
    assert seen == [("done", line) for line in V2_LINES]
    assert outcome.writes == 5 and not outcome.interrupted and outcome.failed is None and outcome.error is None
    assert outcome.target_as_before and not outcome.restored
    # updates and deletes carry the ETag read when planning; a create carries none
    assert sorted(target.log, key=lambda entry: V2_LABELS.index(entry[1].label)) == [
        ("put", SECRET, planned[SECRET]), ("put", B1, planned[B1]), ("put", B3, None), ("put", POOL, planned[POOL]),
        ("delete", B2, planned[B2])]


def test_an_apply_with_nothing_to_write_writes_nothing(target: MemoryTarget) -> None:
    outcome = apply_plan(target, plan_for(target, V1), V1)
    assert outcome.writes == 0 and outcome.done == [] and target.calls["write"] == 0


def test_a_secret_the_artifacts_do_not_know_keeps_its_live_value(target: MemoryTarget) -> None:
    desired = {**V1, SECRET: _secret(None, tags=["rotated"])}
    apply_plan(target, plan_for(target, desired), desired)
    assert target.state()[SECRET] == _secret(SECRET_V1, tags=["rotated"])


def test_a_secret_with_a_value_in_a_key_vault_may_be_created(target: MemoryTarget) -> None:
    vaulted = {"properties": {"displayName": "vaulted", "secret": True,
                              "keyVault": {"secretIdentifier": "https://kv.vault.azure.net/secrets/x"}}}
    ref = ResourceRef(NV, "vaulted")
    apply_plan(target, plan_for(target, {ref: vaulted}), {ref: vaulted})
    assert target.state()[ref] == vaulted


# -- refusals before any write -----------------------------------------------------------------------

def test_a_plan_writing_what_the_artifacts_no_longer_hold_is_refused_before_reading(target: MemoryTarget,
                                                                                  plan: Plan) -> None:
    desired = {ref: body for ref, body in V2.items() if ref != B3}
    with pytest.raises(StalePlanError) as caught:
        apply_plan(target, plan, desired)
    assert caught.value.message == "the plan writes backend 'b3', which the artifacts no longer contain"
    assert caught.value.hint == "run `toolkit plan` again"
    assert target.calls == {}


def test_a_secret_without_a_value_cannot_be_created(target: MemoryTarget) -> None:
    ref = ResourceRef(NV, "new-secret")
    desired = {ref: {"properties": {"displayName": "new-secret", "secret": True}}}
    with pytest.raises(InputError) as caught:
        apply_plan(target, plan_for(target, desired), desired)
    assert caught.value.message == "named value 'new-secret' is secret and has no value to publish"
    assert caught.value.hint == "set its value in toolkit.yaml, e.g. value: ${MY_SECRET} with MY_SECRET exported"
    assert target.calls == {}


@pytest.mark.parametrize("parallel", [1, 3])
def test_a_target_changed_since_the_plan_is_refused_naming_every_change(target: MemoryTarget, plan: Plan,
                                                                       parallel: int) -> None:
    target.store(B3, _backend("b3"))  # created meanwhile
    old_b1 = target.etag(B1)
    target.store(B1, _backend("b1", description="edited"))  # changed meanwhile
    target.remove(POOL)  # deleted meanwhile (an update planned)
    target.remove(B2)  # deleted meanwhile (a delete planned)
    before = target.state()
    with pytest.raises(StalePlanError) as caught:
        apply_plan(target, plan, V2, parallel=parallel)
    assert caught.value.message == (
        "the target changed since the plan; nothing was written: "
        f"backend 'b1' was changed on the target (ETag {target.etag(B1)}, the plan read {old_b1}); "
        "backend 'b3' was created on the target; backend 'pool' was deleted on the target; "
        "backend 'b2' was deleted on the target")
    assert caught.value.hint == "run `toolkit plan` again and review the changes"
    assert target.calls["write"] == 0 and target.state() == before


# -- a write that fails: rollback --------------------------------------------------------------------

@pytest.mark.parametrize("nth", range(1, 6))
def test_a_failed_write_rolls_back_what_was_written_newest_first(target: MemoryTarget, plan: Plan, nth: int) -> None:
    target.fail_write(nth, server_error())
    seen, on_event = _events()
    failed = _failed(target, plan, on_event=on_event)
    outcome = failed.outcome
    undone = UNDONE[len(UNDONE) - (nth - 1):]
    assert target.state() == V1
    assert outcome.done == plan.actions[:nth - 1] and outcome.failed == plan.actions[nth - 1]
    assert outcome.restored == undone and outcome.unrestored == [] and outcome.changed_by_others == []
    file = plan.actions[nth - 1].ref.relpath
    assert outcome.error == f"HTTP 500: internal error ({file})"
    assert failed.message == (f"{V2_LINES[nth - 1]} failed: HTTP 500: internal error ({file}); "
                              f"rolled back {nth - 1} change(s): {AS_BEFORE}")
    assert failed.exit_code == 4 and failed.hint == HINT
    assert seen == ([("done", line) for line in V2_LINES[:nth - 1]]
                    + [("failed", f"{V2_LINES[nth - 1]}: {outcome.error}")] + [("restored", text) for text in undone])
    assert outcome.writes == nth + (nth - 1) == target.calls["write"]


@pytest.mark.parametrize(("nth", "undo"), [(2, "restored backend 'b1'"),
                                            (3, "deleted backend 'b3' (created by this apply)"),
                                            (5, "re-created backend 'b2'")])
def test_a_failed_write_that_landed_is_undone_too(target: MemoryTarget, plan: Plan, nth: int, undo: str) -> None:
    target.fail_write(nth, server_error("timeout after the commit"), landed=True)
    outcome = _failed(target, plan).outcome
    assert target.state() == V1
    assert outcome.restored == [undo, *UNDONE[len(UNDONE) - (nth - 1):]] and outcome.target_as_before


def _read_backends_with_defaults(target: MemoryTarget, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``target`` answer a backend with its default type filled in, as APIM does."""
    read = target.get

    def get_with_defaults(ref: ResourceRef) -> Any:
        live = read(ref)
        if live is not None and ref.kind is Kind.BACKEND:
            live.body["properties"].setdefault("type", "Single")
        return live

    monkeypatch.setattr(target, "get", get_with_defaults)


def test_a_landed_write_read_back_with_the_target_defaults_filled_in_is_still_ours(
        target: MemoryTarget, plan: Plan, monkeypatch: pytest.MonkeyPatch) -> None:
    _read_backends_with_defaults(target, monkeypatch)
    target.fail_write(2, server_error("timeout after the commit"), landed=True)
    outcome = _failed(target, plan).outcome
    assert outcome.restored == ["restored backend 'b1'", "restored named-value 'api-secret'"]
    assert outcome.target_as_before and target.state()[B1]["properties"]["url"] == V1[B1]["properties"]["url"]


def test_a_failed_write_whose_resource_another_writer_changed_is_left_as_they_made_it(target: MemoryTarget,
                                                                                    plan: Plan) -> None:
    theirs = _backend("b1", description="theirs")
    target.before_write = lambda nth, method, ref: target.store(B1, theirs) if nth == 2 else None
    failed = _failed(target, plan)  # our If-Match no longer holds: 412
    outcome = failed.outcome
    assert outcome.error == "backend 'b1' was changed on the target during apply (HTTP 412, ETag mismatch) " \
                            "(backends/b1/backendInformation.json)"
    assert outcome.changed_by_others == ["backend 'b1'"] and outcome.restored == UNDONE[-1:]
    assert target.state() == {**V1, B1: theirs}
    assert not outcome.target_as_before
    assert failed.message.endswith("; rollback incomplete: rolled back 1 change(s), "
                                   "1 resource(s) changed by another writer, not restored")


def test_a_412_is_never_ours_even_when_the_other_writer_wrote_our_body(target: MemoryTarget, plan: Plan) -> None:
    target.before_write = lambda nth, method, ref: target.store(B1, V2[B1]) if nth == 2 else None
    outcome = _failed(target, plan).outcome
    assert outcome.changed_by_others == ["backend 'b1'"] and target.state()[B1] == V2[B1]


@pytest.mark.parametrize("landed", [False, True])
def test_a_failed_write_after_which_another_writer_changed_the_resource_is_not_undone(
        target: MemoryTarget, plan: Plan, monkeypatch: pytest.MonkeyPatch, landed: bool) -> None:
    theirs = _backend("b3", description="theirs")
    target.fail_write(3, server_error(), landed=landed)  # creating b3 fails ...
    read = target.get
    reads_after_the_failure: list[ResourceRef] = []

    def get(ref: ResourceRef) -> Any:
        if target.calls["write"] == 3:
            reads_after_the_failure.append(ref)
            if reads_after_the_failure == [B3]:  # ... and someone writes b3 just before we look at it
                target.store(B3, theirs)
        return read(ref)

    monkeypatch.setattr(target, "get", get)
    outcome = _failed(target, plan).outcome
    assert outcome.changed_by_others == ["backend 'b3'"] and target.state()[B3] == theirs
    assert outcome.restored == UNDONE[-2:]


def test_a_failed_write_whose_state_cannot_be_read_is_reported_unknown(target: MemoryTarget, plan: Plan) -> None:
    target.fail_write(2, server_error())
    target.before_write = lambda nth, method, ref: target.fail_get(B1, server_error("read refused")) if nth == 2 else None
    failed = _failed(target, plan)
    outcome = failed.outcome
    assert outcome.unrestored == [("backend 'b1'", "state unknown after the failed write: HTTP 500: read refused")]
    assert outcome.restored == UNDONE[-1:]
    assert failed.message.endswith("rollback incomplete: rolled back 1 change(s), "
                                   "1 resource(s) left changed by this apply")


def test_a_failure_message_naming_a_secret_is_masked(target: MemoryTarget, plan: Plan) -> None:
    target.fail_write(2, server_error(f"cannot set {SECRET_V2} over {SECRET_V1} near extra-secret-9, not hello"))
    seen, on_event = _events()
    failed = _failed(target, plan, on_event=on_event, secret_values=["extra-secret-9"])
    text = " ".join([failed.message, failed.outcome.error or "", *(t for _, t in seen)])
    assert "cannot set (secret) over (secret) near (secret), not hello" in text  # only secrets are masked
    assert SECRET_V1 not in text and SECRET_V2 not in text and "extra-secret-9" not in text


# -- a bug during the apply: handled as a failed write, reported as a bug ------------------------------------

BUG_HINT = f"this is a bug in toolkit: re-run with --debug for the traceback and report it; {HINT}"


@pytest.mark.parametrize(("landed", "parallel"), [(False, 1), (True, 1), (False, 4)])
def test_a_bug_in_a_write_rolls_back_what_was_written_and_exits_as_a_bug(target: MemoryTarget, plan: Plan,
                                                                         landed: bool, parallel: int) -> None:
    bug = TypeError(f"cannot serialise {SECRET_V2}")
    target.fail_write(3, bug, landed=landed)  # creating b3 raises, after the secret and b1 were written
    seen, on_event = _events()
    failed = _failed(target, plan, on_event=on_event, parallel=parallel)
    outcome = failed.outcome
    assert target.state() == V1 and outcome.target_as_before
    assert outcome.failed == plan.actions[2] and outcome.done == plan.actions[:2]
    undone = UNDONE[-2:] if not landed else ["deleted backend 'b3' (created by this apply)", *UNDONE[-2:]]
    assert outcome.restored == undone
    assert outcome.error == "internal error (TypeError): cannot serialise (secret) (backends/b3/backendInformation.json)"
    assert failed.message == (f"create backend 'b3' failed: {outcome.error}; rolled back {len(undone)} change(s): "
                              f"{AS_BEFORE}")
    assert failed.exit_code == 70 and failed.hint == BUG_HINT
    assert failed.__cause__ is bug  # --debug prints the bug's own traceback
    assert ("failed", f"create backend 'b3': {outcome.error}") in seen


def test_a_refusal_and_a_bug_in_one_batch_exit_as_a_bug(target: MemoryTarget, plan: Plan) -> None:
    def fail_both(nth: int, method: str, ref: ResourceRef) -> None:
        if method == "put" and ref in (B1, B3) and target.calls["write"] <= 3:
            target.fail_write(nth, server_error() if ref == B1 else ValueError("bad"))

    target.before_write = fail_both
    failed = _failed(target, plan, parallel=4)
    assert failed.exit_code == 70 and isinstance(failed.__cause__, ValueError)
    assert target.state() == V1 and failed.outcome.failed == plan.actions[1]  # the first failure in plan order


def test_a_bug_while_reading_back_a_failed_write_leaves_its_state_unknown(target: MemoryTarget, plan: Plan) -> None:
    target.fail_write(2, server_error())
    target.before_write = lambda nth, method, ref: target.fail_get(B1, KeyError("etag")) if nth == 2 else None
    failed = _failed(target, plan)
    assert failed.outcome.unrestored == [("backend 'b1'", "state unknown after the failed write: "
                                                          "internal error (KeyError): 'etag'")]
    assert failed.outcome.restored == UNDONE[-1:] and failed.exit_code == 4  # the write's own failure was a refusal


def test_a_bug_in_one_undo_leaves_that_one_changed_and_undoes_the_rest(target: MemoryTarget, plan: Plan) -> None:
    target.fail_write(4, server_error())  # the pool's update fails; the undos: b3 (5th write), b1, the secret
    target.fail_write(6, AttributeError(f"no etag near {SECRET_V1}"))  # b1's undo raises
    failed = _failed(target, plan)
    outcome = failed.outcome
    assert outcome.unrestored == [("backend 'b1'", "update not undone: internal error (AttributeError): no etag near "
                                                   "(secret)")]
    assert outcome.restored == UNDONE[1:2] + UNDONE[3:]
    assert target.state() == {**V1, B1: V2[B1]}
    assert failed.message.endswith("rollback incomplete: rolled back 2 change(s), 1 resource(s) left changed by "
                                   "this apply")


# -- undoing what another writer changed meanwhile -----------------------------------------------------

def _stop_when_all_done(plan: Plan, on_done: Any = None) -> tuple[Any, Any]:
    done: list[str] = []

    def on_event(kind: str, text: str) -> None:
        if kind == "done":
            done.append(text)
            if on_done is not None:
                on_done(text)

    return on_event, lambda: len(done) == len(plan.actions)


def test_the_rollback_leaves_what_others_changed_since_our_write_and_reports_it(target: MemoryTarget,
                                                                               plan: Plan) -> None:
    theirs_b1, theirs_b2 = _backend("b1", description="theirs"), _backend("b2", description="re-made")

    def other_writer(line: str) -> None:
        if line == "update backend 'b1'":
            target.store(B1, theirs_b1)
        elif line == "create backend 'b3'":
            target.remove(B3)
        elif line == "update backend 'pool'":
            target.remove(POOL)
        elif line == "delete backend 'b2'":
            target.store(B2, theirs_b2)

    on_event, stop = _stop_when_all_done(plan, other_writer)
    seen, record = _events()

    def both(kind: str, text: str) -> None:
        on_event(kind, text)
        record(kind, text)

    with pytest.raises(ApplyInterrupted) as caught:
        apply_plan(target, plan, V2, on_event=both, stop=stop)
    outcome = caught.value.outcome
    assert outcome.changed_by_others == ["backend 'b2'", "backend 'pool'", "backend 'b1'"]
    assert outcome.restored == ["backend 'b3' (created by this apply) was already deleted",
                                "restored named-value 'api-secret'"]
    expected = {**V1, B1: theirs_b1, B2: theirs_b2}
    del expected[POOL]
    assert target.state() == expected
    assert ("not restored", f"backend 'b1': {CHANGED_BY_OTHERS}") in seen
    assert caught.value.exit_code == 4  # not as before: a partial apply


def test_a_failed_undo_is_reported_with_its_reason_and_secrets_masked(target: MemoryTarget, plan: Plan) -> None:
    target.fail_write(5, server_error())  # the delete fails; the undos run newest first ...
    target.fail_write(9, server_error(f"cannot set {SECRET_V1} over {SECRET_V2}"))  # ... the secret's is the 4th
    failed = _failed(target, plan)
    outcome = failed.outcome
    assert outcome.unrestored == [("named-value 'api-secret'", "update not undone: HTTP 500: cannot set (secret) "
                                                               "over (secret)")]
    assert outcome.restored == UNDONE[:3]
    assert SECRET_V1 not in failed.message and SECRET_V2 not in failed.message


def test_a_failed_undo_after_a_stop_request_is_reported_with_secrets_masked(target: MemoryTarget, plan: Plan) -> None:
    target.fail_write(4, server_error(f"cannot set {SECRET_V1}"))  # stop after 2 writes; the secret's undo fails
    seen, record = _events()
    with pytest.raises(ApplyInterrupted) as caught:
        apply_plan(target, plan, V2, on_event=record, stop=lambda: target.calls["write"] >= 2)
    reason = "update not undone: HTTP 500: cannot set (secret)"
    assert caught.value.outcome.unrestored == [("named-value 'api-secret'", reason)]
    assert ("not restored", f"named-value 'api-secret': {reason}") in seen
    assert caught.value.exit_code == 4 and SECRET_V1 not in caught.value.message


def test_an_interrupt_during_the_rollback_stops_it_and_lists_what_is_left(target: MemoryTarget, plan: Plan) -> None:
    target.fail_write(4, server_error())  # the pool's update fails
    target.fail_write(6, KeyboardInterrupt())  # Ctrl-C while undoing b1 (after b3's undo)
    with pytest.raises(ApplyInterrupted) as caught:
        apply_plan(target, plan, V2)
    outcome = caught.value.outcome
    assert outcome.interrupted and outcome.restored == ["deleted backend 'b3' (created by this apply)"]
    assert outcome.unrestored == [("backend 'b1'", "state unknown: interrupted while undoing its update"),
                                  ("named-value 'api-secret'", "update not undone: stopped")]
    assert caught.value.exit_code == 4
    assert caught.value.message.startswith("update backend 'pool' failed: HTTP 500: internal error")


# -- stop requests and interrupts ----------------------------------------------------------------------

@pytest.mark.parametrize("after", [0, 2, 5])
def test_a_stop_request_rolls_back_what_was_written(target: MemoryTarget, plan: Plan, after: int) -> None:
    seen, record = _events()
    with pytest.raises(ApplyInterrupted) as caught:
        apply_plan(target, plan, V2, on_event=record, stop=lambda: target.calls["write"] >= after)
    outcome = caught.value.outcome
    assert target.state() == V1 and outcome.interrupted
    assert outcome.done == plan.actions[:after] and len(outcome.restored) == after
    assert caught.value.exit_code == 130 and caught.value.hint == HINT
    assert caught.value.message == f"interrupted after {after} of 5 write(s); rolled back {after} change(s): {AS_BEFORE}"
    assert ("interrupted", f"stopping after {after} of 5 write(s); rolling back") in seen
    assert outcome.writes == 2 * after


def test_an_interrupt_during_a_write_stops_at_once_and_lists_what_is_left_changed(target: MemoryTarget,
                                                                                 plan: Plan) -> None:
    target.fail_write(3, KeyboardInterrupt())
    with pytest.raises(ApplyInterrupted) as caught:
        apply_plan(target, plan, V2)
    outcome = caught.value.outcome
    assert outcome.interrupted and outcome.restored == [] and target.calls["write"] == 3
    assert outcome.unrestored == [("backend 'b3'", "state unknown: interrupted while writing (create)"),
                                  ("backend 'b1'", "update not undone: stopped"),
                                  ("named-value 'api-secret'", "update not undone: stopped")]
    assert caught.value.exit_code == 4 and caught.value.outcome.writes == 3 and caught.value.hint == HINT
    assert caught.value.message == ("interrupted after 2 of 5 write(s); rollback incomplete: rolled back 0 change(s), "
                                    "3 resource(s) left changed by this apply")


def test_an_interrupt_while_checking_a_failed_write_stops_at_once(target: MemoryTarget, plan: Plan) -> None:
    target.fail_write(2, server_error())
    target.before_write = lambda nth, method, ref: target.fail_get(B1, KeyboardInterrupt()) if nth == 2 else None
    with pytest.raises(ApplyInterrupted) as caught:
        apply_plan(target, plan, V2)
    assert caught.value.outcome.unrestored == [("backend 'b1'", "state unknown: interrupted while writing (update)"),
                                               ("named-value 'api-secret'", "update not undone: stopped")]
    assert target.calls["write"] == 2 and caught.value.hint == HINT
    assert caught.value.message == ("interrupted after 1 of 5 write(s); rollback incomplete: rolled back 0 change(s), "
                                    "2 resource(s) left changed by this apply")


# -- parallel batches ----------------------------------------------------------------------------------

def test_parallel_writes_go_level_by_level_and_a_pool_after_its_members(target: MemoryTarget,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    batches = _record_batches(monkeypatch)
    policy = {"properties": {"value": "<policies />", "format": "rawxml"}}
    desired = {GREETING: V1[GREETING], SECRET: V1[SECRET], B1: V1[B1], B3: _backend("b3"), POLICY: policy}
    apply_plan(target, plan_for(target, desired, delete=[POOL, B2]), desired, parallel=4)  # the pool and b2 go
    # the pool is deleted before its member b2 (its level comes from its live body: it has no desired one)
    assert batches == [["b3"], ["chat"], ["pool"], ["b2"]]


def test_the_writes_of_one_level_overlap(target: MemoryTarget, plan: Plan) -> None:
    together = threading.Barrier(2, timeout=5)
    met: list[str] = []

    def hold(nth: int, method: str, ref: ResourceRef) -> None:
        if ref in (B1, B3):  # one level: both are in flight at once, or the barrier breaks
            try:
                together.wait()
                met.append(ref.name)
            except threading.BrokenBarrierError:
                pass

    target.before_write = hold
    outcome = apply_plan(target, plan, V2, parallel=2)
    assert sorted(met) == ["b1", "b3"] and outcome.done == plan.actions and target.state() == V2


def test_a_stop_request_inside_a_parallel_batch_rolls_back_every_write(target: MemoryTarget, plan: Plan) -> None:
    asked = 0

    def stop() -> bool:  # false before the first two batches and for the first write of [b1, b3]
        nonlocal asked
        asked += 1
        return asked > 3

    seen, record = _events()
    with pytest.raises(ApplyInterrupted) as caught:
        apply_plan(target, plan, V2, stop=stop, parallel=2, on_event=record)
    outcome = caught.value.outcome
    assert target.state() == V1 and outcome.interrupted and caught.value.exit_code == 130
    assert len(outcome.done) == 2 and outcome.done[0].ref == SECRET and len(outcome.restored) == 2
    assert ("interrupted", "stopping after 2 of 5 write(s); rolling back") in seen
    assert caught.value.message == f"interrupted after 2 of 5 write(s); rolled back 2 change(s): {AS_BEFORE}"
    assert caught.value.hint == HINT


def test_a_failed_undo_after_a_stop_inside_a_parallel_batch_masks_secrets(target: MemoryTarget, plan: Plan) -> None:
    asked = 0

    def stop() -> bool:
        nonlocal asked
        asked += 1
        return asked > 3

    target.fail_write(4, server_error(f"cannot put back {SECRET_V1}"))  # the secret's undo, the last one
    with pytest.raises(ApplyInterrupted) as caught:
        apply_plan(target, plan, V2, stop=stop, parallel=2)
    assert caught.value.outcome.unrestored == [("named-value 'api-secret'",
                                                "update not undone: HTTP 500: cannot put back (secret)")]
    assert caught.value.exit_code == 4


def test_an_interrupt_inside_a_parallel_batch_stops_at_once(target: MemoryTarget, plan: Plan) -> None:
    def interrupt(nth: int, method: str, ref: ResourceRef) -> None:
        if ref == B3:
            raise KeyboardInterrupt

    target.before_write = interrupt
    with pytest.raises(ApplyInterrupted) as caught:
        apply_plan(target, plan, V2, parallel=2)
    unrestored = caught.value.outcome.unrestored
    assert unrestored[0] == ("backend 'b3'", "state unknown: interrupted while writing (create)")
    assert unrestored[-1] == ("named-value 'api-secret'", "update not undone: stopped")
    assert caught.value.exit_code == 4 and caught.value.outcome.restored == []


def test_a_failure_in_a_parallel_batch_rolls_back_the_whole_batch(target: MemoryTarget, plan: Plan) -> None:
    def fail_b3(nth: int, method: str, ref: ResourceRef) -> None:
        if ref == B3 and method == "put" and target.calls["write"] <= 3:
            target.fail_write(nth, server_error())

    target.before_write = fail_b3
    outcome = _failed(target, plan, parallel=2).outcome
    assert target.state() == V1 and outcome.failed == plan.actions[2]
    assert [c.ref for c in outcome.done] == [SECRET, B1]
    assert outcome.restored == ["restored backend 'b1'", "restored named-value 'api-secret'"]


# -- messages ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("ref", "message", "expected"), [
    (POLICY, "line 3: bad element; line 9: another", "apis/chat/policy.xml:3: bad element; line 9: another"),
    (ResourceRef(Kind.FRAGMENT, "hdr"), "line 2: bad", "policy fragments/hdr/policy.xml:2: bad"),
    (ResourceRef(Kind.GLOBAL_POLICY), "HTTP 400: no line", "HTTP 400: no line (policy.xml)"),
    (B1, "HTTP 400: line 3: url", "HTTP 400: line 3: url (backends/b1/backendInformation.json)"),
    (ResourceRef(Kind.OPERATION_POLICY, "get", "chat"), "deadline 4: x", "deadline 4: x (apis/chat/operations/get/policy.xml)"),
])
def test_a_write_error_names_the_artifact_file(ref: ResourceRef, message: str, expected: str) -> None:
    assert with_artifact_file(ref, message) == expected


def test_an_outcome_is_as_before_only_with_nothing_left_changed() -> None:
    assert ApplyOutcome().target_as_before
    assert not ApplyOutcome(unrestored=[("x", "y")]).target_as_before
    assert not ApplyOutcome(changed_by_others=["x"]).target_as_before


def test_a_rollback_with_both_kinds_of_leftovers_names_both(target: MemoryTarget, plan: Plan) -> None:
    target.fail_write(4, server_error())  # the pool's update fails ...
    target.fail_write(5, server_error())  # ... b3's undo fails ...
    target.before_write = lambda nth, method, ref: target.store(B1, _backend("b1", description="x")) if nth == 5 else None
    failed = _failed(target, plan)  # ... and b1 was changed by someone meanwhile
    assert failed.message.endswith("rollback incomplete: rolled back 1 change(s), 1 resource(s) changed by another "
                                   "writer, not restored, 1 resource(s) left changed by this apply")



# -- more edges ----------------------------------------------------------------------------------------

def test_every_write_of_a_plan_is_checked_whatever_its_order(target: MemoryTarget) -> None:
    ref = ResourceRef(NV, "new-secret")
    desired = {ref: {"properties": {"displayName": "new-secret", "secret": True}}}
    hand_made = Plan([Change(Op.DELETE, B2, etag=target.etag(B2)), Change(Op.CREATE, ref)])
    with pytest.raises(InputError, match="'new-secret' is secret and has no value"):
        apply_plan(target, hand_made, desired)
    assert target.calls == {}


def test_a_backend_turning_into_a_pool_is_written_after_its_new_member(target: MemoryTarget,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    batches = _record_batches(monkeypatch)
    desired = {**V1, B3: _backend("b3"), B2: _pool("b1", "b3")}  # b2 becomes a pool of b1 and the new b3
    apply_plan(target, plan_for(target, desired), desired, parallel=4)
    assert batches == [["b3"], ["b2"]] and target.state() == desired


def test_the_pre_check_reads_in_parallel_when_asked(target: MemoryTarget, monkeypatch: pytest.MonkeyPatch) -> None:
    together = threading.Barrier(2, timeout=5)
    met: list[str] = []
    read = target.get

    def get(ref: ResourceRef) -> Any:
        if target.calls["write"] == 0:
            try:
                together.wait()
                met.append(ref.name)
            except threading.BrokenBarrierError:
                pass
        return read(ref)

    monkeypatch.setattr(target, "get", get)
    desired = {**V1, B1: _backend("b1", description="x"), B3: _backend("b3")}
    apply_plan(target, plan_for(target, desired), desired, parallel=2)
    assert sorted(met) == ["b1", "b3"] and target.state() == desired


def test_a_restore_sends_back_no_server_only_field(target: MemoryTarget) -> None:
    target.store(B1, {"properties": {**V1[B1]["properties"], "provisioningState": "Succeeded"}})
    plan = plan_for(target, V2, delete=[B2])
    target.fail_write(3, server_error())
    _failed(target, plan)
    assert target.state()[B1] == V1[B1]


def test_an_undo_never_overwrites_a_change_made_just_before_it(target: MemoryTarget, plan: Plan) -> None:
    theirs_b3, theirs_b1 = _backend("b3", description="theirs"), _backend("b1", description="theirs")
    target.fail_write(4, server_error())  # the pool's update fails; undo b3 (5th write), b1 (6th), the secret

    def other_writer(nth: int, method: str, ref: ResourceRef) -> None:
        if nth == 5:
            target.store(B3, theirs_b3)
        elif nth == 6:
            target.store(B1, theirs_b1)

    target.before_write = other_writer
    outcome = _failed(target, plan).outcome
    assert target.state()[B3] == theirs_b3 and target.state()[B1] == theirs_b1
    assert [label for label, _ in outcome.unrestored] == ["backend 'b3'", "backend 'b1'"]
    assert all("HTTP 412" in reason for _, reason in outcome.unrestored)
    assert outcome.restored == ["restored named-value 'api-secret'"]


def test_the_writes_an_apply_reports_are_its_own(target: MemoryTarget, plan: Plan) -> None:
    target.store(GREETING, {"properties": {"displayName": "greeting", "value": "hi"}})
    target.calls["write"] = 7  # what this client wrote before (another apply)
    plan = plan_for(target, V2, delete=[B2])
    assert apply_plan(target, plan, V2).writes == 6
    target.fail_write(target.calls["write"] + 1, server_error())
    again = plan_for(target, V1)
    with pytest.raises(ApplyFailed) as caught:
        apply_plan(target, again, V1)
    assert caught.value.outcome.writes == 1


def test_several_failed_writes_of_one_batch_that_landed_are_all_undone(target: MemoryTarget, plan: Plan) -> None:
    def fail_both(nth: int, method: str, ref: ResourceRef) -> None:
        if ref in (B1, B3) and method == "put" and nth <= 3:
            target.fail_write(nth, server_error("after the commit"), landed=True)

    target.before_write = fail_both
    outcome = _failed(target, plan, parallel=2).outcome
    assert target.state() == V1 and outcome.target_as_before
    assert sorted(outcome.restored[:2]) == ["deleted backend 'b3' (created by this apply)", "restored backend 'b1'"]


def _record_batches(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The batches apply cuts the plan into (names), as it cuts them."""
    batches: list[list[str]] = []
    cut = apply_module.concurrent_batches

    def recording(items: Any, group: Any) -> Any:
        result = cut(items, group)
        batches.extend([change.ref.name for change in batch] for batch in result)
        return result

    monkeypatch.setattr(apply_module, "concurrent_batches", recording)
    return batches


# -- a conditional write whose answer is lost (NoAnswer): read back, never mistaken for another writer's ------------

LOST = NoAnswer("the connection broke before the answer")


@pytest.mark.parametrize(("nth", "ref"), [(1, SECRET), (2, B1), (5, B2)])  # a secret's update, an update, a delete
def test_a_lost_answer_to_a_write_that_landed_is_ours_and_not_resent(target: MemoryTarget, plan: Plan, nth: int,
                                                                     ref: ResourceRef) -> None:
    target.fail_write(nth, LOST, landed=True)
    outcome = apply_plan(target, plan, V2)
    assert target.state() == V2 and outcome.done == plan.actions and outcome.failed is None
    assert target.calls["write"] == 5  # read back, not sent again
    assert [entry[1] for entry in target.log].count(ref) == 1


@pytest.mark.parametrize(("nth", "ref"), [(1, SECRET), (2, B1), (5, B2)])
def test_a_lost_answer_to_a_write_that_did_not_land_is_sent_once_more_with_the_same_etag(
        target: MemoryTarget, plan: Plan, nth: int, ref: ResourceRef) -> None:
    planned = target.etag(ref)
    target.fail_write(nth, LOST)
    outcome = apply_plan(target, plan, V2)
    assert target.state() == V2 and outcome.done == plan.actions
    assert target.calls["write"] == 6
    assert [(method, if_match) for method, r, if_match in target.log if r == ref] == [
        ("delete" if ref == B2 else "put", planned)] * 2


def test_a_lost_answer_where_another_writer_wrote_meanwhile_is_their_change(target: MemoryTarget,
                                                                           plan: Plan) -> None:
    theirs = _backend("b1", description="theirs")
    target.fail_write(2, LOST)
    target.before_write = lambda nth, method, ref: target.store(B1, theirs) if nth == 2 else None
    failed = _failed(target, plan)
    assert failed.outcome.failed == plan.actions[1]
    assert failed.outcome.error == (f"backend 'b1' was changed on the target during apply (HTTP 412, ETag mismatch) "
                                    f"({B1.relpath})")
    assert target.state()[B1] == theirs  # kept, not overwritten nor restored
    assert target.calls["write"] == 2 + 1  # b1 not resent; the secret's write undone


def test_a_resend_that_meets_our_own_late_landing_is_ours(target: MemoryTarget, plan: Plan) -> None:
    target.fail_write(2, LOST)  # b1's update: no answer, and not there when read back ...
    target.before_write = lambda nth, method, ref: target.store(B1, V2[B1]) if nth == 3 else None  # ... then it lands
    outcome = apply_plan(target, plan, V2)  # the resend gets 412 against our own new ETag: read back, it holds
    assert target.state() == V2 and outcome.done == plan.actions and outcome.failed is None


@pytest.mark.parametrize("resent", [False, True])
def test_the_etag_of_a_write_read_back_after_a_lost_answer_guards_its_undo(target: MemoryTarget, plan: Plan,
                                                                           resent: bool) -> None:
    target.fail_write(2, LOST, landed=not resent)  # b1's update: its answer lost
    if resent:  # the resend meets our own late landing (412): b1 is read back a second time
        target.before_write = lambda nth, method, ref: target.store(B1, V2[B1]) if nth == 3 else None
    target.fail_write(5 if resent else 4, server_error())  # the pool's update fails: b3 and b1 are undone
    _failed(target, plan)
    ours = [etag for method, ref, etag in target.log if ref == B1][-1]  # the undo's If-Match
    assert ours is not None and ours != plan.actions[1].etag
    assert target.state() == V1


def test_a_lost_answer_to_a_landed_write_read_back_with_the_target_defaults_filled_in_is_ours(
        target: MemoryTarget, plan: Plan, monkeypatch: pytest.MonkeyPatch) -> None:
    _read_backends_with_defaults(target, monkeypatch)
    target.fail_write(2, LOST, landed=True)  # b1's update: compared as the plan compares, it holds our body
    outcome = apply_plan(target, plan, V2)
    assert outcome.done == plan.actions and target.calls["write"] == 5 and target.state() == V2


@pytest.mark.parametrize(("nth", "ref"), [(1, SECRET), (5, B2)])  # a secret's update (its value read), a delete
def test_a_resend_that_meets_our_own_late_landing_is_ours_for_a_secret_and_a_delete(
        target: MemoryTarget, plan: Plan, nth: int, ref: ResourceRef) -> None:
    def land_late(written: int, method: str, to: ResourceRef) -> None:
        if written == nth + 1:  # the resend: our first request lands just before it
            if ref == B2:
                target.remove(B2)
            else:
                target.store(SECRET, V2[SECRET])

    target.fail_write(nth, LOST)
    target.before_write = land_late
    outcome = apply_plan(target, plan, V2)
    assert target.state() == V2 and outcome.done == plan.actions and outcome.failed is None


def test_the_undo_of_a_create_and_of_updates_whose_answers_are_lost_still_restores(target: MemoryTarget,
                                                                                   plan: Plan) -> None:
    target.fail_write(4, server_error())  # the pool's update fails: undo b3, b1, the secret (from the 5th write)
    target.fail_write(5, LOST)  # the delete of b3 did not land: sent once more (6th) with the same ETag
    target.fail_write(7, LOST, landed=True)  # b1's restore landed
    target.fail_write(8, LOST)  # the secret's restore did not land (its value read back to compare): sent again
    outcome = _failed(target, plan).outcome
    assert target.state() == V1 and outcome.restored == UNDONE[1:] and outcome.target_as_before
    assert target.calls["write"] == 9
    undo_b3 = [(method, if_match) for method, ref, if_match in target.log[4:] if ref == B3]
    assert len(undo_b3) == 2 and undo_b3[0] == undo_b3[1] and undo_b3[0][1] is not None


def test_a_resend_meeting_another_writers_secret_value_is_their_change(target: MemoryTarget, plan: Plan) -> None:
    theirs = _secret("their-own-value-5")  # the same fields as ours but the value: told apart by reading it
    target.fail_write(1, LOST)  # the secret's update: no answer, not there when read back, then resent ...
    target.before_write = lambda nth, method, ref: target.store(SECRET, theirs) if nth == 2 else None  # ... too late
    failed = _failed(target, plan)
    assert failed.outcome.failed == plan.actions[0] and target.state()[SECRET] == theirs


def test_an_undo_whose_answer_is_lost_while_another_writer_changed_the_resource_is_reported(
        target: MemoryTarget, plan: Plan) -> None:
    theirs = _backend("b1", description="theirs")
    target.fail_write(3, server_error())  # b3's create fails: b1 (4th write) and the secret are undone
    target.fail_write(4, LOST)
    target.before_write = lambda nth, method, ref: target.store(B1, theirs) if nth == 4 else None
    outcome = _failed(target, plan).outcome
    assert target.state()[B1] == theirs and target.calls["write"] == 5  # b1's undo not resent over theirs
    assert outcome.unrestored == [("backend 'b1'", "update not undone: backend 'b1': HTTP 412: changed by another "
                                                   "writer while our write got no answer")]
    assert outcome.restored == ["restored named-value 'api-secret'"]


def test_a_create_is_sent_without_if_match_even_when_its_plan_entry_has_an_etag(target: MemoryTarget) -> None:
    hand_edited = Plan([Change(Op.CREATE, B3, etag='"7"')], env="test")
    apply_plan(target, hand_edited, {B3: _backend("b3")})
    assert target.log == [("put", B3, None)] and target.state()[B3] == _backend("b3")


def test_an_interrupt_during_a_parallel_batch_with_a_failure_masks_secrets(target: MemoryTarget, plan: Plan) -> None:
    def fail_b1_interrupt_b3(nth: int, method: str, ref: ResourceRef) -> None:
        if ref == B1 and nth <= 3:
            target.fail_write(nth, server_error(f"cannot read {SECRET_V2}"))
        elif ref == B3:
            raise KeyboardInterrupt

    target.before_write = fail_b1_interrupt_b3
    seen, on_event = _events()
    with pytest.raises(ApplyInterrupted) as caught:
        apply_plan(target, plan, V2, parallel=2, on_event=on_event)
    text = " ".join([caught.value.outcome.error or "", *(t for _, t in seen)])
    assert "cannot read (secret)" in text and SECRET_V2 not in text


# -- the threads of a parallel apply ----------------------------------------------------------------------------

NEW = [ResourceRef(BACKEND, f"n{i}") for i in range(4)]


def _in_flight_high_water(names: set[str]) -> tuple[Any, Any]:
    """(a hook that holds each call 50 ms, counting the calls in flight and adding its thread's name (without the
    pool's "_N") to ``names``; a function giving the highest count seen)."""
    lock, now, high = threading.Lock(), [0], [0]

    def hold(*_: Any) -> None:
        with lock:
            now[0] += 1
            high[0] = max(high[0], now[0])
            names.add(threading.current_thread().name.rpartition("_")[0] or threading.current_thread().name)
        threading.Event().wait(0.05)
        with lock:
            now[0] -= 1

    return hold, lambda: high[0]


def test_a_parallel_apply_reads_and_writes_at_most_parallel_at_once_on_its_own_threads(
        target: MemoryTarget, monkeypatch: pytest.MonkeyPatch) -> None:
    desired = {**V1, **{ref: _backend(ref.name) for ref in NEW}}  # four creates of one level
    plan = plan_for(target, desired)
    read = target.get
    read_threads: set[str] = set()
    hold_read, reads_high = _in_flight_high_water(read_threads)

    def get(ref: ResourceRef) -> Any:
        if target.calls["write"] == 0:  # the pre-check
            hold_read()
        return read(ref)

    monkeypatch.setattr(target, "get", get)
    write_threads: set[str] = set()
    target.before_write, writes_high = _in_flight_high_water(write_threads)
    apply_plan(target, plan, desired, parallel=2)
    assert target.state() == desired
    assert reads_high() == 2 and writes_high() == 2  # in parallel, and never more than asked
    assert read_threads == {"apply-read"} and write_threads == {"apply"}
    assert not [t for t in threading.enumerate() if t.name.startswith("apply")]  # the pools were shut down


@pytest.mark.parametrize(("parallel", "planned"), [(1, 4), (2, 1)])
def test_a_pre_check_that_cannot_overlap_reads_on_the_calling_thread(
        target: MemoryTarget, monkeypatch: pytest.MonkeyPatch, parallel: int, planned: int) -> None:
    desired = {**V1, **{ref: _backend(ref.name) for ref in NEW[:planned]}}
    read, threads = target.get, set()

    def get(ref: ResourceRef) -> Any:
        threads.add(threading.current_thread())
        return read(ref)

    monkeypatch.setattr(target, "get", get)
    apply_plan(target, plan_for(target, desired), desired, parallel=parallel)
    assert threads == {threading.current_thread()} and target.state() == desired


def _held_batch(target: MemoryTarget, release: threading.Event,
                quick: str | None = None) -> tuple[dict[str, threading.Event], threading.Event]:
    """Hold every write of NEW until ``release`` (10 s at most), except ``quick``. Returns (an event per write, set
    as it starts; an event set when a held write goes on)."""
    started, held_no_more = {ref.name: threading.Event() for ref in NEW}, threading.Event()

    def hold(nth: int, method: str, ref: ResourceRef) -> None:
        started[ref.name].set()
        if ref.name != quick:
            release.wait(10)
            held_no_more.set()

    target.before_write = hold
    return started, held_no_more


def _apply_a_held_batch(target: MemoryTarget, raises: type[BaseException], before: Any = None,
                        **held: str) -> tuple[Any, dict[str, threading.Event], bool]:
    """Apply four creates of one level (NEW) on two threads, held by `_held_batch` (``held``: quick), expecting
    ``raises``; ``before(started)`` runs first. Returns (the exception info, the started events, whether the apply
    returned while writes were still held), once every write thread has finished."""
    desired = {**V1, **{ref: _backend(ref.name) for ref in NEW}}
    release = threading.Event()
    started, held_no_more = _held_batch(target, release, **held)
    if before is not None:
        before(started)
    try:
        with pytest.raises(raises) as caught:
            apply_plan(target, plan_for(target, desired), desired, parallel=2)
        returned_while_held = not held_no_more.is_set()
    finally:
        release.set()
    for thread in [t for t in threading.enumerate() if t.name.startswith("apply_")]:
        thread.join(10)
    return caught, started, returned_while_held


def test_a_second_ctrl_c_while_waiting_for_a_batch_stops_at_once_and_nothing_queued_starts(
        target: MemoryTarget, monkeypatch: pytest.MonkeyPatch) -> None:
    waited, pressed = Future.result, threading.Event()

    def ctrl_c_while_waiting_for_n1(started: dict[str, threading.Event]) -> None:
        def result(future: Future, timeout: Any = None) -> Any:
            writing = started["n0"].is_set()  # not the pre-check's reads, which use futures too
            if writing and not future.done() and not pressed.is_set() and started["n2"].wait(10):
                pressed.set()
                raise KeyboardInterrupt  # once, while the main thread waits for n1 (n2 took n0's thread)
            return waited(future, timeout)

        monkeypatch.setattr(Future, "result", result)

    # 2 threads: n0 done, n1 and n2 held, n3 queued
    caught, started, returned_while_held = _apply_a_held_batch(target, ApplyInterrupted, ctrl_c_while_waiting_for_n1,
                                                               quick="n0")
    assert returned_while_held  # nothing waited for the writes in flight
    assert caught.value.outcome.unrestored == [
        ("backend 'n1'", "state unknown: interrupted while writing (create)"),
        ("backend 'n2'", "state unknown: interrupted while writing (create)"),
        ("backend 'n0'", "create not undone: stopped")]
    assert sorted(ref.name for _, ref, _ in target.log) == ["n0", "n1", "n2"] and not started["n3"].is_set()


def test_an_exit_while_waiting_for_a_batch_starts_nothing_queued(target: MemoryTarget,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    waited = Future.result

    def exit_while_waiting_for_n1(started: dict[str, threading.Event]) -> None:
        def result(future: Future, timeout: Any = None) -> Any:
            if started["n0"].is_set() and not future.done() and started["n2"].wait(10):
                raise SystemExit(3)  # not a write's error: it leaves apply_plan at once
            return waited(future, timeout)

        monkeypatch.setattr(Future, "result", result)

    # 2 threads: n0 done, n1 and n2 held, n3 queued: the exit leaves the writes in flight and cancels n3
    _, started, returned_while_held = _apply_a_held_batch(target, SystemExit, exit_while_waiting_for_n1, quick="n0")
    assert returned_while_held and not started["n3"].is_set()


def test_a_bug_in_a_parallel_batch_lets_the_rest_of_the_batch_finish_then_undoes_it(target: MemoryTarget) -> None:
    # like a refusal (test_a_failure_in_a_parallel_batch_rolls_back_the_whole_batch): no write is left in flight
    desired = {**V1, **{ref: _backend(ref.name) for ref in NEW}}

    def bug_in_n1(nth: int, method: str, ref: ResourceRef) -> None:
        if ref.name == "n1" and method == "put":
            raise ValueError("a bug in the client")

    target.before_write = bug_in_n1
    with pytest.raises(ApplyFailed) as caught:
        apply_plan(target, plan_for(target, desired), desired, parallel=2)
    assert caught.value.exit_code == 70 and str(caught.value.__cause__) == "a bug in the client"
    assert target.state() == V1 and sorted(caught.value.outcome.restored) == [
        f"deleted backend '{name}' (created by this apply)" for name in ("n0", "n2", "n3")]
