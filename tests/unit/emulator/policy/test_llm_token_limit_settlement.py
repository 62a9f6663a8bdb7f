"""<llm-token-limit>'s accounting, on stand-in contexts: which body field a prompt estimate reads, which usage a
backend answer is charged, and what settling, streaming and abandoning a reservation charge, set and send back.
(test_llm_token_limit.py runs the policy whole, through the pipeline.)"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest

from toolkit.emulator.gateway.token_counter import Decision, Reservation
from toolkit.emulator.policy.handlers import llm_token_limit as module
from toolkit.emulator.policy.errors import PolicyError
from toolkit.emulator.policy.handlers.llm_token_limit import LlmTokenLimit, _Settlement, prompt_estimate, usage_tokens
from toolkit.emulator.policy.headers import HeaderMap
from toolkit.emulator.policy.values import IntSetting
from toolkit.emulator.policy.streamed_usage import CountedStream
from toolkit.emulator.tokens import estimate_prompt_tokens, estimate_text_tokens

from .policy_helpers import ChunkStream

ALL_NAMES = {"retry-after-header-name": "Retry-After", "retry-after-variable-name": "retry",
             "remaining-tokens-header-name": "x-left", "remaining-tokens-variable-name": "left",
             "remaining-quota-tokens-header-name": "x-quota-left", "remaining-quota-tokens-variable-name": "quota_left",
             "tokens-consumed-header-name": "x-used", "tokens-consumed-variable-name": "used"}
NO_NAMES = {name: None for name in ALL_NAMES} | {"retry-after-header-name": "Retry-After"}


@dataclass
class Ctx:
    """What the policy reads and writes of a request's context."""

    response_status: int | None = 200
    body: Any = None
    request: Any = None
    response_stream: Any = None
    variables: dict[str, Any] = field(default_factory=dict)
    response_headers: HeaderMap = field(default_factory=HeaderMap)
    per_request_headers: set[str] = field(default_factory=set)
    notes: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    trace: Any = None
    hooks: list[Any] = field(default_factory=list)

    def add_hook(self, hook: Any) -> None:
        self.hooks.append(hook)

    def response_json(self) -> Any:
        return self.body

    def request_json(self) -> Any:
        return self.request

    def note(self, source: str, message: str, data: dict[str, Any]) -> None:
        self.notes.append((source, message, data))


class Limiter:
    def __init__(self, decision: Decision | None = None) -> None:
        self.consumed: list[tuple[str, int, Any, Any]] = []
        self.decision, self.checked = decision, []

    def check(self, *args: Any) -> Decision | None:
        self.checked.append(args)
        return self.decision

    def consume(self, key: str, tokens: int, *, reservation: Any = None, period: Any = None) -> None:
        self.consumed.append((key, tokens, reservation, period))


class Services:
    def __init__(self, decision: Decision | None = None) -> None:
        self.token_limiter = Limiter(decision)


def _policy(names: dict[str, str | None] = ALL_NAMES, period: str | None = "Daily") -> LlmTokenLimit:
    return LlmTokenLimit("key", None, 1000 if period else None, period, True, names)


def _settlement(reserved: int | None = 12, remaining: int | None = 100, quota: int | None = 900,
                **policy: Any) -> tuple[_Settlement, Reservation | None]:
    reservation = Reservation("k", reserved, 0.0, None, None) if reserved is not None else None
    return _Settlement(_policy(**policy), "k", Decision(True, None, None, remaining, quota, reservation)), reservation


def _headers(ctx: Ctx) -> dict[str, str]:
    return {name: ctx.response_headers.get(name) for name in ("x-left", "x-quota-left", "x-used")
            if ctx.response_headers.get(name) is not None}


# -- the prompt estimate ---------------------------------------------------------------------------------------------

def test_the_prompt_estimate_reads_messages_then_prompt_then_input() -> None:
    messages = [{"role": "user", "content": "What is climate change?"}]
    assert prompt_estimate({"messages": messages, "prompt": "x" * 400}) == estimate_prompt_tokens(messages)
    assert prompt_estimate({"messages": [*messages, "not a message"]}) == estimate_prompt_tokens(messages)
    assert prompt_estimate({"prompt": "a" * 40, "input": "b" * 400}) == estimate_text_tokens("a" * 40) == 10
    assert prompt_estimate({"prompt": ["a" * 8, 7, "b" * 12]}) == estimate_text_tokens("a" * 8) + estimate_text_tokens(
        "b" * 12) == 5
    assert prompt_estimate({"input": "c" * 20}) == 5
    assert prompt_estimate({"input": ["c" * 4, None, "d" * 4]}) == 2
    assert prompt_estimate({"prompt": 5, "input": "e" * 8}) == 2  # a prompt that is no text: the input is read
    assert prompt_estimate({"messages": "no list", "input": "f" * 4}) == 1
    assert prompt_estimate({"other": "text"}) == 0
    assert prompt_estimate(["not", "an", "object"]) == 0 and prompt_estimate(None) == 0


# -- the usage charged -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("status", "body", "charged"), [
    (200, {"usage": {"total_tokens": 30, "prompt_tokens": 1, "completion_tokens": 1}}, 30),
    (299, {"usage": {"total_tokens": 0}}, 0),
    (200, {"usage": {"total_tokens": True, "prompt_tokens": 7, "completion_tokens": 8}}, 15),  # a bool is no count
    (200, {"usage": {"prompt_tokens": 7, "completion_tokens": 8}}, 15),
    (200, {"usage": {"prompt_tokens": 7}}, 12),  # half a usage: the reservation
    (200, {"usage": {"prompt_tokens": 7, "completion_tokens": False}}, 12),
    (200, {"usage": "30"}, 12),
    (200, {"choices": []}, 12),
    (200, ["not", "an", "object"], 12),
    (199, {"usage": {"total_tokens": 30}}, 0),  # no 2xx: nothing charged
    (300, {"usage": {"total_tokens": 30}}, 0),
    (None, None, 0),
])
def test_the_usage_charged_for_an_answer(status: int | None, body: Any, charged: int) -> None:
    assert usage_tokens(Ctx(response_status=status, body=body), 12) == charged


# -- settling ---------------------------------------------------------------------------------------------------------

def test_settling_charges_the_usage_against_the_reservation_and_sets_headers_and_variables() -> None:
    settlement, reservation = _settlement(reserved=12, remaining=100, quota=900)
    ctx, services = Ctx(body={"usage": {"total_tokens": 30}}), Services()
    asyncio.run(settlement.after_backend(ctx, services))
    assert services.token_limiter.consumed == [("k", 30, reservation, "Daily")]
    assert ctx.variables == {"used": 30, "left": 82, "quota_left": 882}  # 100 + 12 reserved - 30 used
    assert _headers(ctx) == {"x-left": "82", "x-quota-left": "882", "x-used": "30"}
    assert ctx.per_request_headers == {"x-left", "x-quota-left", "x-used"}  # a cached copy must not replay them
    assert ctx.notes == [("llm-token-limit", "consumed 30 tokens", {"counter_key": "k", "tokens": 30})]


def test_settling_never_reports_less_than_nothing_left_and_skips_unnamed_outputs() -> None:
    settlement, _ = _settlement(reserved=None, remaining=5, quota=None, names=NO_NAMES | {"x": None}, period=None)
    ctx, services = Ctx(body={"usage": {"total_tokens": 30}}), Services()
    asyncio.run(settlement.after_backend(ctx, services))
    assert services.token_limiter.consumed == [("k", 30, None, None)]
    assert ctx.variables == {} and _headers(ctx) == {} and ctx.per_request_headers == set()
    named = NO_NAMES | {"remaining-tokens-header-name": "x-left", "remaining-tokens-variable-name": "left"}
    settlement, _ = _settlement(reserved=None, remaining=5, quota=None, names=named, period=None)
    ctx = Ctx(body={"usage": {"total_tokens": 30}})
    asyncio.run(settlement.after_backend(ctx, Services()))
    assert ctx.variables == {"left": 0} and _headers(ctx) == {"x-left": "0"}  # 5 left, 30 used: 0, not -25


def test_settling_without_an_answer_sets_variables_but_no_headers() -> None:
    settlement, reservation = _settlement(reserved=12, remaining=100, quota=None)
    ctx, services = Ctx(response_status=None), Services()
    asyncio.run(settlement.after_backend(ctx, services))
    assert services.token_limiter.consumed == [("k", 0, reservation, "Daily")]
    assert ctx.variables == {"used": 0, "left": 112} and _headers(ctx) == {}


# -- streams -----------------------------------------------------------------------------------------------------------

def _drain(stream: Any) -> list[bytes]:
    async def read() -> list[bytes]:
        return [chunk async for chunk in stream]

    return asyncio.run(read())


CHUNK = b'data: {"choices":[{"delta":{"content":"abcdefgh"}}]}\n\n'


def test_a_streamed_answer_is_charged_the_prompt_estimate_and_the_relayed_text_once_it_ends() -> None:
    settlement, reservation = _settlement(reserved=12, remaining=100, quota=900)
    request = {"messages": [{"role": "user", "content": "What is climate change?"}], "stream": True}
    events = ChunkStream([CHUNK, b"data: [DONE]\n\n"])
    ctx, services = Ctx(response_stream=events, request=request, body={"usage": {"total_tokens": 999}}), Services()
    asyncio.run(settlement.after_backend(ctx, services))
    prompt = estimate_prompt_tokens(request["messages"])
    assert prompt == 12
    assert _headers(ctx) == {"x-left": "100", "x-quota-left": "900"}  # 100 + 12 reserved - 12 estimated; no x-used
    assert ctx.per_request_headers == {"x-left", "x-quota-left"} and ctx.variables == {}
    assert isinstance(ctx.response_stream, CountedStream) and services.token_limiter.consumed == []
    assert ctx.notes == [("llm-token-limit", "streamed: charged when the stream ends",
                          {"counter_key": "k", "prompt_estimate": 12})]
    assert _drain(ctx.response_stream) == [CHUNK, b"data: [DONE]\n\n"]
    completion = estimate_text_tokens("abcdefgh")
    assert services.token_limiter.consumed == [("k", prompt + completion, reservation, "Daily")]


def test_a_stream_that_is_no_success_is_settled_like_any_answer() -> None:
    settlement, reservation = _settlement(reserved=12)
    ctx, services = Ctx(response_status=429, response_stream=ChunkStream([CHUNK])), Services()
    asyncio.run(settlement.after_backend(ctx, services))
    assert services.token_limiter.consumed == [("k", 0, reservation, "Daily")]
    assert not isinstance(ctx.response_stream, CountedStream) and _headers(ctx)["x-used"] == "0"
    ctx, services = Ctx(response_status=None, response_stream=ChunkStream([CHUNK])), Services()
    asyncio.run(settlement.after_backend(ctx, services))
    assert not isinstance(ctx.response_stream, CountedStream) and _headers(ctx) == {}


# -- abandoning -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("status", [200, 299])
def test_abandoning_gives_the_reservation_back_and_an_answer_carries_this_requests_budget(status: int) -> None:
    settlement, reservation = _settlement(reserved=12, remaining=100, quota=900)
    ctx, services = Ctx(response_status=status), Services()
    settlement.abandon(ctx, services)
    assert services.token_limiter.consumed == [("k", 0, reservation, None)]
    assert _headers(ctx) == {"x-left": "112", "x-quota-left": "912"}  # nothing used: the reservation is back
    assert ctx.per_request_headers == {"x-left", "x-quota-left"} and ctx.variables == {}


@pytest.mark.parametrize("status", [None, 199, 300, 500])
def test_abandoning_with_no_success_to_answer_sets_no_header(status: int | None) -> None:
    settlement, reservation = _settlement(reserved=12)
    ctx, services = Ctx(response_status=status), Services()
    settlement.abandon(ctx, services)
    assert services.token_limiter.consumed == [("k", 0, reservation, None)] and _headers(ctx) == {}


def test_abandoning_without_a_reservation_charges_nothing() -> None:
    settlement, _ = _settlement(reserved=None, remaining=100, quota=None)
    ctx, services = Ctx(), Services()
    settlement.abandon(ctx, services)
    assert services.token_limiter.consumed == [] and _headers(ctx) == {"x-left": "100"}


def test_the_module_names_its_outputs_once() -> None:
    assert set(module._NAMES) == set(ALL_NAMES)


def test_a_stream_answered_with_a_300_is_settled_like_any_answer() -> None:
    settlement, reservation = _settlement(reserved=12)
    ctx, services = Ctx(response_status=300, response_stream=ChunkStream([CHUNK])), Services()
    asyncio.run(settlement.after_backend(ctx, services))
    assert services.token_limiter.consumed == [("k", 0, reservation, "Daily")]


def test_a_streamed_answer_without_a_reservation_counts_the_prompt_from_the_budget_left() -> None:
    settlement, _ = _settlement(reserved=None, remaining=100, quota=None)
    request = {"messages": [{"role": "user", "content": "What is climate change?"}]}
    ctx = Ctx(response_stream=ChunkStream([CHUNK]), request=request)
    asyncio.run(settlement.after_backend(ctx, Services()))
    assert _headers(ctx) == {"x-left": "88"}  # 100 - 12 estimated, nothing reserved to give back


# -- admitting and refusing --------------------------------------------------------------------------------------------

class Key:
    def evaluate(self, ctx: Any) -> str:
        return "caller-1"


REQUEST = {"messages": [{"role": "user", "content": "What is climate change?"}]}


def _run(decision: Decision, *, estimate: bool = True, trace: Any = None) -> tuple[Ctx, Services, Any]:
    policy = LlmTokenLimit(Key(), IntSetting(30), 1000, "Daily", estimate, ALL_NAMES)
    ctx, services = Ctx(request=REQUEST, trace=trace), Services(decision)
    try:
        asyncio.run(policy.run(ctx, services))
    except PolicyError as error:
        return ctx, services, error
    return ctx, services, None


def test_an_admitted_request_reserves_its_estimate_and_is_settled_later() -> None:
    reservation = Reservation("caller-1", 12, 0.0, None, None)
    ctx, services, error = _run(Decision(True, None, None, 50, 800, reservation))
    assert error is None and services.token_limiter.checked == [("caller-1", 30, 1000, "Daily", 12)]
    assert ctx.variables == {"left": 50, "quota_left": 800} and ctx.notes == []  # no trace: no note
    (hook,) = ctx.hooks
    assert isinstance(hook, _Settlement) and (hook.key, hook.decision.reservation) == ("caller-1", reservation)
    _, services, _ = _run(Decision(True, None, None, 50, 800, reservation), estimate=False)
    assert services.token_limiter.checked == [("caller-1", 30, 1000, "Daily", None)]


def test_a_traced_request_notes_the_decision() -> None:
    ctx, _, _ = _run(Decision(True, None, None, 50, 800), trace=object())
    assert ctx.notes == [("llm-token-limit", "allowed", {"counter_key": "caller-1", "estimate": 12,
                                                         "remaining_tokens": 50, "remaining_quota": 800,
                                                         "retry_after": None})]
    ctx, _, _ = _run(Decision(False, 429, 20, 0, 5), trace=object())
    assert ctx.notes[0][1] == "refused 429"


@pytest.mark.parametrize(("status", "what", "reason"), [(429, "limit", "TokenLimitExceeded"),
                                                        (403, "quota", "TokenQuotaExceeded")])
def test_a_refused_request_fails_with_the_retry_after_and_what_is_left(status: int, what: str, reason: str) -> None:
    ctx, services, error = _run(Decision(False, status, 20, 0, 5))
    assert error is not None and ctx.hooks == []
    assert (error.message, error.reason, error.status, error.source) == (
        f"Token {what} is exceeded. Try again in 20 seconds.", reason, status, "llm-token-limit")
    assert list(error.headers) == [("Retry-After", "20"), ("x-left", "0"), ("x-quota-left", "5")]
    assert ctx.variables == {"left": 0, "quota_left": 5, "retry": 20}
