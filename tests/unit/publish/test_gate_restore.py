"""`toolkit apply --validate --rollback-on-fail`: the scenarios each feature names, and the pre-apply snapshot put
back after a failed validation, against the in-memory target (memory_target.py)."""

from __future__ import annotations

from typing import Any

from memory_target import BACKEND, NV, MemoryTarget, plan_for
from toolkit.publish.apply import apply_plan
from toolkit.publish.resources import Body, ResourceRef
from toolkit.validate.gate import PreApplySnapshot, scenarios_for
from toolkit.validate.settings import SCENARIOS

SECRET, GREETING = ResourceRef(NV, "api-secret"), ResourceRef(NV, "greeting")
B1, B2, B3 = (ResourceRef(BACKEND, name) for name in ("b1", "b2", "b3"))


def _backend(name: str, **extra: Any) -> Body:
    return {"properties": {"url": f"https://{name}.example.com/openai", "protocol": "http", **extra}}


def _secret(value: str) -> Body:
    return {"properties": {"displayName": "api-secret", "secret": True, "value": value}}


BEFORE: dict[ResourceRef, Body] = {GREETING: {"properties": {"displayName": "greeting", "value": "hello"}},
                                   SECRET: _secret("old-SECRET-1"), B1: _backend("b1"), B2: _backend("b2")}
AFTER: dict[ResourceRef, Body] = {GREETING: BEFORE[GREETING], SECRET: _secret("new-SECRET-2"),
                                  B1: _backend("b1", description="moved"), B3: _backend("b3")}


def test_each_feature_names_the_scenarios_that_prove_it_in_the_canonical_order() -> None:
    assert scenarios_for(["circuit-breaker"]) == ["priority-failover", "circuit-breaker"]
    assert scenarios_for(("retry", "jwt")) == ["circuit-breaker", "auth"]
    assert scenarios_for(["semantic-cache", "token-limit", "backend-pool"]) == [
        "load-balancing", "priority-failover", "semantic-cache", "token-limit"]
    assert scenarios_for([]) == list(SCENARIOS) == scenarios_for(["all"])
    assert scenarios_for(["no-such-feature"]) == []


def test_the_snapshot_puts_back_what_an_apply_changed_created_and_deleted() -> None:
    target = MemoryTarget(BEFORE)
    plan = plan_for(target, AFTER, delete=[B2])
    snapshot = PreApplySnapshot.take(target, plan)
    assert set(snapshot.before) == {SECRET, B1, B3, B2} and snapshot.before[B3] is None
    apply_plan(target, plan, AFTER)
    assert target.state()[SECRET]["properties"]["value"] == "new-SECRET-2" and B2 not in target.state()
    events: list[tuple[str, str]] = []
    outcome = snapshot.restore(target, on_event=lambda kind, text: events.append((kind, text)))
    assert target.state() == BEFORE  # the secret's old value included, though a GET never shows it
    assert sorted((change.op.value, change.ref.name) for change in outcome.done) == [
        ("create", "b2"), ("delete", "b3"), ("update", "api-secret"), ("update", "b1")]
    assert outcome.failed is None and events
    assert all("SECRET" not in text for _, text in events)


def test_a_restore_after_another_writer_changed_a_resource_still_puts_the_snapshot_back() -> None:
    target = MemoryTarget(BEFORE)
    plan = plan_for(target, AFTER, delete=[B2])
    snapshot = PreApplySnapshot.take(target, plan)
    apply_plan(target, plan, AFTER)
    target.store(B1, _backend("b1", description="someone else"))  # read again by the restore: its ETag is current
    snapshot.restore(target)
    assert target.state() == BEFORE


def test_a_key_vault_reference_is_restored_as_a_reference_without_reading_the_vaults_value() -> None:
    vault = ResourceRef(NV, "vaulted")
    reference = {"properties": {"displayName": "vaulted", "secret": True,
                                "keyVault": {"secretIdentifier": "https://kv.vault.azure.net/secrets/one"}}}
    moved = {"properties": {**reference["properties"], "keyVault": {
        "secretIdentifier": "https://kv.vault.azure.net/secrets/two"}}}
    target = MemoryTarget({vault: reference})
    plan = plan_for(target, {vault: moved})
    snapshot = PreApplySnapshot.take(target, plan)
    assert snapshot.before[vault].body == reference  # no "value" read in
    apply_plan(target, plan, {vault: moved})
    snapshot.restore(target)
    assert target.state() == {vault: reference}


def test_a_restore_sends_no_field_only_the_server_writes() -> None:
    served = {"properties": {**_backend("b1")["properties"], "provisioningState": "Succeeded"}}
    target = MemoryTarget({B1: served})
    plan = plan_for(target, {B1: _backend("b1", description="moved")})
    snapshot = PreApplySnapshot.take(target, plan)
    apply_plan(target, plan, {B1: _backend("b1", description="moved")})
    snapshot.restore(target)
    assert target.state() == {B1: _backend("b1")}  # as read, without provisioningState
