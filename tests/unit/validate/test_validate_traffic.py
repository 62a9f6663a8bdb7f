"""The caller: backend from the region header, cache hit = repeated completion id, usage, streams, rows."""

from __future__ import annotations

import json

import httpx
import pytest

from toolkit.validate.control import ControlClient
from toolkit.validate.expectations import Expectations, JwtRule, Member, TokenRule
from toolkit.validate.observations import COLUMNS, ObservationLog
from toolkit.validate.target import Target
from toolkit.validate.traffic import Caller, RequestShape
from toolkit.errors import RemoteError

EXPECT = Expectations(
    source="test", api="a", api_path="openai", key_header="api-key", subscription_required=True,
    deployment="d", api_version="v", pool="p",
    members=(Member("east", 1, 50, "East US"), Member("west", 2, 100, "West US"), Member("east2", 1, 50, "East US 2")),
    tokens=TokenRule(1000, None, "k", "x-remaining", None, "Retry-After"),
    jwt=JwtRule("Authorization", "Bearer", ("api://gw",), (), 401),
)


def _caller(handler, log: ObservationLog | None = None) -> Caller:
    target = Target("t", "http://gw", "key-1", credential=type("C", (), {"get_token": lambda self, s: type(
        "T", (), {"token": "jwt-for-" + s})()})())
    http = httpx.Client(transport=httpx.MockTransport(handler))
    return Caller(http, target, EXPECT, log if log is not None else ObservationLog(), seed=1)


def _answer(completion_id: str, region: str = "East US", **headers: str) -> httpx.Response:
    body = {"id": completion_id, "usage": {"prompt_tokens": 7, "completion_tokens": 3}}
    return httpx.Response(200, json=body, headers={"x-ms-region": region, **headers})


def test_a_request_carries_key_and_bearer_and_becomes_one_row() -> None:
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen.update(request.headers)
        seen["url"] = str(request.url)
        return _answer("c1", **{"x-remaining": "990", "apim-request-id": "r1"})

    log = ObservationLog()
    row = _caller(handler, log).ask("lb", "p1", "hello", RequestShape())
    assert seen["api-key"] == "key-1" and seen["authorization"] == "Bearer jwt-for-api://gw/.default"
    assert seen["url"] == "http://gw/openai/openai/deployments/d/chat/completions?api-version=v"
    assert (row.backend, row.region, row.prompt_tokens, row.completion_tokens) == ("east", "East US", 7, 3)
    assert row.remaining_tokens == 990 and row.trace_id == "r1" and not row.cache_hit
    assert list(log.records()[0])[: len(COLUMNS)] == list(COLUMNS)


def test_a_repeated_completion_id_is_a_cache_hit() -> None:
    ids = iter(["c1", "c2", "c1"])
    caller = _caller(lambda request: _answer(next(ids)))
    hits = [caller.ask("s", "p", "q", RequestShape()).cache_hit for _ in range(3)]
    assert hits == [False, False, True]


def test_an_unknown_region_names_no_backend() -> None:
    row = _caller(lambda request: _answer("c", region="Mars")).ask("s", "p", "q", RequestShape())
    assert row.backend is None and row.region == "Mars"


def test_a_retry_after_and_an_error_status() -> None:
    row = _caller(lambda r: httpx.Response(429, json={"error": {}}, headers={"retry-after": "12"})).ask(
        "s", "p", "q", RequestShape())
    assert (row.status, row.retry_after, row.completion_id) == (429, 12.0, None)


def test_a_streamed_answer_gives_its_id_and_usage() -> None:
    chunks = [{"id": "s1", "choices": []}, {"id": "s1", "choices": [], "usage": {"prompt_tokens": 4,
                                                                                  "completion_tokens": 9}}]
    text = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
    row = _caller(lambda r: httpx.Response(200, text=text)).ask("s", "p", "q", RequestShape(), stream=True)
    assert (row.completion_id, row.prompt_tokens, row.completion_tokens) == ("s1", 4, 9)


def test_nonces_differ_and_shared_regions_are_ambiguous() -> None:
    caller = _caller(lambda r: _answer("c"))
    assert caller.nonce() != caller.nonce()
    assert caller.ambiguous_regions() == {}


def test_control_client_sends_the_token_and_reports_refusals() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append((request.method, request.url.path, request.headers.get("authorization"), request.content))
        if request.url.path == "/backends/nope/faults":
            return httpx.Response(404, json={"error": {"code": "NotFound", "message": "no simulated backend"}})
        return httpx.Response(201, json={"name": "x", "primaryKey": "k"})

    control = ControlClient("http://control", token="t0k", transport=httpx.MockTransport(handler))
    assert control.subscription("x") == "k"
    assert calls[0][:3] == ("POST", "/subscriptions", "Bearer t0k")
    with pytest.raises(RemoteError) as info:
        control.fail("nope", 429, 3)
    assert "no simulated backend" in str(info.value)
    assert json.loads(calls[1][3]) == {"status": 429, "count": 3}
