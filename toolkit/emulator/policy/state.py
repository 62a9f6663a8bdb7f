"""State that some policies keep across requests: the internal value/response cache, rate-limit call logs
(sliding windows) and quota counters (fixed windows), concurrency slots, and what the recording policies
emitted (metrics, traces, log events).

One `PolicyState` per gateway, found with `state_of(services)` (created on first use, so any
GatewayServices works). Times come from ``services.clock()`` (the emulator clock). Recorded
metrics and events are kept in bounded deques (the newest 5000) and read through the control API.
"""

from __future__ import annotations

import asyncio
import itertools
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

RECORD_LIMIT = 5000


@dataclass
class Window:
    """A counting window: calls (and bytes) since ``start``; renews ``period`` seconds later.

    ``first_start``: the instant its periods are aligned to (quota-by-key's first-period-start), or None when a
    window starts with the first call counted after the previous one ended."""

    start: float
    period: float
    calls: int = 0
    bandwidth: int = 0
    first_start: float | None = None


MERGE_SECONDS = 0.01  # calls counted this close to the previous ones share its entry (bounds a log's length)


class CallLog:
    """One rate-limit counter: the calls counted within its longest window (at most 300 s), seen through sliding
    windows.

    rate-limit's renewal-period is "the length in seconds of the sliding window during which the number of allowed
    requests should not exceed the value specified in calls": a window ends now and reaches ``period`` seconds
    back. One log serves every period asked of its key (rate-limit-by-key: "a single counter is used for all scopes
    at which the policy is configured", whatever their periods); each period keeps its running total and where it
    starts in the log. Calls counted within MERGE_SECONDS of the previous entry join it, so a log holds at most
    30,000 entries over 300 s; they then leave the windows up to 10 ms early.
    """

    __slots__ = ("_times", "_calls", "_dropped", "_starts", "_totals")

    def __init__(self) -> None:
        self._times: deque[float] = deque()
        self._calls: deque[int] = deque()
        self._dropped = 0  # entries popped from the left: the first entry's absolute index
        self._starts: dict[float, int] = {}  # period -> absolute index of its window's first entry
        self._totals: dict[float, int] = {}  # period -> calls in its window

    def calls(self, period: float, now: float) -> int:
        """Calls counted in the ``period`` seconds up to ``now`` (the window (now - period, now])."""
        if period not in self._starts:  # a period new to this log: its window starts with every call the log has,
            self._starts[period], self._totals[period] = self._dropped, sum(self._calls)  # which _slide trims
        self._slide(now)
        return self._totals[period]

    def count(self, calls: int, now: float) -> None:
        """Count ``calls`` at ``now`` in every window."""
        times = self._times
        if times and now - times[-1] < MERGE_SECONDS:
            self._calls[-1] += calls
        else:
            times.append(now)
            self._calls.append(calls)
        for period in self._totals:
            self._totals[period] += calls

    def seconds_until_below(self, limit: int, period: float, now: float) -> int:
        """Whole seconds (at least 1) until the ``period`` window holds fewer than ``limit`` calls: until enough of
        its oldest calls have left it (the whole period when no call leaving can make room: a limit of 0)."""
        excess = self.calls(period, now) - limit + 1  # with a limit of 0, more than the window holds
        index = self._starts[period] - self._dropped
        for at, calls in zip(itertools.islice(self._times, index, None), itertools.islice(self._calls, index, None)):
            excess -= calls
            if excess <= 0:
                return max(1, math.ceil(at + period - now))
        return max(1, math.ceil(period))

    def _slide(self, now: float) -> None:
        """Move every window's start past the calls that left it, and forget calls no window holds any more."""
        times, calls, dropped = self._times, self._calls, self._dropped
        for period, start in self._starts.items():
            index = start - dropped
            while index < len(times) and times[index] <= now - period:
                self._totals[period] -= calls[index]
                index += 1
            self._starts[period] = dropped + index
        oldest = min(self._starts.values()) - dropped
        for _ in range(oldest):
            times.popleft()
            calls.popleft()
        self._dropped = dropped + oldest


@dataclass
class PolicyState:
    """The cross-request state of the policy engine (see the module docstring)."""

    clock: Callable[[], float]
    values: dict[str, tuple[Any, float]] = field(default_factory=dict)  # key → (value, expires at)
    responses: dict[str, tuple[Any, float]] = field(default_factory=dict)
    windows: dict[str, dict[float, Window]] = field(default_factory=dict)  # quota counter key -> period -> window
    rates: dict[str, CallLog] = field(default_factory=dict)  # rate-limit counter key -> its calls
    concurrency: dict[str, int] = field(default_factory=dict)
    metrics: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=RECORD_LIMIT))
    events: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=RECORD_LIMIT))
    background: set[asyncio.Task[Any]] = field(default_factory=set)

    # -- internal cache ---------------------------------------------------------------------------

    def cache_get(self, store: dict[str, tuple[Any, float]], key: str) -> Any:
        """The live entry for ``key`` or None (expired entries are dropped)."""
        entry = store.get(key)
        if entry is None:
            return None
        if entry[1] <= self.clock():
            del store[key]
            return None
        return entry

    def cache_put(self, store: dict[str, tuple[Any, float]], key: str, value: Any, seconds: float) -> None:
        store[key] = (value, self.clock() + seconds)

    # -- counters -----------------------------------------------------------------------------------

    def window(self, key: str, period: float, first_start: float | None = None, counted: int = 0) -> Window:
        """The current window of counter ``key`` for ``period`` seconds (a new one once the period has passed).

        A key's count is one counter (APIM: "for each key value, a single counter is used for all scopes at which
        the policy is configured"): policies on the same key with different periods each see a window of their
        own period, and `count` adds to all of them. ``counted``: calls the current request already counted on
        the key, which a window opened now starts with."""
        windows = self.windows.setdefault(key, {})
        known = windows.get(period)
        current = _current(windows, period, first_start, self.clock())
        if current is not known:
            current.calls += counted
        return current

    def rate(self, key: str) -> CallLog:
        """The calls of rate-limit counter ``key`` (sliding windows)."""
        log = self.rates.get(key)
        if log is None:
            log = self.rates[key] = CallLog()
        return log

    def count(self, key: str, calls: int = 0, bandwidth: int = 0) -> None:
        """Count ``calls`` (and ``bandwidth`` bytes) against every window of counter ``key``."""
        log = self.rates.get(key)
        if log is not None:
            log.count(calls, self.clock())
            return
        windows = self.windows.get(key)
        if not windows:
            return
        now = self.clock()
        for period, window in list(windows.items()):
            current = _current(windows, period, window.first_start, now)
            current.calls += calls
            current.bandwidth += bandwidth

    # -- recording ----------------------------------------------------------------------------------

    def record_metric(self, **metric: Any) -> None:
        metric.setdefault("time", self.clock())
        self.metrics.append(metric)

    def record_event(self, kind: str, **event: Any) -> None:
        self.events.append({"kind": kind, "time": self.clock(), **event})

    def reset(self) -> None:
        """Forget everything (control API ``POST /reset``)."""
        for store in (self.values, self.responses, self.windows, self.rates, self.concurrency):
            store.clear()
        self.metrics.clear()
        self.events.clear()


def _current(windows: dict[float, Window], period: float, first_start: float | None, now: float) -> Window:
    """The window of ``period`` in ``windows`` that holds ``now``, renewed (and stored) when the last one ended."""
    current = windows.get(period)
    if current is None or now >= current.start + current.period:
        start = now
        if first_start is not None and first_start <= now:  # quota periods are aligned to first-period-start
            start = first_start + ((now - first_start) // period) * period
        current = Window(start, period, first_start=first_start)
        windows[period] = current
    return current


def state_of(services: Any) -> PolicyState:
    """The gateway's policy state (created and attached to ``services`` on first use)."""
    state = getattr(services, "policy_state", None)
    if state is None:
        state = PolicyState(services.clock)
        services.policy_state = state
    return state


def recorded_output_routes(services: Any) -> list[Any]:
    """Control API routes: ``GET /metrics`` (``?name=``) and ``GET /events`` (``?kind=``), newest last."""
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    def listing(field: str, key: str) -> Any:
        async def read(request: Request) -> JSONResponse:
            wanted = request.query_params.get(key)
            rows = [row for row in getattr(state_of(services), field) if wanted is None or row.get(key) == wanted]
            return JSONResponse({field: rows})

        return read

    return [Route("/metrics", listing("metrics", "name")), Route("/events", listing("events", "kind"))]
