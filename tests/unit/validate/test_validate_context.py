"""A scenario's Context: its budget and prompts, and how routing traffic gets past a token limit that is not what
the scenario tests: a fresh subscription on the emulator, a wait on Azure, batches sized to the token window.

The gateway here is an httpx.MockTransport handler with one token counter per subscription key."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import pytest

from toolkit.validate.context import MAX_WAIT_S, Context
from toolkit.validate.expectations import Expectations, Member, TokenRule
from toolkit.validate.observations import Observation, ObservationLog
from toolkit.validate.settings import RequestSettings, LoadBalancingSettings
from toolkit.validate.target import Target
from toolkit.validate.traffic import Caller, post

TPM = 1000
EXPECT = Expectations(
    source="test", api="a", api_path="openai", key_header="api-key", subscription_required=True, deployment="d",
    api_version="v", pool="p", members=(Member("east", 1, None, "East US"),),
    tokens=TokenRule(TPM, None, "k", "x-remaining", None, "Retry-After"))
PER_REQUEST = 16 + 200  # the margin a request keeps: max_tokens (16) + 200 for its prompt


@dataclass
class TokenGateway:
    """Answers chats from East US, 100 tokens each, until a key's ``budget`` is spent: then 429 + Retry-After."""

    budget: int = TPM
    spent: dict[str, int] = field(default_factory=dict)
    keys: list[str] = field(default_factory=list)  # the key of every request, in order

    def __call__(self, request: httpx.Request) -> httpx.Response:
        key = request.headers.get("api-key", "")
        self.keys.append(key)
        left = self.budget - self.spent.get(key, 0)
        if left < 100:
            return httpx.Response(429, headers={"Retry-After": "7", "x-remaining": "0"})
        self.spent[key] = self.spent.get(key, 0) + 100
        return httpx.Response(200, json={"id": f"c{len(self.keys)}", "usage": {"prompt_tokens": 90,
                                                                              "completion_tokens": 10}},
                              headers={"x-ms-region": "East US", "x-remaining": str(left - 100)})


class Control:
    """The emulator's control API as far as a Context uses it: subscriptions and the clock."""

    def __init__(self) -> None:
        self.subscriptions: list[str] = []
        self.advanced: list[float] = []

    def subscription(self, name: str) -> str:
        self.subscriptions.append(name)
        return f"key-{len(self.subscriptions)}"

    def advance(self, seconds: float) -> None:
        self.advanced.append(seconds)


class Batches:
    """A concurrent engine that sends each batch on the caller's client and remembers the batch sizes."""

    def __init__(self, http: httpx.Client) -> None:
        self.http, self.sizes = http, []

    def send_all(self, outgoing: list[Any], wanted: Any) -> list[Any]:
        self.sizes.append(len(outgoing))
        return [post(self.http, item) for item in outgoing]


def _context(gateway: TokenGateway, *, emulator: bool = True, expect: Expectations = EXPECT, engine: bool = False,
             run_cap: int | None = None, **settings: Any) -> Context:
    http = httpx.Client(transport=httpx.MockTransport(gateway))
    target = Target("t", "http://gw", "target-key", control=Control() if emulator else None)  # type: ignore[arg-type]
    log = ObservationLog()
    options = {"prompts": ["one", "two", "three"], "max_requests": 100, **settings}
    slept: list[float] = []
    context = Context("load-balancing", target, expect, LoadBalancingSettings(**options),
                      Caller(http, target, expect, log, seed=1), log, random.Random(4), max_requests=run_cap,
                      sleep=slept.append, engine=Batches(http) if engine else None)
    context.slept = slept  # type: ignore[attr-defined]
    return context


def _row(status: int = 200, remaining: int | None = None, retry_after: float | None = None) -> Observation:
    return Observation(time=0.0, scenario="s", prompt_id="p", status=status, latency_ms=1.0, backend=None, region=None,
                       cache_hit=False, prompt_tokens=None, completion_tokens=None, retry_after=retry_after,
                       trace_id=None, completion_id=None, remaining_tokens=remaining)


# -- budget, prompts, shape --------------------------------------------------------------------------------

@pytest.mark.parametrize(("max_requests", "cap", "budget"), [(None, 100, 100), (30, 100, 30), (500, 100, 100),
                                                            (0, 100, 100)])
def test_the_budget_is_the_files_capped_by_the_run(max_requests: int | None, cap: int, budget: int) -> None:
    assert _context(TokenGateway(), run_cap=max_requests, max_requests=cap).budget == budget


def test_a_prompt_is_one_of_the_files_made_unique_and_numbered_from_one() -> None:
    context = _context(TokenGateway())
    seen = {context.prompt() for _ in range(30)}
    assert {prompt_id for _, prompt_id in seen} == {"p1", "p2", "p3"}
    for text, prompt_id in seen:
        base = ["one", "two", "three"][int(prompt_id[1:]) - 1]
        assert text.startswith(base + " (") and text.endswith(")")
    assert len({text for text, _ in seen}) == 30  # every one unique


def test_the_request_shape_is_the_files() -> None:
    context = _context(TokenGateway(), request=RequestSettings(max_tokens=7, system=None))
    assert (context.shape.max_tokens, context.shape.system) == (7, None)
    assert context.ask("px", "q", phase="ph").phase == "ph" and context.sent == 1


# -- reading a reply -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("row", "limited"), [
    (_row(429, retry_after=3.0), True), (_row(429), False), (_row(503, retry_after=3.0), False), (_row(), False)])
def test_a_token_limit_refusal_is_a_429_with_retry_after_under_a_token_limit(row: Observation, limited: bool) -> None:
    assert _context(TokenGateway())._token_limited(row) is limited
    assert _context(TokenGateway(), expect=replace(EXPECT, tokens=None))._token_limited(row) is False


@pytest.mark.parametrize(("remaining", "nearly"), [(4 * PER_REQUEST - 1, True), (4 * PER_REQUEST, False),
                                                   (None, False), (0, True)])
def test_nearly_out_of_tokens_is_less_than_four_requests_left(remaining: int | None, nearly: bool) -> None:
    assert _context(TokenGateway())._nearly_out_of_tokens(_row(remaining=remaining)) is nearly
    assert _context(TokenGateway(), expect=replace(EXPECT, tokens=None))._nearly_out_of_tokens(_row(remaining=0)) \
        is False


@pytest.mark.parametrize(("remaining", "tpm", "room"), [
    (None, TPM, 1),  # 1000 tokens are 4 requests' worth, all of them the margin: still one at a time
    (None, 100_000, 100_000 // PER_REQUEST - 4),
    (None, None, 4),  # no per-minute figure: eight requests' worth, less the margin
    (20 * PER_REQUEST, 100_000, 16),
    (PER_REQUEST, 100_000, 1),  # never less than one
])
def test_the_window_room_keeps_a_margin_of_four_requests(remaining: int | None, tpm: int | None, room: int) -> None:
    context = _context(TokenGateway(), expect=replace(EXPECT, tokens=TokenRule(tpm, None, "k", "x-remaining", None,
                                                                                "Retry-After")))
    context._remaining = remaining
    assert context._window_room() == room
    assert _context(TokenGateway(), expect=replace(EXPECT, tokens=None))._window_room() == 10**9


# -- relief: a fresh subscription on the emulator, a wait on Azure -----------------------------------------------

def test_on_the_emulator_relief_is_a_fresh_subscription_of_the_runs_own() -> None:
    context = _context(TokenGateway())
    context._relieve_token_limit(12.0)
    context._relieve_token_limit(None)
    assert context.target.control.subscriptions == ["toolkit-validate-load-balancing-1",  # type: ignore[union-attr]
                                                    "toolkit-validate-load-balancing-2"]
    assert context._relief_key == "key-2" and context.target.control.advanced == []  # type: ignore[union-attr]


@pytest.mark.parametrize(("retry_after", "slept"), [(12.0, 13.0), (None, 61.0), (300.0, MAX_WAIT_S)])
def test_on_azure_relief_waits_for_the_window(retry_after: float | None, slept: float) -> None:
    context = _context(TokenGateway(), emulator=False)
    context._relieve_token_limit(retry_after)
    assert context.slept == [slept] and context._relief_key is None  # type: ignore[attr-defined]
    assert MAX_WAIT_S == 65.0


def test_on_the_emulator_a_wait_advances_its_clock_by_one_more_second() -> None:
    context = _context(TokenGateway())
    context.wait(30.0)
    assert context.target.control.advanced == [31.0] and context.slept == []  # type: ignore[union-attr,attr-defined]


# -- routing traffic through a token limit -----------------------------------------------------------------------

def test_routing_requests_on_the_emulator_use_a_subscription_of_their_own_replaced_before_it_runs_out() -> None:
    gateway = TokenGateway(budget=1000)  # 10 requests per key; "nearly out" below 864 tokens left
    context = _context(gateway)
    rows = [context.ask_unique("healthy") for _ in range(5)]
    assert all(row.status == 200 for row in rows)
    assert gateway.keys == ["key-1", "key-1", "key-2", "key-2", "key-3"]  # after 2 requests 800 left: replaced
    assert context.ask_unique("x", key="mine").status == 200 and gateway.keys[-1] == "mine"  # a key asked for


def test_a_token_limit_refusal_is_sent_again_under_a_fresh_counter_and_stays_in_the_log() -> None:
    gateway = TokenGateway(budget=100)
    context = _context(gateway)
    context._relief_key = "target-key"
    gateway.spent["target-key"] = 100  # already spent
    row = context.ask_unique("healthy")
    assert row.status == 200 and gateway.keys == ["target-key", "key-1"]
    assert [r.status for r in context.log.rows] == [429, 200]


def _azure_refusing_once(gateway: TokenGateway, key: str) -> Context:
    """An Azure context whose gateway refuses ``key``'s first request (its window spent), then has a new window."""
    gateway.spent[key] = gateway.budget
    context = _context(gateway, emulator=False)
    answer = gateway.__call__

    def refuse_once(request: httpx.Request) -> httpx.Response:
        response = answer(request)
        gateway.spent[key] = 0  # the window passed during the wait
        return response

    context.caller.http = httpx.Client(transport=httpx.MockTransport(refuse_once))
    return context


def test_on_azure_a_refusal_waits_then_asks_again_with_the_same_key() -> None:
    gateway = TokenGateway(budget=100)
    context = _azure_refusing_once(gateway, "target-key")
    row = context.ask_unique("healthy")
    assert row.status == 200 and gateway.keys == ["target-key", "target-key"]
    assert context.slept == [8.0]  # type: ignore[attr-defined]  # Retry-After 7, plus one


def test_a_concurrent_engine_sends_batches_that_fit_the_window() -> None:
    gateway = TokenGateway(budget=1500)
    context = _context(gateway, engine=True, expect=replace(EXPECT, tokens=TokenRule(1500, None, "k", "x-remaining",
                                                                                     None, "Retry-After")))
    rows = list(context.ask_unique_many("healthy", 9))
    assert [row.status for row in rows] == [200] * 9
    # the rule's 1,500 tokens: 6 requests' worth, less the margin of 4; then what the replies say is left
    assert context.engine.sizes == [2, 2, 1, 1, 1, 2]  # type: ignore[union-attr]
    assert gateway.keys == ["key-1"] * 7 + ["key-2"] * 2  # replaced once below four requests (864 tokens) left


def test_a_batchs_token_limit_refusals_are_sent_again_once_under_a_fresh_counter() -> None:
    gateway = TokenGateway(budget=600)  # 6 requests per key, while the rule would allow far more
    context = _context(gateway, engine=True, expect=replace(EXPECT, tokens=TokenRule(100_000, None, "k",
                                                                                     "x-remaining", None, "Retry-After")))
    rows = list(context.ask_unique_many("healthy", 9))
    assert [row.status for row in rows] == [200] * 9 and context.engine.sizes == [9, 3]  # type: ignore[union-attr]
    assert gateway.keys == ["key-1"] * 9 + ["key-2"] * 3
    assert [r.status for r in context.log.rows].count(429) == 3  # the refusals stay in the log
    assert {r.phase for r in context.log.rows} == {"healthy"}


def test_a_batchs_remaining_tokens_are_the_least_any_reply_reported() -> None:
    context = _context(TokenGateway(), engine=True)
    context._send_batch([("a (x)", "p1"), ("b (y)", "p2"), ("c (z)", "p3")], "healthy")
    assert context._remaining == 700
    context.caller.expect = replace(EXPECT, tokens=TokenRule(TPM, None, "k", None, None, "Retry-After"))
    context._send_batch([("d (w)", "p1")], "healthy")
    assert context._remaining is None  # no reply said


def test_without_an_engine_many_requests_are_asked_one_by_one() -> None:
    context = _context(TokenGateway(budget=10**6))
    rows = list(context.ask_unique_many("healthy", 3))
    assert len(rows) == 3 and [r.phase for r in rows] == ["healthy"] * 3 and context.sent == 3


@dataclass
class Asked(TokenGateway):
    """TokenGateway that also keeps each request's question."""

    questions: list[str] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.questions.append(json.loads(request.content)["messages"][-1]["content"])
        return super().__call__(request)


@pytest.mark.parametrize("engine", [False, True])
def test_each_routing_request_asks_its_prompt_and_is_logged_under_its_id_and_phase(engine: bool) -> None:
    gateway = Asked(budget=10**6)
    context = _context(gateway, engine=engine)
    rows = list(context.ask_unique_many("healthy", 6))
    assert [(r.scenario, r.phase) for r in rows] == [("load-balancing", "healthy")] * 6
    for row, question in zip(rows, gateway.questions, strict=True):
        base = ["one", "two", "three"][int(row.prompt_id[1:]) - 1]
        assert question.startswith(base + " (")
    assert context.ask("p9", "plain question").prompt_id == "p9" and gateway.questions[-1] == "plain question"
    assert context.ask("p9", "q").phase == ""


def test_a_refused_routing_request_is_asked_again_with_the_same_prompt_id_and_phase() -> None:
    gateway = Asked(budget=100)
    context = _context(gateway)
    context._relief_key = "target-key"
    gateway.spent["target-key"] = 100
    row = context.ask_unique("failed-over")
    first, again = context.log.rows
    assert (first.status, again.status) == (429, 200) and row is again
    assert (again.prompt_id, again.phase) == (first.prompt_id, "failed-over") and first.phase == "failed-over"
    assert gateway.questions[0] == gateway.questions[1]


def test_on_azure_a_refused_request_with_its_own_key_keeps_it() -> None:
    gateway = Asked(budget=100)
    context = _azure_refusing_once(gateway, "mine")
    assert context.ask_unique("x", key="mine").status == 200 and gateway.keys == ["mine", "mine"]


def test_a_batch_asks_only_for_the_headers_an_observation_reads() -> None:
    context = _context(TokenGateway(), engine=True)
    wanted: list[Any] = []
    send_all = context.engine.send_all  # type: ignore[union-attr]
    context.engine.send_all = lambda outgoing, headers: wanted.append(headers) or send_all(outgoing, headers)  # type: ignore[union-attr]
    context._send_batch([("a (x)", "p1")], "healthy")
    assert wanted == [context.caller.wanted_headers()] and "x-remaining" in wanted[0]


def test_on_azure_a_refused_batch_waits_for_the_longest_retry_after_of_its_refusals() -> None:
    answers = iter([httpx.Response(200, json={"id": "a"}, headers={"Retry-After": "30"}),  # not a refusal
                    httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(429, headers={"Retry-After": "12"})]
                   + [httpx.Response(200, json={"id": f"r{n}"}) for n in range(2)])
    context = _context(TokenGateway(), emulator=False, engine=True,
                       expect=replace(EXPECT, tokens=TokenRule(100_000, None, "k", None, None, "Retry-After")))
    http = httpx.Client(transport=httpx.MockTransport(lambda request: next(answers)))
    context.caller.http = context.engine.http = http  # type: ignore[union-attr]
    rows = list(context.ask_unique_many("healthy", 3))
    assert context.slept == [13.0]  # type: ignore[attr-defined]
    assert [r.status for r in rows] == [200, 200, 200] and [r.phase for r in rows] == ["healthy"] * 3
    assert context.engine.sizes == [3, 2]  # type: ignore[union-attr]


def test_a_batch_run_keeps_the_subscription_it_already_has_and_sends_a_single_request() -> None:
    gateway = TokenGateway(budget=10**6)
    context = _context(gateway, engine=True)
    context._relief_key = "kept"
    assert len(list(context.ask_unique_many("healthy", 1))) == 1
    assert gateway.keys == ["kept"] and context.target.control.subscriptions == []  # type: ignore[union-attr]
