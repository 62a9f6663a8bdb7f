"""Fault injection (Nth write fails) and call counters, through the SDK and through the control routes."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient
from toolkit.testing.management_bodies import RG, SVC, raw, single, status_of

from toolkit.emulator.management import ManagementPlane, ResourceKey, ResourceKind, management_control_routes


def _put(client, name: str) -> int:
    return client.backend.create_or_update(RG, SVC, name, raw(single()), cls=status_of)


def test_nth_write_fails_with_500_then_writes_pass(client, plane: ManagementPlane):
    plane.faults.fail_nth_write(2, 500)
    assert _put(client, "a") == 201
    with pytest.raises(HttpResponseError) as caught:
        _put(client, "b")
    assert caught.value.status_code == 500
    assert caught.value.error.code == "InternalServerError"
    assert plane.store.get(ResourceKey(ResourceKind.BACKEND, "b")) is None  # the failed write changed nothing
    assert _put(client, "b") == 201


def test_faults_queue_in_order_500_then_409(client, plane: ManagementPlane):
    plane.faults.fail_nth_write(1, 500)
    plane.faults.fail_nth_write(2, 409, message="Another operation is in progress.")
    with pytest.raises(HttpResponseError) as first:
        _put(client, "a")
    with pytest.raises(ResourceExistsError) as second:
        _put(client, "a")
    assert (first.value.status_code, second.value.status_code) == (500, 409)
    assert second.value.error.code == "Conflict"
    assert second.value.error.message == "Another operation is in progress."
    assert _put(client, "a") == 201
    assert plane.faults.pending() == []


def test_deletes_count_as_writes_and_reads_do_not(client, plane: ManagementPlane):
    _put(client, "a")
    plane.faults.fail_nth_write(1, 500)
    client.backend.get(RG, SVC, "a")
    list(client.backend.list_by_service(RG, SVC))
    with pytest.raises(HttpResponseError):
        client.backend.delete(RG, SVC, "a", if_match="*")
    assert client.backend.get(RG, SVC, "a").name == "a"


def test_kind_filter_only_counts_matching_writes(client, plane: ManagementPlane):
    plane.faults.fail_nth_write(1, 500, kind="api-policy")
    assert _put(client, "a") == 201
    assert plane.faults.pending()[0]["remaining"] == 1


def test_429_carries_retry_after_and_the_sdk_retries_it_when_allowed(serve, plane: ManagementPlane):
    _, no_retry = serve(plane)
    plane.faults.fail_nth_write(1, 429, retry_after=7)
    with pytest.raises(HttpResponseError) as caught:
        _put(no_retry, "a")
    assert caught.value.status_code == 429
    assert caught.value.response.headers["Retry-After"] == "7"
    _, retrying = serve(plane, retry_total=1)
    plane.faults.fail_nth_write(1, 429, retry_after=0)
    assert _put(retrying, "a") == 201  # the SDK retried the 429 by itself
    assert plane.counters.snapshot()["by_kind"]["backend"]["PUT"] == 3


def test_counters_split_reads_and_writes_by_method_and_kind(client, plane: ManagementPlane):
    plane.counters.reset()
    _put(client, "a")
    client.backend.get(RG, SVC, "a")
    client.backend.get_entity_tag(RG, SVC, "a")
    client.backend.delete(RG, SVC, "a", if_match="*")
    snapshot = plane.counters.snapshot()
    assert (snapshot["total"], snapshot["reads"], snapshot["writes"]) == (4, 2, 2)
    assert snapshot["by_method"] == {"DELETE": 1, "GET": 1, "HEAD": 1, "PUT": 1}
    assert snapshot["by_kind"]["backend"] == {"reads": 2, "writes": 2, "DELETE": 1, "GET": 1, "HEAD": 1, "PUT": 1}
    plane.counters.reset()
    assert plane.counters.snapshot()["total"] == 0


def test_invalid_fault_arguments_are_refused(plane: ManagementPlane):
    with pytest.raises(ValueError):
        plane.faults.fail_nth_write(0)
    with pytest.raises(ValueError):
        plane.faults.fail_nth_write(1, 200)


def test_control_routes_drive_faults_and_counters(plane: ManagementPlane):
    app = Starlette(routes=[Mount("/management", routes=management_control_routes(plane))])
    with TestClient(app) as control:
        created = control.post("/management/faults", json={"nth": 3, "status": 409, "kind": "backend"})
        assert created.status_code == 201
        assert created.json()["code"] == "Conflict"
        assert [f["remaining"] for f in control.get("/management/faults").json()["pending"]] == [3]
        assert control.post("/management/faults", json={"nth": 1, "bogus": 1}).status_code == 400
        assert control.post("/management/faults", json={"nth": "1"}).status_code == 400
        assert control.delete("/management/faults").status_code == 204
        assert plane.faults.pending() == []
        plane.counters.record("GET", "backend", write=False)
        assert control.get("/management/counters").json()["reads"] == 1
        assert control.delete("/management/counters").status_code == 204
        assert plane.counters.snapshot()["total"] == 0
