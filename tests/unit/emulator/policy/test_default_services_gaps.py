"""DefaultGatewayServices: forward-request redirects, an unreachable embeddings backend feeding its breaker,
a malformed backend answer over real loopback HTTP, the prompt estimates of completions and embeddings, and headers
with a line break, which are never sent."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from .policy_helpers import NOW, make_ctx, run

from tests.unit.emulator.gateway.raw_http_backend import read_request, serve
from toolkit.emulator.gateway.http_client import BackendHttpClient
from toolkit.emulator.policy import BackendConnectionFailure, outbound_http
from toolkit.emulator.policy.errors import PolicyError
from toolkit.emulator.policy.default_services import DefaultGatewayServices
from toolkit.emulator.policy.handlers.llm_token_limit import prompt_estimate
from toolkit.emulator.policy.services import EmbeddingsFailure



def _services(handler, **options) -> DefaultGatewayServices:
    options.setdefault("clock", lambda: NOW)
    return DefaultGatewayServices(httpx.AsyncClient(transport=httpx.MockTransport(handler)), **options)


def _redirecting(status: int, location: str, seen: list[httpx.Request], times: int = 1):
    """A backend answering ``status`` + Location ``times`` times, then 200 with the final URL."""
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) <= times:
            return httpx.Response(status, headers={"location": location})
        return httpx.Response(200, content=str(request.url).encode())
    return handler


# -- forward-request follow-redirects ---------------------------------------------------------------

@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_followed_redirect_repeats_the_request_at_the_relative_location(status: int) -> None:
    seen: list[httpx.Request] = []
    services = _services(_redirecting(status, "../moved/here?x=1", seen))
    ctx = make_ctx()
    answer = run(services.forward(ctx, "http://backend.test/a/b/c", 5.0, follow_redirects=True))
    assert (answer.status, answer.body) == (200, b"http://backend.test/a/moved/here?x=1")
    assert [(r.method, r.content) for r in seen] == [("POST", ctx.request_body)] * 2  # same method and body


def test_a_303_is_followed_with_a_get_without_a_body() -> None:
    seen: list[httpx.Request] = []
    services = _services(_redirecting(303, "http://other.test/result", seen))
    answer = run(services.forward(make_ctx(), "http://backend.test/a", 5.0, follow_redirects=True))
    assert answer.status == 200
    assert [(r.method, str(r.url), r.content) for r in seen][1] == ("GET", "http://other.test/result", b"")


def test_without_follow_redirects_the_redirect_is_the_answer() -> None:
    seen: list[httpx.Request] = []
    services = _services(_redirecting(302, "/elsewhere", seen))
    answer = run(services.forward(make_ctx(), "http://backend.test/a", 5.0))
    assert answer.status == 302 and ("location", "/elsewhere") in answer.headers
    assert len(seen) == 1


def test_a_redirect_loop_stops_after_five_redirects_with_the_last_answer() -> None:
    seen: list[httpx.Request] = []
    services = _services(_redirecting(302, "/again", seen, times=100))
    answer = run(services.forward(make_ctx(), "http://backend.test/a", 5.0, follow_redirects=True))
    assert answer.status == 302
    assert len(seen) == 1 + 5


def test_a_redirect_without_location_or_a_304_is_not_followed() -> None:
    for response in (httpx.Response(302), httpx.Response(304, headers={"location": "/x"})):
        seen: list[httpx.Request] = []

        def handler(request: httpx.Request, response: httpx.Response = response) -> httpx.Response:
            seen.append(request)
            return response

        answer = run(_services(handler).forward(make_ctx(), "http://backend.test/a", 5.0, follow_redirects=True))
        assert answer.status == response.status_code and len(seen) == 1


# -- an unreachable embeddings backend ---------------------------------------------------------------

def _breaker(error_reasons: list[str] | None) -> dict:
    condition = {"count": 2, "interval": "PT1M", "statusCodeRanges": [{"min": 500, "max": 599}]}
    if error_reasons is not None:
        condition["errorReasons"] = error_reasons
    return {"rules": [{"name": "r", "failureCondition": condition, "tripDuration": "PT1M"}]}


def test_an_unreachable_embeddings_backend_feeds_its_breaker_until_it_opens() -> None:
    calls: list[httpx.Request] = []

    def unreachable(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ConnectError("refused")

    backends = {"emb": {"properties": {"url": "http://emb.test", "circuitBreaker": _breaker(["timeout"])}}}
    services = _services(unreachable, backends=backends)
    with pytest.raises(EmbeddingsFailure, match="Cannot reach embeddings backend emb"):
        run(services.embed("emb", ["a"]))
    assert services.is_available("emb")  # one failure of the two the rule counts
    with pytest.raises(EmbeddingsFailure, match="Cannot reach"):
        run(services.embed("emb", ["a"]))
    assert not services.is_available("emb")
    with pytest.raises(EmbeddingsFailure, match="circuit breaker is open"):
        run(services.embed("emb", ["a"]))
    assert len(calls) == 2  # an open breaker sends nothing


def test_a_rule_without_error_reasons_ignores_an_unreachable_embeddings_backend() -> None:
    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("slow")

    backends = {"emb": {"properties": {"url": "http://emb.test", "circuitBreaker": _breaker(None)}}}
    services = _services(unreachable, backends=backends)
    for _ in range(3):
        with pytest.raises(EmbeddingsFailure, match="Cannot reach"):
            run(services.embed("emb", ["a"]))
    assert services.is_available("emb")


# -- a malformed backend answer over real HTTP ---------------------------------------------------------

@pytest.mark.parametrize("answer", [
    b"NOT HTTP AT ALL\r\n\r\n",
    b"HTTP/1.1 abc OK\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort",
], ids=["not-http", "bad-status", "bad-chunk", "truncated"])
def test_a_malformed_backend_answer_is_a_connection_failure_naming_the_backend_not_a_crash(answer: bytes) -> None:
    async def backend(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(answer)
        await writer.drain()

    async def main() -> None:
        server, url, _ = await serve(backend)
        services = DefaultGatewayServices(BackendHttpClient(), clock=lambda: NOW)
        try:
            with pytest.raises(BackendConnectionFailure) as info:
                await services.forward(make_ctx(), url.replace("q=1", "api-key=secret"), 5.0)
        finally:
            server.close()
        assert "127.0.0.1" in str(info.value) and "secret" not in str(info.value)

    asyncio.run(main())


# -- prompt estimates of chat, completions and embeddings bodies -------------------------------------

@pytest.mark.parametrize(("body", "tokens"), [
    ({"prompt": "abcdefgh"}, 2),  # completions: ceil(8 / 4), no message overhead
    ({"prompt": ["abcd", "abcde", 7]}, 1 + 2),  # a list of prompts: the strings only
    ({"input": "x" * 401}, 101),  # embeddings
    ({"input": ["ab", "abcdefghi"]}, 1 + 3),
    ({"messages": [{"role": "user", "content": "abcd"}], "prompt": "x" * 400}, 3 + 3 + 1),  # chat wins
    ({"prompt": 5, "input": "abcd"}, 1),  # a prompt that is not text falls through to input
    ({"max_tokens": 10}, 0),
    (["not", "an", "object"], 0),
])
def test_prompt_estimates_of_completions_and_embeddings(body: object, tokens: int) -> None:
    assert prompt_estimate(body) == tokens


# -- a header with a line break is never sent ---------------------------------------------------------------

def test_a_backend_credential_with_a_line_break_fails_the_forward_as_a_policy_error_and_sends_nothing() -> None:
    """A backend's credentials (named values resolved) are the one part of a forwarded request that neither the
    server's parser (the client's headers) nor set-header (the policies') has checked."""
    calls: list[httpx.Request] = []
    services = _services(lambda request: (calls.append(request), httpx.Response(200))[1])
    with pytest.raises(PolicyError) as failed:
        run(services.forward(make_ctx(), "http://backend.test/chat", 5,
                             extra_headers=[("api-key", "secret\r\nx-injected: yes")]))
    assert (failed.value.reason, failed.value.source, failed.value.status) == ("InvalidHeader", "forward-request", 500)
    assert failed.value.message.startswith("header 'api-key' of the request holds a line break")
    assert calls == []
    run(services.forward(make_ctx(), "http://backend.test/chat", 5, extra_headers=[("api-key", "secret")]))
    assert len(calls) == 1


def test_an_embeddings_call_whose_credentials_hold_a_line_break_is_not_sent_nor_counted_by_its_breaker() -> None:
    calls: list[httpx.Request] = []
    backends = {"emb": {"properties": {"url": "http://emb.test", "circuitBreaker": _breaker(["timeout"]),
                                       "credentials": {"header": {"api-key": ["secret\nx-injected: yes"]}}}}}
    services = _services(lambda request: (calls.append(request), httpx.Response(200))[1], backends=backends)
    for _ in range(3):
        with pytest.raises(EmbeddingsFailure, match="^Embeddings call to emb not sent: header 'api-key' of the request "
                                                    "holds a line break"):
            run(services.embed("emb", ["a"]))
    assert calls == [] and services.is_available("emb")


def test_a_send_request_header_with_a_line_break_is_a_policy_error_of_its_policy() -> None:
    calls: list[httpx.Request] = []
    services = _services(lambda request: (calls.append(request), httpx.Response(200))[1])
    with pytest.raises(PolicyError) as failed:
        run(outbound_http.send(services, "GET", "http://127.0.0.1:9/x", [("x-test", "a\rb")], b"", 5,
                               source="send-request"))
    assert (failed.value.reason, failed.value.source) == ("InvalidHeader", "send-request")
    assert calls == []


# -- headers the client's Connection names ---------------------------------------------------------------------

@pytest.mark.parametrize(("connection", "forwarded"), [
    ("keep-alive, X-Debug", {"x-keep"}),  # named by Connection: its connection's own (RFC 9110, 7.6.1)
    ("X-Debug , x-keep", set()),
    ("Keep-Alive", {"x-debug", "x-keep"}),  # the usual values name no other header
    ("close", {"x-debug", "x-keep"}),
])
def test_headers_the_clients_connection_names_are_not_forwarded(connection: str, forwarded: set[str]) -> None:
    seen: list[httpx.Request] = []
    services = _services(lambda request: (seen.append(request), httpx.Response(200))[1])
    ctx = make_ctx(headers=[("connection", connection), ("x-debug", "1"), ("x-keep", "2")])
    run(services.forward(ctx, "http://backend.test/chat", 5))
    sent = {name.lower() for name in seen[0].headers}
    assert {"x-debug", "x-keep"} & sent == forwarded
    assert "connection" not in sent or seen[0].headers["connection"] == "keep-alive"  # httpx's own, not the client's
