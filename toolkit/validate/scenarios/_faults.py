"""Fault-injection steps shared by circuit-breaker and priority-failover (emulator control API only)."""

from __future__ import annotations

import math

from toolkit.validate.context import Context
from toolkit.validate.observations import Observation

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


def pending(ctx: Context, backends: list[str]) -> int:
    """The faults still queued on ``backends``."""
    control = ctx.target.control
    assert control is not None
    states = control.backends()
    return sum(int(fault.get("remaining", 1)) for name in backends
               for fault in states.get(name, {}).get("pending_faults") or [])


def drain(ctx: Context, backends: list[str], phase: str, cap: int, seen: list[Observation] | None = None) -> int:
    """Send requests until the faults queued on ``backends`` are consumed; the faults still queued when ``cap``
    requests ran out (0: all consumed). A backend that stops receiving traffic leaves its faults queued.
    ``seen``: collects what the client got for each request."""
    for _ in range(cap):
        if not pending(ctx, backends):
            return 0
        observation = ctx.ask_unique(phase)
        if seen is not None:
            seen.append(observation)
    return pending(ctx, backends)


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
