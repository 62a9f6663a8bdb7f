"""API operations through the real SDK: specification import (format/value), operation CRUD, operation
policies that need their operation, revisions, cascades and persistence."""

from __future__ import annotations

import json

import pytest
import yaml
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.apimanagement import models
from toolkit.testing.management_bodies import RG, SVC, status_of

from toolkit.emulator.management import ManagementPlane

SPEC = {
    "openapi": "3.0.1",
    "info": {"title": "Inference", "description": "A test API", "version": "1"},
    "servers": [{"url": "https://aoai.example.com/openai"}],
    "components": {"parameters": {"apiVersion": {"name": "api-version", "in": "query", "required": True,
                                                 "schema": {"type": "string"}}}},
    "paths": {
        "/deployments/{deployment-id}/chat/completions": {
            "parameters": [{"name": "deployment-id", "in": "path", "required": True, "schema": {"type": "string"}},
                           {"$ref": "#/components/parameters/apiVersion"}],
            "post": {"operationId": "ChatCompletions_Create", "summary": "Chat",
                     "parameters": [{"name": "verbose", "in": "query", "schema": {"type": "boolean"}}]},
        },
        "/models": {"get": {"summary": "List models"}},
    },
}
POLICY = "<policies><inbound><base /></inbound><backend><base /></backend><outbound><base /></outbound></policies>"


def _import(client, spec=SPEC, fmt="openapi+json", name="inference", **extra):
    value = json.dumps(spec) if fmt != "openapi" else yaml.safe_dump(spec)
    return client.api.begin_create_or_update(RG, SVC, name, models.ApiCreateOrUpdateParameter(
        path=name, format=fmt, value=value, **extra), polling_interval=0).result()


def _operation(client, api, name, method="GET", template="/items/{id}", params=("id",), **kwargs):
    return client.api_operation.create_or_update(RG, SVC, api, name, models.OperationContract(
        display_name=name, method=method, url_template=template,
        template_parameters=[models.ParameterContract(name=p, type="string", required=True) for p in params]),
        **kwargs)


def test_import_creates_operations_named_by_operation_id_with_templates(client):
    api = _import(client)
    assert (api.display_name, api.description, api.service_url) == ("Inference", "A test API",
                                                                     "https://aoai.example.com/openai")
    ops = {op.name: op for op in client.api_operation.list_by_api(RG, SVC, "inference")}
    assert sorted(ops) == ["ChatCompletions_Create", "get-models"]
    chat = ops["ChatCompletions_Create"]
    assert (chat.method, chat.display_name) == ("POST", "Chat")
    # required query parameters become template parameters (APIM's default translation)
    assert chat.url_template == "/deployments/{deployment-id}/chat/completions?api-version={api-version}"
    assert sorted(p.name for p in chat.template_parameters) == ["api-version", "deployment-id"]
    assert [q.name for q in chat.request.query_parameters] == ["verbose"]
    assert chat.type == "Microsoft.ApiManagement/service/apis/operations"
    assert ops["get-models"].url_template == "/models"


def test_yaml_openapi_and_query_translation(client):
    _import(client, fmt="openapi", translate_required_query_parameters_conduct="query")
    chat = client.api_operation.get(RG, SVC, "inference", "ChatCompletions_Create")
    assert chat.url_template == "/deployments/{deployment-id}/chat/completions"
    assert sorted(q.name for q in chat.request.query_parameters) == ["api-version", "verbose"]


def test_reimport_replaces_operations_and_keeps_policies_of_those_kept(client, plane: ManagementPlane):
    spec = json.loads(json.dumps(SPEC))
    spec["paths"]["/embeddings"] = {"post": {"operationId": "Embeddings_Create"}}
    _import(client, spec)
    for op in ("ChatCompletions_Create", "Embeddings_Create"):
        client.api_operation_policy.create_or_update(RG, SVC, "inference", op, "policy",
                                                     models.PolicyContract(value=POLICY, format="rawxml"))
    _import(client)  # Embeddings_Create is gone from the specification
    assert sorted(plane.view.operations("inference")) == ["ChatCompletions_Create", "get-models"]
    assert sorted(plane.view.operation_policies("inference")) == ["ChatCompletions_Create"]


@pytest.mark.parametrize(("fmt", "value", "expected"), [
    ("openapi-link", "https://example.com/spec.json", "does not fetch specification links"),
    ("wsdl", "<definitions/>", "does not import 'wsdl'"),
    ("openapi+json", "{not json", "cannot parse"),
    ("openapi+json", json.dumps({"swagger": "2.0", "paths": {}}), "not an OpenAPI 3 document"),
    ("openapi+json", json.dumps({"openapi": "3.0.0", "info": {"title": "x"}}), "no 'paths'"),
    ("openapi+json", json.dumps({"openapi": "3.0.0", "paths": {"/a/{id}": {"get": {"operationId": "a"}}}}),
     "must be defined in the operation"),
])
def test_bad_specifications_are_refused_and_nothing_is_created(client, plane, fmt, value, expected, refusal):
    with pytest.raises(HttpResponseError) as caught:
        client.api.begin_create_or_update(RG, SVC, "bad", models.ApiCreateOrUpdateParameter(
            path="bad", display_name="bad", format=fmt, value=value), polling_interval=0).result()
    assert caught.value.status_code == 400
    assert expected in refusal(caught.value)
    assert plane.view.api("bad") is None and plane.view.operations("bad") == {}


def test_swagger_json_is_imported(client):
    swagger = {"swagger": "2.0", "info": {"title": "Old"}, "host": "old.example.com", "basePath": "/v1",
               "paths": {"/things/{id}": {"delete": {"operationId": "Things_Delete",
                                                     "parameters": [{"name": "id", "in": "path", "required": True,
                                                                     "type": "integer"}]}}}}
    api = _import(client, swagger, fmt="swagger-json", name="old")
    assert api.service_url == "https://old.example.com/v1"
    op = client.api_operation.get(RG, SVC, "old", "Things_Delete")
    assert (op.method, op.url_template, op.template_parameters[0].type) == ("DELETE", "/things/{id}", "integer")


def test_operation_crud_and_its_policy(client, plane: ManagementPlane):
    client.api.begin_create_or_update(RG, SVC, "items", models.ApiCreateOrUpdateParameter(
        path="items", display_name="Items"), polling_interval=0).result()
    assert _operation(client, "items", "get-item", cls=status_of) == 201
    assert _operation(client, "items", "get-item", method="get", cls=status_of) == 200
    assert client.api_operation.get(RG, SVC, "items", "get-item").method == "GET"
    client.api_operation_policy.create_or_update(RG, SVC, "items", "get-item", "policy",
                                                 models.PolicyContract(value=POLICY, format="rawxml"))
    assert client.api_operation.delete(RG, SVC, "items", "get-item", if_match="*", cls=status_of) == 200
    assert plane.view.operations("items") == {} and plane.view.operation_policies("items") == {}
    with pytest.raises(ResourceNotFoundError):
        client.api_operation.get(RG, SVC, "items", "get-item")


def test_operation_policy_needs_its_operation(client):
    _import(client)
    with pytest.raises(ResourceNotFoundError):
        client.api_operation_policy.create_or_update(RG, SVC, "inference", "nope", "policy",
                                                     models.PolicyContract(value=POLICY, format="rawxml"))


@pytest.mark.parametrize(("operation", "expected"), [
    ({"responses": [{"description": "OK"}]}, "properties.responses[0].statusCode: is required (an integer)"),
    ({"responses": [{"statusCode": 200, "representations": [{"examples": {}}]}]},
     "properties.responses[0].representations[0].contentType: is required"),
    ({"request": {"representations": [{"contentType": ""}]}},
     "properties.request.representations[0].contentType: is required"),
])
def test_responses_and_representations_keep_the_contract(http, refusal, operation, expected):
    """ResponseContract needs its statusCode, RepresentationContract its contentType (2024-05-01)."""
    http.put("/apis/items", json={"properties": {"displayName": "Items", "path": "items"}})
    body = {"properties": {"displayName": "op", "method": "GET", "urlTemplate": "/op", **operation}}
    answer = http.put("/apis/items/operations/op", json=body)
    assert answer.status_code == 400 and refusal(answer) == expected
    ok = {"responses": [{"statusCode": 200, "representations": [{"contentType": "application/json"}]}],
          "request": {"representations": [{"contentType": "application/json"}]}}
    assert http.put("/apis/items/operations/op", json={"properties": {**body["properties"], **ok}}).status_code == 201


@pytest.mark.parametrize(("template", "params", "expected"), [
    ("/items/{id}", (), "must be defined in the operation"),
    ("/items", ("id",), "must be defined in the operation"),
    ("items", (), "must start with '/'"),
    ("/a/*/b", (), "wildcard must be the last segment"),
])
def test_operation_template_must_agree_with_its_parameters(client, template, params, expected, refusal):
    client.api.begin_create_or_update(RG, SVC, "items", models.ApiCreateOrUpdateParameter(
        path="items", display_name="Items"), polling_interval=0).result()
    with pytest.raises(HttpResponseError) as caught:
        _operation(client, "items", "op", template=template, params=params)
    assert caught.value.status_code == 400 and expected in refusal(caught.value)


def test_same_method_and_template_twice_is_refused(client, refusal):
    client.api.begin_create_or_update(RG, SVC, "items", models.ApiCreateOrUpdateParameter(
        path="items", display_name="Items"), polling_interval=0).result()
    _operation(client, "items", "first")
    with pytest.raises(HttpResponseError) as caught:
        _operation(client, "items", "second")
    assert caught.value.status_code == 400 and "first" in refusal(caught.value)
    _operation(client, "items", "third", method="POST")  # another method is another operation


def test_operations_of_a_missing_api_are_404(client):
    with pytest.raises(ResourceNotFoundError):
        list(client.api_operation.list_by_api(RG, SVC, "missing"))
    with pytest.raises(ResourceNotFoundError):
        _operation(client, "missing", "op")


RELEASE_LIMIT = r"does not support making another revision current \(APIM does\)"


def _revision(client, name, path="inference", **extra):
    return client.api.begin_create_or_update(RG, SVC, name, models.ApiCreateOrUpdateParameter(
        path=path, format="openapi+json", value=json.dumps(SPEC), **extra), polling_interval=0).result()


def test_revision_fields_are_returned_and_releasing_another_revision_refused(client):
    api = _import(client, api_revision="3", is_current=True)
    assert (api.api_revision, api.is_current) == ("3", True)
    assert _import(client).api_revision == "3"  # kept when a later PUT leaves it out
    with pytest.raises(HttpResponseError, match=RELEASE_LIMIT):
        _import(client, is_current=False)
    with pytest.raises(HttpResponseError, match="revision number"):
        _import(client, api_revision="two")


def test_a_non_current_revision_is_stored_listed_and_not_served(client, plane: ManagementPlane):
    with pytest.raises(HttpResponseError, match="API 'inference' does not exist: create it before its revision"):
        _revision(client, "inference;rev=2")
    _import(client)
    revision = _revision(client, "inference;rev=2", path=None)  # the path is the API's
    assert (revision.api_revision, revision.is_current, revision.path) == ("2", False, "inference")
    assert sorted(a.name for a in client.api.list_by_service(RG, SVC)) == ["inference", "inference;rev=2"]
    assert [o.name for o in client.api_operation.list_by_api(RG, SVC, "inference;rev=2")]
    assert list(plane.view.apis()) == ["inference"]  # the gateway serves the current revision only
    with pytest.raises(HttpResponseError, match=RELEASE_LIMIT):
        _revision(client, "inference;rev=3", is_current=True)
    with pytest.raises(HttpResponseError, match="a revision has the path of its API 'inference'"):
        _revision(client, "inference;rev=3", path="elsewhere")
    with pytest.raises(HttpResponseError, match="must be '3', the revision in the id"):
        _revision(client, "inference;rev=3", api_revision="4")
    with pytest.raises(HttpResponseError, match="revision 1 is the current revision"):
        _revision(client, "inference;rev=1")
    client.api.begin_delete(RG, SVC, "inference", if_match="*", polling_interval=0).result()
    assert list(client.api.list_by_service(RG, SVC)) == []  # its revisions went with it
    assert list(plane.view.apis()) == []


def test_the_current_revision_cannot_be_deleted_by_its_revision_id(client):
    """APIM: 400 "Cannot delete the current revision of an API." (Azure/apiops#184, Azure/apiops-cli#260)."""
    _import(client, api_revision="3")
    _revision(client, "inference;rev=4", path=None)
    with pytest.raises(HttpResponseError) as caught:
        client.api.begin_delete(RG, SVC, "inference;rev=3", if_match="*", polling_interval=0).result()
    error = caught.value.error
    assert (caught.value.status_code, error.code, error.message, error.details) == (
        400, "ValidationError", "Cannot delete the current revision of an API.", [])
    assert sorted(a.name for a in client.api.list_by_service(RG, SVC)) == ["inference", "inference;rev=4"]
    client.api.begin_delete(RG, SVC, "inference;rev=4", if_match="*", polling_interval=0).result()  # not current
    assert [a.name for a in client.api.list_by_service(RG, SVC)] == ["inference"]
    assert client.api.get(RG, SVC, "inference").api_revision == "3"


def test_deleting_the_api_deletes_its_operations(client, plane: ManagementPlane):
    _import(client)
    client.api_operation_policy.create_or_update(RG, SVC, "inference", "get-models", "policy",
                                                 models.PolicyContract(value=POLICY, format="rawxml"))
    client.api.begin_delete(RG, SVC, "inference", if_match="*", polling_interval=0).result()
    assert plane.view.operations("inference") == {} and plane.view.operation_policies("inference") == {}


def test_operations_survive_a_restart(serve, tmp_path):
    state = tmp_path / "state.json"
    _, client = serve(ManagementPlane(state_file=state))
    _import(client)
    restarted = ManagementPlane(state_file=state)
    assert sorted(restarted.view.operations("inference")) == ["ChatCompletions_Create", "get-models"]
