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


# -- what a request carries --------------------------------------------------------------------------------

def _sent(caller: Caller, **kw) -> httpx.Request:
    """The request ``caller.ask`` sends with ``kw``."""
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return _answer("c")

    caller.http = httpx.Client(transport=httpx.MockTransport(handler))
    caller.ask("s", "p", "the question", kw.pop("shape", RequestShape()), **kw)
    return sent[0]


def test_a_chat_body_has_the_system_message_the_question_and_max_tokens() -> None:
    body = json.loads(_sent(_caller(None)).content)
    assert body == {"messages": [{"role": "system", "content": "You are a terse assistant."},
                                 {"role": "user", "content": "the question"}], "max_tokens": 16}
    body = json.loads(_sent(_caller(None), shape=RequestShape(max_tokens=5, system=None), max_tokens=None).content)
    assert body == {"messages": [{"role": "user", "content": "the question"}], "max_tokens": 5}
    assert json.loads(_sent(_caller(None), max_tokens=99).content)["max_tokens"] == 99


def test_a_streamed_request_asks_for_usage_in_its_last_chunk() -> None:
    body = json.loads(_sent(_caller(None), stream=True).content)
    assert (body["stream"], body["stream_options"]) == (True, {"include_usage": True})
    assert "stream" not in json.loads(_sent(_caller(None)).content)


def test_the_headers_carry_the_key_and_token_asked_for() -> None:
    caller = _caller(None)
    assert caller.headers() == {"api-key": "key-1", "Authorization": "Bearer jwt-for-api://gw/.default"}
    assert caller.headers(key="other", token=False) == {"api-key": "other"}
    assert caller.headers(token="raw.jwt") == {"api-key": "key-1", "Authorization": "Bearer raw.jwt"}
    caller.target.subscription_key = ""
    assert caller.headers(token=None) == {}
    sent = _sent(caller, key="k2", token="t2", headers=None)
    assert (sent.headers["api-key"], sent.headers["authorization"]) == ("k2", "Bearer t2")
    assert _sent(_caller(None), headers={"x-only": "this"}).headers.get("api-key") is None


def test_a_token_goes_where_validate_jwt_reads_it_and_is_fetched_once() -> None:
    from dataclasses import replace

    asked: list[str] = []
    caller = _caller(None)
    caller.expect = replace(EXPECT, jwt=JwtRule("x-jwt", None, (), (), 401))
    caller.target.valid_token = lambda audience: asked.append(audience) or "tok"
    assert caller.headers() == {"api-key": "key-1", "x-jwt": "tok"} and caller.headers()["x-jwt"] == "tok"
    assert asked == [""]  # no audience configured: the credential's default; and only once
    caller.expect = replace(EXPECT, jwt=None)
    assert caller.token() is None and caller.headers() == {"api-key": "key-1"}
    assert caller.headers(token="t") == {"api-key": "key-1", "Authorization": "Bearer t"}  # a token asked for


def test_the_response_headers_an_observation_reads() -> None:
    caller = _caller(None)
    caller.backend_header = "X-Ms-Region"
    assert caller.wanted_headers() == ("x-ms-region", "retry-after", "x-emulator-trace-id", "apim-request-id",
                                       "x-ms-request-id", "x-remaining")
    from dataclasses import replace

    caller.expect = replace(EXPECT, tokens=None)
    assert caller.wanted_headers()[-1] == "x-ms-request-id"
    assert Caller(caller.http, caller.target, EXPECT, ObservationLog()).backend_header == "x-ms-region"


# -- what a reply becomes ------------------------------------------------------------------------------------

def _row(content: bytes, *, status: int = 200, log: ObservationLog | None = None, **headers: str):
    from toolkit.validate.traffic import Reply

    caller = _caller(None, log)
    reply = Reply(started=1234.5, latency_ms=12.34567, status=status, headers=headers, content=content)
    return caller, caller.record("scn", "pid", reply)


def test_a_row_keeps_the_time_status_and_latency_to_the_microsecond() -> None:
    log = ObservationLog()
    _, row = _row(b'{"id": "c9"}', status=201, log=log, **{"x-ms-region": "West US"})
    assert (row.time, row.scenario, row.prompt_id, row.status, row.latency_ms, row.phase) == (
        1234.5, "scn", "pid", 201, 12.346, "")
    assert (row.backend, row.region, row.completion_id, row.cache_hit) == ("west", "West US", "c9", False)
    assert log.rows == [row] and len(log) == 1 and log.for_scenario("scn") == [row] and log.for_scenario("x") == []


def test_a_region_shared_by_two_members_or_none_names_no_backend() -> None:
    from dataclasses import replace

    caller, _ = _row(b"{}")
    caller.expect = replace(EXPECT, members=(Member("a", 1, 1, "R"), Member("b", 1, 1, "R"), Member("c", 2, 1, None),
                                             Member("d", 2, 1, "S")))
    fresh = Caller(caller.http, caller.target, caller.expect, ObservationLog())
    assert fresh.ambiguous_regions() == {"R": ["a", "b"]} and fresh.regions == {"R": ["a", "b"], "S": ["d"]}
    assert _row(b"{}")[1].backend is None  # no region header


@pytest.mark.parametrize(("headers", "trace"), [
    ({"x-ms-request-id": "m", "apim-request-id": "a"}, "a"),
    ({"x-ms-request-id": "m", "x-emulator-trace-id": "e", "apim-request-id": "a"}, "e"),
    ({"x-ms-request-id": "m"}, "m"),
    ({}, None),
])
def test_the_trace_id_is_the_first_trace_header_present(headers: dict[str, str], trace: str | None) -> None:
    assert _row(b"{}", **headers)[1].trace_id == trace


@pytest.mark.parametrize(("retry_after", "remaining", "expected"), [
    ("1.5", "42", (1.5, 42)), ("soon", "many", (None, None)), (None, None, (None, None))])
def test_retry_after_and_remaining_tokens_are_numbers_or_nothing(retry_after, remaining, expected) -> None:
    headers = {name: value for name, value in (("Retry-After", retry_after), ("x-remaining", remaining)) if value}
    row = _row(b"{}", **headers)[1]
    assert (row.retry_after, row.remaining_tokens) == expected


def test_no_remaining_tokens_header_is_read_when_none_is_configured() -> None:
    from dataclasses import replace

    caller, _ = _row(b"{}")
    caller.expect = replace(EXPECT, tokens=TokenRule(1000, None, "k", None, None, "Retry-After"))
    from toolkit.validate.traffic import Reply

    row = caller.record("s", "p", Reply(0.0, 1.0, 200, {"x-remaining": "5"}, b"{}"))
    assert row.remaining_tokens is None


@pytest.mark.parametrize(("content", "completion_id", "usage"), [
    (b'{"id": "c1", "usage": {"prompt_tokens": 2}}', "c1", (2, None)),
    (b'{"id": 7, "usage": [1]}', None, (None, None)),
    (b'["not", "an", "object"]', None, (None, None)),
    (b"not json", None, (None, None)),
    (b"", None, (None, None)),
    (b'\n\ndata: {"id": "s1"}\n\n data: {"id": "not a data line"}\n\ndata: garbage\n\ndata: {"id": "s2", "usage": {"prompt_tokens": 3, '
     b'"completion_tokens": 4}}\n\ndata: [DONE]\n\n', "s1", (3, 4)),
    (b'data: {"choices": []}\n\ndata:{"id": "s3"}\n\ndata: [DONE]\n\n', "s3", (None, None)),
    (b'data: {"id": "s4"}\n\ndata: [DONE]\n\ndata: {"id": "later", "usage": {"prompt_tokens": 1}}\n', "s4", (1, None)),
    (b'data: {"id": "\xff\xfe"}\n\n', "\ufffd\ufffd", (None, None)),  # undecodable bytes are replaced, not fatal
])
def test_completion_id_and_usage_from_any_body(content: bytes, completion_id: str | None, usage) -> None:
    row = _row(content)[1]
    assert (row.completion_id, (row.prompt_tokens, row.completion_tokens)) == (completion_id, usage)


# -- sending ---------------------------------------------------------------------------------------------

def test_post_times_the_request_and_keeps_status_headers_and_body() -> None:
    import time

    from toolkit.validate.traffic import Outgoing, post

    def handler(request: httpx.Request) -> httpx.Response:
        assert json.loads(request.content) == {"q": 1} and request.headers["h"] == "v"
        time.sleep(0.02)
        return httpx.Response(418, content=b"teapot", headers={"x-a": "b"})

    before = time.time()
    reply = post(httpx.Client(transport=httpx.MockTransport(handler)), Outgoing("http://gw/x", {"h": "v"}, {"q": 1}))
    assert (reply.status, reply.content, reply.headers["x-a"], reply.error) == (418, b"teapot", "b", None)
    assert 20 <= reply.latency_ms < 2000 and before <= reply.started <= time.time()


def test_post_without_an_answer_is_status_0_naming_the_error() -> None:
    from toolkit.validate.traffic import Outgoing, post

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("no answer")

    reply = post(httpx.Client(transport=httpx.MockTransport(handler)), Outgoing("http://gw/x", {}, {}))
    assert (reply.status, reply.content, reply.headers, reply.error) == (0, b"", {}, "ConnectTimeout")


def test_a_nonce_is_eight_distinct_words_in_parentheses_reproducible_from_a_seed() -> None:
    import random

    from toolkit.validate.traffic import NONCE_WORDS, nonce

    text = nonce(random.Random(5))
    assert text.startswith("(") and text.endswith(")") and text == nonce(random.Random(5))
    words = text[1:-1].split(" ")
    assert len(words) == len(set(words)) == 8 and set(words) <= set(NONCE_WORDS)
    assert _caller(None).nonce() == _caller(None).nonce()  # seeded callers repeat themselves
    unseeded = [Caller(httpx.Client(), _caller(None).target, EXPECT, ObservationLog()).nonce() for _ in range(3)]
    assert len(set(unseeded)) == 3


def test_with_prompt_replaces_the_last_message_of_a_copy() -> None:
    from toolkit.validate.traffic import with_prompt

    body = {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "a"},
                         {"role": "user", "content": "old"}], "max_tokens": 3}
    changed = with_prompt(body, "new")
    assert changed == {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "a"},
                                    {"role": "user", "content": "new"}], "max_tokens": 3}
    assert body["messages"][2]["content"] == "old"


def test_the_log_as_a_table_has_every_column_even_when_empty() -> None:
    from dataclasses import fields

    from toolkit.validate.observations import Observation

    names = [f.name for f in fields(Observation)]
    empty = ObservationLog().to_frame()
    assert list(empty.columns) == names and len(empty) == 0
    log = ObservationLog()
    _row(b'{"id": "c1"}', log=log)
    _row(b'{"id": "c2"}', log=log, **{"x-ms-region": "East US"})
    frame = log.to_frame()
    assert list(frame.columns) == names and frame["completion_id"].tolist() == ["c1", "c2"]
    assert frame["backend"].tolist()[1] == "east" and frame["backend"].isna().tolist() == [True, False]


def test_ask_records_the_reply_under_its_scenario_prompt_and_phase() -> None:
    caller = _caller(lambda request: _answer("c1"))
    row = caller.ask("lb", "p7", "q", RequestShape(), phase="healthy")
    assert (row.scenario, row.prompt_id, row.phase) == ("lb", "p7", "healthy")
    assert caller.ask("lb", "p8", "q", RequestShape()).phase == ""
    from toolkit.validate.traffic import Reply

    assert caller.record("s", "p", Reply(0.0, 1.0, 200, {}, b"{}"), phase="open").phase == "open"


def test_prepare_by_default_sends_the_valid_token_and_no_stream() -> None:
    outgoing = _caller(None).prepare("q", RequestShape())
    assert outgoing.headers["Authorization"] == "Bearer jwt-for-api://gw/.default" and "stream" not in outgoing.body


def test_a_given_token_goes_in_the_configured_header_with_its_scheme() -> None:
    from dataclasses import replace

    caller = _caller(None)
    caller.expect = replace(EXPECT, jwt=JwtRule("x-jwt", "Token", (), (), 401))
    assert caller.headers(token="given") == {"api-key": "key-1", "x-jwt": "Token given"}


def test_lines_of_a_stream_that_are_not_data_are_ignored() -> None:
    row = _row(b'data: {"id": "s"}\n\nevent{"usage": {"prompt_tokens": 99}}\n\n')[1]
    assert (row.completion_id, row.prompt_tokens) == ("s", None)


def test_post_measures_latency_in_milliseconds(monkeypatch: pytest.MonkeyPatch) -> None:
    import toolkit.validate.traffic as traffic

    ticks = iter([10.0, 10.25])

    class Clock:
        time = staticmethod(lambda: 1_700_000_000.0)
        perf_counter = staticmethod(lambda: next(ticks))

    monkeypatch.setattr(traffic, "time", Clock)
    reply = traffic.post(httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200))),
                         traffic.Outgoing("http://gw/x", {}, {}))
    assert (reply.started, reply.latency_ms) == (1_700_000_000.0, 250.0)


def test_a_caller_without_a_client_prepares_requests_but_refuses_to_send_them() -> None:
    sending = _caller(lambda request: _answer("c1"))
    preparing = Caller(None, sending.target, EXPECT, ObservationLog(), seed=1)
    outgoing = preparing.prepare("hi", RequestShape())
    assert outgoing == sending.prepare("hi", RequestShape())  # the same request, key and token included
    with pytest.raises(RuntimeError) as refused:
        preparing.send(outgoing)
    assert str(refused.value) == "this caller only prepares requests: it was given no HTTP client to send them on"
    assert sending.send(outgoing).status == 200
