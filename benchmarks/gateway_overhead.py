"""Gateway overhead: the same chat requests through the emulator's gateway (pool + breaker + retry + token
limit) and straight to the simulated backend (zero simulated latency), measured in the same run.

Goals: p50 overhead <= 1 ms (sequential requests on one keep-alive connection), and >= 1,000 requests/s
through the gateway on this 2-core machine with the load generator beside it (a separate process).
Run: python benchmarks/gateway_overhead.py [--requests 2000] [--seconds 5] [--connections 16]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys

from _load import EmulatorProcess, sequential_latencies, throughput

GOAL_OVERHEAD_MS = 1.0
GOAL_RPS = 1000.0


def _pct(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100)[int(q) - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    with EmulatorProcess() as emulator:
        urls = emulator.endpoints
        via = {"api-key": urls["key"]}
        asyncio.run(sequential_latencies(urls["gateway"], via, 200))  # warm up both paths
        asyncio.run(sequential_latencies(urls["direct"], {"api-key": urls["direct_key"]}, 200))
        direct = asyncio.run(sequential_latencies(urls["direct"], {"api-key": urls["direct_key"]}, args.requests))
        gateway = asyncio.run(sequential_latencies(urls["gateway"], via, args.requests))
        direct_rps, direct_n, _ = asyncio.run(throughput(urls["direct"], {"api-key": urls["direct_key"]}, connections=args.connections,
                                                        seconds=args.seconds))
        rps, done, errors = asyncio.run(throughput(urls["gateway"], via, connections=args.connections,
                                                   seconds=args.seconds))
    overhead = statistics.median(gateway) - statistics.median(direct)
    print(f"sequential, {args.requests} requests each, one keep-alive connection:")
    print(f"  direct to the simulated backend  p50 {statistics.median(direct):6.3f} ms  p99 {_pct(direct, 99):6.3f} ms")
    print(f"  through the gateway              p50 {statistics.median(gateway):6.3f} ms  p99 {_pct(gateway, 99):6.3f} ms")
    print(f"  overhead                         p50 {overhead:6.3f} ms")
    print(f"throughput, {args.connections} connections for {args.seconds:.0f} s (load generator in its own process):")
    print(f"  direct to the simulated backend  {direct_rps:8.0f} req/s ({direct_n} requests)")
    print(f"  through the gateway              {rps:8.0f} req/s ({done} requests, {errors} non-200)")
    ok = overhead <= GOAL_OVERHEAD_MS and rps >= GOAL_RPS and errors == 0
    print(f"{'PASS' if ok else 'FAIL'}: p50 overhead {overhead:.3f} ms (goal <= {GOAL_OVERHEAD_MS} ms), "
          f"{rps:.0f} req/s (goal >= {GOAL_RPS:.0f}), {errors} errors")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
