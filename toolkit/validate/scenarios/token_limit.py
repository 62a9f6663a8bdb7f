"""token-limit: tokens before the first 429 near the limit, Retry-After present and honoured, the
remaining-tokens header decreasing by each call's usage, counters per counter key, streamed calls counted."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

from toolkit.validate.context import Context
from toolkit.validate.observations import Observation
from toolkit.validate.verdict import Check, Outcome, Verdict, combine, inconclusive

MINUTE = 60.0


def _used(observation: Observation) -> int:
    return (observation.prompt_tokens or 0) + (observation.completion_tokens or 0)


def run(ctx: Context) -> Verdict:
    rule = ctx.expect.tokens
    if rule is None or rule.tokens_per_minute is None:
        return inconclusive(ctx.scenario, f"{ctx.expect.source} configures no tokens-per-minute limit on "
                                          f"{ctx.expect.api!r}: nothing to check")
    limit, settings, control = rule.tokens_per_minute, ctx.settings, ctx.target.control
    if control is not None:
        control.reset()
        now = control.now()
        control.advance(math.ceil(now / MINUTE) * MINUTE - now + 0.5)  # start at the top of a window
    per_key = "Subscription" in rule.counter_key
    key = ctx.target.extra_key(f"toolkit-validate-tokens-{ctx.rng.randrange(10**6)}") if per_key else None

    def ask(phase: str, subscription: str | None = key, stream: bool = False) -> Observation:
        text = " ".join([f"{settings.prompt} {ctx.caller.nonce()}"] * settings.prompt_repeat)
        return ctx.ask("tokens", text, phase=phase, key=subscription, stream=stream)

    consumed, largest, checks = 0, 0, []
    previous: Observation | None = None
    drift: list[tuple[int, int]] = []
    refused: Observation | None = None
    while ctx.sent < ctx.budget:
        observation = ask("fill")
        if observation.status != 200:
            refused = observation
            break
        if observation.cache_hit:
            return inconclusive(ctx.scenario, "a token-limit request was answered from the semantic cache despite "
                                              "its nonce; raise prompt diversity in validations/token-limit.yaml")
        used = _used(observation)
        consumed, largest = consumed + used, max(largest, used)
        if previous is not None and previous.remaining_tokens is not None and observation.remaining_tokens is not None:
            drift.append((previous.remaining_tokens - observation.remaining_tokens, used))
        previous = observation
        if consumed > limit * (1 + settings.tolerance) + largest:
            break
    allowance = limit * settings.tolerance + largest
    figures = {"limit": limit, "consumed_before_429": consumed, "allowance": round(allowance),
               "first_refusal": refused.status if refused else None}
    if refused is None:
        outcome = Outcome.FAIL if consumed > limit + allowance else Outcome.INCONCLUSIVE
        checks.append(Check("limit", outcome, f"{consumed} tokens were served within a minute with no 429; the "
                            f"limit is {limit} tokens per minute" + (": the deployed limit is higher or missing"
                                                                     if outcome is Outcome.FAIL else
                                                                     f" (budget of {ctx.budget} requests spent)"),
                            limit, consumed))
    elif refused.status != 429:
        checks.append(Check("limit", Outcome.INCONCLUSIVE if refused.status in (0, 503) else Outcome.FAIL,
                            f"the first refusal was {refused.status}, not 429, after {consumed} tokens", 429,
                            refused.status))
    else:
        off = abs(consumed - limit)
        checks.append(Check("limit", Outcome.PASS if off <= allowance else Outcome.FAIL,
                            f"the first 429 came after {consumed} tokens; limit {limit} ± {allowance:.0f} "
                            f"(tolerance {settings.tolerance:.0%} plus one request's {largest} tokens)"
                            + ("" if off <= allowance else ": the deployed tokens-per-minute differs"),
                            limit, consumed))
        checks.append(_retry_after(ctx, refused, ask))
    if rule.remaining_header:
        bad = [(d, u) for d, u in drift if abs(d - u) > max(2, 0.05 * u)]
        checks.append(Check("remaining-header", Outcome.FAIL if bad or not drift else Outcome.PASS,
                            f"{rule.remaining_header} fell by {bad[0][0]} where the call used {bad[0][1]} tokens"
                            if bad else (f"{rule.remaining_header} fell by each call's usage over {len(drift)} calls"
                                         if drift else f"no {rule.remaining_header} header was returned"),
                            "decrease = usage", len(drift) - len(bad)))
    if per_key and refused is not None and refused.status == 429:
        other = ctx.target.extra_key(f"toolkit-validate-tokens-other-{ctx.rng.randrange(10**6)}")
        if other is None:
            checks.append(Check("per-key", Outcome.INCONCLUSIVE, "a second subscription key cannot be created on "
                                "this target, so counter isolation was not checked"))
        else:
            checks.append(_isolation_and_stream(ctx, ask, other, rule.remaining_header, limit))
    verdict = combine(ctx.scenario, checks, expected={"tokens_per_minute": limit, "counter_key": rule.counter_key,
                                                      "tolerance": settings.tolerance},
                      observed=figures, requests=ctx.sent)
    if verdict.passed:
        verdict = replace(verdict, sentence="; ".join(c.sentence for c in checks))
    return verdict


def _retry_after(ctx: Context, refused: Observation, ask: Callable[..., Observation]) -> Check:
    if refused.retry_after is None or refused.retry_after <= 0:
        return Check("retry-after", Outcome.FAIL, "the 429 carried no Retry-After header", "present", None)
    ctx.next_token_window(refused.retry_after - 1)  # waits retry_after (the helper adds a second)
    after = ask("after-retry-after")
    ok = after.status == 200
    return Check("retry-after", Outcome.PASS if ok else Outcome.FAIL,
                 f"Retry-After {refused.retry_after:g} s was honoured: the next call after it got {after.status}"
                 if ok else f"after waiting Retry-After {refused.retry_after:g} s the call still got {after.status}",
                 200, after.status)


def _isolation_and_stream(ctx: Context, ask: Callable[..., Observation], other: str, header: str | None, limit: int) -> Check:
    """A fresh key is not limited by the first key's usage; its streamed call is counted."""
    streamed = ask("per-key-stream", other, stream=ctx.settings.stream)
    if streamed.status != 200:
        return Check("per-key", Outcome.FAIL, f"a second subscription got {streamed.status} while only the first had "
                     "used its tokens: the counter is not per counter-key as configured", 200, streamed.status)
    follow = ask("per-key-after-stream", other)
    if not ctx.settings.stream or header is None or follow.remaining_tokens is None:
        return Check("per-key", Outcome.PASS, "a second subscription was served while the first was limited")
    expected = limit - _used(streamed) - _used(follow)
    ok = abs(follow.remaining_tokens - expected) <= max(2, 0.05 * limit)
    return Check("per-key", Outcome.PASS if ok else Outcome.FAIL,
                 "a second subscription was served while the first was limited, and its streamed call was counted"
                 if ok else f"after a streamed call of {_used(streamed)} tokens {header} read {follow.remaining_tokens}, "
                 f"expected {expected}: streamed calls are not counted", expected, follow.remaining_tokens)
