"""load-balancing: every backend healthy, only the top priority group serves, shares match the weights."""

from __future__ import annotations

from dataclasses import replace

from toolkit.validate.context import Context
from toolkit.validate.expectations import expected_shares
from toolkit.validate.scenarios._routing import routing_precondition, shares_checks
from toolkit.validate.shares import sample_shares
from toolkit.validate.verdict import Verdict, combine, inconclusive


def run(ctx: Context) -> Verdict:
    reason = routing_precondition(ctx)
    if reason:
        return inconclusive(ctx.scenario, reason)
    if ctx.target.control is not None:
        ctx.target.control.reset()
    expected = expected_shares(ctx.expect.members)
    top = min(ctx.expect.priorities)
    result = sample_shares(ctx, expected, "healthy")
    checks = shares_checks(ctx, result, f"while the priority-{top} backends were healthy")
    figures = result.figures()
    figures["fit_note"] = "G-test of the top group's counts against its weights (reported, not the verdict)"
    verdict = combine(ctx.scenario, checks, expected={"shares": expected, "tolerance": ctx.settings.tolerance,
                                                      "alpha": ctx.settings.alpha, "source": ctx.expect.source},
                      observed=figures, requests=result.sent)
    if verdict.passed:
        fit = result.fit
        assert fit is not None  # a pass judged routed requests, and those have a fit
        sentence = (f"every share is within ±{ctx.settings.tolerance:.0%} of its weight at "
                    f"{1 - ctx.settings.alpha:.0%} confidence after {result.routed} requests (power budget "
                    f"{result.planned}); G-test p={fit.p_value:.2f}")
        verdict = replace(verdict, sentence=sentence)
    return verdict
