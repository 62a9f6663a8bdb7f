"""Gateway overhead: the same chat requests through the emulator's gateway (pool + breaker + retry + token limit),
through a plain nginx reverse-proxy hop, and straight to the simulated backends, measured in the same run.

The simulated backends (zero latency), the emulator and nginx each run in their own process; the load generator
is this process. The paths are timed in A/B rounds whose order flips every round, and every failed request
(non-200 or broken connection) is counted on every path. The machine may be shared: figures are min / median /
max over the rounds, and the goals are judged on the medians.

Goals: the gateway adds p50 <= 0.5 ms at concurrency 1 (sequential requests on one keep-alive connection), and
at concurrency 32 it reaches >= 0.5x the throughput of the nginx hop.

Also printed: the CPU time per request of the hop's process (the gateway's, nginx's) and of the backends' process
during the concurrency rounds, from /proc: it counts what each process did, not the time it waited for a core,
so it moves much less than requests/s when the machine is busy.
--policy full runs toolkit.yaml's whole policy instead of the bench policy (pool + breaker + retry + token limit +
backend auth): validate-jwt too (a bearer token from the emulator's issuer) and the semantic cache, every request
asking a new question on every path (so each one is a cache miss: an embeddings call, a lookup, the chat call and a
store). The embedding is computed in the backends' process: their CPU per request shows it.
Run: python benchmarks/gateway_overhead.py [--rounds 5] [--requests 400] [--seconds 3] [--connections 32]
     [--policy bench|full]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import shlex
import statistics
import sys

from _load import (CHAT_BACKENDS, CHAT_PATH, EmulatorProcess, alternated, counted_latencies, cpu_seconds, question,
                   sequential_latencies, throughput)
from _nginx import NginxProxy

GOAL_ADDED_P50_MS = 0.5
GOAL_RPS_RATIO = 0.5


def _spread(values: list[float], unit: str = "", digits: int = 3) -> str:
    return f"{min(values):.{digits}f} / {statistics.median(values):.{digits}f} / {max(values):.{digits}f}{unit}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=400, help="sequential requests per path and round")
    parser.add_argument("--seconds", type=float, default=3.0, help="throughput time per path and round")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--policy", choices=("bench", "full"), default="bench",
                        help="bench: pool, breaker, retry, token limit, backend auth; full: toolkit.yaml's whole policy")
    args = parser.parse_args()
    full = args.policy == "full"
    load_before = os.getloadavg()[0]  # other processes' load: the figures below move with it
    questions = itertools.count()
    body = (lambda _: question(next(questions))) if full else None  # full: a new question every request
    with EmulatorProcess(full_policy=full) as emulator:
        urls = emulator.endpoints
        members = [urls["backends"][name] for name in CHAT_BACKENDS[:2]]  # the pool's priority-1 members
        gateway_headers = {"api-key": urls["key"], **({"Authorization": f"Bearer {urls['token']}"} if full else {})}
        with NginxProxy(members, urls["direct_key"]) as nginx:
            paths = {
                "direct": (urls["direct"], {"api-key": urls["direct_key"]}),
                "nginx": (nginx.url(CHAT_PATH), {}),
                "gateway": (urls["gateway"], gateway_headers),
            }
            hop_pid = {"direct": None, "nginx": nginx.process.pid, "gateway": emulator.gateway.info["pid"]}
            backends_pid = emulator.backends.info["pid"]
            for url, headers in paths.values():  # warm up every path
                asyncio.run(sequential_latencies(url, headers, 200))  # a failure here raises

            def sequential(url: str, headers: dict[str, str]) -> tuple[float, int]:
                samples, errors = asyncio.run(counted_latencies(url, headers, args.requests, body))
                return (statistics.median(samples) if samples else float("nan")), errors

            def concurrent(name: str) -> tuple[float, int, float, float]:
                """(requests/s, failed requests, CPU µs per request of the hop's process, of the backends')."""
                pids = [hop_pid[name], backends_pid]
                before = [cpu_seconds(pid) if pid else 0.0 for pid in pids]
                rps, done, errors = asyncio.run(throughput(*paths[name], connections=args.connections,
                                                           seconds=args.seconds, body=body))
                hop, backends = ((cpu_seconds(pid) - start if pid else 0.0) * 1e6 / max(done, 1)
                                 for pid, start in zip(pids, before, strict=True))
                return rps, errors, hop, backends

            p50 = alternated({name: (lambda p=path: sequential(*p)) for name, path in paths.items()}, args.rounds)
            rps = alternated({name: (lambda n=name: concurrent(n)) for name in paths}, args.rounds)

    errors = {name: sum(e for _, e in p50[name]) + sum(r[1] for r in rps[name]) for name in paths}
    added = [g - d for (g, _), (d, _) in zip(p50["gateway"], p50["direct"], strict=True)]
    nginx_added = [n - d for (n, _), (d, _) in zip(p50["nginx"], p50["direct"], strict=True)]
    ratio = [g[0] / n[0] for g, n in zip(rps["gateway"], rps["nginx"], strict=True)]
    print("command: " + shlex.join([sys.executable, *sys.argv]))
    print(f"machine: {os.cpu_count()} CPUs, load average {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end")
    print(f"policy: {'toolkit.yaml, whole (new question every request)' if full else 'bench'}; "
          f"{args.rounds} alternated rounds; figures are min / median / max over the rounds (shared machine)")
    print(f"concurrency 1: p50 of {args.requests} sequential requests on one keep-alive connection (ms)")
    for name in paths:
        print(f"  {name:8} {_spread([v for v, _ in p50[name]])}")
    print(f"  added by the gateway {_spread(added)}   (by nginx {_spread(nginx_added)})")
    print(f"concurrency {args.connections}: requests/s over {args.seconds:.0f} s")
    for name in paths:
        print(f"  {name:8} {_spread([r[0] for r in rps[name]], digits=0)}")
    print(f"  gateway / nginx      {_spread(ratio, 'x', 2)}")
    print(f"concurrency {args.connections}: CPU time per request (µs, user + system, from /proc)")
    for name in paths:
        hop = "" if name == "direct" else f"{name} process {_spread([r[2] for r in rps[name]], digits=0)}   "
        print(f"  {name:8} {hop}backends process {_spread([r[3] for r in rps[name]], digits=0)}")
    print("failed requests (non-200 or broken connection): " + ", ".join(f"{n} {e}" for n, e in errors.items()))
    added_ok = statistics.median(added) <= GOAL_ADDED_P50_MS
    ratio_ok = statistics.median(ratio) >= GOAL_RPS_RATIO
    clean = not any(errors.values())
    print(f"{'PASS' if added_ok else 'FAIL'}: the gateway adds {statistics.median(added):.3f} ms p50 at concurrency 1 "
          f"(goal <= {GOAL_ADDED_P50_MS} ms)")
    print(f"{'PASS' if ratio_ok else 'FAIL'}: gateway throughput {statistics.median(ratio):.2f}x nginx's at concurrency "
          f"{args.connections} (goal >= {GOAL_RPS_RATIO}x)")
    print(f"{'PASS' if clean else 'FAIL'}: no failed requests on any path")
    return 0 if added_ok and ratio_ok and clean else 1


if __name__ == "__main__":
    sys.exit(main())
