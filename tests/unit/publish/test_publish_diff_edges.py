"""diff.py edges found by mutation testing: list flattening, one-sided field changes, the secret and etag of
creates and deletes, prune/kept, and what the desired digest does (and does not) depend on."""

from __future__ import annotations

import datetime
import hashlib

from toolkit.artifacts.layout import Kind
from toolkit.publish.diff import (changed_secret_values, compute_plan, desired_digest, field_changes, flatten,
                                  secret_digest, secret_digests, secret_values)
from toolkit.publish.plan import MISSING, Op
from toolkit.publish.resources import LiveResource, ResourceRef, policy_body

NV = ResourceRef(Kind.NAMED_VALUE, "key")
API = ResourceRef(Kind.API, "chat")
POLICY = ResourceRef(Kind.API_POLICY, "chat")


def _nv(value: str | None, *, secret: bool) -> dict:
    properties: dict = {"displayName": "key", "secret": secret}
    if value is not None:
        properties["value"] = value
    return {"properties": properties}


def test_flatten_walks_lists_of_objects_by_index_and_keeps_scalar_lists_whole() -> None:
    document = {"a": {"b": 1}, "pool": [{"id": "x", "w": [{"z": 2}]}, {"id": "y"}], "tags": ["t1", "t2"], "empty": {}}
    assert list(flatten(document)) == [
        ("a.b", 1), ("pool[0].id", "x"), ("pool[0].w[0].z", 2), ("pool[1].id", "y"), ("tags", ["t1", "t2"]),
        ("empty", {}),
    ]


def test_a_pool_member_change_is_reported_under_the_member_name() -> None:
    def pool(weight: int) -> dict:
        return {"properties": {"type": "Pool", "pool": {"services": [{"id": "/backends/a", "weight": 1},
                                                                     {"id": "/backends/b", "weight": weight}]}}}

    (change,) = field_changes(Kind.BACKEND, pool(3), pool(1))
    assert (change.path, change.before, change.after) == ("properties.pool.services[b].weight", 1, 3)


def test_field_changes_against_a_missing_side_list_every_field_as_added_or_removed() -> None:
    body = {"properties": {"url": "https://a", "protocol": "http"}}
    added = field_changes(Kind.BACKEND, body, None)
    assert [(f.path, f.before, f.after) for f in added] == [("properties.protocol", MISSING, "http"),
                                                     ("properties.url", MISSING, "https://a")]
    removed = field_changes(Kind.BACKEND, None, body)
    assert [(f.path, f.before, f.after) for f in removed] == [("properties.protocol", "http", MISSING),
                                                       ("properties.url", "https://a", MISSING)]


def test_creates_are_secret_only_for_a_secret_named_value() -> None:
    plan = compute_plan({NV: _nv("v", secret=True), ResourceRef(Kind.NAMED_VALUE, "plain"): _nv("p", secret=False),
                         API: {"properties": {"path": "chat", "secret": True}}}, {})
    secret = {change.ref.name + "/" + change.ref.kind.value: change.secret for change in plan.actions}
    assert secret == {"key/named-value": True, "plain/named-value": False, "chat/api": False}
    assert all(change.op is Op.CREATE for change in plan.actions)


def test_an_update_of_something_other_than_a_named_value_is_never_secret() -> None:
    live = {API: LiveResource(API, {"properties": {"path": "chat", "secret": True}}, '"e"')}
    (change,) = compute_plan({API: {"properties": {"path": "chat2", "secret": True}}}, live).actions
    assert change.op is Op.UPDATE and not change.secret


def test_deletes_carry_the_live_etag_and_the_secret_flag() -> None:
    plain = ResourceRef(Kind.NAMED_VALUE, "plain")
    live = {NV: LiveResource(NV, _nv("v", secret=True), '"e-secret"'),
            plain: LiveResource(plain, _nv("p", secret=False), '"e-plain"')}
    plan = compute_plan({}, live, prune=True)
    assert {(c.ref.name, c.op, c.etag, c.secret) for c in plan.actions} == {
        ("key", Op.DELETE, '"e-secret"', True), ("plain", Op.DELETE, '"e-plain"', False)}
    assert plan.prune is True and plan.kept == []


def test_without_prune_live_only_resources_are_kept_not_deleted() -> None:
    live = {API: LiveResource(API, {"properties": {"path": "chat"}}, '"e"')}
    plan = compute_plan({}, live)
    assert plan.actions == [] or all(c.op is not Op.DELETE for c in plan.actions)
    assert plan.prune is False and plan.kept == [API]
    assert (plan.env, plan.target) == ("", "")


def test_the_digest_ignores_key_order_and_secret_values_but_not_policies() -> None:
    policy_a = {POLICY: policy_body("<policies><inbound><base /></inbound></policies>")}
    policy_b = {POLICY: policy_body("<policies><inbound><base /><set-header name='x' /></inbound></policies>")}
    assert desired_digest(policy_a) != desired_digest(policy_b)  # a policy's XML is its value: never dropped
    one = {API: {"properties": {"path": "chat", "displayName": "Chat", "protocols": ["https"]}}}
    other = {API: {"properties": {"protocols": ["https"], "displayName": "Chat", "path": "chat"}}}
    assert desired_digest(one) == desired_digest(other)
    assert desired_digest({NV: _nv("one", secret=True)}) == desired_digest({NV: _nv("two", secret=True)})
    assert desired_digest({NV: _nv("one", secret=False)}) != desired_digest({NV: _nv("two", secret=False)})
    # A Key Vault secret has no value at all; a date from YAML is not JSON: both still digest.
    assert len(desired_digest({NV: _nv(None, secret=True)})) == 64
    assert len(desired_digest({API: {"properties": {"path": "chat", "since": datetime.date(2026, 1, 1)}}})) == 64


def _pool_of(*names: str, arm_ids: bool = False) -> dict:
    prefix = "/subscriptions/s/resourceGroups/g/providers/Microsoft.ApiManagement/service/a" if arm_ids else ""
    return {"properties": {"type": "Pool", "pool": {"services": [{"id": f"{prefix}/backends/{n}"} for n in names]}}}


def test_adding_or_removing_a_pool_member_without_weight_or_priority_is_a_change() -> None:
    pool = ResourceRef(Kind.BACKEND, "pool")
    live = {pool: LiveResource(pool, _pool_of("a", "b", arm_ids=True), '"e"')}
    (added,) = compute_plan({pool: _pool_of("a", "b", "c")}, live).actions
    assert added.op is Op.UPDATE
    assert [(f.path, f.before, f.after) for f in added.fields] == [
        ("properties.pool.services[c].id", MISSING, "/backends/c")]
    (removed,) = compute_plan({pool: _pool_of("a")}, live).actions
    assert [(f.path, f.after) for f in removed.fields] == [("properties.pool.services[b].id", MISSING)]
    # The same members, whichever id spelling each side uses, are unchanged.
    assert compute_plan({pool: _pool_of("b", "a")}, live).actions == []
    assert desired_digest({pool: _pool_of("a", "b")}) != desired_digest({pool: _pool_of("a", "b", "c")})


# -- secret values: what a saved plan keeps of them (a salted, slow hash) and how a changed one is found --------

SALT = "00112233445566778899aabbccddeeff"


def _secrets_tree(value: str = "s3cret") -> dict:
    return {
        NV: _nv(value, secret=True),
        ResourceRef(Kind.NAMED_VALUE, "plain"): _nv("not secret", secret=False),
        ResourceRef(Kind.NAMED_VALUE, "in-key-vault"): _nv(None, secret=True),  # no value in the artifacts
        ResourceRef(Kind.BACKEND, "b"): {"properties": {"secret": True, "value": "a backend is no named value"}},
    }


def test_secret_values_are_the_secret_named_values_whose_value_the_artifacts_carry() -> None:
    assert secret_values(_secrets_tree()) == {"key": "s3cret"}
    assert secret_values({NV: _nv(42, secret=True)}) == {"key": "42"}  # type: ignore[arg-type]


def test_a_secret_digest_is_pbkdf2_sha256_of_name_nul_value_with_the_salt() -> None:
    expected = hashlib.pbkdf2_hmac("sha256", b"key\0s3cret", bytes.fromhex(SALT), 50_000).hex()
    assert secret_digest("key", "s3cret", SALT) == expected
    assert secret_digests(_secrets_tree(), SALT) == {"key": expected}


def test_a_secret_recorded_with_its_value_is_unchanged() -> None:
    assert changed_secret_values(_secrets_tree(), SALT, secret_digests(_secrets_tree(), SALT)) == []


def test_a_secret_whose_value_changed_or_that_has_no_record_or_is_gone_is_named() -> None:
    recorded = secret_digests(_secrets_tree("old"), SALT)
    assert changed_secret_values(_secrets_tree("new"), SALT, recorded) == ["key"]
    assert changed_secret_values(_secrets_tree(), SALT, {}) == ["key"]
    assert changed_secret_values({}, SALT, recorded) == ["key"]
    both = {**_secrets_tree(), ResourceRef(Kind.NAMED_VALUE, "other"): _nv("x", secret=True)}
    assert changed_secret_values(both, SALT, {"key": recorded["key"], "gone": "00"}) == ["gone", "key", "other"]


def test_with_a_salt_that_is_no_hex_every_secret_counts_as_changed() -> None:
    recorded = {"gone": "00"}
    assert changed_secret_values(_secrets_tree(), "not hex", recorded) == ["gone", "key"]


def test_a_plan_records_each_secrets_digest_with_a_new_128_bit_salt() -> None:
    plans = [compute_plan(_secrets_tree(), {}) for _ in range(2)]
    for plan in plans:
        assert len(bytes.fromhex(plan.secret_salt)) == 16
        assert plan.secret_digests == secret_digests(_secrets_tree(), plan.secret_salt)
    assert plans[0].secret_salt != plans[1].secret_salt


def test_the_desired_digest_compares_normalised_bodies() -> None:
    bare = {API: {"properties": {"path": "chat"}}}
    with_defaults = {API: {"properties": {"path": "chat", "subscriptionRequired": True, "protocols": ["https"]}}}
    assert desired_digest(bare) == desired_digest(with_defaults)
    assert desired_digest(bare) != desired_digest({API: {"properties": {"path": "chat", "subscriptionRequired": False}}})
