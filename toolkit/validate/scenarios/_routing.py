"""Preconditions and the verdict of a shares run, shared by load-balancing and priority-failover."""

from __future__ import annotations

from toolkit.validate.context import Context
from toolkit.validate.shares import SharesResult, describe_share, percent
from toolkit.validate.stats import Decision
from toolkit.validate.verdict import Check, Outcome


def routing_precondition(ctx: Context) -> str | None:
    """Why routing cannot be judged on this target (None: it can)."""
    expect = ctx.expect
    if not expect.members:
        return f"the API {expect.api!r} sends to no backend in {expect.source}: nothing to route"
    if expect.pool is None:
        return f"the API {expect.api!r} uses the single backend {expect.members[0].backend}: there is no pool to check"
    ambiguous = ctx.caller.ambiguous_regions()
    if ambiguous:
        region, names = next(iter(ambiguous.items()))
        return (f"the region header cannot tell {' and '.join(names)} apart (both are {region!r}): give each "
                "backend its own region in toolkit.yaml or set backend_header")
    missing = [m.backend for m in expect.members if not m.region]
    if missing:
        return f"{', '.join(missing)} has no region in toolkit.yaml, so responses cannot be attributed to it"
    return None


def shares_checks(ctx: Context, result: SharesResult, context_text: str) -> list[Check]:
    """One check per member, with the sentence for the decisive one."""
    confidence = 1 - ctx.settings.alpha
    tolerance = ctx.settings.tolerance
    checks: list[Check] = []
    if result.decision is Decision.UNDECIDED and (result.routed == 0 or result.too_unrouted):
        codes = ", ".join(f"{k}: {v}" for k, v in result.statuses.items())
        regions = ", ".join(result.unknown_regions) or "none"
        return [Check("routing", Outcome.INCONCLUSIVE,
                      f"{result.unrouted} of {result.sent} responses named no pool member (statuses {codes}; "
                      f"unknown {ctx.settings.backend_header} values: {regions}; {result.cache_hits} cache hits); fix the target or the regions "
                      "in toolkit.yaml and run again", observed=result.figures())]
    throttled = sum(v for k, v in result.statuses.items() if k in (429, 503))
    # Members that should get nothing first: "westus took 31% while priority 1 was healthy" is the headline.
    for j in sorted(result.judgements, key=lambda j: j.expected != 0):
        text = describe_share(j, confidence)
        if j.decision is Decision.OUTSIDE:
            if j.expected == 0:
                sentence = f"{j.name} took {percent(j.share)} of traffic {context_text}; expected 0%"
                if throttled:
                    checks.append(Check(j.name, Outcome.INCONCLUSIVE,
                                        f"{sentence}, but {throttled} responses were 429/503, which legitimately "
                                        "moves traffic down the priorities: rerun when the target is not throttled",
                                        j.expected, round(j.share, 4)))
                    continue
            else:
                sentence = (f"{text} ± {percent(tolerance)} {context_text}: check the pool's weights and "
                            "priorities as deployed")
            checks.append(Check(j.name, Outcome.FAIL, sentence, j.expected, round(j.share, 4)))
        elif j.decision is Decision.INSIDE:
            checks.append(Check(j.name, Outcome.PASS, f"{text} ± {percent(tolerance)}", j.expected, round(j.share, 4)))
        else:
            checks.append(Check(j.name, Outcome.INCONCLUSIVE,
                                f"{text} ± {percent(tolerance)}: not decided within the budget of {result.budget} "
                                "requests; raise max_requests or the tolerance", j.expected, round(j.share, 4)))
    return checks
