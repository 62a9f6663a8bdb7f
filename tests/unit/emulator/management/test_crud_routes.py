"""The generic CRUD routes over raw HTTP: HEAD, the ARM envelope, refusals and what a PUT or PATCH implies."""

from __future__ import annotations

import json

from toolkit.testing.management_bodies import pool, single

OPENAPI = {"openapi": "3.0.1", "info": {"title": "Inference", "version": "1"},
           "paths": {"/chat": {"post": {"operationId": "chat", "responses": {"200": {"description": "ok"}}}},
                     "/models": {"get": {"operationId": "models", "responses": {"200": {"description": "ok"}}}}}}


def _imported(paths: dict) -> dict:
    spec = {**OPENAPI, "paths": paths}
    return {"properties": {"path": "inference", "format": "openapi+json", "value": json.dumps(spec)}}


def test_head_answers_the_etag_without_a_body_and_changes_nothing(http):
    http.put("/backends/east", json=single())
    head = http.head("/backends/east")
    got = http.get("/backends/east")
    assert (head.status_code, head.content, head.headers["content-length"]) == (200, b"", "0")
    assert head.headers["ETag"] == got.headers["ETag"] and got.status_code == 200
    assert http.head("/backends/ghost").status_code == 404


def test_a_resource_is_presented_in_its_arm_envelope(http):
    http.put("/backends/east", json=single())
    got = http.get("/backends/east").json()
    assert (got["type"], got["name"]) == ("Microsoft.ApiManagement/service/backends", "east")
    assert got["id"].endswith("/providers/Microsoft.ApiManagement/service/apim-test/backends/east")


def test_filter_is_refused_naming_the_parameter(http):
    response = http.get("/backends", params={"$filter": "name eq 'x'"})
    assert response.status_code == 400
    assert response.json()["error"]["details"] == [
        {"code": "ValidationError", "target": "$filter", "message": "$filter: is not supported by the emulator"}]


def test_deleting_a_backend_two_pools_use_names_both(http):
    http.put("/backends/east", json=single())
    for name in ("pool-a", "pool-b"):
        http.put(f"/backends/{name}", json=pool({"id": "/backends/east"}))
    refused = http.delete("/backends/east")
    assert refused.status_code == 400
    assert refused.json()["error"] == {"code": "ValidationError", "message":
                                       "Backend 'east' is used by pool 'pool-a', pool 'pool-b'; remove the reference first."}
    assert http.get("/backends/east").status_code == 200


def test_a_child_of_a_missing_api_is_404_for_every_method(http):
    for method in ("GET", "HEAD", "DELETE"):
        answer = http.request(method, "/apis/ghost/operations/op")
        assert answer.status_code == 404, method
    missing = http.get("/apis/ghost/operations/op").json()["error"]
    assert missing["code"] == "ResourceNotFound" and "ghost" in missing["message"]


def test_the_current_revision_is_refused_by_its_revision_id(http):
    created = http.put("/apis/inference", json={"properties": {"displayName": "Inference", "path": "inference",
                                                              "apiRevision": "1"}})
    assert created.status_code == 201
    refused = http.delete("/apis/inference;rev=1")
    assert (refused.status_code, refused.json()["error"]["message"]) == (
        400, "Cannot delete the current revision of an API.")


def test_put_and_patch_of_an_imported_api_replace_its_operations(http):
    assert http.put("/apis/inference", json=_imported(OPENAPI["paths"])).status_code == 201
    listed = http.get("/apis/inference/operations").json()["value"]
    assert sorted(op["name"] for op in listed) == ["chat", "models"]
    patched = http.patch("/apis/inference", json=_imported({"/chat": OPENAPI["paths"]["/chat"]}))
    assert patched.status_code == 200
    assert [op["name"] for op in http.get("/apis/inference/operations").json()["value"]] == ["chat"]


def test_a_collection_read_is_counted_under_its_kind(http, plane):
    plane.counters.reset()
    http.get("/backends")
    assert plane.counters.snapshot()["by_kind"]["backend"] == {"reads": 1, "writes": 0, "GET": 1}
