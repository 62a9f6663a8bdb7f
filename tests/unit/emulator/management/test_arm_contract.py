"""The 2024-05-01 contract's rules the SDK does not check client-side: names in the URL, field lengths, and the
shape of APIM's validation answer (field problems in details[] under a generic top line)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.apimanagement import models
from toolkit.testing.management_bodies import RG, SVC, raw, single

from toolkit.emulator.management.arm import FIELD_PROBLEMS

API = {"properties": {"displayName": "Echo", "path": "echo"}}
FRAGMENT = {"properties": {"value": "<fragment />", "format": "rawxml"}}
NAMED_VALUE = {"properties": {"displayName": "nv", "value": "v"}}
OPERATION = {"properties": {"displayName": "op", "method": "GET", "urlTemplate": "/op"}}
SUBSCRIPTION = {"properties": {"displayName": "s", "scope": "/apis"}}
VERSION_SET = {"properties": {"displayName": "vs", "versioningScheme": "Segment"}}

# (collection, body, URL parameter as the contract names it, name): each name breaks the parameter's rule
BAD_NAMES: list[tuple[str, dict[str, Any], str, str]] = [
    ("/apis", API, "apiId", "a" * 257),
    ("/apis", API, "apiId", "a:b"),
    ("/apis", API, "apiId", "a+b"),
    ("/backends", single(), "backendId", "b" * 81),
    ("/policyFragments", FRAGMENT, "id", "f" * 81),
    ("/policyFragments", FRAGMENT, "id", "my.frag"),
    ("/policyFragments", FRAGMENT, "id", "-frag"),
    ("/policyFragments", FRAGMENT, "id", "frag-"),
    ("/namedValues", NAMED_VALUE, "namedValueId", "n" * 257),
    ("/namedValues", NAMED_VALUE, "namedValueId", "a*b"),
    ("/apis/echo/operations", OPERATION, "operationId", "o" * 81),
    ("/subscriptions", SUBSCRIPTION, "sid", "s" * 257),
    ("/subscriptions", SUBSCRIPTION, "sid", "a&b"),
    ("/apiVersionSets", VERSION_SET, "versionSetId", "v" * 81),
    ("/apiVersionSets", VERSION_SET, "versionSetId", "a<b"),
]
# ... and names at the edge of the rules, which are accepted
GOOD_NAMES: list[tuple[str, dict[str, Any], str]] = [
    ("/apis", API, "a" * 256),
    ("/apis", API, "my.api_v1 (beta)"),
    ("/backends", single(), "b" * 80),
    ("/backends", single(), "my.backend:1"),
    ("/policyFragments", FRAGMENT, "f" * 80),
    ("/policyFragments", FRAGMENT, "a"),
    ("/policyFragments", FRAGMENT, "my_frag-2"),
    ("/namedValues", NAMED_VALUE, "n" * 256),
    ("/apis/echo/operations", OPERATION, "o" * 80),
    ("/subscriptions", SUBSCRIPTION, "s" * 256),
    ("/apiVersionSets", VERSION_SET, "v" * 80),
]


def _put(http: Any, collection: str, name: str, body: dict[str, Any]) -> Any:
    return http.put(f"{collection}/{quote(name, safe='')}", json=body)


@pytest.mark.parametrize(("collection", "body", "parameter", "name"), BAD_NAMES,
                         ids=[f"{case[2]}-{case[3][:12]}" for case in BAD_NAMES])
def test_a_name_that_breaks_the_contract_is_refused_naming_the_parameter(http, collection, body, parameter, name):
    http.put("/apis/echo", json=API)
    answer = _put(http, collection, name, body)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert (error["code"], error["message"]) == ("ValidationError", FIELD_PROBLEMS)
    assert [detail["target"] for detail in error["details"]] == [parameter]
    assert error["details"][0]["message"].startswith(f"{parameter}: ")
    assert http.get(f"{collection}/{quote(name, safe='')}").status_code == 404  # nothing was created


@pytest.mark.parametrize(("collection", "body", "name"), GOOD_NAMES, ids=[f"{c[0]}-{c[2][:12]}" for c in GOOD_NAMES])
def test_a_name_at_the_edge_of_the_contract_is_accepted(http, collection, body, name):
    http.put("/apis/echo", json=API)
    if collection == "/apis":
        body = {"properties": {**body["properties"], "path": "other"}}
    assert _put(http, collection, name, body).status_code == 201


def test_a_revision_id_keeps_the_api_id_rule(http):
    http.put("/apis/echo", json=API)
    assert http.put("/apis/echo;rev=2", json={"properties": {"apiRevision": "2"}}).status_code == 201


def _refused(call: Any) -> Any:
    with pytest.raises(HttpResponseError) as caught:
        result = call()
        if hasattr(result, "result"):
            result.result()
    assert caught.value.status_code == 400
    return caught.value


# BackendAuthorizationHeaderCredentials: scheme 1-100 and parameter 1-300, both required
AUTHORIZATIONS = [
    ({"scheme": "Bearer"}, "credentials.authorization.parameter", "is required"),
    ({"scheme": "Bearer", "parameter": ""}, "credentials.authorization.parameter", "is required"),
    ({"scheme": "B" * 101, "parameter": "t"}, "credentials.authorization.scheme", "at most 100 characters, got 101"),
    ({"scheme": "Bearer", "parameter": "t" * 301}, "credentials.authorization.parameter",
     "at most 300 characters, got 301"),
]


@pytest.mark.parametrize(("authorization", "target", "message"), AUTHORIZATIONS)
def test_backend_authorization_credentials_keep_the_contract(client, authorization, target, message):
    body = single(credentials={"authorization": authorization})
    error = _refused(lambda: client.backend.create_or_update(RG, SVC, "b", raw(body))).error
    assert [(d.target, message in d.message) for d in error.details] == [(target, True)]


def test_backend_authorization_at_the_limits_is_accepted(client):
    credentials = models.BackendCredentialsContract(authorization=models.BackendAuthorizationHeaderCredentials(
        scheme="B" * 100, parameter="t" * 300))
    created = client.backend.create_or_update(RG, SVC, "b", models.BackendContract(
        url="https://x.example", protocol="http", credentials=credentials))
    assert created.credentials.authorization.parameter == "t" * 300


def test_backend_texts_keep_the_contracts_lengths(client):
    body = models.BackendContract(url="https://x.example/" + "u" * 2000, protocol="http", title="t" * 301,
                                  description="d" * 2001, resource_id="r" * 2001)
    error = _refused(lambda: client.backend.create_or_update(RG, SVC, "b", body)).error
    assert error.message == FIELD_PROBLEMS
    assert [(d.target, d.message) for d in error.details] == [
        ("url", "properties.url: must be at most 2000 characters, got 2018"),
        ("title", "properties.title: must be at most 300 characters, got 301"),
        ("description", "properties.description: must be at most 2000 characters, got 2001"),
        ("resourceId", "properties.resourceId: must be at most 2000 characters, got 2001"),
    ]


def test_an_empty_backend_title_is_refused(client):
    error = _refused(lambda: client.backend.create_or_update(RG, SVC, "b", raw(single(title="")))).error
    assert [(d.target, d.message) for d in error.details] == [
        ("title", "properties.title: must be at least 1 characters, got 0")]


@pytest.mark.parametrize(("field", "value", "message"), [
    ("service_url", "https://x.example/" + "u" * 2000, "properties.serviceUrl: must be at most 2000 characters"),
    ("api_revision_description", "d" * 257, "properties.apiRevisionDescription: must be at most 256 characters"),
    ("api_version_description", "d" * 257, "properties.apiVersionDescription: must be at most 256 characters"),
], ids=["serviceUrl", "apiRevisionDescription", "apiVersionDescription"])
def test_api_texts_keep_the_contracts_lengths(client, field, value, message):
    body = models.ApiCreateOrUpdateParameter(display_name="Echo", path="echo", **{field: value})
    error = _refused(lambda: client.api.begin_create_or_update(RG, SVC, "echo", body, polling_interval=0)).error
    assert len(error.details) == 1 and error.details[0].message.startswith(message)


def test_one_field_problem_has_apims_wrapper_too(client):
    """APIM lists even a single field problem in details[] (Azure/apiops#668)."""
    client.api.begin_create_or_update(RG, SVC, "echo", models.ApiCreateOrUpdateParameter(
        display_name="Echo", path="echo"), polling_interval=0).result()
    error = _refused(lambda: client.api_operation.create_or_update(RG, SVC, "echo", "op", models.OperationContract(
        display_name="op", method="GET", url_template="/items/{id}"))).error
    assert (error.code, error.message) == ("ValidationError", FIELD_PROBLEMS)
    assert [d.target for d in error.details] == ["templateParameters"]
    assert "all template parameters used in the URL template" in error.details[0].message


def test_a_problem_that_names_no_field_is_the_top_line_without_details(http):
    http.put("/apis/echo", json=API)
    answer = http.delete("/apis/echo;rev=1", headers={"If-Match": "*"})
    assert answer.json() == {"error": {"code": "ValidationError",
                                       "message": "Cannot delete the current revision of an API."}}


@pytest.mark.parametrize("url", ["wss://echo.example.com/chat", "ws://echo.example.com", "https://echo.example.com"])
def test_a_websocket_api_takes_a_ws_backend(client, url):
    created = client.api.begin_create_or_update(RG, SVC, "ws", models.ApiCreateOrUpdateParameter(
        display_name="WS", path="ws", api_type="websocket", service_url=url, protocols=["wss"]),
        polling_interval=0).result()
    assert created.service_url == url


def test_the_api_type_says_whether_a_ws_backend_is_accepted(http):
    body = {"properties": {"displayName": "WS", "path": "ws", "serviceUrl": "wss://echo.example.com"}}
    refused = http.put("/apis/ws", json=body)
    assert refused.status_code == 400
    assert refused.json()["error"]["details"][0]["message"] == (
        "properties.serviceUrl: must be an absolute http(s) URL, got 'wss://echo.example.com'")
    assert http.put("/apis/ws", json={"properties": {**body["properties"], "type": "websocket"}}).status_code == 201
