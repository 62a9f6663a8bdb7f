"""Work the policies leave for after an answer (a semantic-cache store), started when the gateway next waits.

Where it runs matters at concurrency 1. A client's next request comes ~0.1-0.15 ms after its answer, and work
started at the loop's next turn after the answer was still running when it came on about half the requests
(benchmarks/gateway_phases.py, the full policy: the store and its task ~80 µs on the next request's path). The
gateway's next wait on the network is idle time instead: a request with a backend call waits 0.3 ms or more for
it. So the work is held until the backend client is about to send a request (`start`, its ``on_send`` hook), and
starts ``LATEST_START_SECONDS`` after it was added when no request comes. Its first step runs at the loop's
next turn, once the request that started it is waiting.

That delay is checked against ``time.perf_counter``, not left to the loop's timer alone: uvloop's timers (libuv's)
are due on a clock truncated to the millisecond, so on a loop kept turning (busy_poll.py) a 1 ms timer fires at
the next millisecond boundary, anywhere from a few µs to 1 ms after it was armed. Measured with
benchmarks/gateway_phases.py (the full policy, 2,000 requests at concurrency 1 after 1,000), the timer started the
work 35-150 µs after the answer on 14% of requests, as the client's next request came in, which then waited for the
store; checked, 1,996 of 2,000 starts came from the next request's backend call (the other 4 at 1.0-1.5 ms). Two
runs each, alternated: the client's p50 0.747-0.797 ms instead of 0.811-0.829, p90 0.796-0.863 instead of
0.870-1.277. (benchmarks/gateway_overhead.py --policy full, three runs each on a quiet machine, could not tell the
two apart: 0.261-0.283 against 0.238-0.275 ms added at p50.)

Nothing waits on this for correctness: a store's partition is reserved before the answer leaves
(policy.cache_calls), so a lookup that comes first waits for it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

Job = Callable[[], Awaitable[None]]
LATEST_START_SECONDS = 0.001
_now = time.perf_counter


class AfterAnswerWork:
    """Jobs held until the gateway's next backend call, or ``latest`` seconds (one event loop's)."""

    def __init__(self, latest: float | None = None) -> None:
        self._latest = LATEST_START_SECONDS if latest is None else latest
        self._held: list[Job] = []
        self._timer: asyncio.TimerHandle | None = None
        self._due = 0.0  # perf_counter time at which held work starts without a backend call
        self._running: set[asyncio.Task[None]] = set()  # held here so that they are not collected mid-way

    def add(self, job: Job) -> None:
        """Hold ``job`` until `start` (at the latest ``latest`` seconds from now)."""
        self._held.append(job)
        if self._timer is None:
            self._due = _now() + self._latest
            self._timer = asyncio.get_running_loop().call_later(self._latest, self._timer_fired)

    def _timer_fired(self) -> None:
        early = self._due - _now()
        if early > 0:  # the loop's timer ran early (see the module docstring): wait for the rest
            self._timer = asyncio.get_running_loop().call_later(early, self._timer_fired)
        else:
            self.start()

    def start(self) -> None:
        """Start every held job, each in a task of its own (their first steps run at the loop's next turn)."""
        if not self._held:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        jobs, self._held = self._held, []
        loop = asyncio.get_running_loop()
        for job in jobs:
            task = loop.create_task(job())  # type: ignore[arg-type]
            self._running.add(task)
            task.add_done_callback(self._running.discard)
