"""The sample gateway's policy (rendered from toolkit.yaml) compiles and runs end to end."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from .policy_helpers import NOW, answered, make_ctx, run, word_vector

from toolkit.artifacts.layout import ArtifactPath, Kind
from toolkit.config import load_config
from toolkit.emulator.jwt_issuer import TestIssuer
from toolkit.emulator.jwt_validation import OpenIdKeyCache
from toolkit.emulator.managed_identity import ManagedIdentity
from toolkit.emulator.policy import compile_policy
from toolkit.emulator.policy.default_services import DefaultGatewayServices
from toolkit.render import render_artifacts

ISSUER = "http://127.0.0.1:9/toolkit/v2.0"
AUDIENCE = "api://toolkit-gateway"


@pytest.fixture(scope="module")
def rendered(repo_root_module: Path):
    config = load_config(repo_root_module / "toolkit.yaml", "local")
    return config.gateway, render_artifacts(config.gateway, repo_root_module / "policies")


@pytest.fixture(scope="module")
def repo_root_module() -> Path:
    return Path(__file__).resolve().parents[4]


@pytest.fixture(scope="module")
def issuer() -> TestIssuer:
    return TestIssuer(ISSUER, clock=lambda: NOW, audience=AUDIENCE)


def _names(gateway) -> list[str]:
    return [b.name for b in gateway.backends] + [p.name for p in gateway.pools]


def _fragments(artifacts) -> dict[str, str]:
    """The rendered policy fragments by name (the API policy includes them)."""
    return {path.name: text for path, text in artifacts.artifacts(Kind.FRAGMENT_POLICY)}


def test_the_rendered_api_policy_compiles_without_errors(rendered) -> None:
    gateway, artifacts = rendered
    xml = artifacts.get(ArtifactPath.api_policy("azure-openai"))
    named_values = {nv.name: nv.value for nv in gateway.named_values}
    policy = compile_policy(xml, "api", named_values=named_values, backends=_names(gateway),
                            fragments=_fragments(artifacts))
    assert [p.spec.name for p in policy.sections["inbound"]] == [
        "base", "validate-jwt", "azure-openai-semantic-cache-lookup", "azure-openai-token-limit", "set-backend-service",
        "authentication-managed-identity",
    ]
    assert [p.spec.name for p in policy.sections["backend"]] == ["retry"]


EASTUS = "aoai-eastus.openai.azure.com"  # also hosts the embeddings deployment


def _services(artifacts, issuer: TestIssuer, hits: list[str]) -> DefaultGatewayServices:
    def answer(request: httpx.Request) -> httpx.Response:
        embeddings = request.url.path.endswith("/embeddings")
        hits.append("embeddings" if embeddings else request.url.host)
        if embeddings and not request.url.params.get("api-version"):  # as Azure OpenAI answers
            return httpx.Response(404, json={"error": {"code": "404", "message": "Resource not found"}})
        if embeddings:
            texts = json.loads(request.content)["input"]
            return httpx.Response(200, json={"data": [{"index": i, "embedding": word_vector(t).tolist()}
                                                      for i, t in enumerate(texts)]})
        if request.url.host == EASTUS:
            return httpx.Response(429, headers={"retry-after": "10"}, json={"error": {"code": "429"}})
        return httpx.Response(200, headers={"x-ms-region": request.url.host},
                              json={"id": "chatcmpl-1", "usage": {"total_tokens": 40}})

    documents = {issuer.openid_configuration_url: issuer.openid_configuration(), issuer.jwks_uri: issuer.jwks()}
    backends = {path.name: json.loads(text) for path, text in artifacts.artifacts(Kind.BACKEND)}
    client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    fragments = {name: compile_policy(xml, "fragment") for name, xml in _fragments(artifacts).items()}
    # the sample authenticates to Azure OpenAI with the gateway's managed identity (tokens from the test issuer)
    services = DefaultGatewayServices(client, backends=backends, fragments=fragments, clock=lambda: NOW,
                                      jwt_keys=OpenIdKeyCache(documents.__getitem__, lambda: NOW),
                                      managed_identity=ManagedIdentity(issuer, lambda: NOW))
    services.rng.seed(3)
    return services


def test_the_sample_gateway_runs_jwt_cache_token_limit_pool_and_retry(rendered, issuer: TestIssuer) -> None:
    gateway, artifacts = rendered
    named_values = {"openid-config-url": issuer.openid_configuration_url, "jwt-audience": AUDIENCE,
                    "jwt-issuer": ISSUER}
    policy = compile_policy(artifacts.get(ArtifactPath.api_policy("azure-openai")), "api",
                            named_values=named_values, backends=_names(gateway), fragments=_fragments(artifacts))
    hits: list[str] = []
    services = _services(artifacts, issuer, hits)

    def request(token: str | None) -> object:
        headers = [("api-key", "sub-key")] + ([("Authorization", f"Bearer {token}")] if token else [])
        return run(answered([None, policy, None], make_ctx(headers=headers), services))

    assert request(None).response_status == 401
    first = request(issuer.mint())
    assert first.response_status == 200
    assert first.response_headers.get("x-apim-consumed-tokens") == "40"
    assert first.selected_backend in {"openai-northcentralus", "openai-westus"}
    chat = hits[1:]  # after the embeddings call: eastus answers 429 and is retried away from
    assert hits[0] == "embeddings" and chat[-1] != EASTUS and chat.count(EASTUS) <= 1 and len(chat) <= 3
    before = len(hits)
    second = request(issuer.mint())
    assert second.response_status == 200 and second.response_body == first.response_body
    assert hits[before:] == ["embeddings"]  # a cache hit: the pool is not called
