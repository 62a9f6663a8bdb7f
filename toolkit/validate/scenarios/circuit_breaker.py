"""circuit-breaker: one backend fails with a status its rule counts. When the API's retry covers that status, the
failures never reach the client; failures with a status the rule does not count never trip it; below the rule's
count the backend keeps serving; at the count it stops receiving traffic (earlier is a fail too); it stays out
for tripDuration (or Retry-After with acceptRetryAfter) and comes back; with every member out the pool answers
503, and recovers."""

from __future__ import annotations

from dataclasses import replace

from toolkit.validate.context import Context
from toolkit.validate.expectations import Breaker, expected_shares
from toolkit.validate.observations import Observation
from toolkit.validate.scenarios._faults import drain, needs_control, probe_count, served
from toolkit.validate.scenarios._routing import routing_precondition
from toolkit.validate.verdict import Check, Outcome, Verdict, combine, inconclusive

RETRY_AFTER_S = 10.0  # what the failing backend announces when the rule accepts Retry-After
UNCOUNTED_STATUSES = (500, 502, 504, 503, 429, 408, 400)  # tried in turn for a status the rule does not count


def run(ctx: Context) -> Verdict:
    reason = needs_control(ctx) or routing_precondition(ctx)
    if reason:
        return inconclusive(ctx.scenario, reason)
    expect = ctx.expect
    shares = expected_shares(expect.members)
    candidates = [m.backend for m in expect.members if shares[m.backend] > 0]
    name = candidates[0]
    rule = expect.breakers.get(name)
    if rule is None:
        return inconclusive(ctx.scenario, f"{expect.source} gives {name} no circuit breaker: nothing to check")
    count = rule.count
    if count is None:
        return inconclusive(ctx.scenario, f"{name}'s rule trips on a percentage ({rule.percentage}%); only count "
                                          "rules are measured")
    status = rule.failing_status
    probes = probe_count(shares[name], ctx.settings.probes_while_open)
    control = ctx.target.control
    assert control is not None
    checks: list[Check] = []
    cap = 20 * (count + ctx.settings.in_flight) + 20
    what = f"{name} ({rule.describe()}, status {status})"

    retried = _retry(ctx, name, count, status, cap)
    if retried is not None:
        checks.append(retried)

    uncounted = _not_counted(ctx, name, rule, count, cap, probes)
    if uncounted is not None:
        checks.append(uncounted)

    # Below the threshold: it must keep serving.
    if count > 1:
        control.reset()
        control.fail(name, status, count - 1)
        left = drain(ctx, [name], "below-count", cap)
        if left == count - 1:
            return inconclusive(ctx.scenario, f"{name} never received its {count - 1} queued failures")
        if left:  # it took some failures, then no more traffic: the breaker tripped below the rule's count
            checks.append(_tripped_early(name, rule, count - 1 - left, "below-count"))
        else:
            got = served(ctx, "below-count", probes).get(name, 0)
            checks.append(Check("below-count", Outcome.PASS if got else Outcome.FAIL,
                                f"after {count - 1} failures {name} still served {got} of {probes} requests" if got
                                else f"{name} stopped receiving traffic after only {count - 1} failures; its "
                                f"rule trips at {count}: the deployed breaker count is lower", ">0", got))

    # At the threshold: it must stop receiving traffic.
    announced = RETRY_AFTER_S if rule.accept_retry_after else None
    out_for = announced if announced is not None else rule.trip_s
    control.reset()
    queued = count + ctx.settings.in_flight
    control.fail(name, status, queued, retry_after=announced)
    left = drain(ctx, [name], "at-count", cap)
    taken = queued - left
    if taken == 0:
        return inconclusive(ctx.scenario, f"{name} never received its {count} queued failures")
    if taken < count:
        checks.append(_tripped_early(name, rule, taken, "trips"))
    else:
        opened = control.now()  # the trip happened during the last failure it took, just before this
        got = served(ctx, "open", probes).get(name, 0)
        checks.append(Check("trips", Outcome.PASS if got == 0 else Outcome.FAIL,
                            f"after {count} failures {name} received no traffic ({probes} probes)" if got == 0 else
                            f"{name} kept receiving traffic ({got} of {probes} requests) after {count} failures "
                            f"(+{ctx.settings.in_flight} in flight); its rule says {rule.describe()}: the deployed "
                            "breaker is missing or trips later", 0, got))
        if got == 0:
            checks.append(_duration(ctx, name, opened, out_for, probes, rule))
    checks.extend(_whole_pool(ctx, status))
    verdict = combine(ctx.scenario, checks, expected={"backend": name, "count": count, "interval_s": rule.interval_s,
                                                      "trip_s": rule.trip_s, "status": status,
                                                      "accept_retry_after": rule.accept_retry_after,
                                                      "retry_count": expect.retry_count,
                                                      "retry_statuses": list(expect.retry_statuses)},
                      observed={c.name: c.observed for c in checks}, requests=ctx.sent)
    if verdict.passed:
        verdict = replace(verdict, sentence=f"{what}: " + "; ".join(c.sentence for c in checks))
    return verdict


def _retry(ctx: Context, name: str, count: int, status: int, cap: int) -> Check | None:
    """The retry policy keeps a failure it covers from the client: ``status`` queued on one member as many times as
    the retry count allows at most (and fewer than trip its breaker), so every request has an attempt left that a
    healthy member answers. None when the retry does not cover ``status`` (nothing to check)."""
    expect, control = ctx.expect, ctx.target.control
    assert control is not None
    if status not in expect.retry_statuses or expect.retry_count < 1:
        return None
    failures = max(1, min(expect.retry_count, count - 1))
    control.reset()
    control.fail(name, status, failures)
    seen: list[Observation] = []
    if drain(ctx, [name], "retry", cap, seen) == failures:
        return Check("retry", Outcome.INCONCLUSIVE, f"{name} never received its {failures} queued failures")
    reached = sum(1 for observation in seen if observation.status == status)
    covered = f"the retry policy retries {', '.join(map(str, expect.retry_statuses))} up to {expect.retry_count} times"
    if reached:
        return Check("retry", Outcome.FAIL, f"{reached} of {len(seen)} requests answered {status} to the client while "
                     f"{name} failed {failures} time(s) with it; {covered}: the deployed retry is missing or does not "
                     f"cover {status}", 0, reached)
    return Check("retry", Outcome.PASS, f"{name}'s {failures} failure(s) with {status} never reached the client "
                 f"({covered})", 0, 0)


def _not_counted(ctx: Context, name: str, rule: Breaker, count: int, cap: int, probes: int) -> Check | None:
    """A status the rule does not count never trips it: the rule's count of such failures, then the backend still
    serves. None when the rule counts every status tried."""
    control = ctx.target.control
    assert control is not None
    status = next((s for s in UNCOUNTED_STATUSES if not rule.counts(s)), None)
    if status is None:
        return None
    counted = ", ".join(f"{low}-{high}" if low != high else str(low) for low, high in rule.status_ranges)
    queued = count + ctx.settings.in_flight
    control.reset()
    control.fail(name, status, queued)
    left = drain(ctx, [name], "not-counted", cap)
    if left == queued:
        return Check("not-counted", Outcome.INCONCLUSIVE, f"{name} never received its {queued} queued failures")
    got = None if left else served(ctx, "not-counted", probes).get(name)
    if not got:
        return Check("not-counted", Outcome.FAIL, f"{name} stopped receiving traffic after {queued - left} failures "
                     f"with {status}, which its rule does not count (it counts {counted}): the deployed rule counts "
                     "more statuses", "serving", 0)
    return Check("not-counted", Outcome.PASS, f"{count} failures with {status} (not counted by its rule) did not "
                 f"trip it: {name} still served {got} of {probes} requests", ">0", got)


def _tripped_early(name: str, rule: Breaker, taken: int, check: str) -> Check:
    """The backend took ``taken`` of its queued failures, fewer than the rule's count, then got no more traffic."""
    return Check(check, Outcome.FAIL, f"{name} stopped receiving traffic after only {taken} failures; its rule trips "
                 f"at {rule.count}: the deployed breaker count is lower", rule.count, taken)


def _duration(ctx: Context, name: str, opened: float, out_for: float, probes: int, rule: Breaker) -> Check:
    """Still out just before the trip ends, back just after: the emulator's clock is advanced to those moments,
    and every early probe is timed on that clock, so slow requests cannot blur the measurement."""
    control = ctx.target.control
    assert control is not None
    tolerance = max(ctx.settings.timing_tolerance_s, 0.5)
    source = "Retry-After" if rule.accept_retry_after else "tripDuration"
    control.advance(max(0.0, opened + out_for - tolerance - control.now()))
    early_probes = 0
    for _ in range(probes):
        moment = control.now()
        if moment >= opened + out_for - 0.05:
            break  # the rest would land after the trip's end: they prove nothing about an early return
        early_probes += 1
        observation = ctx.ask_unique("before-trip-end")
        if observation.ok and observation.backend == name and not observation.cache_hit:
            return Check("duration", Outcome.FAIL, f"{name} was already back {moment - opened:.1f} s after it "
                         f"tripped (the first probe, {tolerance:g} s before its {source} of {out_for:g} s ended): the "
                         "deployed trip duration is shorter", out_for, f"< {moment - opened:.1f}")
    if early_probes == 0:
        return Check("duration", Outcome.INCONCLUSIVE, f"requests were too slow to probe {name} within {tolerance:g} s "
                     f"before its {source} ended; raise timing_tolerance_s")
    control.advance(max(0.0, opened + out_for + tolerance - control.now()))
    if name not in served(ctx, "after-trip-end", probes):
        return Check("duration", Outcome.FAIL, f"{name} was still out {out_for + tolerance:g} s after it tripped; "
                     f"{source} is {out_for:g} s: the deployed trip duration is longer", out_for,
                     f"> {out_for + tolerance:g}")
    return Check("duration", Outcome.PASS, f"it stayed out {out_for:g} ± {tolerance:g} s ({source}, timed on the "
                 f"emulator's clock; {early_probes} probes before the end) and came back", out_for, out_for)


def _whole_pool(ctx: Context, status: int) -> list[Check]:
    """Every member failing: the pool answers 503; after the trips end it serves again."""
    expect, control = ctx.expect, ctx.target.control
    assert control is not None
    members = [m.backend for m in expect.members]
    if any(name not in expect.breakers for name in members):
        return []
    control.reset()
    for name in members:
        control.fail(name, status, 10_000)
    limit = sum((expect.breakers[n].count or 1) for n in members) + 10
    answers = [o.status for o in (ctx.ask_unique("pool-out") for _ in range(limit)) if not o.cache_hit]
    if 503 not in answers:
        return [Check("pool-503", Outcome.FAIL, f"with every member failing, {limit} requests got "
                      f"{sorted(set(answers))} and never 503: the breakers do not take the members out", 503,
                      sorted(set(answers)))]
    for name in members:
        control.heal(name)
    control.advance(max(expect.breakers[n].trip_s for n in members) + 1)
    back = served(ctx, "pool-recovered", 1)
    ok = any(not name.startswith("status") for name in back)
    return [Check("pool-503", Outcome.PASS, "with every member out the pool answered 503", 503, 503),
            Check("recovery", Outcome.PASS if ok else Outcome.FAIL,
                  "after the trip durations it served again" if ok else
                  f"after the trip durations the pool still answered {', '.join(back)}", 200, back)]
