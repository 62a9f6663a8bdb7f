"""DefaultGatewayServices over httpx.MockTransport: forwarding, failures, backends, embeddings."""

from __future__ import annotations

import base64
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
    with pytest.raises(ValueError, match="addresses, not ''$"):
        fetch_loopback_json("file:///etc/openid-configuration")


class _FakeGet:
    """Stands in for ``httpx.get``: answers from ``documents`` by URL and records each call."""

    def __init__(self, documents: dict) -> None:
        self.documents = documents
        self.calls: list[tuple[str, object]] = []

    def __call__(self, url: str, **options) -> httpx.Response:
        self.calls.append((url, options.get("timeout")))
        document = self.documents.get(url)
        status = 200 if document is not None else 404
        return httpx.Response(status, json=document, request=httpx.Request("GET", url))


def test_a_loopback_document_is_fetched_with_a_ten_second_timeout_and_an_error_status_raises(monkeypatch) -> None:
    fake = _FakeGet({"http://127.0.0.1:9/doc": {"a": 1}})
    monkeypatch.setattr(httpx, "get", fake)
    assert fetch_loopback_json("http://127.0.0.1:9/doc") == {"a": 1}
    assert fake.calls == [("http://127.0.0.1:9/doc", 10.0)]
    with pytest.raises(httpx.HTTPStatusError):
        fetch_loopback_json("http://[::1]:9/missing")


def test_the_default_key_cache_fetches_over_loopback_and_expires_by_the_services_clock(monkeypatch) -> None:
    from toolkit.emulator.jwt_issuer import TestIssuer
    from toolkit.emulator.jwt_validation import JWKS_CACHE_SECONDS

    now = [NOW]
    issuer = TestIssuer("http://127.0.0.1:9/issuer", clock=lambda: now[0])
    fake = _FakeGet({issuer.openid_configuration_url: issuer.openid_configuration(), issuer.jwks_uri: issuer.jwks()})
    monkeypatch.setattr(httpx, "get", fake)
    services = _services(lambda r: httpx.Response(200), clock=lambda: now[0])
    kid = issuer.kids[0]
    assert [key.kid for key in services.jwt_keys.keys_for(issuer.openid_configuration_url, kid)] == [kid]
    assert fake.calls == [(issuer.openid_configuration_url, 10.0), (issuer.jwks_uri, 10.0)]
    services.jwt_keys.keys_for(issuer.openid_configuration_url, kid)
    assert len(fake.calls) == 2  # cached
    now[0] += JWKS_CACHE_SECONDS
    services.jwt_keys.keys_for(issuer.openid_configuration_url, kid)
    assert len(fake.calls) == 4  # expired by the services' clock: fetched again


def test_injected_parts_are_the_ones_used() -> None:
    import random

    from toolkit.emulator.gateway.pool import PoolRouter
    from toolkit.emulator.jwt_validation import OpenIdKeyCache
    from toolkit.emulator.gateway.token_counter import TokenLimiter

    limiter, keys = TokenLimiter(lambda: NOW), OpenIdKeyCache(lambda url: {}, lambda: NOW)
    services = _services(lambda r: httpx.Response(200), token_limiter=limiter, jwt_keys=keys, rng=random.Random(7))
    assert services.token_limiter is limiter and services.jwt_keys is keys
    members = [{"id": "/backends/a", "weight": 1}, {"id": "/backends/b", "weight": 1}]  # weighted: drawn by the rng
    pool = {"properties": {"type": "Pool", "pool": {"services": members}}}
    services.set_backend("pool", pool)
    backend = services.backend("pool")
    assert isinstance(backend, PoolBackend) and backend.name == "pool"
    expected = PoolRouter.from_arm(pool["properties"], rng=random.Random(7))
    picks = [backend.router.choose(lambda name: True) for _ in range(40)]
    assert picks == [expected.choose(lambda name: True) for _ in range(40)]  # the services' seeded generator
    assert set(picks) == {"a", "b"}


def test_the_embeddings_timeout_defaults_to_thirty_seconds() -> None:
    from toolkit.emulator.policy import default_services

    default_services._embeddings_url.cache_clear()
    vector = base64.b64encode(np.ones(2, dtype=np.float32).tobytes()).decode()
    recorder = _Recorder(lambda *_: (200, [], json.dumps({"data": [{"index": 0, "embedding": vector}]}).encode()))
    services = DefaultGatewayServices(recorder, clock=lambda: NOW,
                                      backends={"emb": {"properties": {"url": "http://emb.test/embeddings"}}})
    run(services.embed("emb", ["a"]))
    assert recorder.calls[0]["timeout"] == 30.0


def test_a_single_backend_needs_a_url_string() -> None:
    services = _services(lambda r: httpx.Response(200))
    for properties in ({"url": 5}, {"url": ""}, {"url": None}):
        with pytest.raises(ArtifactError, match="backend 'b': a single backend needs a 'url'"):
            services.set_backend("b", {"properties": properties})
    assert services.backend("b") is None


def test_removing_what_is_absent_is_no_error_and_fragments_are_kept_by_id() -> None:
    services = _services(lambda r: httpx.Response(200))
    services.remove_backend("ghost")
    services.remove_fragment("ghost")
    fragment = object()
    services.set_fragment("f", fragment)
    services.set_fragment("g", object())
    assert services.fragment("f") is fragment
    services.remove_fragment("f")
    assert services.fragment("f") is None and services.fragment("g") is not None


def test_azure_ad_authority_from_a_function_and_a_template_whose_tenant_ends_in_x() -> None:
    seen: list[str] = []

    def authority(tenant: str):
        seen.append(tenant)
        return None if tenant == "unknown" else f"authority of {tenant}"

    services = _services(lambda r: httpx.Response(200), azure_ad_authority=authority)
    assert services.azure_ad_authority("contoso") == "authority of contoso"
    assert services.azure_ad_authority("unknown") is None and seen == ["contoso", "unknown"]
    templated = _services(lambda r: httpx.Response(200), azure_ad_authority="http://127.0.0.1:1/{tenant}/")
    assert templated.azure_ad_authority("TEX").issuers == ("http://127.0.0.1:1/TEX",)


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


# -- the embeddings call as sent and as read (a recording client in place of the backend client) ---------------


class _Recorder:
    """A backend client that records each request and answers from ``answer(method, url, headers, body)``."""

    def __init__(self, answer) -> None:
        self.answer = answer
        self.calls: list[dict] = []

    async def request(self, method, url, headers, body, timeout, *, stream=False):
        from toolkit.emulator.gateway.http_client import HttpResponse

        self.calls.append({"method": method, "url": url, "headers": list(headers), "body": body, "timeout": timeout,
                           "stream": stream})
        found = self.answer(method, url, headers, body)
        if isinstance(found, Exception):
            raise found
        status, headers_out, payload, *rest = found  # rest: (reason, stream)
        return HttpResponse(status, *(rest[:1] or [""]), list(headers_out), payload, *rest[1:])


def _answer_rows(*rows) -> tuple[int, list, bytes]:
    return 200, [], json.dumps({"data": [{"index": i, "embedding": row} for i, row in enumerate(rows)]}).encode()


def _recorded_services(answer, url="http://emb.test/openai/deployments/e/embeddings", **backend) -> tuple:
    from toolkit.emulator.policy import default_services

    default_services._embeddings_url.cache_clear()  # built once per backend URL: build it in this test
    recorder = _Recorder(answer)
    services = DefaultGatewayServices(recorder, clock=lambda: NOW, embeddings_timeout=12.5,
                                      backends={"emb": {"properties": {"url": url, **backend}}})
    return services, recorder


def test_the_embeddings_call_is_a_json_post_with_the_default_api_version_and_the_configured_timeout() -> None:
    services, recorder = _recorded_services(lambda *_: _answer_rows([1.0, 0.0]))
    run(services.embed("emb", ["hello"]))
    call = recorder.calls[0]
    assert (call["method"], call["timeout"]) == ("POST", 12.5)
    assert call["url"] == "http://emb.test/openai/deployments/e/embeddings?api-version=2024-10-21"
    assert call["headers"][0] == ("content-type", "application/json")
    assert json.loads(call["body"]) == {"input": ["hello"], "encoding_format": "base64"}


def test_an_api_version_in_the_backend_url_is_kept() -> None:
    url = "http://emb.test/openai/deployments/e/embeddings?api-version=2023-05-15"
    services, recorder = _recorded_services(lambda *_: _answer_rows([1.0, 0.0]), url=url)
    run(services.embed("emb", ["hello"]))
    assert recorder.calls[0]["url"] == url


def test_the_float_retry_is_a_post_too() -> None:
    def answer(method, url, headers, body):
        return (400, [], b"{}") if b"base64" in body else _answer_rows([1.0, 0.0])

    services, recorder = _recorded_services(answer)
    assert run(services.embed("emb", ["a"])).tolist() == [[1.0, 0.0]]
    assert [c["method"] for c in recorder.calls] == ["POST", "POST"] and recorder.calls[1]["timeout"] == 12.5


def test_one_base64_vector_is_decoded() -> None:
    row = np.array([0.5, -2.0, 3.25], dtype="<f4")
    services, _ = _recorded_services(lambda *_: _answer_rows(base64.b64encode(row.tobytes()).decode()))
    assert run(services.embed("emb", ["a"])).tolist() == [[0.5, -2.0, 3.25]]


@pytest.mark.parametrize("embedding", ["AAAAAAAA*AAAAAAAA", "AAAAAAAA AAAAAAAA", "AAAAAAAAAAAAAAAA===="])
def test_base64_with_anything_but_base64_in_it_is_malformed(embedding: str) -> None:
    services, _ = _recorded_services(lambda *_: _answer_rows(embedding))
    with pytest.raises(EmbeddingsFailure, match="malformed"):
        run(services.embed("emb", ["a"]))


@pytest.mark.parametrize(("rows", "message"), [
    (([1.0, 0.0], [0.0, 1.0]), "Embeddings backend emb sent 2 vectors for 1 texts."),
    ((), "Embeddings backend emb sent 0 vectors for 1 texts."),
])
def test_a_vector_count_other_than_the_texts_is_refused(rows, message) -> None:
    services, _ = _recorded_services(lambda *_: _answer_rows(*rows))
    with pytest.raises(EmbeddingsFailure) as caught:
        run(services.embed("emb", ["a"]))
    assert str(caught.value) == message


def test_an_unreachable_embeddings_backend_is_named_with_the_failure() -> None:
    from toolkit.emulator.gateway.http_client import ConnectFailure, ResponseTimeout

    for failure, kind in ((ConnectFailure("refused"), "ConnectFailure"), (ResponseTimeout(), "ResponseTimeout")):
        services, _ = _recorded_services(lambda *_, f=failure: f)
        with pytest.raises(EmbeddingsFailure) as caught:
            run(services.embed("emb", ["a"]))
        assert str(caught.value) == f"Cannot reach embeddings backend emb ({kind})."


def test_an_unknown_embeddings_backend_is_named() -> None:
    services, _ = _recorded_services(lambda *_: _answer_rows([1.0]))
    with pytest.raises(EmbeddingsFailure) as caught:
        run(services.embed("ghost", ["a"]))
    assert str(caught.value) == "Backend 'ghost' does not exist."


def test_the_embeddings_breaker_honours_retry_after() -> None:
    breaker = {"rules": [{"name": "r", "failureCondition": {"count": 1, "interval": "PT1M",
                                                             "statusCodeRanges": [{"min": 429, "max": 429}]},
                          "tripDuration": "PT1M", "acceptRetryAfter": True}]}
    services, _ = _recorded_services(lambda *_: (429, [("retry-after", "7")], b"{}"), circuitBreaker=breaker)
    with pytest.raises(EmbeddingsFailure, match="answered 429"):
        run(services.embed("emb", ["a"]))
    assert services.breakers()["emb"].state()["open_until"] == NOW + 7


# -- forward, as sent and as read ----------------------------------------------------------------------------------


def test_forward_asks_for_a_stream_and_passes_the_answer_on_as_it_came() -> None:
    stream = object()  # the backend client's stream of an event-stream body
    recorder = _Recorder(lambda *_: (429, [("content-length", "2"), ("x-a", "1")], b"{}", "Too Many Requests", stream))
    services = DefaultGatewayServices(recorder, clock=lambda: NOW)
    answer = run(services.forward(make_ctx(), "http://backend.test/p", 7.0))
    assert (recorder.calls[0]["stream"], recorder.calls[0]["timeout"]) == (True, 7.0)
    assert (answer.status, answer.reason, answer.stream) == (429, "Too Many Requests", stream)
    assert answer.headers == [("x-a", "1")]  # a body's length is the gateway's to set


def test_forward_keeps_a_head_answers_length() -> None:
    recorder = _Recorder(lambda *_: (200, [("content-length", "42"), ("connection", "close")], b""))
    services = DefaultGatewayServices(recorder, clock=lambda: NOW)
    answer = run(services.forward(make_ctx(method="HEAD", body=b""), "http://backend.test/p", 7.0))
    assert answer.headers == [("content-length", "42")]


@pytest.mark.parametrize(("connection", "dropped"), [
    ("x-hop, x-other", {"x-hop", "x-other"}),
    ("x-hop,x-other", {"x-hop", "x-other"}),
    ("Close", set()),  # names no other header: a header called "close" is the client's to send
])
def test_forward_drops_what_the_clients_connection_header_names(connection: str, dropped: set) -> None:
    recorder = _Recorder(lambda *_: (200, [], b"ok"))
    services = DefaultGatewayServices(recorder, clock=lambda: NOW)
    sent = [("connection", connection), ("x-hop", "1"), ("x-other", "2"), ("close", "3"), ("x-kept", "4")]
    run(services.forward(make_ctx(headers=sent), "http://backend.test/p", 7.0))
    names = {name for name, _ in recorder.calls[0]["headers"]}
    assert names & {"x-hop", "x-other", "close", "x-kept"} == {"x-hop", "x-other", "close", "x-kept"} - dropped
    assert "connection" not in names


def test_a_followed_303_is_a_get_without_body_with_the_same_timeout() -> None:
    def answer(method, url, headers, body):
        return (303, [("location", "/other")], b"") if url.endswith("/p") else (200, [], b"done")

    recorder = _Recorder(answer)
    services = DefaultGatewayServices(recorder, clock=lambda: NOW)
    result = run(services.forward(make_ctx(body=b'{"a": 1}'), "http://backend.test/p", 7.0, follow_redirects=True))
    follow = recorder.calls[1]
    assert (follow["method"], follow["body"], follow["url"], follow["timeout"]) == (
        "GET", b"", "http://backend.test/other", 7.0)
    assert (result.status, result.body) == (200, b"done")
