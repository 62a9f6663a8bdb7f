"""Emulator memory under load: RSS after 1,000 requests against RSS after 100,000 (goal: within 50 MB).

Traffic goes through the gateway (pool + breaker + retry + token limit) from a load generator in this
process; the emulator runs in its own process, whose RSS is read from /proc. The same-run baseline is the
RSS after the first 1,000 requests (warm: imports, pools, buffers), so the difference is growth under load.
Run: python benchmarks/gateway_memory.py [--requests 100000] [--connections 16]
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from _load import EmulatorProcess, throughput

GOAL_MIB = 50.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    with EmulatorProcess() as emulator:
        urls, headers = emulator.endpoints, {"api-key": emulator.endpoints["key"]}
        start_rss = emulator.rss_mib()
        asyncio.run(throughput(urls["gateway"], headers, connections=args.connections, seconds=3600, max_requests=1000))
        warm_rss = emulator.rss_mib()
        sent, errors, checkpoints = 1000, 0, []
        while sent < args.requests:
            batch = min(20_000, args.requests - sent)
            rps, done, failed = asyncio.run(throughput(urls["gateway"], headers, connections=args.connections,
                                                       seconds=3600, max_requests=batch))
            sent += done
            errors += failed
            checkpoints.append((sent, emulator.rss_mib(), rps))
    print(f"emulator RSS at start          {start_rss:8.1f} MiB")
    print(f"after 1,000 requests (baseline) {warm_rss:8.1f} MiB")
    for count, rss, rps in checkpoints:
        print(f"after {count:>7,} requests        {rss:8.1f} MiB  (+{rss - warm_rss:.1f} MiB, {rps:.0f} req/s)")
    growth = checkpoints[-1][1] - warm_rss
    ok = growth <= GOAL_MIB and errors == 0
    print(f"{'PASS' if ok else 'FAIL'}: RSS grew {growth:.1f} MiB from 1,000 to {sent:,} requests "
          f"(goal <= {GOAL_MIB:.0f} MB), {errors} non-200 answers")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
