"""The emulator serves only the operations an API defines, and its simulated Azure OpenAI instances
authenticate like Azure (api-key or a managed-identity token, and an api-version) — through the real
SDK and real HTTP on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from azure.mgmt.apimanagement import models

from toolkit.emulator.runtime import Emulator
from toolkit.testing.emulator_servers import management_client

RG, SVC = "rg", "svc"
API_VERSION = "2024-10-21"
CHAT_PATH = "/openai/deployments/{deployment-id}/chat/completions"
SPEC = {
    "openapi": "3.0.1",
    "info": {"title": "Inference", "version": "1"},
    "paths": {
        CHAT_PATH: {"post": {"operationId": "ChatCompletions_Create", "parameters": [
            {"name": "deployment-id", "in": "path", "required": True, "schema": {"type": "string"}},
            {"name": "api-version", "in": "query", "required": True, "schema": {"type": "string"}}]}},
        "/openai/deployments/{deployment-id}/embeddings": {"post": {"operationId": "Embeddings_Create", "parameters": [
            {"name": "deployment-id", "in": "path", "required": True, "schema": {"type": "string"}}]}},
    },
}
MI = '<authentication-managed-identity resource="https://cognitiveservices.azure.com" />'
BODY = {"messages": [{"role": "user", "content": "hi"}]}


def _api_policy(extra: str = "") -> str:
    return (f'<policies><inbound><base /><set-backend-service backend-id="aoai" />{extra}</inbound>'
            "<backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>")


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(backend_api_keys={"aoai": "k" * 32}) as running:
        yield running


@pytest.fixture(scope="module")
def sdk(emulator: Emulator) -> Iterator[Any]:
    client = management_client(emulator.management_url, emulator.ca_bundle_path, token=emulator.control_token)
    client.named_value.begin_create_or_update(RG, SVC, "aoai-key", models.NamedValueCreateContract(
        display_name="aoai-key", value="k" * 32, secret=True), polling_interval=0).result()
    client.api.begin_create_or_update(RG, SVC, "llm", models.ApiCreateOrUpdateParameter(
        path="llm", display_name="LLM", subscription_required=False, format="openapi+json", value=json.dumps(SPEC)),
        polling_interval=0).result()
    yield client
    client.close()


@pytest.fixture
def publish(sdk: Any) -> Any:
    """publish(credentials=None, policy=..., global_policy=None): the backend and policies for one test."""

    def apply(*, credentials: dict[str, Any] | None = None, policy: str = _api_policy(),
              global_policy: str | None = None) -> None:
        sdk.backend.create_or_update(RG, SVC, "aoai", models.BackendContract(
            url="https://aoai.openai.azure.com", protocol="http",
            credentials=models.BackendCredentialsContract(header=credentials) if credentials else None))
        sdk.api_policy.create_or_update(RG, SVC, "llm", "policy", models.PolicyContract(value=policy, format="rawxml"))
        if global_policy is None:
            sdk.policy.delete(RG, SVC, "policy", if_match="*")
        else:
            sdk.policy.create_or_update(RG, SVC, "policy", models.PolicyContract(value=global_policy, format="rawxml"))

    return apply


def _chat(emulator: Emulator, *, method: str = "POST", path: str = "/llm/openai/deployments/gpt/chat/completions",
          query: str = f"?api-version={API_VERSION}") -> httpx.Response:
    return httpx.request(method, emulator.gateway_url + path + query, json=BODY, timeout=30)


def test_without_backend_auth_azure_openai_answers_401_through_the_gateway(emulator, publish):
    publish()
    response = _chat(emulator)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "401"
    assert "invalid subscription key or wrong API endpoint" in response.json()["error"]["message"]


def test_with_managed_identity_the_backend_answers_200(emulator, publish):
    publish(policy=_api_policy(MI))
    response = _chat(emulator)
    assert response.status_code == 200, response.text
    assert response.json()["object"] == "chat.completion"


def test_a_token_for_another_resource_is_refused_as_azure_openai_does(emulator, publish):
    publish(policy=_api_policy('<authentication-managed-identity resource="https://management.azure.com/" />'))
    response = _chat(emulator)
    assert response.status_code == 401
    assert response.json() == {"statusCode": 401, "message": (
        "Unauthorized. Access token is missing, invalid, audience is incorrect "
        "(https://cognitiveservices.azure.com), or have expired.")}


def test_with_the_api_key_in_backend_credentials_the_backend_answers_200(emulator, publish):
    publish(credentials={"api-key": ["{{aoai-key}}"]})
    assert _chat(emulator).status_code == 200
    publish(credentials={"api-key": ["not-the-key"]})
    assert _chat(emulator).status_code == 401


def test_missing_api_version_is_refused_as_azure_openai_does(emulator, publish):
    publish(policy=_api_policy(MI))
    # The embeddings operation has no required api-version (so APIM forwards); Azure OpenAI answers 404.
    response = httpx.post(emulator.gateway_url + "/llm/openai/deployments/emb/embeddings", json={"input": "x"},
                          timeout=30)
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "404", "message": "Resource not found"}}


@pytest.mark.parametrize(("method", "path", "query"), [
    ("POST", "/llm/openai/deployments/gpt/completions", f"?api-version={API_VERSION}"),  # undefined operation
    ("GET", "/llm/openai/deployments/gpt/chat/completions", f"?api-version={API_VERSION}"),  # wrong method
    ("POST", "/llm/openai/deployments/gpt/chat/completions", ""),  # the template's query parameter is missing
    ("POST", "/elsewhere/chat/completions", ""),  # no API at that path
])
def test_no_operation_is_apims_404(emulator, publish, method, path, query):
    publish(policy=_api_policy(MI))
    response = _chat(emulator, method=method, path=path, query=query)
    assert response.status_code == 404
    assert response.json() == {"statusCode": 404, "message": "Resource not found"}


def test_on_error_sees_operation_not_found(emulator, publish):
    """The techcommunity workaround: turn OperationNotFound into 405 in on-error."""
    workaround = ('<policies><inbound /><backend><forward-request /></backend><outbound /><on-error>'
                  '<choose><when condition="@(context.LastError.Source == &quot;configuration&quot; &amp;&amp; '
                  'context.LastError.Reason == &quot;OperationNotFound&quot;)">'
                  '<return-response><set-status code="405" reason="Method not allowed" />'
                  '<set-body>@(context.LastError.Message)</set-body></return-response>'
                  '</when></choose></on-error></policies>')
    publish(policy=_api_policy(MI), global_policy=workaround)
    response = _chat(emulator, method="GET")
    assert (response.status_code, response.text) == (405, "Unable to match incoming request to an operation.")
    assert _chat(emulator).status_code == 200  # a defined operation is untouched


def test_operation_policy_runs_after_the_api_policy(emulator, publish, sdk):
    publish(policy=_api_policy(MI))
    policy = ('<policies><inbound><base /><set-header name="x-op" exists-action="override"><value>@(context.Operation.Id)'
              '</value></set-header></inbound><backend><base /></backend>'
              '<outbound><base /><set-header name="x-op" exists-action="override"><value>@(context.Operation.Id)</value>'
              '</set-header></outbound><on-error><base /></on-error></policies>')
    sdk.api_operation_policy.create_or_update(RG, SVC, "llm", "ChatCompletions_Create", "policy",
                                              models.PolicyContract(value=policy, format="rawxml"))
    try:
        response = _chat(emulator)
        assert response.status_code == 200 and response.headers["x-op"] == "ChatCompletions_Create"
    finally:
        sdk.api_operation_policy.delete(RG, SVC, "llm", "ChatCompletions_Create", "policy", if_match="*")
