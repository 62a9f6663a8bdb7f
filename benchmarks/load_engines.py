"""Requests per second of a soak through Locust (a master and 2 local workers) against the built-in driver
(threads in one process), same users, same gateway, alternated rounds.

The gateway is the emulator in its own process (benchmarks/_load.py: pool + breaker + retry, no JWT, no
semantic cache, no effective token limit, zero-latency backends), so neither driver shares its interpreter.
Locust's start-up (processes, attach) is outside the timed rounds. Every reply is counted, errors included.
Run: python benchmarks/load_engines.py [--users 16] [--seconds 5] [--rounds 3] [--workers 2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    from _load import CHAT, EmulatorProcess

    import json

    from toolkit.validate.engines import SoakPlan
    from toolkit.validate.engines.builtin import BuiltinEngine
    from toolkit.validate.engines.locust_engine import LocustEngine
    from toolkit.validate.load import summarise
    from toolkit.validate.traffic import NONCE_WORDS, Outgoing

    with EmulatorProcess() as emulator:
        endpoints = emulator.endpoints
        outgoing = Outgoing(endpoints["gateway"], {"api-key": endpoints["key"]}, json.loads(CHAT))
        plan = SoakPlan(outgoing, ("What is climate change?", "Why is the sky blue?"), NONCE_WORDS,
                        ("x-ms-region",), args.seconds, args.users)
        engines = {"builtin": BuiltinEngine(), "locust": LocustEngine(users=args.users, workers=args.workers).start()}
        figures: dict[str, list[tuple[float, float, float, int]]] = {name: [] for name in engines}
        try:
            for _ in range(args.rounds):
                for name, engine in engines.items():  # alternated: builtin, locust, builtin, locust...
                    report = summarise(engine.soak(plan), "x-ms-region", {}, engine=name, users=args.users,
                                       workers=args.workers, seconds=args.seconds)
                    total = report.total
                    figures[name].append((total.per_second, total.p50 or 0.0, total.p99 or 0.0,
                                          total.requests - total.ok))
        finally:
            for engine in engines.values():
                engine.close()
    print(f"soak: {args.users} users, {args.seconds:g} s per round, {args.rounds} alternated rounds, "
          f"Locust with {args.workers} local workers")
    print(f"{'engine':<8} {'req/s min':>10} {'median':>8} {'max':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name, rows in figures.items():
        rates = [r[0] for r in rows]
        print(f"{name:<8} {min(rates):>10.0f} {statistics.median(rates):>8.0f} {max(rates):>8.0f} "
              f"{statistics.median(r[1] for r in rows):>8.1f} {statistics.median(r[2] for r in rows):>8.1f} "
              f"{sum(r[3] for r in rows):>7}")
    ratio = statistics.median(r[0] for r in figures["locust"]) / statistics.median(r[0] for r in figures["builtin"])
    print(f"locust / builtin median req/s: {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
