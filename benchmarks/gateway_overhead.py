"""Gateway overhead: the same chat requests through the emulator's gateway (pool + breaker + retry + token limit),
through a plain nginx reverse-proxy hop, and straight to the simulated backends, measured in the same run.

The simulated backends (zero latency), the emulator and nginx each run in their own process; the load generator
is this process. The paths are timed in A/B rounds whose order flips every round, and every failed request
(non-200 or broken connection) is counted on every path. The machine may be shared: figures are min / median /
max over the rounds, and the goals are judged on the medians. Printed with them: the load average and the share of
the CPUs' time the host took from this virtual machine during the run (steal, from /proc/stat).
Why each path's requests of a round run in a row, not interleaved with the other paths' in small blocks (which
would expose every path to the same drift of the machine): tried twice (--policy full, 2026-12-03 and 12-04, three
runs each way alternated on the second day), blocks of 50 requests gave a tighter spread within a run (0.33-0.41
against 0.20-0.63 ms over the rounds) but a higher median added at concurrency 1, 0.36-0.39 against 0.28-0.32 ms:
the other paths' turns leave the gateway's process on cold caches and moved cores, a cost a gateway serving its
own traffic does not pay, so the interleaved figure would overstate it.

Goals: the gateway adds p50 <= 0.5 ms at concurrency 1 (sequential requests on one keep-alive connection), and
at concurrency 32 it reaches >= 0.5x the throughput of the nginx hop.

Also timed, for reference: "floor", a proxy with no policy at all (benchmarks/_floor_proxy.py) on the same Python
stack (uvloop, httptools, orjson), making the same backend calls as the gateway for each request. What it adds is
the least a Python process in the path costs on this machine; the gateway's policy work is what it adds beyond that.

Also printed: the CPU time per request of the hop's process (the gateway's, nginx's) and of the backends' process
during the concurrency rounds, from /proc: it counts what each process did, not the time it waited for a core,
so it moves much less than requests/s when the machine is busy.
--policy full runs toolkit.yaml's whole policy instead of the bench policy (pool + breaker + retry + token limit +
backend auth): validate-jwt too (a bearer token from the emulator's issuer) and the semantic cache, whose
embeddings call is answered by the backends' process like the chat calls: with zero-cost vectors by default
(`--embeddings words`: a bag of pseudo-random word vectors, see benchmarks/_load.py), or by the
emulator's MiniLM model (`--embeddings model`: ~7 ms of CPU per call, and the gateway's own CPU per request about
twice that with "words", for the same work: the model's run on this machine's other core just before leaves the
gateway on cold caches, which a gateway calling an embeddings deployment in Azure does not share; see
benchmarks/policy_cpu.py). The baselines do the same backend work as the gateway, so "added" is what the gateway
adds, not the cache's backend calls:
  --cache miss (default): every request asks a new question on every path. gateway: one request (validate-jwt, the
      embeddings call, a cache lookup that misses, token limit, the chat call through the pool, a cache store).
      direct: the client POSTs the same embeddings request ({"input": [the question]}) to the embeddings deployment,
      then the chat request to openai-eastus, each on its own keep-alive connection. nginx: the same two POSTs,
      both through nginx (the embeddings path to the embeddings deployment, the rest to the pool's members).
  --cache hit: 16 questions, asked in turn, each answered once before the timing (so every timed gateway request
      is a cache hit: validate-jwt, the embeddings call, a lookup that hits; no chat call). direct: the embeddings
      request only; nginx: the same through nginx.
--burn BUSY/PERIOD starts a third process that keeps a core busy BUSY ms of every PERIOD ms while the paths are
timed: how the figures hold up on a machine something else competes for (the goals are for this machine alone).
Run: python benchmarks/gateway_overhead.py [--rounds 5] [--requests 400] [--seconds 3] [--connections 32]
     [--policy bench|full] [--cache miss|hit] [--embeddings words|model] [--burn BUSY/PERIOD]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import shlex
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _load import (CHAT_BACKENDS, CHAT_PATH, EMBEDDERS, EMBEDDINGS_PATH, Chain, Client, Connection, EmulatorProcess, _Child,
                   alternated, burn_spec, counted_latencies, cpu_burner, cpu_seconds, cpu_ticks, embeddings_request,
                   question, stolen_share, throughput)
from _nginx import NginxProxy

GOAL_ADDED_P50_MS = 0.5
GOAL_RPS_RATIO = 0.5
HIT_QUESTIONS = 16  # --cache hit: the questions asked in turn
WARMUP_REQUESTS = 200  # per path, before the timing
EMBEDDINGS_QUERY = "?api-version=2024-10-21"  # what the gateway adds to the embeddings backend's URL


def _same(body: bytes) -> bytes:
    return body


def clients(full: bool, hits: bool, direct: tuple[str, str], nginx_url: Any, api_key: str) -> dict[str, Any]:
    """The direct and nginx paths' client makers: one chat POST (bench policy); with the full policy the backend
    calls the gateway makes for the same request, made by the client itself (see the module docstring).
    ``direct``: (embeddings deployment URL, chat URL); ``nginx_url(path)``: that path through nginx."""
    headers = {"api-key": api_key}
    if not full:
        return {"direct": lambda: Connection(direct[1], headers), "nginx": lambda: Connection(nginx_url(CHAT_PATH), {})}

    def chain(embeddings: str, chat: str, headers: dict[str, str]) -> Callable[[], Client]:
        steps = [(embeddings, embeddings_request)] + ([] if hits else [(chat, _same)])
        return lambda: Chain([(Connection(url, headers), make) for url, make in steps])

    return {"direct": chain(direct[0], direct[1], headers),
            "nginx": chain(nginx_url(EMBEDDINGS_PATH + EMBEDDINGS_QUERY), nginx_url(CHAT_PATH), {})}


def floor_steps(full: bool, hits: bool, direct: tuple[str, str]) -> list[tuple[str, str]]:
    """The floor proxy's backend calls for one request: those the gateway makes (see the module docstring)."""
    if not full:
        return [(direct[1], "same")]
    return [(direct[0], "embeddings")] + ([] if hits else [(direct[1], "same")])


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
    parser.add_argument("--cache", choices=("miss", "hit"), default="miss",
                        help="--policy full: every request a semantic-cache miss (new questions) or a hit (repeated)")
    parser.add_argument("--embeddings", choices=EMBEDDERS, default="words",
                        help="--policy full: what answers the embeddings calls (see the module docstring)")
    parser.add_argument("--burn", type=burn_spec, metavar="BUSY/PERIOD",
                        help="a third process keeps a core busy BUSY ms of every PERIOD ms during the run, e.g. 10/20")
    args = parser.parse_args()
    full = args.policy == "full"
    hits = full and args.cache == "hit"
    load_before = os.getloadavg()[0]  # other processes' load: the figures below move with it
    ticks_before = cpu_ticks()  # and the host's (a virtual machine's stolen time)
    questions = itertools.count()
    if hits:
        body: Callable[[int], bytes] | None = lambda _: question(next(questions) % HIT_QUESTIONS)  # noqa: E731
    else:
        body = (lambda _: question(next(questions))) if full else None  # full: a new question every request
    with EmulatorProcess(full_policy=full, embedder=args.embeddings) as emulator, contextlib.ExitStack() as stack:
        if args.burn:
            stack.callback(cpu_burner(*args.burn).kill)
        urls = emulator.endpoints
        backends = urls["backends"]
        members = [backends[name] for name in CHAT_BACKENDS[:2]]  # the pool's priority-1 members
        gateway_headers = {"api-key": urls["key"], **({"Authorization": f"Bearer {urls['token']}"} if full else {})}
        routes = {EMBEDDINGS_PATH: [backends["embeddings"]]} if full else None
        direct_embeddings = backends["embeddings"] + EMBEDDINGS_PATH + EMBEDDINGS_QUERY
        direct = (direct_embeddings, urls["direct"])
        floor = _Child(json.dumps({"steps": floor_steps(full, hits, direct), "api_key": urls["direct_key"]}),
                       script=str(Path(__file__).with_name("_floor_proxy.py")))
        stack.callback(floor.stop)
        with NginxProxy(members, urls["direct_key"], routes) as nginx:
            paths: dict[str, Callable[[], Client]] = {
                **clients(full, hits, direct, nginx.url, urls["direct_key"]),
                "floor": lambda: Connection(floor.info["url"], {}),
                "gateway": lambda: Connection(urls["gateway"], gateway_headers),
            }
            hop_pid = {"direct": None, "nginx": nginx.process.pid, "floor": floor.info["pid"],
                       "gateway": emulator.gateway.info["pid"]}
            backends_pid = emulator.backends.info["pid"]
            for client in paths.values():  # warm up every path (--cache hit: every question answered once)
                _, errors = asyncio.run(counted_latencies("", {}, WARMUP_REQUESTS, body, client=client))
                if errors:
                    raise RuntimeError(f"{errors} of {WARMUP_REQUESTS} warm-up requests failed")

            def sequential(client: Callable[[], Client]) -> tuple[float, int]:
                samples, errors = asyncio.run(counted_latencies("", {}, args.requests, body, client=client))
                return (statistics.median(samples) if samples else float("nan")), errors

            def concurrent(name: str) -> tuple[float, int, float, float]:
                """(requests/s, failed requests, CPU µs per request of the hop's process, of the backends')."""
                pids = [hop_pid[name], backends_pid]
                before = [cpu_seconds(pid) if pid else 0.0 for pid in pids]
                rps, done, errors = asyncio.run(throughput("", {}, connections=args.connections, seconds=args.seconds,
                                                           body=body, client=paths[name]))
                hop, backends = ((cpu_seconds(pid) - start if pid else 0.0) * 1e6 / max(done, 1)
                                 for pid, start in zip(pids, before, strict=True))
                return rps, errors, hop, backends

            p50 = alternated({name: (lambda c=client: sequential(c)) for name, client in paths.items()}, args.rounds)
            rps = alternated({name: (lambda n=name: concurrent(n)) for name in paths}, args.rounds)

    errors = {name: sum(e for _, e in p50[name]) + sum(r[1] for r in rps[name]) for name in paths}
    added = [g - d for (g, _), (d, _) in zip(p50["gateway"], p50["direct"], strict=True)]
    nginx_added = [n - d for (n, _), (d, _) in zip(p50["nginx"], p50["direct"], strict=True)]
    floor_added = [f - d for (f, _), (d, _) in zip(p50["floor"], p50["direct"], strict=True)]
    policy_added = [g - f for (g, _), (f, _) in zip(p50["gateway"], p50["floor"], strict=True)]
    ratio = [g[0] / n[0] for g, n in zip(rps["gateway"], rps["nginx"], strict=True)]
    print("command: " + shlex.join([sys.executable, *sys.argv]))
    print(f"machine: {os.cpu_count()} CPUs, load average {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
          f"; CPU time stolen by the host during the run {stolen_share(ticks_before, cpu_ticks()):.1%}"
          + (f"; a third process burning a core {args.burn[0] * 1000:g} ms of every {args.burn[1] * 1000:g} ms (--burn)"
             if args.burn else ""))
    policy = ("toolkit.yaml, whole: " + ("every request a cache hit; baselines: the embeddings call" if hits else
              "every request a cache miss (new question); baselines: the embeddings call, then the chat call")
              + f"; embeddings: {args.embeddings}" if full else "bench")
    print(f"policy: {policy}; "
          f"{args.rounds} alternated rounds; figures are min / median / max over the rounds (shared machine)")
    print(f"concurrency 1: p50 of {args.requests} sequential requests on one keep-alive connection (ms)")
    for name in paths:
        print(f"  {name:8} {_spread([v for v, _ in p50[name]])}")
    print(f"  added by the gateway {_spread(added)}   (by nginx {_spread(nginx_added)})")
    if full and not hits:  # every timed gateway request is stored: the cache grows round by round
        cached = [WARMUP_REQUESTS + args.requests * r for r in range(args.rounds + 1)]
        print("  added by the gateway, round by round: " + ", ".join(
            f"{a:.3f} ({cached[r]:,}-{cached[r + 1]:,} cached)" for r, a in enumerate(added)))
    print(f"  added by the floor   {_spread(floor_added)}   (a Python proxy with no policy: the least one costs here)")
    print(f"  gateway - floor      {_spread(policy_added)}   (the gateway's policy work)")
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
