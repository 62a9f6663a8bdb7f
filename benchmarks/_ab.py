"""A/B measurement shared by the benchmarks: variants timed in alternating rounds, summarised as min/median/max.

Timing one variant after the other lets a change in the machine's load (another process, a CPU frequency
step) fall on one side only; alternating them round by round spreads it over both.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def alternate(variants: dict[str, Callable[[], object]], rounds: int) -> dict[str, list[float]]:
    """Wall seconds of each variant, run once per round in an order that flips every round."""
    samples: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    for round_index in range(rounds):
        for name in names if round_index % 2 == 0 else reversed(names):
            start = time.perf_counter()
            variants[name]()
            samples[name].append(time.perf_counter() - start)
    return samples


def spread_ms(samples_s: list[float]) -> str:
    """'min / median / max' in milliseconds."""
    ms = [s * 1000 for s in samples_s]
    return f"{min(ms):7.1f} / {statistics.median(ms):7.1f} / {max(ms):7.1f}"


def median_ms(samples_s: list[float]) -> float:
    return statistics.median(samples_s) * 1000
