"""Where the gateway's CPU goes in one request of toolkit.yaml's whole policy, at concurrency 1.

    python benchmarks/policy_cpu.py [--cache miss|hit] [--requests 500] [--warmup 300] [--profile FILE]
        [--embeddings words|model]

The simulated backends run in a child process and the load generator in another (sequential requests on one
keep-alive connection, the questions of benchmarks/gateway_overhead.py); the emulator runs here, so its event
loop can be measured from inside. Printed, per request: the gateway process's CPU time (every thread: a semantic
cache call sent to a worker thread counts) and its event-loop thread's, then each policy's share of the loop
thread's CPU time (thread CPU time around the policy's ``run``; a policy holding others, such as ``<base/>`` or
``<retry>``, includes theirs; an ``azure-openai-*`` policy is counted under its ``llm-*`` twin, whose code it runs),
the embeddings and backend calls of the services, and the whole gateway app; beside each, its wall-clock time (a
backend call's includes the backend's work and the loopback hops).
CPU time is not wall time: time spent waiting for a core on a busy machine is not counted, nor the backends'.
``--profile FILE`` also writes a cProfile of the loop thread timed by its CPU clock (``python -m pstats FILE``).
--cache hit: 16 questions asked in turn, each answered before the timing, so every timed request is a hit.
This is a breakdown, not a goal: the goals are judged by benchmarks/gateway_overhead.py --policy full.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import collections
import functools
import gc
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _load import EMBEDDERS, JWT_AUDIENCE, REPO, _Child, bench_config, bench_environment, counted_latencies, question

HIT_QUESTIONS = 16


def instrument(loops: list[asyncio.AbstractEventLoop]) -> tuple[collections.Counter[str], collections.Counter[str]]:
    """Wrap every policy's ``run`` (and the services' backend calls) with a thread-CPU-time counter and a wall-clock
    one; the gateway's serving loop is appended to ``loops`` at its first request."""
    from toolkit.emulator.gateway.app import GatewayRuntime
    from toolkit.emulator.policy import handlers  # noqa: F401 - registers every policy class
    from toolkit.emulator.policy.default_services import DefaultGatewayServices
    from toolkit.emulator.policy.document import Policy
    from toolkit.emulator.policy.handlers.llm_token_limit import _Settlement

    spent: collections.Counter[str] = collections.Counter()
    wall: collections.Counter[str] = collections.Counter()

    def wrap(cls: type, method: str, label: str) -> None:
        original = getattr(cls, method)

        @functools.wraps(original)
        async def timed(self: Any, *args: Any, **kwargs: Any) -> Any:
            start, started = time.thread_time(), time.perf_counter()
            try:
                return await original(self, *args, **kwargs)
            finally:
                spent[label] += time.thread_time() - start
                wall[label] += time.perf_counter() - started

        setattr(cls, method, timed)

    def subclasses(cls: type) -> set[type]:
        return {sub for direct in cls.__subclasses__() for sub in {direct, *subclasses(direct)}}

    for cls in subclasses(Policy):
        if "run" in cls.__dict__:
            wrap(cls, "run", getattr(getattr(cls, "spec", None), "name", cls.__name__))
    wrap(_Settlement, "after_backend", "token limit: after the backend")
    wrap(DefaultGatewayServices, "embed", "services: the embeddings call")
    wrap(DefaultGatewayServices, "forward", "services: the backend call")
    wrap(GatewayRuntime, "__call__", "gateway app, whole request")
    served = GatewayRuntime.__call__

    async def noting_loop(self: Any, *args: Any) -> Any:
        if not loops:
            loops.append(asyncio.get_running_loop())
        return await served(self, *args)

    GatewayRuntime.__call__ = noting_loop  # type: ignore[method-assign]
    started: list[float] = []

    def collections_timer(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[:] = [time.thread_time()]
        elif started:
            spent[f"garbage collector (generation {info['generation']})"] += time.thread_time() - started.pop()

    gc.callbacks.append(collections_timer)
    return spent, wall


def on_loop(loop: asyncio.AbstractEventLoop, action: Callable[[], Any]) -> Any:
    """Run ``action`` on the serving loop's thread and return its result."""
    done = threading.Event()
    result: list[Any] = []
    loop.call_soon_threadsafe(lambda: (result.append(action()), done.set()))
    done.wait()
    return result[0]


def run_load(spec: dict[str, Any], count: int, start: int) -> dict[str, Any]:
    """``count`` sequential requests from a child process (so that the client's CPU is not counted here)."""
    out = subprocess.run([sys.executable, __file__, "load", json.dumps(spec), str(count), str(start)],
                         capture_output=True, text=True, check=False)
    if out.returncode:
        raise RuntimeError(f"the load generator failed:\n{out.stderr}")
    return json.loads(out.stdout)


def load(spec: dict[str, Any], count: int, start: int) -> None:
    """Child process: the requests, then their p50 and failures as one JSON line."""
    numbers = itertools.count(start)
    body = ((lambda _: question(next(numbers) % HIT_QUESTIONS)) if spec["hits"]
            else (lambda _: question(next(numbers))))
    samples, errors = asyncio.run(counted_latencies(spec["url"], spec["headers"], count, body))
    print(json.dumps({"p50": statistics.median(samples) if samples else float("nan"), "errors": errors}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", choices=("miss", "hit"), default="miss")
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=300, help="requests before the timing (miss: cache entries)")
    parser.add_argument("--profile", help="write a cProfile of the loop thread (CPU clock) to this file")
    parser.add_argument("--embeddings", choices=EMBEDDERS, default="words",
                        help="what answers the embeddings calls (benchmarks/_load.py serve_backends)")
    args = parser.parse_args()
    from toolkit.config import load_config
    from toolkit.local import local_gateway

    loops: list[asyncio.AbstractEventLoop] = []
    spent, wall = instrument(loops)
    backends = _Child("backends", args.embeddings)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = load_config(bench_config(Path(tmp), bench_environment(backends.info, full_policy=True)),
                                 "bench", environ={})
            with local_gateway(config) as gateway:
                token = gateway.emulator.mint_token(audience=JWT_AUDIENCE, expires_in=24 * 3600)
                spec = {"url": gateway.chat_url("openai", "gpt-4o-mini", "2024-10-21"), "hits": args.cache == "hit",
                        "headers": {"api-key": gateway.subscription_key, "Authorization": f"Bearer {token}"}}
                run_load(spec, args.warmup, 0)
                loop = loops[0]
                profiler = cProfile.Profile(time.thread_time) if args.profile else None

                def begin() -> tuple[float, float]:
                    spent.clear()
                    wall.clear()
                    if profiler is not None:
                        profiler.enable()
                    return time.thread_time(), time.process_time(), os.times().system

                def end() -> tuple[float, float]:
                    if profiler is not None:
                        profiler.disable()
                    return time.thread_time(), time.process_time(), os.times().system

                started = on_loop(loop, begin)
                result = run_load(spec, args.requests, args.warmup)
                ended = on_loop(loop, end)
    finally:
        backends.stop()
    per_request = 1e6 / args.requests
    print("command: " + " ".join([sys.executable, *sys.argv]))
    print(f"policy: toolkit.yaml, whole; embeddings: {args.embeddings}; every request a cache {args.cache}; "
          f"{args.requests} sequential requests "
          f"after {args.warmup}; client p50 {result['p50']:.3f} ms; failed requests {result['errors']}")
    print(f"gateway process CPU  {(ended[1] - started[1]) * per_request:7.1f} µs per request (every thread), "
          f"of which system (the kernel: sockets, epoll) {(ended[2] - started[2]) * per_request:.1f} µs")
    print(f"event-loop thread    {(ended[0] - started[0]) * per_request:7.1f} µs per request, of which:"
          + ("  (with --profile: every figure inflated by the profiler)" if profiler is not None else ""))
    print(f"  {'':40} {'CPU':>7}    {'wall':>7}")
    for label, seconds in spent.most_common():
        print(f"  {label:40} {seconds * per_request:7.1f} µs {wall[label] * per_request:7.1f} µs")
    own = wall["gateway app, whole request"] - wall["services: the embeddings call"] - wall["services: the backend call"]
    print(f"gateway app's wall time outside its backend calls: {own * per_request:.1f} µs per request")
    if profiler is not None:
        profiler.dump_stats(args.profile)
    return 1 if result["errors"] else 0


if __name__ == "__main__" and sys.argv[1:2] == ["load"]:
    load(json.loads(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
elif __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
