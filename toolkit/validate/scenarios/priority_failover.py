"""priority-failover: with every top-priority member out, the next group serves by its weights; after the
trip duration traffic returns to the top group. Locally the top group fails through the control API; on
Azure a burst with large max_tokens exhausts its deployments' quota (only with --allow-quota-burn)."""

from __future__ import annotations

from dataclasses import replace

from toolkit.validate.context import Context
from toolkit.validate.expectations import group_shares
from toolkit.validate.scenarios._faults import probe_count, served
from toolkit.validate.scenarios._routing import routing_precondition, shares_checks
from toolkit.validate.shares import sample_shares
from toolkit.validate.verdict import Check, Outcome, Verdict, combine, inconclusive

WARM_STREAK = 5  # consecutive requests served by the next group before its shares are sampled


def run(ctx: Context) -> Verdict:
    reason = routing_precondition(ctx)
    expect = ctx.expect
    if reason is None and len(expect.priorities) < 2:
        reason = f"the pool {expect.pool!r} has a single priority group: there is nothing to fail over to"
    if reason:
        return inconclusive(ctx.scenario, reason)
    top, second = expect.priorities[0], expect.priorities[1]
    primaries = [m.backend for m in expect.group(top)]
    unguarded = [name for name in primaries if name not in expect.breakers]
    if unguarded:
        return inconclusive(ctx.scenario, f"{', '.join(unguarded)} has no circuit breaker, so APIM never takes it out "
                                          "of the pool: there is no failover to observe")
    control = ctx.target.control
    if control is None and not ctx.allow_quota_burn:
        return inconclusive(ctx.scenario, "taking the priority-1 group out needs fault injection (emulator) or a quota "
                                          "burst on Azure: pass --allow-quota-burn to spend the deployments' TPM")
    if control is not None:
        control.reset()
        for name in primaries:
            control.fail(name, expect.breakers[name].failing_status, 10_000)
    else:
        _burn(ctx)
    streak, warm_cap = 0, sum(expect.breakers[n].count or 10 for n in primaries) * 5 + 20
    answered: dict[str, int] = {}
    for _ in range(warm_cap):
        observation = ctx.ask_unique("taking-out")
        if observation.cache_hit:
            continue  # a replayed answer (and region header): no routing evidence either way
        who = str(observation.backend) if observation.ok else f"status {observation.status}"
        answered[who] = answered.get(who, 0) + 1
        streak = streak + 1 if observation.ok and observation.backend not in primaries else 0
        if streak >= WARM_STREAK:
            break
    if streak < WARM_STREAK:
        seen = ", ".join(f"{who} {n}" for who, n in sorted(answered.items(), key=lambda item: -item[1]))
        sentence = (f"after {warm_cap} requests the priority-{second} group was still not serving steadily ({seen}): "
                    "the priority-1 members did not leave the pool")
        if control is None:  # a quota burst may simply not have exhausted them
            return inconclusive(ctx.scenario, sentence)
        failing = ", ".join(f"{name} failing with {expect.breakers[name].failing_status}" for name in primaries)
        check = Check("failover", Outcome.FAIL, f"with {failing}, {sentence}: the deployed breakers do not take them "
                      f"out (missing, or not counting that status) or the priority-{second} members are not in the "
                      "pool", f"priority {second} serving", answered)
        return combine(ctx.scenario, [check], expected={"serving_while_out": [m.backend for m in expect.group(second)]},
                       observed={"failover": answered}, requests=ctx.sent)
    expected = {m.backend: 0.0 for m in expect.members}
    expected.update(group_shares(expect.group(second)))
    result = sample_shares(ctx, expected, "failed-over")
    checks = shares_checks(ctx, result, f"while the priority-{top} backends were out")
    checks.append(_recovery(ctx, primaries))
    verdict = combine(ctx.scenario, checks, expected={"shares_while_out": expected, "returns_to": primaries},
                      observed=result.figures(), requests=ctx.sent)
    if verdict.passed:
        verdict = replace(verdict, sentence=f"with priority {top} out, priority {second} served by its weights "
                                            f"(±{ctx.settings.tolerance:.0%}, {result.routed} requests); "
                                            + checks[-1].sentence)
    return verdict


def _recovery(ctx: Context, primaries: list[str]) -> Check:
    """After the longest trip duration, the top group serves everything again."""
    expect, control = ctx.expect, ctx.target.control
    trip = max(expect.breakers[name].trip_s for name in primaries)
    if control is not None:
        for name in primaries:
            control.heal(name)
        control.advance(trip + 1)
    else:
        ctx.sleep(trip + 1)
    probes = probe_count(0.5, ctx.settings.recovery_probes)  # enough to see either half of a two-member group
    counts = served(ctx, "recovered", probes)
    elsewhere = {name: n for name, n in counts.items() if name not in primaries}
    if elsewhere:
        return Check("recovery", Outcome.FAIL, f"{trip:g} s after the trip, {sum(elsewhere.values())} of {probes} "
                     f"requests still went to {', '.join(elsewhere)}: traffic did not return to the top group",
                     primaries, counts)
    return Check("recovery", Outcome.PASS, f"{trip:g} s later all {probes} requests were back on the top group",
                 primaries, counts)


def _burn(ctx: Context) -> None:
    """Azure only: a burst of large requests to exhaust the top group's tokens per minute."""
    for _ in range(ctx.settings.burn_requests):  # refusals are the point here: nothing is waited out
        prompt, prompt_id = ctx.prompt()
        ctx.ask(prompt_id, prompt, phase="quota-burn", max_tokens=ctx.settings.burn_max_tokens)

