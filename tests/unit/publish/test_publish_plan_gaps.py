"""Gaps a mutation run found in diff and plan: secrets across a plain/secret switch, delete order by dependency
not by name, type-only changes, absent sides in a saved plan, summary counts per operation."""

from __future__ import annotations

import json

import pytest

from toolkit.artifacts.layout import Kind
from toolkit.publish.diff import compute_plan, field_changes, same_json
from toolkit.publish.plan import MISSING, Op, summary_line
from toolkit.publish.plan_text import render_plan
from toolkit.publish.resources import LiveResource, ResourceRef

NV = ResourceRef(Kind.NAMED_VALUE, "key")
OLD, NEW = "old-Value-4471", "new-Value-9902"


def _nv(value: str | None, *, secret: bool) -> dict:
    properties: dict = {"displayName": "key", "secret": secret}
    if value is not None:
        properties["value"] = value
    return {"properties": properties}


@pytest.mark.parametrize("live_secret,desired_secret", [(False, True), (True, False), (True, True)])
def test_a_named_value_switching_plain_and_secret_never_shows_a_value(live_secret: bool, desired_secret: bool) -> None:
    live = {NV: LiveResource(NV, _nv(OLD, secret=live_secret), '"e"')}
    plan = compute_plan({NV: _nv(NEW, secret=desired_secret)}, live)
    (change,) = plan.actions
    shown = render_plan(plan) + json.dumps(plan.to_json())
    assert OLD not in shown and NEW not in shown
    value = next(f for f in change.fields if f.path == "properties.value")
    assert value.secret and change.secret


def test_a_plain_named_value_still_shows_its_value() -> None:
    plan = compute_plan({NV: _nv(NEW, secret=False)}, {NV: LiveResource(NV, _nv(OLD, secret=False), '"e"')})
    assert f"'{OLD}' -> '{NEW}'" in render_plan(plan)


def _pool(name: str, members: list[str]) -> tuple[ResourceRef, LiveResource]:
    ref = ResourceRef(Kind.BACKEND, name)
    services = [{"id": f"/backends/{m}", "priority": 1, "weight": 1} for m in members]
    return ref, LiveResource(ref, {"properties": {"type": "Pool", "pool": {"services": services}}}, '"p"')


def _single(name: str) -> tuple[ResourceRef, LiveResource]:
    ref = ResourceRef(Kind.BACKEND, name)
    return ref, LiveResource(ref, {"properties": {"url": f"https://{name}", "protocol": "http"}}, '"s"')


@pytest.mark.parametrize("pool,members", [("a-pool", ["m1", "z2"]), ("zz-pool", ["a1", "b2"]), ("m-pool", ["a", "z"])])
def test_deletes_drop_a_pool_before_its_members_whatever_the_names(pool: str, members: list[str]) -> None:
    live = dict([_pool(pool, members), *(_single(m) for m in members)])
    plan = compute_plan({}, live, prune=True)
    deleted = [c.ref.name for c in plan.actions]
    assert all(c.op is Op.DELETE for c in plan.actions)
    assert deleted[0] == pool and sorted(deleted[1:]) == sorted(members)


@pytest.mark.parametrize("live,desired", [(1, 1.0), (1, True), (0, False), (1.0, True), ([1], [1.0]),
                                          ([1, 2], [True, 2]), ("1", 1)])
def test_a_change_of_type_only_is_a_change(live: object, desired: object) -> None:
    b1 = ResourceRef(Kind.BACKEND, "b1")
    changes = field_changes(Kind.BACKEND, {"properties": {"x": desired}}, {"properties": {"x": live}})
    assert [(c.path, c.before, c.after) for c in changes] == [("properties.x", live, desired)]
    plan = compute_plan({b1: {"properties": {"x": desired}}}, {b1: LiveResource(b1, {"properties": {"x": live}}, '"e"')})
    assert [c.op for c in plan.changes] == [Op.UPDATE]


@pytest.mark.parametrize("value", [1, 1.0, True, None, "x", [1, 2.0, False], []])
def test_the_same_value_of_the_same_type_is_unchanged(value: object) -> None:
    assert field_changes(Kind.BACKEND, {"properties": {"x": value}}, {"properties": {"x": value}}) == ()
    assert same_json(value, json.loads(json.dumps(value)))


def test_same_json_compares_nested_values_by_type() -> None:
    assert same_json({"a": [1, {"b": 2}]}, {"a": [1, {"b": 2}]})
    assert not same_json({"a": [1, {"b": 2}]}, {"a": [1, {"b": 2.0}]})
    assert not same_json({"a": 1}, {"a": 1, "b": 1}) and not same_json([1], [1, 1])
    assert not same_json(MISSING, None) and not same_json(1, MISSING)


def test_a_field_on_one_side_only_leaves_the_other_side_out_of_the_plan_file() -> None:
    b1 = ResourceRef(Kind.BACKEND, "b1")
    live = {b1: LiveResource(b1, {"properties": {"url": "u", "title": "t"}}, '"e"')}
    plan = compute_plan({b1: {"properties": {"url": "u", "description": "d"}}}, live)
    fields = {f["path"]: f for f in plan.to_json()["changes"][0]["fields"]}
    assert fields["properties.description"] == {"path": "properties.description", "after": "d"}
    assert fields["properties.title"] == {"path": "properties.title", "before": "t"}


def test_summary_counts_each_operation() -> None:
    singles = [_single(n) for n in ("c1", "u1", "u2", "d1", "d2", "d3", "k1", "k2", "k3", "k4")]
    live = {ref: res for ref, res in singles if not ref.name.startswith("c")}
    desired = {ref: {"properties": {"url": f"https://{ref.name}", "protocol": "http"}}
               for ref, _ in singles if not ref.name.startswith("d")}
    for ref in desired:
        if ref.name.startswith("u"):
            desired[ref] = {"properties": {"url": "https://changed", "protocol": "http"}}
    plan = compute_plan(desired, live, prune=True)
    assert plan.counts() == {"create": 1, "update": 2, "delete": 3, "unchanged": 4}
    assert plan.to_json()["summary"] == plan.counts()
    assert summary_line(plan) == "Plan: 1 to create, 2 to update, 3 to delete, 4 unchanged."
