"""Fault-injection steps shared by circuit-breaker and priority-failover (emulator control API only)."""

from __future__ import annotations

import math

from toolkit.validate.context import Context

# Chance that a healthy member receives none of the probes purely by luck; sets the probe count.
MISS_CHANCE = 1e-4


def needs_control(ctx: Context) -> str | None:
    if ctx.target.control is None:
        return (f"{ctx.scenario} needs a backend to fail on demand: the emulator's control API does that; on Azure "
                "there is no fault injection (priority-failover can burn quota with --allow-quota-burn)")
    return None


def probe_count(share: float, minimum: int) -> int:
    """Probes so that a member with ``share`` of traffic is seen at least once with chance 1 - MISS_CHANCE."""
    if share <= 0:
        return minimum
    if share >= 1:
        return max(1, minimum)
    return max(minimum, math.ceil(math.log(MISS_CHANCE) / math.log(1 - share)))


def drain(ctx: Context, backends: list[str], phase: str, cap: int) -> bool:
    """Send requests until the faults queued on ``backends`` are consumed; False if ``cap`` ran out."""
    control = ctx.target.control
    assert control is not None
    for _ in range(cap):
        states = control.backends()
        if all(not states.get(name, {}).get("pending_faults") for name in backends):
            return True
        ctx.ask_unique(phase)
    states = control.backends()
    return all(not states.get(name, {}).get("pending_faults") for name in backends)


def served(ctx: Context, phase: str, probes: int) -> dict[str, int]:
    """Send ``probes`` requests that reach a backend; how many each backend served ("status N" for errors).
    Cache hits replay a stored answer and its region header, so they say nothing about routing: resent."""
    counts: dict[str, int] = {}
    sent = 0
    while sum(counts.values()) < probes and sent < 3 * probes:
        sent += 1
        observation = ctx.ask_unique(phase)
        if observation.cache_hit:
            continue
        name = observation.backend if observation.ok else f"status {observation.status}"
        counts[str(name)] = counts.get(str(name), 0) + 1
    return counts
