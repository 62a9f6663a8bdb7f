"""DefaultGatewayServices over httpx.MockTransport: forwarding, failures, backends, embeddings."""

from __future__ import annotations

import json

import httpx
import numpy as np
import pytest
from .policy_helpers import NOW, make_ctx, run

from toolkit.emulator.policy import BackendConnectionFailure, BackendTimeout, PoolBackend, SingleBackend
from toolkit.emulator.policy.default_services import DefaultGatewayServices, fetch_loopback_json
from toolkit.emulator.policy.services import EmbeddingsFailure
from toolkit.errors import ArtifactError

BREAKER = {"rules": [{"name": "r", "failureCondition": {"count": 1, "interval": "PT1M",
                                                         "statusCodeRanges": [{"min": 429, "max": 429}]},
                      "tripDuration": "PT1M", "acceptRetryAfter": False}]}


def _services(handler, **options) -> DefaultGatewayServices:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    options.setdefault("clock", lambda: NOW)
    return DefaultGatewayServices(client, **options)


def test_forward_sends_method_headers_and_body_and_returns_the_answer() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, headers={"x-ms-region": "East US", "connection": "close"}, content=b"done")

    services = _services(handler)
    ctx = make_ctx(headers=[("api-key", "secret"), ("host", "gateway.test"), ("content-length", "1"), ("x-a", "1")])
    answer = run(services.forward(ctx, "http://backend.test/path?q=1", 5.0))
    request = seen[0]
    assert (request.method, str(request.url)) == ("POST", "http://backend.test/path?q=1")
    assert request.headers["host"] == "backend.test" and request.headers["x-a"] == "1"
    assert request.headers["content-length"] == str(len(ctx.request_body))
    assert request.content == ctx.request_body
    assert (answer.status, answer.body) == (201, b"done")
    assert ("x-ms-region", "East US") in answer.headers and all(k != "connection" for k, _ in answer.headers)
    run(services.forward(ctx, "http://backend.test/path", 5.0, body=b""))
    assert seen[1].content == b""


@pytest.mark.parametrize(("error", "expected", "message"), [
    (httpx.ConnectError("refused"), BackendConnectionFailure, "Cannot reach http://backend.test/p"),
    (httpx.ConnectTimeout("slow connect"), BackendConnectionFailure, "Cannot reach http://backend.test/p"),
    (httpx.ReadTimeout("slow answer"), BackendTimeout, "Request to the backend service timed out"),  # APIM's text
    (httpx.RemoteProtocolError("reset"), BackendConnectionFailure, "Cannot reach http://backend.test/p"),
])
def test_transport_failures_become_policy_errors_without_the_query(error: Exception, expected: type,
                                                                    message: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    services = _services(handler)
    with pytest.raises(expected) as info:
        run(services.forward(make_ctx(), "http://backend.test/p?api-key=secret", 1.0))
    assert "secret" not in str(info.value) and str(info.value).startswith(message)


def test_backends_from_arm_json_and_breaker_state_across_updates() -> None:
    services = _services(lambda r: httpx.Response(200))
    single = {"properties": {"type": "Single", "url": "http://a.test", "circuitBreaker": BREAKER}}
    services.set_backend("a", single)
    services.set_backend("pool", {"properties": {"type": "Pool", "pool": {"services": [{"id": "/backends/a"}]}}})
    backend = services.backend("a")
    assert isinstance(backend, SingleBackend) and backend.url == "http://a.test"
    assert isinstance(services.backend("pool"), PoolBackend)
    backend.breaker.record(429)
    assert not services.is_available("a")
    services.set_backend("a", single)  # unchanged rule: still open
    assert not services.is_available("a")
    changed = json.loads(json.dumps(single))
    changed["properties"]["circuitBreaker"]["rules"][0]["tripDuration"] = "PT2M"
    services.set_backend("a", changed)
    assert services.is_available("a")
    assert set(services.breakers()) == {"a"}
    services.remove_backend("a")
    assert services.backend("a") is None and services.is_available("a")
    with pytest.raises(ArtifactError, match="needs a 'url'"):
        services.set_backend("b", {"properties": {"type": "Single"}})


def _embeddings(request: httpx.Request) -> httpx.Response:
    texts = json.loads(request.content)["input"]
    data = [{"index": i, "embedding": [float(i), 1.0]} for i in range(len(texts))]
    return httpx.Response(200, json={"data": list(reversed(data))})


def test_embed_posts_the_texts_and_orders_the_vectors() -> None:
    services = _services(_embeddings, backends={"emb": {"properties": {"url": "http://emb.test/embeddings"}}})
    vectors = run(services.embed("emb", ["a", "b"]))
    assert vectors.dtype == np.float32 and vectors.tolist() == [[0.0, 1.0], [1.0, 1.0]]


def test_embed_asks_for_base64_and_decodes_little_endian_float32() -> None:
    import base64

    asked: list[dict] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(json.loads(request.content))
        rows = [np.array([0.5, -2.0, 1e-30], dtype="<f4"), np.array([3.0, 0.0, -1.5], dtype="<f4")]
        data = [{"index": i, "embedding": base64.b64encode(row.tobytes()).decode()} for i, row in enumerate(rows)]
        return httpx.Response(200, json={"data": data[::-1]})

    services = _services(answer, backends={"emb": {"properties": {"url": "http://emb.test/embeddings"}}})
    vectors = run(services.embed("emb", ["a", "b"]))
    assert asked == [{"input": ["a", "b"], "encoding_format": "base64"}]
    assert vectors.dtype == np.float32 and vectors.tolist() == [[0.5, -2.0, np.float32(1e-30)], [3.0, 0.0, -1.5]]


@pytest.mark.parametrize("text", ["caf\u00e9 \u2603", "half a pair \ud800 of surrogates"])
def test_embed_sends_any_prompt_text_as_json(text: str) -> None:
    """Non-ASCII text goes as UTF-8; a lone surrogate (which orjson refuses) escaped, as json.dumps does."""
    sent: list[bytes] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.content)
        return httpx.Response(200, json={"data": [{"index": 0, "embedding": [1.0, 0.0]}]})

    services = _services(answer, backends={"emb": {"properties": {"url": "http://emb.test/embeddings"}}})
    assert run(services.embed("emb", [text])).tolist() == [[1.0, 0.0]]
    assert json.loads(sent[0]) == {"input": [text], "encoding_format": "base64"}


def test_embed_asks_a_backend_refusing_base64_for_floats_from_then_on() -> None:
    asked: list[dict] = []

    def strict(request: httpx.Request) -> httpx.Response:  # a backend that refuses fields it does not know
        body = json.loads(request.content)
        asked.append(body)
        if "encoding_format" in body:
            return httpx.Response(400, json={"error": {"message": "Unrecognized request argument supplied"}})
        return httpx.Response(200, json={"data": [{"index": i, "embedding": [1.0, float(i)]}
                                                  for i in range(len(body["input"]))]})

    services = _services(strict, backends={"emb": {"properties": {"url": "http://emb.test/embeddings"}}})
    assert run(services.embed("emb", ["a"])).tolist() == [[1.0, 0.0]]
    assert run(services.embed("emb", ["a", "b"])).tolist() == [[1.0, 0.0], [1.0, 1.0]]
    assert asked == [{"input": ["a"], "encoding_format": "base64"}, {"input": ["a"]}, {"input": ["a", "b"]}]
    refusing = _services(lambda r: httpx.Response(400), backends={"emb": {"properties": {"url": "http://emb.test"}}})
    with pytest.raises(EmbeddingsFailure, match="answered 400"):
        run(refusing.embed("emb", ["a"]))


@pytest.mark.parametrize("embedding", ["AAAA=A", "AAAAAAA=", "not base64!", ["1.0", {}]])
def test_embed_refuses_undecodable_vectors(embedding: object) -> None:
    backends = {"emb": {"properties": {"url": "http://emb.test"}}}
    services = _services(lambda r: httpx.Response(200, json={"data": [{"index": 0, "embedding": embedding}]}),
                         backends=backends)
    with pytest.raises(EmbeddingsFailure, match="malformed"):
        run(services.embed("emb", ["a"]))


def test_embed_failures() -> None:
    backends = {"emb": {"properties": {"url": "http://emb.test", "circuitBreaker": BREAKER}}}
    services = _services(lambda r: httpx.Response(429), backends=backends)
    with pytest.raises(EmbeddingsFailure, match="answered 429"):
        run(services.embed("emb", ["a"]))
    with pytest.raises(EmbeddingsFailure, match="circuit breaker is open"):
        run(services.embed("emb", ["a"]))
    with pytest.raises(EmbeddingsFailure, match="does not exist"):
        run(services.embed("ghost", ["a"]))
    malformed = _services(lambda r: httpx.Response(200, json={"rows": []}), backends=backends)
    with pytest.raises(EmbeddingsFailure, match="malformed"):
        run(malformed.embed("emb", ["a"]))


def test_azure_ad_authority_from_a_url_template() -> None:
    services = _services(lambda r: httpx.Response(200), azure_ad_authority="http://127.0.0.1:1/{tenant}/v2.0/")
    authority = services.azure_ad_authority("contoso")
    assert authority.issuers == ("http://127.0.0.1:1/contoso/v2.0",)
    assert authority.openid_config_url == "http://127.0.0.1:1/contoso/v2.0/.well-known/openid-configuration"
    assert _services(lambda r: httpx.Response(200)).azure_ad_authority("contoso") is None


def test_sleep_and_blocking_calls_use_the_injected_functions() -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    services = _services(lambda r: httpx.Response(200), sleep=sleep)
    run(services.sleep(2.5))
    assert slept == [2.5]
    assert run(services.run_blocking(sum, [1, 2])) == 3


def test_openid_documents_are_fetched_from_loopback_only() -> None:
    with pytest.raises(ValueError, match="loopback"):
        fetch_loopback_json("https://login.microsoftonline.com/x/v2.0/.well-known/openid-configuration")


def test_credential_headers_replace_the_callers_and_the_embeddings_call_is_authenticated() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/embeddings"):
            return httpx.Response(200, json={"data": [{"index": 0, "embedding": [1.0, 0.0]}]})
        return httpx.Response(200, content=b"ok")

    class Identity:
        def token(self, resource: str, client_id: str | None = None) -> str:
            return f"mi-{resource}"

    services = _services(handler, managed_identity=Identity(), backends={
        "emb": {"properties": {"url": "http://emb.test/openai/deployments/e/embeddings", "credentials": {
            "header": {"api-key": ["emb-key"]}, "query": {"code": ["c"]}}}}})
    ctx = make_ctx(headers=[("api-key", "apim-subscription-key"), ("x-a", "1")])
    run(services.forward(ctx, "http://backend.test/p", 5.0, extra_headers=[("API-Key", "backend-key")]))
    assert seen[0].headers.get_list("api-key") == ["backend-key"] and seen[0].headers["x-a"] == "1"
    run(services.embed("emb", ["hello"]))
    call = seen[1]
    assert call.headers["api-key"] == "emb-key"
    assert call.headers["authorization"] == "Bearer mi-https://cognitiveservices.azure.com"
    assert call.url.params["api-version"] == "2024-10-21" and call.url.params["code"] == "c"
