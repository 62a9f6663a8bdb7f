"""OpenAPI descriptions: operations declared, names as APIM gives them, and the two sides of a plan compared."""

from __future__ import annotations

import json
import re

import pytest

from toolkit.artifacts.foreign import unpublished_kind
from toolkit.artifacts.specification import (
    Operation,
    SpecificationError,
    document_from_operations,
    dump_document,
    operation_name,
    operations_of,
    wildcard_document,
)
from toolkit.publish.operations import comparable_operations, implied_fields, import_body
from toolkit.render.specification import builtin_document

DOC = {"openapi": "3.0.1", "info": {"title": "t", "version": "1", "description": "D"},
       "paths": {"/a/{id}": {"get": {"operationId": "get-a"}, "post": {}, "parameters": []}}}


def test_operations_of_lists_methods_and_names_them_as_apim_does() -> None:
    assert operations_of(json.dumps(DOC)) == [Operation("get-a", "GET", "/a/{id}"), Operation("post-a-id", "POST", "/a/{id}")]
    assert operation_name("Chat/Completions:Create", "post", "/x") == "Chat-Completions-Create"
    assert operation_name(None, "get", "/") == "get"


@pytest.mark.parametrize(("text", "reason", "line"), [
    ("swagger: '2.0'\npaths: {}\n", "not an OpenAPI 3 document (swagger 2.0)", 1),
    ("- a list\n", "not an OpenAPI document", 1),
    ("openapi: 3.0.1\ninfo: {}\npaths: [x]\n", "needs a `paths` mapping", 3),
    ("openapi: 3.0.1\npaths:\n  nope: {get: {}}\n", "must start with /", 3),
    ("openapi: 3.0.1\npaths: {/a: {get: {operationId: x}}, /b: {get: {operationId: x}}}\n", "used twice", None),
])
def test_not_openapi_3_is_refused_with_a_line(text: str, reason: str, line: int | None) -> None:
    with pytest.raises(SpecificationError, match=re.escape(reason)) as caught:
        operations_of(text)
    assert caught.value.line == line


def test_the_builtin_description_has_the_azure_openai_inference_operations() -> None:
    operations = {o.name: (o.method, o.url_template) for o in operations_of(builtin_document("azure-openai-inference"))}
    assert operations == {
        name: ("POST", f"/openai/deployments/{{deployment-id}}/{path}") for name, path in (
            ("ChatCompletions_Create", "chat/completions"), ("Completions_Create", "completions"),
            ("Embeddings_Create", "embeddings"), ("ImageGenerations_Create", "images/generations"),
            ("Transcriptions_Create", "audio/transcriptions"), ("Translations_Create", "audio/translations"),
            ("Speech_Create", "audio/speech"))}
    document = json.loads(builtin_document("azure-openai-inference"))
    chat = document["paths"]["/openai/deployments/{deployment-id}/chat/completions"]["post"]
    parameters = [document["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]] for p in chat["parameters"]]
    assert {p["name"]: (p["in"], p["required"]) for p in parameters} == {
        "deployment-id": ("path", True), "api-version": ("query", True)}
    assert [o.method for o in operations_of(dump_document(wildcard_document("w")))] == ["DELETE", "GET", "POST", "PUT"]


def test_declared_and_live_operations_compare_equal_ignoring_the_query_part() -> None:
    declared = {"value": json.dumps(DOC), "format": "openapi+json"}
    live = {"operations": [{"name": "post-a-id", "method": "post", "urlTemplate": "/a/{id}"},
                           {"name": "get-a", "method": "GET", "urlTemplate": "/a/{id}?api-version={api-version}"}]}
    assert comparable_operations(declared) == comparable_operations(live) == {
        "[get-a]": {"method": "GET", "urlTemplate": "/a/{id}"}, "[post-a-id]": {"method": "POST", "urlTemplate": "/a/{id}"}}
    assert comparable_operations({"displayName": "x"}) is None
    assert comparable_operations({"operations": []}) == {}
    assert implied_fields(declared) == {"description": "D"}
    assert implied_fields({**declared, "description": "mine"}) == {}


def test_import_body_sends_a_specification_and_never_operations() -> None:
    live = {"properties": {"displayName": "A", "path": "a", "isCurrent": True, "operations": [
        {"name": "get-a", "method": "GET", "urlTemplate": "/a/{id}?x={x}"}]}}
    sent = import_body(live)["properties"]
    assert "operations" not in sent and "isCurrent" not in sent and sent["format"] == "openapi+json"
    assert sent["translateRequiredQueryParameters"] == "query"
    assert operations_of(sent["value"]) == [Operation("get-a", "GET", "/a/{id}")]
    declared = import_body({"properties": {"path": "a", "format": "openapi", "value": "openapi: 3.0.1\npaths: {}\n"}})
    assert declared["properties"]["value"] == "openapi: 3.0.1\npaths: {}\n"
    assert import_body({"properties": {"path": "a"}}) == {"properties": {"path": "a"}}
    assert operations_of(dump_document(document_from_operations("t", [Operation("x", "PUT", "/p")]))) == [
        Operation("x", "PUT", "/p")]


@pytest.mark.parametrize(("relpath", "kind"), [
    ("products/p/productInformation.json", "products"),
    ("apis/a/diagnostics/d/diagnosticInformation.json", "API diagnostics"),
    ("apis/a/specification.wsdl", "API specifications (wsdl)"),
    ("configuration.prod.yaml", "APIOps configuration overrides"),
    ("README.md", "file README.md"),
    ("apis/a/specification.json", None),
    ("apis/a/operations/o/policy.xml", None),
    (".toolkit-rendered", None),
    (".git/config", None),
])
def test_unpublished_kinds(relpath: str, kind: str | None) -> None:
    assert unpublished_kind(relpath) == kind
