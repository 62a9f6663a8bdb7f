"""Where a request's time goes inside the gateway at concurrency 1: the wall-clock critical path, phase by phase.

    python benchmarks/gateway_phases.py [--policy full|bench] [--cache miss|hit] [--requests 1000] [--warmup 300]

benchmarks/gateway_overhead.py's goal at concurrency 1 is latency, and only the gateway's work between a request's
arrival and its answer is on that path: what it does while a backend call is in flight, or after the answer has
been written, is not (unless it is still busy when the next request comes). This splits that path at the moments
the gateway's process touches the network, stamped with ``time.perf_counter_ns`` in the emulator's own process
(four stamps per hop, ~1 µs each, no per-policy wrappers):

- "in": the first bytes of a request reach the gateway's HTTP protocol (uvicorn's ``data_received``);
- "call N sent" / "call N answered": a backend call's request written, its response's first bytes read (the
  lean client, toolkit/emulator/gateway/http_client.py);
- "out": the answer written to the client (the coalescing transport's flush: head and body in one write);
- "after done": the work the policies leave for after the answer (the semantic cache's store) finished, and
  whether the answer of the backend call it ran during, or the client's next request, was already waiting on its
  socket, unread (a zero-timeout poll): the loop reads only between the work's steps, so that is how an inline
  store overruns its wait.

Printed: the median of each phase over ``--requests`` sequential requests on one keep-alive connection (the load
from a child process, benchmarks/policy_cpu.py's), the sum of the phases on the critical path (the gateway's own
share of the latency), the backend calls' time (the backends' work and the loopback hops; a direct client pays it
too), the client's turn-around between an answer and its next request, and when the after-answer work ended: it
starts with the gateway's next backend call (toolkit/emulator/gateway/after_answer.py), so it is off the critical
path unless it is still running when that call is answered (or started before the next request came). A
measurement for finding what to make faster; the goals are benchmarks/gateway_overhead.py's.
"""

from __future__ import annotations

import argparse
import select
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _load import JWT_AUDIENCE, REPO, _Child, bench_config, bench_environment

Marks = list[tuple[str, int]]
# "after done", when the answer of the backend call the work ran during, or the client's next request, had already
# come and waited to be read: the loop reads only between the steps of the work, so "answered" (or "in") alone can
# never come before an inline store ends.
INPUT_WAITING = "after done, input waiting"
AFTER_DONE = ("after done", INPUT_WAITING)


def stamp(marks: Marks) -> None:
    """Patch the network edges of the emulator's gateway to append (moment, perf_counter_ns) to ``marks``."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    from toolkit.emulator import hosting
    from toolkit.emulator.gateway import app, http_client

    now = time.perf_counter_ns

    def before(cls: type, method: str, moment: str, when: Callable[..., bool] = lambda *_: True) -> None:
        original = getattr(cls, method)

        def stamped(self: Any, *args: Any, **kwargs: Any) -> Any:
            if when(self):
                marks.append((moment, now()))
            return original(self, *args, **kwargs)

        setattr(cls, method, stamped)

    last: dict[str, Any] = {}  # the client connection read last, the backend connection of the call sent last

    def remember(role: str) -> Callable[[Any], bool]:
        def when(connection: Any) -> bool:
            last[role] = connection
            return True
        return when

    before(HttpToolsProtocol, "data_received", "in", remember("client"))
    before(http_client._Connection, "send", "sent", remember("backend"))
    before(http_client._Connection, "data_received", "answered")
    before(hosting.CoalescingTransport, "flush", "out", lambda transport: bool(transport._pending))
    after_answer = app.run_after_answer

    async def timed_after_answer(ctx: Any) -> None:
        try:
            await after_answer(ctx)
        finally:
            waiting = _readable(last.get("backend")) or _readable(last.get("client"))
            marks.append((INPUT_WAITING if waiting else "after done", now()))

    app.run_after_answer = timed_after_answer


def _readable(connection: Any) -> bool:
    """Whether bytes sit unread on ``connection``'s socket (a zero-timeout poll)."""
    transport = getattr(connection, "transport", None)
    sock = transport.get_extra_info("socket") if transport is not None and not transport.is_closing() else None
    return sock is not None and bool(select.select([sock.fileno()], [], [], 0)[0])


def requests_of(marks: Marks) -> list[Marks]:
    """The marks split into requests. A request starts at an "in" once the previous one was answered; a later read
    of the same request, or of the same backend response, adds no mark. The after-answer work may end once the next
    request has come in: its mark goes to the request it belongs to, the last one answered without it."""
    requests: list[Marks] = []
    for moment, at in marks:
        last = requests[-1][-1][0] if requests else "out"
        if moment in AFTER_DONE:
            owner = next((r for r in reversed(requests) if _has(r, "out") and not _has(r, *AFTER_DONE)), None)
            if owner is not None:
                owner.append((moment, at))
        elif moment == "in":
            if last == "out" or last in AFTER_DONE:
                requests.append([(moment, at)])
        elif requests and not (moment == "answered" and last == "answered"):
            requests[-1].append((moment, at))
    return requests


def _has(request: Marks, *moments: str) -> bool:
    return any(m in moments for m, _ in request)


def phases(requests: list[Marks]) -> tuple[dict[str, list[float]], list[float], list[float]]:
    """(µs of each phase by name, in order; µs from an answer to the next request; µs from an answer to the end of
    its after-answer work). Requests whose network edges differ from the typical one's (a retry) are left out."""
    spans: dict[str, list[float]] = {}
    turnaround, after = [], []
    edges = [[m for m, _ in request if m not in AFTER_DONE] for request in requests]
    typical = statistics.mode(tuple(e) for e in edges)
    for index, request in enumerate(requests):
        timed = {"after done" if m in AFTER_DONE else m: at for m, at in request if m == "out" or m in AFTER_DONE}
        if "after done" in timed:
            after.append((timed["after done"] - timed["out"]) / 1000)
        if index + 1 < len(requests) and "out" in timed:
            turnaround.append((requests[index + 1][0][1] - timed["out"]) / 1000)
        if tuple(edges[index]) != typical:
            continue
        calls = 0
        path = [(m, at) for m, at in request if m not in AFTER_DONE]
        for (first, start), (second, end) in zip(path, path[1:]):
            calls += first == "sent"
            label = (f"backend call {calls} (backend + loopback)" if first == "sent"
                     else f"{_place(first, calls)} -> {_place(second, calls + (second == 'sent'))}")
            spans.setdefault(label, []).append((end - start) / 1000)
    return spans, turnaround, after


def overran_waits(requests: list[Marks]) -> tuple[int, int]:
    """(after-answer work still running when the next request's first backend call was answered, work timed): the
    work runs while that call is in flight, and only when it overruns is it on a request's path. Overrun: its end
    came after the answer was read (work in a thread), or found the answer or the next request waiting unread (work
    on the loop: started too early, it is on that request's path from its arrival)."""
    late = timed = 0
    for request, following in zip(requests, requests[1:]):
        done = next(((m, at) for m, at in request if m in AFTER_DONE), None)
        answered = next((at for m, at in following if m == "answered"), None)
        if done is not None and answered is not None:
            timed += 1
            late += done[0] == INPUT_WAITING or done[1] > answered
    return late, timed


def _place(moment: str, call: int) -> str:
    return {"in": "request in", "out": "answer out"}.get(moment, f"call {call} {moment}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", choices=("full", "bench"), default="full")
    parser.add_argument("--cache", choices=("miss", "hit"), default="miss")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=300, help="requests before the timing (miss: cache entries)")
    args = parser.parse_args()
    from policy_cpu import run_load

    from toolkit.config import load_config
    from toolkit.local import local_gateway

    marks: Marks = []
    stamp(marks)
    backends = _Child("backends", "words")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            environment = bench_environment(backends.info, full_policy=args.policy == "full")
            config = load_config(bench_config(Path(tmp), environment), "bench", environ={})
            with local_gateway(config) as gateway:
                token = gateway.emulator.mint_token(audience=JWT_AUDIENCE, expires_in=24 * 3600)
                spec = {"url": gateway.chat_url("openai", "gpt-4o-mini", "2024-10-21"), "hits": args.cache == "hit",
                        "headers": {"api-key": gateway.subscription_key, "Authorization": f"Bearer {token}"}}
                run_load(spec, args.warmup, 0)
                marks.clear()
                result = run_load(spec, args.requests, args.warmup)
    finally:
        backends.stop()
    requests = requests_of(marks)
    spans, turnaround, after = phases(requests)
    print("command: " + " ".join([sys.executable, *sys.argv]))
    print(f"policy: {args.policy}; cache {args.cache}; {args.requests} sequential requests after {args.warmup}; "
          f"client p50 {result['p50']:.3f} ms; failed requests {result['errors']}; "
          f"{len(next(iter(spans.values()), []))} requests split into phases")
    print("median µs of each phase, in order:")
    on_path = 0.0
    for label, values in spans.items():
        median = statistics.median(values)
        on_path += 0.0 if label.startswith("backend call") else median
        print(f"  {label:55} {median:8.1f}")
    print(f"the gateway's own work on the critical path (the phases between the network edges): {on_path:.1f} µs")
    if turnaround:
        print(f"answer out -> next request in (the client's turn-around): {statistics.median(turnaround):.1f} µs")
    if after:
        late, timed = overran_waits(requests)
        print(f"answer out -> after-answer work done: {statistics.median(after):.1f} µs (it runs during the next "
              f"request's first backend call; still running when that call was answered or the next request came: "
              f"{late} of {timed})")
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
