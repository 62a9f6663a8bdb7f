"""token-limit: tokens before the first 429 near the limit, Retry-After present and honoured, the
remaining-tokens header decreasing by each call's usage, counters per counter key, streamed calls counted."""

from __future__ import annotations

import math
from collections.abc import Callable

from toolkit.validate.context import Context
from toolkit.validate.observations import Observation
from toolkit.validate.verdict import Check, Outcome, Verdict, combine, inconclusive

MINUTE = 60.0


def _used(observation: Observation) -> int:
    return (observation.prompt_tokens or 0) + (observation.completion_tokens or 0)


def _window_rolled(previous: Observation | None, current: Observation) -> bool:
    """The remaining-tokens header went up: the fixed one-minute window ended between the two calls."""
    if previous is None or previous.remaining_tokens is None or current.remaining_tokens is None:
        return False
    return current.remaining_tokens > previous.remaining_tokens


def run(ctx: Context) -> Verdict:
    rule = ctx.expect.tokens
    if rule is None:
        return inconclusive(ctx.scenario, f"{ctx.expect.source} configures no token limit on {ctx.expect.api!r}: "
                                          "nothing to check")
    # The smaller of the two limits refuses first: the quota with 403, tokens per minute with 429.
    quota_first = rule.token_quota is not None and (rule.tokens_per_minute is None
                                                    or rule.token_quota <= rule.tokens_per_minute)
    limit = rule.token_quota if quota_first else rule.tokens_per_minute
    assert limit is not None
    refusal, what = (403, "token quota") if quota_first else (429, "tokens per minute")
    settings, control = ctx.settings, ctx.target.control
    if control is not None:
        control.reset()
        now = control.now()
        control.advance(math.ceil(now / MINUTE) * MINUTE - now + 0.5)  # start at the top of a window
    per_key = "Subscription" in rule.counter_key
    key = ctx.target.fresh_key(f"toolkit-validate-tokens-{ctx.rng.randrange(10**6)}") if per_key else None

    def ask(phase: str, subscription: str | None = key, stream: bool = False) -> Observation:
        text = " ".join([f"{settings.prompt} {ctx.caller.nonce()}"] * settings.prompt_repeat)
        return ctx.ask("tokens", text, phase=phase, key=subscription, stream=stream)

    consumed, largest, checks, figures_before = 0, 0, [], 0
    waited, successes = False, []
    previous: Observation | None = None
    drift: list[tuple[int, int]] = []
    refused: Observation | None = None
    while ctx.sent < ctx.budget:
        observation = ask("fill")
        if observation.status == 429 and control is None and not waited and \
                (previous is None or figures_before > limit * settings.tolerance):
            # The window was partly spent before this run (no reset on Azure): measure the next one whole.
            waited, consumed, figures_before, previous, drift, successes = True, 0, 0, None, [], []
            ctx.wait(observation.retry_after if observation.retry_after is not None else 60.0)
            continue
        if observation.status != 200:
            refused = observation
            break
        successes.append(observation)
        if observation.cache_hit:
            return inconclusive(ctx.scenario, "a token-limit request was answered from the semantic cache despite "
                                              "its nonce; raise prompt diversity in validations/token-limit.yaml")
        used = _used(observation)
        if _window_rolled(previous, observation):
            consumed, drift = 0, []  # a new minute began (no clock control on Azure): count afresh
        if control is None and previous is None and observation.remaining_tokens is not None:
            # Without a reset the window may be partly spent already: start from what the header says was left.
            before = max(0, limit - observation.remaining_tokens - used)
            consumed, figures_before = before, before
        consumed, largest = consumed + used, max(largest, used)
        if previous is not None and previous.remaining_tokens is not None and observation.remaining_tokens is not None \
                and consumed > used:
            drift.append((previous.remaining_tokens - observation.remaining_tokens, used))
        previous = observation
        if consumed > limit * (1 + settings.tolerance) + largest:
            break
    allowance = limit * settings.tolerance + largest
    figures = {"limit": limit, "consumed_before_refusal": consumed, "allowance": round(allowance),
               "first_refusal": refused.status if refused else None, "used_before_this_run": figures_before}
    if refused is None:
        outcome = Outcome.FAIL if consumed > limit + allowance else Outcome.INCONCLUSIVE
        checks.append(Check("limit", outcome, f"{consumed} tokens were served with no {refusal}; the "
                            f"{what} is {limit}" + (": the deployed limit is higher or missing"
                                                                     if outcome is Outcome.FAIL else
                                                                     f" (budget of {ctx.budget} requests spent)"),
                            limit, consumed))
    elif refused.status != refusal:
        checks.append(Check("limit", Outcome.INCONCLUSIVE if refused.status in (0, 503) else Outcome.FAIL,
                            f"the first refusal was {refused.status}, not {refusal} ({what}), after {consumed} "
                            "tokens", refusal, refused.status))
    else:
        off = abs(consumed - limit)
        unknown_start = control is None and not rule.remaining_header and consumed < limit - allowance
        checks.append(Check("limit", Outcome.PASS if off <= allowance else
                            Outcome.INCONCLUSIVE if unknown_start else Outcome.FAIL,
                            f"the first {refusal} came after {consumed} tokens; {what} {limit} ± {allowance:.0f} "
                            f"(tolerance {settings.tolerance:.0%} plus one request's {largest} tokens)"
                            + ("" if off <= allowance else
                               ": the window may have been partly used before this run (no remaining-tokens header "
                               "to tell)" if unknown_start else f": the deployed {what} differs"),
                            limit, consumed))
        # The other key is asked while the first is still refused: after Retry-After a new window has begun, and
        # a counter shared by every key would no longer show.
        isolation = _isolation(ctx, ask, rule.remaining_header) if per_key else None
        if refusal == 429:
            checks.append(_retry_after(ctx, refused, ask))
        if isolation is not None:
            checks.append(isolation)
    if rule.remaining_header and not quota_first:
        checks.append(_remaining_header(rule.remaining_header, drift, successes, largest, settings.tolerance))
    # A pass says what every check found (combine joins their sentences).
    return combine(ctx.scenario, checks, expected={"limit": limit, "kind": what, "refusal": refusal,
                                                   "counter_key": rule.counter_key, "tolerance": settings.tolerance},
                   observed=figures, requests=ctx.sent)


def _remaining_header(header: str, drift: list[tuple[int, int]], successes: list[Observation], largest: int,
                      tolerance: float) -> Check:
    """The header falls with every call, and over the run by what the calls used (within the tolerance plus one
    call: a gateway may settle a call's completion tokens after writing its header)."""
    if any(o.remaining_tokens is None for o in successes):
        return Check("remaining-header", Outcome.FAIL, f"a 200 came without {header}", "present")
    if not drift:
        return Check("remaining-header", Outcome.INCONCLUSIVE,
                     "fewer than two calls were served, so the header's decrease was not seen")
    rising = [d for d, _ in drift if d <= 0]
    fell, used = sum(d for d, _ in drift), sum(u for _, u in drift)
    allowance = tolerance * used + largest
    if rising:
        return Check("remaining-header", Outcome.FAIL, f"{header} did not fall after a served call ({rising[0]:+d})",
                     "decreasing", rising[0])
    if abs(fell - used) > allowance:
        return Check("remaining-header", Outcome.FAIL, f"{header} fell by {fell} over {len(drift)} calls that used "
                     f"{used} tokens (allowed ± {allowance:.0f})", used, fell)
    return Check("remaining-header", Outcome.PASS, f"{header} fell with every call, by {fell} over {len(drift)} calls "
                 f"that used {used} tokens", used, fell)


def _retry_after(ctx: Context, refused: Observation, ask: Callable[..., Observation]) -> Check:
    if refused.retry_after is None or refused.retry_after <= 0:
        return Check("retry-after", Outcome.FAIL, "the 429 carried no Retry-After header", "present")
    ctx.wait(refused.retry_after)
    after = ask("after-retry-after")
    ok = after.status == 200
    return Check("retry-after", Outcome.PASS if ok else Outcome.FAIL,
                 f"Retry-After {refused.retry_after:g} s was honoured: the next call after it got {after.status}"
                 if ok else f"after waiting Retry-After {refused.retry_after:g} s the call still got {after.status}",
                 200, after.status)


def _isolation(ctx: Context, ask: Callable[..., Observation], header: str | None) -> Check:
    """Counter isolation, on a second subscription (created on the emulator, or TOOLKIT_VALIDATE_SECOND_KEY)."""
    other = ctx.target.other_key(f"toolkit-validate-tokens-other-{ctx.rng.randrange(10**6)}")
    if other is None:
        return Check("per-key", Outcome.INCONCLUSIVE, "counter isolation needs a second subscription: "
                     "set TOOLKIT_VALIDATE_SECOND_KEY to another subscription's key")
    return _isolation_and_stream(ctx, ask, other, header)


def _isolation_and_stream(ctx: Context, ask: Callable[..., Observation], other: str, header: str | None) -> Check:
    """A second key is not limited by the first key's usage; a streamed call on it is counted."""
    first = ask("per-key", other)
    if first.status != 200:
        return Check("per-key", Outcome.FAIL, f"a second subscription got {first.status} while only the first had "
                     "used its tokens: the counter is not per counter-key as configured", 200, first.status)
    if not ctx.settings.stream or header is None or first.remaining_tokens is None:
        return Check("per-key", Outcome.PASS, "a second subscription was served while the first was limited")
    streamed = ask("per-key-stream", other, stream=True)
    follow = ask("per-key-after-stream", other)
    if follow.remaining_tokens is None or streamed.status != 200 or follow.status != 200:
        return Check("per-key", Outcome.INCONCLUSIVE, f"the streamed call got {streamed.status} and the next "
                     f"{follow.status}: streaming was not measured")
    spent = _used(streamed) + _used(follow)
    fell = first.remaining_tokens - follow.remaining_tokens
    ok = abs(fell - spent) <= max(2, 0.05 * spent)
    return Check("per-key", Outcome.PASS if ok else Outcome.FAIL,
                 "a second subscription was served while the first was limited, and its streamed call was counted"
                 if ok else f"{header} fell by {fell} over a streamed call and a plain one that used {spent} tokens: "
                 "streamed calls are not counted", spent, fell)
