"""diff and plan: exact changed fields, dependency order, kept vs pruned, secrets masked, plan files."""

from __future__ import annotations

import json

import pytest

from toolkit.artifacts.layout import Kind
from toolkit.errors import InputError
from toolkit.publish.diff import compute_plan, field_changes
from toolkit.publish.plan import MISSING, Op, Plan
from toolkit.publish.plan_text import render_plan
from toolkit.publish.resources import LiveResource, ResourceRef

SECRET = "hunter2-super-secret"
NV = ResourceRef(Kind.NAMED_VALUE, "key")
B1 = ResourceRef(Kind.BACKEND, "b1")
POOL = ResourceRef(Kind.BACKEND, "pool")
API = ResourceRef(Kind.API, "chat")
POLICY = ResourceRef(Kind.API_POLICY, "chat")
GLOBAL = ResourceRef(Kind.GLOBAL_POLICY)


def _pool(weight: int) -> dict:
    return {"properties": {"type": "Pool", "pool": {"services": [{"id": "/backends/b1", "priority": 1, "weight": weight}]}}}


def _secret(value: str | None) -> dict:
    properties = {"displayName": "key", "secret": True}
    if value is not None:
        properties["value"] = value
    return {"properties": properties}


def _live(ref: ResourceRef, body: dict, etag: str = '"e1"') -> LiveResource:
    return LiveResource(ref, body, etag)


def test_changed_fields_name_exactly_the_leaf() -> None:
    changes = field_changes(Kind.BACKEND, _pool(60), _pool(50))
    assert [(c.path, c.before, c.after) for c in changes] == [("properties.pool.services[b1].weight", 50, 60)]


def test_added_and_removed_fields() -> None:
    before = {"properties": {"url": "https://a", "protocol": "http", "description": "old"}}
    after = {"properties": {"url": "https://a", "protocol": "http", "title": "new"}}
    changes = {c.path: (c.before, c.after) for c in field_changes(Kind.BACKEND, after, before)}
    assert changes == {"properties.description": ("old", MISSING), "properties.title": (MISSING, "new")}


def test_secret_value_is_compared_only_when_both_sides_know_it_and_is_masked() -> None:
    assert field_changes(Kind.NAMED_VALUE, _secret(None), _secret(SECRET)) == ()
    assert field_changes(Kind.NAMED_VALUE, _secret(SECRET), _secret(None)) == ()
    assert field_changes(Kind.NAMED_VALUE, _secret(SECRET), _secret(SECRET)) == ()
    (change,) = field_changes(Kind.NAMED_VALUE, _secret(SECRET + "x"), _secret(SECRET))
    assert change.path == "properties.value" and change.secret
    plan = compute_plan({NV: _secret(SECRET + "x")}, {NV: _live(NV, _secret(SECRET))})
    text, document = render_plan(plan), json.dumps(plan.to_json())
    assert "properties.value: (secret) -> (secret)" in text
    assert SECRET not in text and SECRET not in document


def test_backend_credentials_are_masked() -> None:
    before = {"properties": {"url": "https://a", "protocol": "http", "credentials": {"header": {"api-key": ["k-old-123"]}}}}
    after = {"properties": {"url": "https://a", "protocol": "http", "credentials": {"header": {"api-key": ["k-new-456"]}}}}
    plan = compute_plan({B1: after}, {B1: _live(B1, before)})
    output = render_plan(plan) + json.dumps(plan.to_json())
    assert "k-old-123" not in output and "k-new-456" not in output and "(secret)" in output


def test_plan_orders_writes_by_level_and_deletes_in_reverse() -> None:
    desired = {POLICY: {"properties": {"value": "<policies />"}}, API: {"properties": {"displayName": "c", "path": "c"}},
               POOL: _pool(50), B1: {"properties": {"url": "https://a", "protocol": "http"}}, NV: _secret(SECRET)}
    old_pool, old_backend, old_nv = (ResourceRef(Kind.BACKEND, "old-pool"), ResourceRef(Kind.BACKEND, "old"),
                                     ResourceRef(Kind.NAMED_VALUE, "old-nv"))
    live = {old_pool: _live(old_pool, _pool(1)), old_backend: _live(old_backend, {"properties": {"url": "https://o"}}),
            old_nv: _live(old_nv, {"properties": {"displayName": "old-nv", "value": "v"}}),
            GLOBAL: _live(GLOBAL, {"properties": {"value": "<policies />"}})}
    plan = compute_plan(desired, live, prune=True)
    assert [(c.op, c.ref) for c in plan.changes] == [
        (Op.CREATE, NV), (Op.CREATE, B1), (Op.CREATE, POOL), (Op.CREATE, API), (Op.CREATE, POLICY),
        (Op.DELETE, old_pool), (Op.DELETE, old_backend), (Op.DELETE, old_nv),
    ]
    kept = compute_plan(desired, live, prune=False)
    assert not any(c.op is Op.DELETE for c in kept.changes)
    assert kept.kept == sorted([old_pool, old_backend, old_nv])  # the global policy is never pruned or listed


def test_unchanged_plan_has_no_changes() -> None:
    body = {"properties": {"url": "https://a", "protocol": "http"}}
    plan = compute_plan({B1: body}, {B1: _live(B1, {"properties": {**body["properties"], "type": "Single"}})})
    assert not plan.has_changes and plan.counts()["unchanged"] == 1
    assert "No changes" in render_plan(plan)


def test_plan_file_round_trip_keeps_etags_and_no_secrets() -> None:
    plan = compute_plan({NV: _secret(SECRET), B1: _pool(60)}, {NV: _live(NV, _secret("older-secret"), '"nv"'),
                                                                B1: _live(B1, _pool(50), '"b1"')}, env="dev", target="t")
    document = plan.to_json()
    assert "older-secret" not in json.dumps(document) and SECRET not in json.dumps(document)
    again = Plan.from_json(json.loads(json.dumps(document)))
    assert [(c.op, c.ref, c.etag) for c in again.changes] == [(c.op, c.ref, c.etag) for c in plan.changes]
    assert again.desired_digest == plan.desired_digest and again.env == "dev" and again.target == "t"
    assert {c.etag for c in again.actions} == {'"nv"', '"b1"'}


def test_digest_ignores_secret_values_but_not_other_content() -> None:
    base = compute_plan({NV: _secret("a-secret-1"), B1: _pool(1)}, {}).desired_digest
    assert compute_plan({NV: _secret("a-secret-2"), B1: _pool(1)}, {}).desired_digest == base
    assert compute_plan({NV: _secret("a-secret-1"), B1: _pool(2)}, {}).desired_digest != base


@pytest.mark.parametrize("document", [None, {}, {"format": 1}, {"format": 1, "changes": [{"op": "explode"}]}])
def test_bad_plan_file_is_input_error(document: object) -> None:
    with pytest.raises(InputError) as caught:
        Plan.from_json(document, source="p.json")
    assert caught.value.exit_code == 3 and "p.json" in caught.value.message


def test_policy_change_shows_an_xml_diff() -> None:
    before = {"properties": {"value": "<policies><backend><retry count='2' /></backend></policies>"}}
    after = {"properties": {"value": "<policies><backend><retry count='3' /></backend></policies>"}}
    text = render_plan(compute_plan({POLICY: after}, {POLICY: _live(POLICY, before)}))
    assert "properties.value (policy XML):" in text
    assert '-    <retry count="2"/>' in text and '+    <retry count="3"/>' in text


def test_credentials_inside_values_are_masked_in_text_json_and_plan_file() -> None:
    """A key in a backend URL's query or a JWT written into a policy is not a field the plan knows as secret:
    it is masked by its shape, wherever the plan shows a value (other query parameters stay readable)."""
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    before = {"properties": {"url": "https://f.example.com/embed?code=OLD-CODE-123&api-version=1", "protocol": "http"}}
    after = {"properties": {"url": "https://f.example.com/embed?code=NEW-CODE-456&api-version=2", "protocol": "http"}}
    policy_before = {"properties": {"value": "<policies><inbound /></policies>"}}
    policy_after = {"properties": {"value": "<policies><inbound><set-header name='Authorization'><value>"
                                            f"Bearer {jwt}</value></set-header></inbound></policies>"}}
    plan = compute_plan({B1: after, POLICY: policy_after}, {B1: _live(B1, before), POLICY: _live(POLICY, policy_before)})
    output = render_plan(plan) + json.dumps(plan.to_json())
    for secret in ("OLD-CODE-123", "NEW-CODE-456", jwt, "c2lnbmF0dXJl"):
        assert secret not in output
    assert "?code=***&api-version=2" in output and "Bearer ***" in output
