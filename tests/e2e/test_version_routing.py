"""The gateway routes API versions as APIM does (Segment, Query, Header; the original version without one;
an unknown version is APIM's 404), with everything published through the real SDK and called over HTTP.

Each API forwards to a simulated Azure OpenAI deployment, which answers 200 only at its own path: so a 200
also shows that a Segment version is not sent on to the backend."""

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
CHAT = "/openai/deployments/gpt/chat/completions"
SPEC = json.dumps({"openapi": "3.0.1", "info": {"title": "Inference", "version": "1"}, "paths": {
    "/openai/deployments/{deployment-id}/chat/completions": {"post": {"operationId": "chat", "parameters": [
        {"name": "deployment-id", "in": "path", "required": True, "schema": {"type": "string"}}]}}}})
NOT_FOUND = {"statusCode": 404, "message": "Resource not found"}


def _policy(name: str) -> str:
    return ('<policies><inbound><base /><set-backend-service backend-id="aoai" />'
            '<authentication-managed-identity resource="https://cognitiveservices.azure.com" /></inbound>'
            f'<backend><base /></backend><outbound><base /><set-header name="x-api" exists-action="override">'
            f'<value>{name}</value></set-header><set-header name="x-version" exists-action="override">'
            '<value>@(context.Api.Version ?? "none")</value></set-header></outbound><on-error><base /></on-error></policies>')


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(backend_api_keys={"aoai": "k" * 32}) as running:
        sdk = management_client(running.management_url, running.ca_bundle_path, token=running.control_token)
        sdk.backend.create_or_update(RG, SVC, "aoai", models.BackendContract(url="https://aoai.openai.azure.com",
                                                                             protocol="http"))
        for name, scheme, extra in (("seg", "Segment", {}), ("qry", "Query", {"version_query_name": "version"}),
                                    ("hdr", "Header", {"version_header_name": "X-Version"})):
            sdk.api_version_set.create_or_update(RG, SVC, name, models.ApiVersionSetContract(
                display_name=name, versioning_scheme=scheme, **extra))
        for api, path, version_set, version in (("llm", "llm", "seg", None), ("llm-v1", "llm", "seg", "v1"),
                                                ("q", "q", "qry", None), ("q1", "q", "qry", "1"),
                                                ("h1", "h", "hdr", "1"), ("h2", "h", "hdr", "2")):
            _publish_api(sdk, api, path, version_set, version)
        sdk.close()
        yield running


def _publish_api(sdk: Any, api: str, path: str, version_set: str, version: str | None) -> None:
    sdk.api.begin_create_or_update(RG, SVC, api, models.ApiCreateOrUpdateParameter(
        path=path, display_name=api, subscription_required=False, format="openapi+json", value=SPEC,
        api_version=version, api_version_set_id=f"/apiVersionSets/{version_set}"), polling_interval=0).result()
    sdk.api_policy.create_or_update(RG, SVC, api, "policy", models.PolicyContract(value=_policy(api), format="rawxml"))


def _call(emulator: Emulator, path: str, query: str = "", headers: dict[str, str] | None = None) -> httpx.Response:
    url = f"{emulator.gateway_url}{path}?api-version=2024-10-21{query}"
    return httpx.post(url, json={"messages": [{"role": "user", "content": "hi"}]}, headers=headers, timeout=30)


@pytest.mark.parametrize(("path", "query", "headers", "served"), [
    (f"/llm/v1{CHAT}", "", {}, "llm-v1"),  # Segment: /<path>/<version>/<operation>
    (f"/llm{CHAT}", "", {}, "llm"),  # the original version answers without one
    (f"/q{CHAT}", "&version=1", {}, "q1"),  # Query: ?<versionQueryName>=<version>
    (f"/q{CHAT}", "", {}, "q"),
    (f"/h{CHAT}", "", {"X-Version": "2"}, "h2"),  # Header: <versionHeaderName>: <version>
    (f"/h{CHAT}", "", {"x-version": "1"}, "h1"),
])
def test_each_scheme_reaches_the_version_asked_for(emulator: Emulator, path: str, query: str,
                                                   headers: dict[str, str], served: str) -> None:
    response = _call(emulator, path, query, headers)
    assert (response.status_code, response.headers.get("x-api")) == (200, served), response.text
    assert response.headers["x-version"] == {"llm-v1": "v1", "q1": "1", "h1": "1", "h2": "2"}.get(served, "none")


@pytest.mark.parametrize(("path", "query", "headers"), [
    (f"/llm/v9{CHAT}", "", {}),  # a version the set does not have
    (f"/q{CHAT}", "&version=9", {}),
    (f"/h{CHAT}", "", {"X-Version": "9"}),
    (f"/h{CHAT}", "", {}),  # no version, and the set has no original
])
def test_an_unknown_version_is_apims_404(emulator: Emulator, path: str, query: str, headers: dict[str, str]) -> None:
    response = _call(emulator, path, query, headers)
    assert (response.status_code, response.json()) == (404, NOT_FOUND)
