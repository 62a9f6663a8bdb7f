"""ARM conventions over raw HTTP: auth, api-version, error bodies, long-running answers, paging, any service path."""

from __future__ import annotations

import httpx
from toolkit.testing.management_bodies import single

from toolkit.emulator.management import ManagementPlane

API = {"properties": {"displayName": "OpenAI", "path": "openai"}}


def test_missing_bearer_token_is_401_with_an_arm_body(http):
    response = http.get("/backends", headers={"Authorization": ""})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "AuthenticationFailed"


def test_missing_api_version_is_400(served, tls, plane):
    url = f"{served[0]}/subscriptions/s/resourceGroups/r/providers/Microsoft.ApiManagement/service/x/backends"
    response = httpx.get(url, headers={"Authorization": f"Bearer {plane.token}"}, verify=tls.client_ssl_context())
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "MissingApiVersionParameter"


def test_missing_resource_is_404_resource_not_found(http):
    response = http.get("/backends/ghost")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "ResourceNotFound", "message": "Backend 'ghost' not found."}}


def test_unimplemented_resource_types_and_methods_are_501(http):
    assert http.get("/products").status_code == 501
    assert http.patch("/policyFragments/x", json={}).json()["error"]["code"] == "NotImplemented"  # no update in APIM


def test_paths_outside_the_arm_prefix_are_arm_404s(served, tls, plane):
    response = httpx.get(f"{served[0]}/nothing", verify=tls.client_ssl_context(),
                         headers={"Authorization": f"Bearer {plane.token}"})
    assert response.status_code == 404
    assert "error" in response.json()


def test_invalid_json_is_400(http):
    response = http.put("/backends/x", content=b"{nope", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "InvalidRequestContent"


def test_validation_errors_name_the_field_in_details(http):
    response = http.put("/backends/x", json={"properties": {"type": "Single", "protocol": "http"}})
    assert response.json()["error"]["details"][0]["target"] == "url"


def test_long_running_put_answers_in_progress_then_get_says_succeeded(http):
    created = http.put("/apis/openai", json=API)
    assert created.status_code == 201
    assert created.json()["properties"]["provisioningState"] == "InProgress"
    got = http.get("/apis/openai")
    assert got.json()["properties"]["provisioningState"] == "Succeeded"
    assert got.headers["ETag"] == created.headers["ETag"]
    assert http.put("/apis/openai", json=API).status_code == 200


def test_api_defaults_are_filled_in(http):
    props = http.put("/apis/openai", json=API).json()["properties"]
    assert props["subscriptionKeyParameterNames"] == {"header": "Ocp-Apim-Subscription-Key",
                                                      "query": "subscription-key"}
    assert (props["subscriptionRequired"], props["protocols"], props["isCurrent"]) == (True, ["https"], True)


def test_api_paths_are_unique(http, refusal):
    http.put("/apis/a", json=API)
    response = http.put("/apis/b", json=API)
    assert response.status_code == 400
    assert "properties.path" in refusal(response)


def test_api_delete_answers_202_then_204(http):
    http.put("/apis/openai", json=API)
    assert http.delete("/apis/openai", headers={"If-Match": "*"}).status_code == 202
    assert http.delete("/apis/openai", headers={"If-Match": "*"}).status_code == 204


def test_top_and_skip_page_through_a_collection(serve, tls):
    plane = ManagementPlane(page_size=2)
    url, _ = serve(plane)
    base = f"{url}/subscriptions/s/resourceGroups/r/providers/Microsoft.ApiManagement/service/x"
    with httpx.Client(base_url=base, verify=tls.client_ssl_context(), headers={"Authorization": f"Bearer {plane.token}"},
                      params={"api-version": "2024-05-01"}) as http:
        for i in range(5):
            http.put(f"/backends/b{i}", json=single())
        first = http.get("/backends").json()
        assert ([b["name"] for b in first["value"]], first["count"]) == (["b0", "b1"], 5)
        assert first["nextLink"].startswith(f"{base}/backends?")
        following = httpx.get(first["nextLink"], headers={"Authorization": f"Bearer {plane.token}"},
                              verify=tls.client_ssl_context()).json()
        assert [b["name"] for b in following["value"]] == ["b2", "b3"]
        limited = http.get("/backends", params={"$top": "3", "$skip": "1"}).json()
        assert [b["name"] for b in limited["value"]] == ["b1", "b2"]
        rest = httpx.get(limited["nextLink"], headers={"Authorization": f"Bearer {plane.token}"},
                         verify=tls.client_ssl_context()).json()
        assert ([b["name"] for b in rest["value"]], "nextLink" in rest) == (["b3"], False)


def test_every_service_path_shares_one_state_and_ids_echo_the_path(served, tls, http, plane):
    http.put("/backends/east", json=single())
    service = "/subscriptions/other/resourceGroups/rg2/providers/Microsoft.ApiManagement/service/svc2"
    got = httpx.get(f"{served[0]}{service}/backends/east", params={"api-version": "2024-05-01"},
                    headers={"Authorization": f"Bearer {plane.token}"}, verify=tls.client_ssl_context()).json()
    assert got["id"] == f"{service}/backends/east"


def test_filter_is_refused_rather_than_ignored(http):
    response = http.get("/backends", params={"$filter": "name eq 'x'"})
    assert response.status_code == 400


def test_a_patch_must_be_an_object_whose_properties_are_an_object(http):
    http.put("/backends/x", json={"properties": {"type": "Single", "url": "https://e.example.com", "protocol": "http"}})
    for body, message in (([1], "properties: the request body must be a JSON object"),
                          ({"properties": 5}, "properties: must be a JSON object")):
        refused = http.patch("/backends/x", json=body)
        assert refused.status_code == 400
        assert refused.json()["error"]["details"] == [{"code": "ValidationError", "target": "properties",
                                                       "message": message}]
    assert http.patch("/backends/x", json={}).json()["properties"]["url"] == "https://e.example.com"  # nothing to change


def test_a_patch_answers_200_with_the_etag_and_needs_the_resource_and_its_parent(http):
    http.put("/namedValues/nv", json={"properties": {"displayName": "nv", "value": "v"}})
    patched = http.patch("/namedValues/nv", json={"properties": {"value": "w"}})
    assert patched.status_code == 200
    assert patched.json()["properties"]["provisioningState"] == "InProgress"  # long-running, as its PUT
    assert patched.headers["ETag"] == http.get("/namedValues/nv").headers["ETag"]
    missing = http.patch("/backends/ghost", json={"properties": {}})
    assert (missing.status_code, missing.json()["error"]["message"]) == (404, "Backend 'ghost' not found.")
    assert http.patch("/apis/ghost/operations/op", json={"properties": {}}).status_code == 404  # no such API
