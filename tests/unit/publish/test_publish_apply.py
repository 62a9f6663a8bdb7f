"""plan/apply against the emulator through the real SDK: create, converge, drift, stale plans, prune, retries."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from publish_helpers import SECRET_V1, SECRET_V2, SMALL_CONFIG, SMALL_CONFIG_V2, desired_of, make_config, remote_state
from toolkit.artifacts.layout import Kind
from toolkit.emulator.management import ManagementPlane
from toolkit.errors import StalePlanError
from toolkit.publish import ApimTarget, ApplyFailed, Op, apply_plan, plan_against, render_plan
from toolkit.publish.resources import ResourceRef
from toolkit.publish.target import LOCAL_RESOURCE_GROUP as RG
from toolkit.publish.target import LOCAL_SERVICE as SVC


def _raw(body: dict[str, Any]) -> io.BytesIO:
    return io.BytesIO(json.dumps(body).encode())


def _apply(target: ApimTarget, desired: Any, **kw: Any) -> Any:
    plan = plan_against(target, desired, env="local", **kw)
    return plan, apply_plan(target.client, plan, desired.resources)


def test_fresh_plan_apply_converge_and_zero_write_reapply(target: ApimTarget, plane: ManagementPlane, sample) -> None:
    _, desired = sample
    plan = plan_against(target, desired, env="local")
    assert {c.op for c in plan.changes} == {Op.CREATE}
    assert {c.ref for c in plan.changes} == set(desired.resources)
    assert plane.counters.writes == 0

    outcome = apply_plan(target.client, plan, desired.resources)
    assert len(outcome.done) == len(desired.resources) and outcome.writes == plane.counters.writes == len(desired.resources)

    plane.counters.reset()
    again = plan_against(target, desired, env="local")
    assert not again.has_changes, render_plan(again)
    # one GET per resource, one list per listable kind (named values, backends, fragments, version sets, APIs), the API's operations listed twice (discovery and its GET), and a GET per
    # possible operation policy (none exist: each answers 404)
    operations = len(plane.store.list(_kind("operation"), parent="azure-openai"))
    assert operations == 7
    assert plane.counters.reads == len(desired.resources) + 5 + 2 + operations
    assert apply_plan(target.client, again, desired.resources).writes == 0
    assert plane.counters.writes == 0


def test_writes_follow_the_dependency_order(target: ApimTarget, plane: ManagementPlane, tmp_path: Path) -> None:
    order: list[tuple[str, str]] = []
    plane.store.subscribe(lambda events: order.extend((e.key.kind.value, e.key.name) for e in events))
    _apply(target, desired_of(make_config(tmp_path, SMALL_CONFIG)))
    resources = [event for event in order if event[0] != "operation"]
    assert resources == [("named-value", "api-secret"), ("named-value", "greeting"), ("backend", "b1"),
                         ("backend", "b2"), ("backend", "b3"), ("backend", "pool"), ("api", "chat"), ("api-policy", "chat")]
    # the API's import creates its operations, before the API policy is written
    kinds = [kind for kind, _ in order]
    assert kinds.index("api") < kinds.index("operation") < kinds.index("api-policy")
    assert kinds.count("operation") == 7


def test_out_of_band_change_shows_exactly_that_field(target: ApimTarget, sdk: Any, sample) -> None:
    _, desired = sample
    _apply(target, desired)
    east = json.loads((Path(__file__).parents[3] / "apimartifacts/backends/openai-eastus/backendInformation.json").read_text())
    east["properties"]["circuitBreaker"]["rules"][0]["failureCondition"]["count"] = 7
    sdk.backend.create_or_update(RG, SVC, "openai-eastus", _raw(east))
    plan = plan_against(target, desired, env="local")
    (change,) = plan.actions
    assert change.op is Op.UPDATE and change.ref == ResourceRef(Kind.BACKEND, "openai-eastus")
    assert [(f.path, f.before, f.after) for f in change.fields] == [
        ("properties.circuitBreaker.rules[openAIBreakerRule].failureCondition.count", 7, 3)]


def test_policy_reformatted_out_of_band_is_no_change_but_an_edit_is(target: ApimTarget, sdk: Any, sample) -> None:
    from azure.mgmt.apimanagement import models

    _, desired = sample
    _apply(target, desired)
    xml = desired.resources[ResourceRef(Kind.API_POLICY, "azure-openai")]["properties"]["value"]
    compact = "".join(line.strip() for line in xml.splitlines())
    sdk.api_policy.create_or_update(RG, SVC, "azure-openai", "policy", models.PolicyContract(value=compact, format="rawxml"))
    assert not plan_against(target, desired, env="local").has_changes
    edited = compact.replace('count="2"', 'count="4"')
    sdk.api_policy.create_or_update(RG, SVC, "azure-openai", "policy", models.PolicyContract(value=edited, format="rawxml"))
    (change,) = plan_against(target, desired, env="local").actions
    assert change.ref.kind is Kind.API_POLICY and [f.path for f in change.fields] == ["properties.value"]


def test_change_between_plan_and_apply_aborts_before_any_write(target: ApimTarget, plane: ManagementPlane, sdk: Any,
                                                               sample) -> None:
    _, desired = sample
    _apply(target, desired)
    pool = ResourceRef(Kind.BACKEND, "openai-backend-pool")
    body = json.loads(json.dumps(desired.resources[pool]))
    body["properties"]["pool"]["services"][0]["weight"] = 10
    sdk.backend.create_or_update(RG, SVC, pool.name, _raw(body))
    plan = plan_against(target, desired, env="local")
    assert [c.ref for c in plan.actions] == [pool]
    sdk.backend.create_or_update(RG, SVC, pool.name, _raw(body))  # someone writes again: a new ETag
    before = remote_state(plane)
    plane.counters.reset()
    with pytest.raises(StalePlanError) as caught:
        apply_plan(target.client, plan, desired.resources)
    assert "backend 'openai-backend-pool' was changed on the target" in caught.value.message
    assert caught.value.exit_code == 4
    assert plane.counters.writes == 0 and remote_state(plane) == before


def test_412_during_a_write_is_handled_and_rolled_back(target: ApimTarget, plane: ManagementPlane, tmp_path: Path) -> None:
    _apply(target, desired_of(make_config(tmp_path / "v1", SMALL_CONFIG)))
    before = remote_state(plane)
    desired = desired_of(make_config(tmp_path / "v2", SMALL_CONFIG_V2, SECRET_V2))
    plan = plan_against(target, desired, env="local", prune=True)
    plane.faults.fail_nth_write(2, 412, message="someone else won the race")
    with pytest.raises(ApplyFailed) as caught:
        apply_plan(target.client, plan, desired.resources)
    assert "was changed on the target during apply (HTTP 412" in caught.value.message
    assert caught.value.exit_code == 4 and caught.value.outcome.restored
    assert remote_state(plane) == before


def test_prune_deletes_only_with_the_flag(target: ApimTarget, plane: ManagementPlane, sdk: Any, tmp_path: Path) -> None:
    _apply(target, desired_of(make_config(tmp_path / "v1", SMALL_CONFIG)))
    sdk.backend.create_or_update(RG, SVC, "stray", _raw({"properties": {"url": "https://stray.example", "protocol": "http"}}))
    desired = desired_of(make_config(tmp_path / "v1", SMALL_CONFIG))
    plan = plan_against(target, desired, env="local")
    assert not plan.has_changes and ResourceRef(Kind.BACKEND, "stray") in plan.kept
    apply_plan(target.client, plan, desired.resources)
    assert ("backend", "stray", "") in remote_state(plane)

    pruning = plan_against(target, desired, env="local", prune=True)
    assert [(c.op, c.ref.name) for c in pruning.actions] == [(Op.DELETE, "stray")]
    apply_plan(target.client, pruning, desired.resources)
    assert ("backend", "stray", "") not in remote_state(plane)


def test_v1_to_v2_updates_creates_and_prunes_in_a_safe_order(target: ApimTarget, plane: ManagementPlane,
                                                            tmp_path: Path) -> None:
    _apply(target, desired_of(make_config(tmp_path / "v1", SMALL_CONFIG)))
    desired = desired_of(make_config(tmp_path / "v2", SMALL_CONFIG_V2, SECRET_V2))
    plan, outcome = _apply(target, desired, prune=True)
    ops = {(c.op, c.ref.name) for c in plan.actions}
    assert {(Op.CREATE, "b4"), (Op.UPDATE, "b1"), (Op.UPDATE, "pool"), (Op.DELETE, "b2"), (Op.UPDATE, "api-secret"),
            (Op.UPDATE, "chat")} <= ops
    secret = next(c for c in plan.actions if c.ref.name == "api-secret")
    assert [(f.path, f.secret) for f in secret.fields] == [("properties.value", True)]
    assert SECRET_V1 not in render_plan(plan) and SECRET_V2 not in render_plan(plan)
    assert plane.store.get(_key("named-value", "api-secret")).properties["value"] == SECRET_V2
    assert not plan_against(target, desired, env="local", prune=True).has_changes


def test_throttling_and_conflicts_are_retried_with_backoff(target: ApimTarget, plane: ManagementPlane,
                                                          sleeps: list[float], tmp_path: Path) -> None:
    desired = desired_of(make_config(tmp_path, SMALL_CONFIG))
    plan = plan_against(target, desired, env="local")
    plane.faults.fail_nth_write(2, 429, retry_after=0.25)
    plane.faults.fail_nth_write(4, 409)
    outcome = apply_plan(target.client, plan, desired.resources)
    assert len(outcome.done) == len(plan.actions)
    assert sleeps == [0.25, 0.5]
    assert outcome.writes == len(plan.actions) + 2 == plane.counters.writes
    assert not plan_against(target, desired, env="local").has_changes


def test_secret_without_a_value_cannot_be_created(target: ApimTarget, tmp_path: Path) -> None:
    from toolkit.errors import InputError

    desired = desired_of(make_config(tmp_path, SMALL_CONFIG))
    ref = ResourceRef(Kind.NAMED_VALUE, "api-secret")
    del desired.resources[ref]["properties"]["value"]
    plan = plan_against(target, desired, env="local")
    with pytest.raises(InputError, match="api-secret' is secret and has no value"):
        apply_plan(target.client, plan, desired.resources)


def _kind(kind: str) -> Any:
    from toolkit.emulator.management import ResourceKind

    return ResourceKind(kind)


def _key(kind: str, name: str) -> Any:
    from toolkit.emulator.management import ResourceKey, ResourceKind

    return ResourceKey(ResourceKind(kind), name)


FRAGMENT_TREE = {
    "policy fragments/headers/policyFragmentInformation.json": '{"properties": {"description": "Common headers"}}\n',
    "policy fragments/headers/policy.xml": '<fragment>\n  <set-header name="x-gw" exists-action="override">'
                                           "<value>toolkit</value></set-header>\n</fragment>\n",
    "policy.xml": "<policies><inbound><include-fragment fragment-id=\"headers\" /></inbound><backend>"
                  "<forward-request /></backend><outbound /><on-error /></policies>\n",
    "apis/echo/apiInformation.json": '{"properties": {"displayName": "Echo", "path": "echo"}}\n',
    "apis/echo/specification.json": '{"openapi": "3.0.1", "info": {"title": "Echo", "version": "1"}, '
                                     '"paths": {"/": {"get": {"operationId": "get", "responses": {}}}}}\n',
    "apis/echo/operations/get/policy.xml": "<policies><inbound><base /></inbound><backend><base /></backend>"
                                           "<outbound><base /></outbound><on-error><base /></on-error></policies>\n",
}


def test_fragments_global_and_operation_policies_round_trip(target: ApimTarget, plane: ManagementPlane,
                                                            sample, tmp_path: Path) -> None:
    from toolkit.artifacts.io import write_tree
    from toolkit.artifacts.model import ArtifactSet
    from toolkit.publish import load_desired, pull_artifacts

    config, _ = sample
    write_tree(tmp_path / "tree", ArtifactSet(FRAGMENT_TREE))
    desired = load_desired(config, templates_dir="unused", artifacts_dir=tmp_path / "tree")
    assert not desired.lint.errors
    plan, _ = _apply(target, desired)
    assert [c.ref.kind.value for c in plan.actions] == ["policy-fragment", "api", "global-policy", "operation-policy"]
    stored = plane.store.get(_key("policy-fragment", "headers")).properties
    assert stored["description"] == "Common headers" and "<fragment>" in stored["value"]
    assert not plan_against(target, desired, env="local").has_changes
    pulled = pull_artifacts(target.client)
    # the operation (from the specification) and its policy are read back
    assert set(pulled.paths()) == set(FRAGMENT_TREE)
    assert [o.to_json() for o in target.client.list_operations("echo")] == [
        {"name": "get", "method": "GET", "urlTemplate": "/"}]
    assert pulled.json("policy fragments/headers/policyFragmentInformation.json") == {
        "properties": {"description": "Common headers"}}


def test_a_secret_the_artifacts_do_not_know_keeps_its_live_value(target: ApimTarget, plane: ManagementPlane,
                                                                 tmp_path: Path) -> None:
    desired = desired_of(make_config(tmp_path, SMALL_CONFIG))
    _apply(target, desired)
    ref = ResourceRef(Kind.NAMED_VALUE, "api-secret")
    del desired.resources[ref]["properties"]["value"]  # as in a pulled tree
    desired.resources[ref]["properties"]["tags"] = ["rotated-by-hand"]
    plan, _ = _apply(target, desired)
    assert [(c.ref, [f.path for f in c.fields]) for c in plan.actions] == [(ref, ["properties.tags"])]
    stored = plane.store.get(_key("named-value", "api-secret")).properties
    assert stored["value"] == SECRET_V1 and stored["tags"] == ["rotated-by-hand"]
