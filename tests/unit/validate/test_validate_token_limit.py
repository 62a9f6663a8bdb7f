"""The token-limit scenario against a token counter in miniature: fixed one-minute windows per counter key, the
remaining-tokens header, Retry-After, a token quota, streamed calls. Deployed as configured it passes; each
deviation gets the check and sentence that name it."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace
from types import SimpleNamespace
from typing import Any

import pytest

from fake_gateway import SubscriptionTarget
from toolkit.validate.expectations import TokenRule
from toolkit.validate.observations import Observation, ObservationLog
from toolkit.validate.scenarios import token_limit
from toolkit.validate.settings import TokenLimitSettings
from toolkit.validate.verdict import Outcome, Verdict

PROMPT_TOKENS, COMPLETION_TOKENS = 40, 16  # every call uses 56 tokens
RULE = TokenRule(tokens_per_minute=1000, token_quota=None, counter_key="@(context.Subscription.Id)",
                 remaining_header="x-remaining", consumed_header=None, retry_after_header="Retry-After")


@dataclass
class TokenGateway:
    """Deployed: ``limit`` tokens a minute (None: no limit), ``quota`` in all (403), counted per key or shared."""

    limit: int | None = 1000
    quota: int | None = None
    per_key: bool = True
    header: bool = True
    header_factor: int = 1           # 2: the header falls twice as fast as the usage
    count_streams: bool = True
    stream_shortfall: int = 0        # tokens of a streamed call left uncounted
    stream_status: int = 200
    retry_after: bool = True
    honour_retry_after: bool = True  # False: still refused once Retry-After has passed
    refusal_status: int = 429
    cache_hit_at: int | None = None  # the n-th call (1-based) is answered from a cache
    clock: float = 1000.2
    seconds_per_call: float = 0.0
    used: dict[tuple[str, int], int] = field(default_factory=dict)
    total: dict[str, int] = field(default_factory=dict)
    calls: int = 0
    resets: int = 0

    # the control API
    def reset(self) -> None:
        self.resets += 1
        self.used.clear()
        self.total.clear()

    def now(self) -> float:
        return self.clock

    def advance(self, seconds: float) -> None:
        self.clock += seconds

    def ask(self, key: str, stream: bool) -> tuple[int, int | None, float | None, bool]:
        """(status, remaining tokens, Retry-After, cache hit) of one call."""
        try:
            return self._ask(key, stream)
        finally:
            self.clock += self.seconds_per_call

    def _ask(self, key: str, stream: bool) -> tuple[int, int | None, float | None, bool]:
        self.calls += 1
        window = int(self.clock // 60)
        counter = (key if self.per_key else "*", window)
        spent = self.used.get(counter, 0)
        if self.quota is not None and self.total.get(key, 0) >= self.quota:
            return 403, None, None, False
        if self.limit is not None and spent >= self.limit:
            if not self.honour_retry_after or self.refusal_status != 429:
                return self.refusal_status, None, None, False
            wait = math.ceil((window + 1) * 60 - self.clock) if self.retry_after else None
            return 429, None, wait, False
        if stream and self.stream_status != 200:
            return self.stream_status, None, None, False
        usage = 0 if (stream and not self.count_streams) else PROMPT_TOKENS + COMPLETION_TOKENS
        if stream and usage:
            usage -= self.stream_shortfall
        self.used[counter] = spent + usage
        self.total[key] = self.total.get(key, 0) + usage
        remaining = max(0, self.limit - spent - usage * self.header_factor) if self.header and self.limit else None
        return 200, remaining, None, self.calls == self.cache_hit_at


class Scenario:
    """What token_limit.run reads from its Context."""

    def __init__(self, gateway: TokenGateway, rule: TokenRule | None = RULE, control: bool = True,
                 **settings: Any) -> None:
        self.gateway = gateway
        self.scenario = "token-limit"
        self.expect = SimpleNamespace(tokens=rule, source="apimartifacts", api="chat")
        self.settings = TokenLimitSettings(prompt="hello", **settings)
        self.rng = random.Random(1)
        self.log = ObservationLog()
        self.waits: list[float] = []
        self.texts: list[tuple[str, str]] = []
        self.caller = SimpleNamespace(nonce=lambda: "n")
        self.target = SubscriptionTarget(gateway if control else None)
        self.budget = self.settings.max_requests

    @property
    def sent(self) -> int:
        return len(self.log.rows)

    def ask(self, prompt_id: str, text: str, *, phase: str, key: str | None, stream: bool) -> Observation:
        self.texts.append((prompt_id, text))
        status, remaining, retry_after, hit = self.gateway.ask(key or "target-key", stream)
        ok = status == 200
        return self.log.add(Observation(self.gateway.clock, self.scenario, prompt_id, status, 1.0, None, None, hit,
                                        PROMPT_TOKENS if ok else None, COMPLETION_TOKENS if ok else None, retry_after,
                                        None, None, phase, remaining))

    def wait(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.gateway.advance(seconds + 1)

    def phases(self) -> list[str]:
        return list(dict.fromkeys(row.phase for row in self.log.rows))


def _run(gateway: TokenGateway, rule: TokenRule | None = RULE, **options: Any) -> tuple[Verdict, Scenario]:
    ctx = Scenario(gateway, rule, **options)
    return token_limit.run(ctx), ctx  # type: ignore[arg-type]


def _checks(verdict: Verdict) -> dict[str, tuple[Outcome, str, Any, Any]]:
    return {c.name: (c.outcome, c.sentence, c.expected, c.observed) for c in verdict.checks}


def test_a_limit_deployed_as_configured_passes_every_check() -> None:
    gateway = TokenGateway()
    verdict, ctx = _run(gateway)
    assert verdict.outcome is Outcome.PASS, verdict.sentence
    checks = _checks(verdict)
    # 18 calls of 56 tokens reach 1,008: the 19th is refused.
    assert checks["limit"] == (Outcome.PASS, "the first 429 came after 1008 tokens; tokens per minute 1000 ± 156 "
                                             "(tolerance 10% plus one request's 56 tokens)", 1000, 1008)
    assert checks["retry-after"][0] is Outcome.PASS
    assert checks["retry-after"][1].startswith("Retry-After ") and checks["retry-after"][1].endswith(
        " s was honoured: the next call after it got 200")
    assert checks["retry-after"][2:] == (200, 200)
    assert checks["per-key"][:2] == (Outcome.PASS, "a second subscription was served while the first was limited, "
                                                   "and its streamed call was counted")
    assert checks["per-key"][2:] == (112, 112)
    # The last call's header is 0, not -8: it fell by 8 tokens less than the calls used, within the allowance.
    assert checks["remaining-header"] == (Outcome.PASS, "x-remaining fell with every call, by 944 over 17 calls that "
                                                        "used 952 tokens", 952, 944)
    assert [c.name for c in verdict.checks] == ["limit", "retry-after", "per-key", "remaining-header"]
    assert verdict.sentence == "; ".join(c.sentence for c in verdict.checks)
    assert verdict.expected == {"limit": 1000, "kind": "tokens per minute", "refusal": 429,
                                "counter_key": "@(context.Subscription.Id)", "tolerance": 0.1}
    assert verdict.observed == {"limit": 1000, "consumed_before_refusal": 1008, "allowance": 156, "first_refusal": 429,
                                "used_before_this_run": 0}
    assert verdict.requests == ctx.sent and verdict.scenario == "token-limit"
    assert ctx.phases() == ["fill", "per-key", "per-key-stream", "per-key-after-stream", "after-retry-after"]
    assert gateway.resets == 1 and gateway.clock >= 1060.5


def test_the_run_starts_at_the_top_of_a_window() -> None:
    gateway = TokenGateway(clock=1019.3)
    _, ctx = _run(gateway)
    assert ctx.log.rows[0].time == pytest.approx(1020.5)


def test_the_fill_uses_a_fresh_subscription_and_the_other_key_another() -> None:
    _, ctx = _run(TokenGateway())
    assert len(ctx.target.keys) == 2 and ctx.target.keys[0].startswith("toolkit-validate-tokens-")
    assert ctx.target.keys[1].startswith("toolkit-validate-tokens-other-")
    # A counter key that is not the subscription: the target's own key, and no isolation check.
    rule = TokenRule(1000, None, "@(context.Request.IpAddress)", "x-remaining", None, "Retry-After")
    verdict, ctx = _run(TokenGateway(), rule)
    assert ctx.target.keys == [] and "per-key" not in _checks(verdict) and verdict.outcome is Outcome.PASS


def test_a_limit_deployed_lower_fails_naming_it() -> None:
    verdict, _ = _run(TokenGateway(limit=700))
    assert _checks(verdict)["limit"] == (Outcome.FAIL, "the first 429 came after 728 tokens; tokens per minute 1000 "
                                         "± 156 (tolerance 10% plus one request's 56 tokens): the deployed tokens per "
                                         "minute differs", 1000, 728)
    assert verdict.outcome is Outcome.FAIL and verdict.sentence == _checks(verdict)["limit"][1]


def test_no_limit_deployed_serves_past_the_allowance() -> None:
    verdict, ctx = _run(TokenGateway(limit=None, header=False))
    limit = _checks(verdict)["limit"]
    # It stops once past 1,000 x 1.1 + 56 = 1,156: at 21 calls, 1,176 tokens.
    assert limit == (Outcome.FAIL, "1176 tokens were served with no 429; the tokens per minute is 1000: the deployed "
                                   "limit is higher or missing", 1000, 1176)
    assert ctx.sent == 21 and verdict.observed["first_refusal"] is None


def test_a_budget_spent_before_the_limit_is_inconclusive() -> None:
    verdict, ctx = _run(TokenGateway(limit=None, header=False), max_requests=10)
    assert _checks(verdict)["limit"] == (Outcome.INCONCLUSIVE, "560 tokens were served with no 429; the tokens per "
                                         "minute is 1000 (budget of 10 requests spent)", 1000, 560)


@pytest.mark.parametrize(("status", "outcome"), [(503, Outcome.INCONCLUSIVE), (0, Outcome.INCONCLUSIVE),
                                                 (500, Outcome.FAIL), (403, Outcome.FAIL)])
def test_another_first_refusal(status: int, outcome: Outcome) -> None:
    verdict, ctx = _run(TokenGateway(refusal_status=status))
    assert _checks(verdict)["limit"] == (outcome, f"the first refusal was {status}, not 429 (tokens per minute), "
                                                  "after 1008 tokens", 429, status)
    assert "retry-after" not in _checks(verdict) and "per-key" not in _checks(verdict)


def test_a_429_without_retry_after_fails() -> None:
    verdict, _ = _run(TokenGateway(retry_after=False))
    assert _checks(verdict)["retry-after"] == (Outcome.FAIL, "the 429 carried no Retry-After header", "present", None)


def test_a_retry_after_that_is_not_honoured_fails() -> None:
    gateway = TokenGateway()
    verdict, ctx = _run(gateway)
    assert ctx.waits and ctx.waits[-1] > 0
    gateway = TokenGateway(limit=1000)
    ctx = Scenario(gateway)
    refused = Observation(0, "token-limit", "t", 429, 1.0, None, None, False, None, None, 7.0, None, None)
    check = token_limit._retry_after(ctx, refused, lambda phase: SimpleNamespace(status=429))  # type: ignore[arg-type]
    assert (check.outcome, check.sentence, check.expected, check.observed) == (
        Outcome.FAIL, "after waiting Retry-After 7 s the call still got 429", 200, 429)
    assert ctx.waits == [7.0]
    zero = Observation(0, "token-limit", "t", 429, 1.0, None, None, False, None, None, 0.0, None, None)
    assert token_limit._retry_after(ctx, zero, lambda phase: None).outcome is Outcome.FAIL  # type: ignore[arg-type]


def test_a_shared_counter_refuses_the_second_subscription() -> None:
    verdict, _ = _run(TokenGateway(per_key=False))
    assert _checks(verdict)["per-key"] == (Outcome.FAIL, "a second subscription got 429 while only the first had used "
                                           "its tokens: the counter is not per counter-key as configured", 200, 429)


def test_streamed_calls_that_are_not_counted_fail() -> None:
    verdict, _ = _run(TokenGateway(count_streams=False))
    assert _checks(verdict)["per-key"] == (Outcome.FAIL, "x-remaining fell by 56 over a streamed call and a plain one "
                                           "that used 112 tokens: streamed calls are not counted", 112, 56)


def test_without_streaming_or_a_header_the_isolation_check_skips_the_stream() -> None:
    verdict, ctx = _run(TokenGateway(), stream=False)
    assert _checks(verdict)["per-key"][:2] == (Outcome.PASS, "a second subscription was served while the first was "
                                                             "limited")
    assert "per-key-stream" not in ctx.phases()
    no_header = TokenRule(1000, None, "@(context.Subscription.Id)", None, None, "Retry-After")
    verdict, ctx = _run(TokenGateway(header=False), no_header)
    assert "per-key-stream" not in ctx.phases() and "remaining-header" not in _checks(verdict)


def test_the_header_missing_flat_or_falling_by_another_amount_fails() -> None:
    verdict, _ = _run(TokenGateway(header=False))
    assert _checks(verdict)["remaining-header"] == (Outcome.FAIL, "a 200 came without x-remaining", "present", None)
    verdict, _ = _run(TokenGateway(header_factor=2))
    header = _checks(verdict)["remaining-header"]
    assert header[0] is Outcome.FAIL and header[1].startswith("x-remaining ")
    checks = token_limit._remaining_header("x-left", [(56, 56), (0, 56)], [], 56, 0.1)
    assert (checks.outcome, checks.sentence, checks.expected, checks.observed) == (
        Outcome.FAIL, "x-left did not fall after a served call (+0)", "decreasing", 0)
    checks = token_limit._remaining_header("x-left", [(56, 56), (300, 56)], [], 56, 0.1)
    assert (checks.outcome, checks.sentence, checks.expected, checks.observed) == (
        Outcome.FAIL, "x-left fell by 356 over 2 calls that used 112 tokens (allowed ± 67)", 112, 356)
    edge = token_limit._remaining_header("x-left", [(100, 56), (79, 56)], [], 56, 0.1)  # |179 - 112| = 67: allowed
    assert edge.outcome is Outcome.PASS
    assert token_limit._remaining_header("x-left", [], [], 56, 0.1).outcome is Outcome.INCONCLUSIVE


def test_a_token_quota_below_the_rate_refuses_with_403_and_has_no_retry_after() -> None:
    rule = TokenRule(5000, 1000, "@(context.Subscription.Id)", "x-remaining", None, "Retry-After")
    verdict, ctx = _run(TokenGateway(limit=None, quota=1000, header=False), rule)
    checks = _checks(verdict)
    assert checks["limit"][:2] == (Outcome.PASS, "the first 403 came after 1008 tokens; token quota 1000 ± 156 "
                                                 "(tolerance 10% plus one request's 56 tokens)")
    assert set(checks) == {"limit", "per-key"} and verdict.expected["kind"] == "token quota"
    # Equal limits: the quota is the one that refuses.
    equal = TokenRule(1000, 1000, "@(context.Subscription.Id)", None, None, "Retry-After")
    assert _run(TokenGateway(limit=None, quota=1000, header=False), equal)[0].expected["refusal"] == 403


def test_nothing_configured_or_a_cached_answer_is_inconclusive() -> None:
    verdict, ctx = _run(TokenGateway(), None)
    assert (verdict.outcome, verdict.sentence, ctx.sent) == (
        Outcome.INCONCLUSIVE, "apimartifacts configures no token limit on 'chat': nothing to check", 0)
    verdict, _ = _run(TokenGateway(cache_hit_at=3))
    assert (verdict.outcome, verdict.sentence) == (
        Outcome.INCONCLUSIVE, "a token-limit request was answered from the semantic cache despite its nonce; raise "
                              "prompt diversity in validations/token-limit.yaml")
    assert verdict.scenario == "token-limit" == _run(TokenGateway(), None)[0].scenario


def test_on_azure_a_window_partly_spent_before_the_run_is_read_from_the_header() -> None:
    gateway = TokenGateway(clock=1000.0)
    gateway.used[("target-key", 16)] = 56  # one call's worth spent by others: within the tolerance, counted in
    verdict, ctx = _run(gateway, control=False)
    assert verdict.observed["used_before_this_run"] == 56 and verdict.observed["consumed_before_refusal"] == 1008
    assert _checks(verdict)["limit"][0] is Outcome.PASS and gateway.resets == 0
    assert ctx.waits == [20]  # only Retry-After's wait, to the next window


def test_on_azure_a_window_spent_beyond_the_tolerance_is_waited_out_and_the_next_measured() -> None:
    gateway = TokenGateway(clock=1000.0)
    gateway.used[("target-key", 16)] = 560
    verdict, ctx = _run(gateway, control=False)
    assert verdict.observed["used_before_this_run"] == 0 and verdict.observed["consumed_before_refusal"] == 1008
    assert ctx.waits == [20, 59] and _checks(verdict)["limit"][0] is Outcome.PASS


def test_on_azure_a_window_refusing_at_once_is_waited_out_and_measured_whole() -> None:
    gateway = TokenGateway(clock=1000.0)
    gateway.used[("target-key", 16)] = 1000
    verdict, ctx = _run(gateway, control=False)
    assert ctx.waits[0] == 20 and ctx.log.rows[0].status == 429
    assert verdict.observed["used_before_this_run"] == 0 and verdict.observed["consumed_before_refusal"] == 1008
    assert _checks(verdict)["limit"][0] is Outcome.PASS


def test_on_azure_without_a_header_a_short_count_may_be_a_spent_window() -> None:
    gateway = TokenGateway(clock=1000.0, header=False)
    gateway.used[("target-key", 16)] = 560
    rule = TokenRule(1000, None, "@(context.Subscription.Id)", None, None, "Retry-After")
    verdict, ctx = _run(gateway, rule, control=False)
    assert _checks(verdict)["limit"] == (Outcome.INCONCLUSIVE, "the first 429 came after 448 tokens; tokens per "
                                         "minute 1000 ± 156 (tolerance 10% plus one request's 56 tokens): the window "
                                         "may have been partly used before this run (no remaining-tokens header to "
                                         "tell)", 1000, 448)
    assert _checks(verdict)["per-key"] == (Outcome.INCONCLUSIVE, "counter isolation needs a second subscription: set "
                                           "TOOLKIT_VALIDATE_SECOND_KEY to another subscription's key", None, None)


def test_on_azure_a_window_that_ends_during_the_fill_restarts_the_count() -> None:
    # Five calls before the minute ends at 1020; the header then goes up, and the count starts again from there.
    gateway = TokenGateway(clock=1010.0, seconds_per_call=2.0)
    verdict, _ = _run(gateway, control=False)
    assert verdict.observed["consumed_before_refusal"] == 1008 and _checks(verdict)["limit"][0] is Outcome.PASS
    header = _checks(verdict)["remaining-header"]
    assert header[0] is Outcome.PASS and header[1].endswith(" over 17 calls that used 952 tokens")


def _header_check(drift: list[tuple[int, int]], tolerance: float = 0.1, largest: int = 56) -> Any:
    return token_limit._remaining_header("x-left", drift, [], largest, tolerance)


def test_the_header_checks_edges() -> None:
    assert _header_check([]) == token_limit.Check("remaining-header", Outcome.INCONCLUSIVE, "fewer than two calls were "
                                                  "served, so the header's decrease was not seen")
    assert _header_check([(1, 1)], largest=1).outcome is Outcome.PASS  # a fall of one token is a fall
    # |224 - 112| = 112 = 50% of 112 + 56: on the allowance, a pass; one more token, a failure.
    assert _header_check([(112, 56), (112, 56)], tolerance=0.5).outcome is Outcome.PASS
    assert _header_check([(112, 56), (113, 56)], tolerance=0.5) == token_limit.Check(
        "remaining-header", Outcome.FAIL, "x-left fell by 225 over 2 calls that used 112 tokens (allowed ± 112)", 112,
        225)
    assert token_limit._remaining_header("x-left", [], [SimpleNamespace(remaining_tokens=None)], 56, 0.1) == \
        token_limit.Check("remaining-header", Outcome.FAIL, "a 200 came without x-left", "present", None)


def test_a_retry_after_of_one_second_is_waited_and_checked() -> None:
    ctx = Scenario(TokenGateway())
    refused = Observation(0, "token-limit", "t", 429, 1.0, None, None, False, None, None, 1.0, None, None)
    check = token_limit._retry_after(ctx, refused, lambda phase: SimpleNamespace(status=200))  # type: ignore[arg-type]
    assert check == token_limit.Check("retry-after", Outcome.PASS, "Retry-After 1 s was honoured: the next call after "
                                      "it got 200", 200, 200)
    assert ctx.waits == [1.0]


def test_usage_and_window_edges() -> None:
    half = Observation(0, "t", "t", 200, 1.0, None, None, False, None, 16, None, None, None)
    assert token_limit._used(half) == 16
    assert token_limit._used(replace(half, prompt_tokens=40, completion_tokens=None)) == 40
    with_header = replace(half, remaining_tokens=500)
    assert not token_limit._window_rolled(half, with_header) and not token_limit._window_rolled(with_header, half)
    assert token_limit._window_rolled(replace(half, remaining_tokens=100), with_header)
    assert not token_limit._window_rolled(None, with_header)


def test_subscription_names_come_from_the_runs_seeded_generator() -> None:
    _, ctx = _run(TokenGateway())
    draws = random.Random(1)
    assert ctx.target.keys == [f"toolkit-validate-tokens-{draws.randrange(10**6)}",
                        f"toolkit-validate-tokens-other-{draws.randrange(10**6)}"]


def test_a_streamed_call_that_fails_leaves_streaming_unmeasured() -> None:
    verdict, _ = _run(TokenGateway(stream_status=500))
    assert _checks(verdict)["per-key"] == (Outcome.INCONCLUSIVE, "the streamed call got 500 and the next 200: "
                                           "streaming was not measured", None, None)


@pytest.mark.parametrize(("shortfall", "outcome"), [(5, Outcome.PASS), (6, Outcome.FAIL)])
def test_a_streamed_call_is_counted_within_five_percent(shortfall: int, outcome: Outcome) -> None:
    verdict, _ = _run(TokenGateway(stream_shortfall=shortfall))
    assert _checks(verdict)["per-key"][0] is outcome  # 5% of the 112 tokens of the two calls: 5.6


def test_a_header_configured_but_not_sent_skips_the_stream_measurement() -> None:
    verdict, ctx = _run(TokenGateway(header=False))
    assert _checks(verdict)["per-key"][:2] == (Outcome.PASS, "a second subscription was served while the first was "
                                               "limited")
    assert "per-key-stream" not in ctx.phases()


def test_a_quota_alone_is_the_limit() -> None:
    rule = TokenRule(None, 1000, "@(context.Subscription.Id)", None, None, "Retry-After")
    verdict, _ = _run(TokenGateway(limit=None, quota=1000, header=False), rule)
    assert verdict.expected["kind"] == "token quota" and _checks(verdict)["limit"][0] is Outcome.PASS


# limit 1,008 (18 calls of 56) and a tolerance of 50%: the allowance is 504 + 56 = 560, a multiple of 56, so the
# edges of the checks fall on whole calls.
EDGE_RULE = TokenRule(1008, None, "@(context.Subscription.Id)", None, None, "Retry-After")


def test_with_no_limit_deployed_the_fill_stops_just_past_limit_plus_tolerance_plus_a_call() -> None:
    verdict, ctx = _run(TokenGateway(limit=None, header=False), EDGE_RULE, tolerance=0.5)
    assert verdict.observed["consumed_before_refusal"] == 29 * 56  # 28 calls reach 1,568 exactly: one more


def test_a_budget_ending_exactly_on_the_allowance_is_inconclusive() -> None:
    verdict, _ = _run(TokenGateway(limit=None, header=False), EDGE_RULE, tolerance=0.5, max_requests=28)
    assert _checks(verdict)["limit"][:2] == (Outcome.INCONCLUSIVE, "1568 tokens were served with no 429; the tokens "
                                             "per minute is 1008 (budget of 28 requests spent)")


def test_a_refusal_exactly_one_allowance_off_passes() -> None:
    verdict, _ = _run(TokenGateway(limit=1520, header=False), EDGE_RULE, tolerance=0.5)
    assert _checks(verdict)["limit"][:2] == (Outcome.PASS, "the first 429 came after 1568 tokens; tokens per minute "
                                             "1008 ± 560 (tolerance 50% plus one request's 56 tokens)")
    assert verdict.observed["consumed_before_refusal"] == 1568
    verdict, _ = _run(TokenGateway(limit=1570, header=False), EDGE_RULE, tolerance=0.5)
    assert _checks(verdict)["limit"][0] is Outcome.FAIL and verdict.observed["consumed_before_refusal"] == 1624


def test_on_the_emulator_a_short_count_without_a_header_is_a_failure() -> None:
    rule = TokenRule(1000, None, "@(context.Subscription.Id)", None, None, "Retry-After")
    verdict, _ = _run(TokenGateway(limit=700, header=False), rule)
    assert _checks(verdict)["limit"][0] is Outcome.FAIL  # the window was reset: nothing else can explain it


def test_on_azure_a_429_without_retry_after_at_the_start_waits_a_minute() -> None:
    gateway = TokenGateway(clock=1000.0, retry_after=False)
    gateway.used[("target-key", 16)] = 1000
    _, ctx = _run(gateway, control=False)
    assert ctx.waits[0] == 60.0


def test_on_azure_the_second_subscription_is_the_configured_one() -> None:
    gateway = TokenGateway(clock=1000.0)
    ctx = Scenario(gateway, control=False)
    ctx.target.second_key = "second"
    verdict = token_limit.run(ctx)  # type: ignore[arg-type]
    assert _checks(verdict)["per-key"][0] is Outcome.PASS
    assert {row.phase for row in ctx.log.rows if row.phase.startswith("per-key")} == {
        "per-key", "per-key-stream", "per-key-after-stream"}


def test_each_call_carries_the_prompt_repeated_with_a_nonce() -> None:
    _, ctx = _run(TokenGateway(), prompt_repeat=2)
    assert set(ctx.texts) == {("tokens", "hello n hello n")}


def test_a_first_call_refused_has_an_allowance_of_the_tolerance_alone() -> None:
    verdict, _ = _run(TokenGateway(limit=0))
    assert verdict.observed["allowance"] == 100 and verdict.observed["consumed_before_refusal"] == 0


def test_on_azure_a_window_spent_exactly_to_the_tolerance_is_counted_not_waited() -> None:
    gateway = TokenGateway(clock=1000.0)
    gateway.used[("target-key", 16)] = 100
    verdict, ctx = _run(gateway, control=False)
    assert verdict.observed["used_before_this_run"] == 100 and ctx.waits == [20]


def test_on_azure_the_window_is_waited_out_once() -> None:
    gateway = TokenGateway(clock=1000.0)
    gateway.used[("target-key", 16)] = gateway.used[("target-key", 17)] = 1000  # spent by others for two minutes
    verdict, ctx = _run(gateway, control=False)
    assert ctx.waits[0] == 20 and _checks(verdict)["limit"][:2] == (
        Outcome.FAIL, "the first 429 came after 0 tokens; tokens per minute 1000 ± 100 (tolerance 10% plus one "
                      "request's 0 tokens): the deployed tokens per minute differs")


def test_on_azure_without_a_header_the_measured_window_starts_from_nothing() -> None:
    gateway = TokenGateway(clock=1000.0, header=False)
    gateway.used[("target-key", 16)] = 1000
    rule = TokenRule(1000, None, "@(context.Subscription.Id)", None, None, "Retry-After")
    verdict, _ = _run(gateway, rule, control=False)
    assert (verdict.observed["consumed_before_refusal"], verdict.observed["used_before_this_run"]) == (1008, 0)
