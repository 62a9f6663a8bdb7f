"""Backends and pools through the real SDK: create, read, list, delete, HEAD, reference protection."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.apimanagement import models
from toolkit.testing.management_bodies import RG, SUB, SVC, breaker, pool, raw, single, status_of

from toolkit.emulator.management import ManagementPlane, ResourceKey, ResourceKind

FULL_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.ApiManagement/service/{SVC}/backends/"


def _single_model(url: str) -> models.BackendContract:
    return models.BackendContract(
        url=url,
        protocol="http",
        type_properties_type="Single",
        circuit_breaker=models.BackendCircuitBreaker(rules=[models.CircuitBreakerRule(
            name="openAIBreakerRule",
            failure_condition=models.CircuitBreakerFailureCondition(
                count=3, interval="PT5M", status_code_ranges=[models.FailureStatusCodeRange(min=429, max=429)]),
            trip_duration="PT1M",
            accept_retry_after=True,
        )]),
    )


def test_create_then_update_answers_201_then_200(client):
    assert client.backend.create_or_update(RG, SVC, "east", _single_model("https://e.example"), cls=status_of) == 201
    assert client.backend.create_or_update(RG, SVC, "east", _single_model("https://e2.example"), cls=status_of) == 200


def test_get_returns_the_arm_envelope_and_properties(client):
    client.backend.create_or_update(RG, SVC, "east", _single_model("https://e.example"))
    backend = client.backend.get(RG, SVC, "east")
    assert backend.id == f"{FULL_ID}east"
    assert backend.name == "east"
    assert backend.type == "Microsoft.ApiManagement/service/backends"
    assert backend.type_properties_type == "Single"
    assert backend.url == "https://e.example"
    rule = backend.circuit_breaker.rules[0]
    assert (rule.name, rule.failure_condition.count, rule.accept_retry_after) == ("openAIBreakerRule", 3, True)
    assert rule.failure_condition.status_code_ranges[0].min == 429


def test_pool_accepts_short_and_full_arm_member_ids(client, plane: ManagementPlane):
    for name in ("east", "west"):
        client.backend.create_or_update(RG, SVC, name, raw(single(f"https://{name}.example")))
    body = models.BackendContract(type_properties_type="Pool", pool=models.BackendBaseParametersPool(services=[
        models.BackendPoolItem(id="/backends/east", priority=1, weight=3),
        models.BackendPoolItem(id=f"{FULL_ID}west", priority=2),
    ]))
    created = client.backend.create_or_update(RG, SVC, "pool", body)
    assert [s.id for s in created.pool.services] == ["/backends/east", f"{FULL_ID}west"]
    assert plane.view.backend("pool")["pool"]["services"][0] == {"id": "/backends/east", "priority": 1, "weight": 3}


def test_list_returns_every_backend_sorted(client):
    for name in ("c", "a", "b"):
        client.backend.create_or_update(RG, SVC, name, raw(single()))
    assert [b.name for b in client.backend.list_by_service(RG, SVC)] == ["a", "b", "c"]


def test_list_follows_next_links_across_pages(serve):
    _, client = serve(ManagementPlane(page_size=2))
    names = [f"b{i}" for i in range(5)]
    for name in names:
        client.backend.create_or_update(RG, SVC, name, raw(single()))
    assert [b.name for b in client.backend.list_by_service(RG, SVC)] == names


def test_delete_answers_200_then_204_when_absent(client):
    client.backend.create_or_update(RG, SVC, "east", raw(single()))
    assert client.backend.delete(RG, SVC, "east", if_match="*", cls=status_of) == 200
    assert client.backend.delete(RG, SVC, "east", if_match="*", cls=status_of) == 204
    with pytest.raises(ResourceNotFoundError) as caught:
        client.backend.get(RG, SVC, "east")
    assert caught.value.error.code == "ResourceNotFound"


def test_head_answers_with_the_etag_only(client):
    _, etag = client.backend.create_or_update(RG, SVC, "east", raw(single()), cls=lambda r, m, h: (m, h["ETag"]))
    assert client.backend.get_entity_tag(RG, SVC, "east") is True
    assert client.backend.get_entity_tag(RG, SVC, "east", cls=lambda r, m, h: h["ETag"]) == etag
    with pytest.raises(ResourceNotFoundError):
        client.backend.get_entity_tag(RG, SVC, "missing")


def test_deleting_a_pool_member_is_refused_with_400(client, plane: ManagementPlane):
    client.backend.create_or_update(RG, SVC, "east", raw(single()))
    client.backend.create_or_update(RG, SVC, "pool", raw(pool({"id": "/backends/east"})))
    with pytest.raises(HttpResponseError) as caught:
        client.backend.delete(RG, SVC, "east", if_match="*")
    assert caught.value.status_code == 400
    assert "pool 'pool'" in caught.value.error.message
    assert plane.store.get(ResourceKey(ResourceKind.BACKEND, "east")) is not None
    client.backend.delete(RG, SVC, "pool", if_match="*")
    assert client.backend.delete(RG, SVC, "east", if_match="*", cls=status_of) == 200


def test_a_pool_member_cannot_become_a_pool(client, refusal):
    client.backend.create_or_update(RG, SVC, "east", raw(single()))
    client.backend.create_or_update(RG, SVC, "west", raw(single()))
    client.backend.create_or_update(RG, SVC, "pool", raw(pool({"id": "/backends/east"})))
    with pytest.raises(HttpResponseError) as caught:
        client.backend.create_or_update(RG, SVC, "east", raw(pool({"id": "/backends/west"})))
    assert caught.value.status_code == 400
    assert "member of pool 'pool'" in refusal(caught.value)


def test_circuit_breaker_round_trips_unchanged(client, plane: ManagementPlane):
    body = single(circuitBreaker=breaker(errorReasons=["Server errors"], percentage=50))
    client.backend.create_or_update(RG, SVC, "east", raw(body))
    assert plane.view.backend("east")["circuitBreaker"] == body["properties"]["circuitBreaker"]


def test_store_listeners_see_every_published_change(client, plane: ManagementPlane):
    seen: list[tuple[str, str]] = []
    plane.store.subscribe(lambda changes: seen.extend((c.action, c.key.name) for c in changes))
    client.backend.create_or_update(RG, SVC, "east", raw(single()))
    client.backend.delete(RG, SVC, "east", if_match="*")
    assert seen == [("put", "east"), ("delete", "east")]
