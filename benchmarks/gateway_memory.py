"""Emulator memory under load, semantic cache on: RSS after the warm-up against RSS after 100,000 requests
(goal: within 50 MB).

Traffic goes through the gateway (semantic cache + pool + breaker + retry + token limit) from a load generator
in this process; the simulated backends (chat and embeddings) and the emulator each run in their own process,
and the emulator's RSS is read from /proc. Every request asks a different question, so every one is a cache
miss that is stored; entries expire after --cache-seconds, so the cache holds only the last few seconds of
them: the part that grows is in the run and must stay bounded. The same-run baseline is the RSS after the
first 1,000 requests (warm: imports, pools, buffers, a full cache window), so the difference is growth under
load. Each miss costs an embedding (in the backends' process), so the full run is long: progress is printed
at every checkpoint; --requests shortens it.
Run: python benchmarks/gateway_memory.py [--requests 100000] [--connections 16] [--cache-seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from _load import EmulatorProcess, question, throughput

GOAL_MIB = 50.0
WARM_REQUESTS = 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--cache-seconds", type=int, default=5, help="how long a cache entry lives")
    parser.add_argument("--checkpoint", type=int, default=10_000, help="requests between RSS readings")
    args = parser.parse_args()
    if args.requests <= WARM_REQUESTS:
        parser.error(f"--requests must be more than the {WARM_REQUESTS} warm-up requests")
    started = time.perf_counter()
    with EmulatorProcess(cache_seconds=args.cache_seconds) as emulator:
        urls, headers = emulator.endpoints, {"api-key": emulator.endpoints["key"]}
        start_rss = emulator.rss_mib()
        sent = 0

        def run(count: int) -> tuple[float, int, int]:
            nonlocal sent
            offset = sent
            result = asyncio.run(throughput(urls["gateway"], headers, connections=args.connections, seconds=1e9,
                                            max_requests=count, body=lambda n: question(offset + n)))
            sent += result[1]
            return result

        _, _, errors = run(WARM_REQUESTS)
        warm_rss = emulator.rss_mib()
        print(f"emulator RSS at start {start_rss:.1f} MiB; after {sent:,} warm-up requests {warm_rss:.1f} MiB "
              f"(baseline; cache entries live {args.cache_seconds} s)", flush=True)
        checkpoints = []
        while sent < args.requests:
            rps, _, failed = run(min(args.checkpoint, args.requests - sent))
            errors += failed
            rss = emulator.rss_mib()
            checkpoints.append(rss)
            print(f"after {sent:>7,} requests  RSS {rss:8.1f} MiB  (+{rss - warm_rss:5.1f} MiB)  {rps:6.0f} req/s  "
                  f"{failed} failed  [{time.perf_counter() - started:5.0f} s]", flush=True)
    growth = checkpoints[-1] - warm_rss
    peak = max(checkpoints) - warm_rss
    ok = growth <= GOAL_MIB and peak <= GOAL_MIB and errors == 0
    print(f"{'PASS' if ok else 'FAIL'}: RSS grew {growth:.1f} MiB (peak +{peak:.1f}) from {WARM_REQUESTS:,} to "
          f"{sent:,} requests with the semantic cache on (goal <= {GOAL_MIB:.0f} MB), {errors} failed requests")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
