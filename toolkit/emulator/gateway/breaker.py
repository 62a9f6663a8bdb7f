"""The circuit breaker of one backend, as the emulator runs APIM's ``circuitBreaker`` rule.

Behaviour (DESIGN.md "Emulator decisions"; APIM documents only the outline):

- A failure is a response whose status lies in one of the rule's ``statusCodeRanges``, or a
  connection failure (no response at all) when the rule lists any ``errorReasons``. APIM does not
  document the reason vocabulary, so any non-empty list enables connection failures. A rule with
  neither list (the 2024-05-01 spec makes both optional and APIM stores it) counts nothing and
  never trips; a backend with ``"rules": []`` has no breaker at all.
- ``count`` mode: trips on the failure that makes ``count`` failures inside the sliding window
  ``(now - interval, now]``. ``percentage`` mode: trips on a failure when failed/total of the requests
  inside the window is ≥ percentage/100 and the window holds at least ``MIN_REQUESTS`` requests.
  With both set, whichever threshold is reached first trips. Only failures trip.
- Open for ``tripDuration``; when ``acceptRetryAfter`` is true and the tripping response carries
  ``Retry-After`` (delta-seconds or HTTP-date), for that long instead, shorter or longer. A header
  that does not parse falls back to ``tripDuration``.
- Closes by itself at ``open_until`` (no half-open probing) with an empty window. Responses recorded
  while open (requests already in flight when it tripped) are ignored.

The clock returns seconds since the Unix epoch (``time.time``-like): an HTTP-date ``Retry-After``
is turned into seconds against it. Memory is bounded: the window is pruned on every record and
holds at most ``count`` failures (count mode) or ``MAX_SAMPLES`` requests (percentage mode, where
the ratio is then taken over the most recent ``MAX_SAMPLES`` requests of the interval).
"""

from __future__ import annotations

import functools
import re
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timezone
from email.utils import parsedate_to_datetime
from typing import Any

import isodate

from toolkit.emulator.gateway.arm_json import backend_properties
from toolkit.errors import ArtifactError

MIN_REQUESTS = 10  # percentage mode: fewer requests than this in the window never trip
MAX_SAMPLES = 10_000  # percentage mode: most recent requests kept per window

_DELTA_SECONDS = re.compile(r"^\d+(\.\d+)?$")


@dataclass(frozen=True, kw_only=True)
class BreakerRule:
    """One ``circuitBreaker`` rule: what counts as a failure, when to trip, how long to stay open."""

    count: int | None = None
    percentage: float | None = None
    interval_seconds: float
    status_ranges: tuple[tuple[int, int], ...] = ()
    error_reasons: tuple[str, ...] = ()
    trip_seconds: float
    accept_retry_after: bool = False
    name: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "status_ranges", tuple((int(lo), int(hi)) for lo, hi in self.status_ranges))
        object.__setattr__(self, "error_reasons", tuple(self.error_reasons))
        if self.count is None and self.percentage is None:
            raise ArtifactError("circuit breaker rule needs a failure count or a percentage")
        count = self.count
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
            raise ArtifactError(f"circuit breaker count must be a positive integer, got {self.count!r}")
        if self.percentage is not None and not 0 < self.percentage <= 100:
            raise ArtifactError(f"circuit breaker percentage must be in (0, 100], got {self.percentage!r}")
        if not self.interval_seconds > 0:
            raise ArtifactError(f"circuit breaker interval must be positive, got {self.interval_seconds!r} s")
        if not self.trip_seconds > 0:
            raise ArtifactError(f"circuit breaker tripDuration must be positive, got {self.trip_seconds!r} s")
        for lo, hi in self.status_ranges:
            if not 200 <= lo <= hi <= 599:
                raise ArtifactError(f"circuit breaker status range {lo}-{hi} must satisfy 200 <= min <= max <= 599")

    def is_failure(self, status: int | None, connection_failure: bool) -> bool:
        """Whether a response with ``status`` (or a connection failure) counts against this rule."""
        if connection_failure or status is None:
            return connection_failure and bool(self.error_reasons)
        return any(lo <= status <= hi for lo, hi in self.status_ranges)

    @classmethod
    def from_arm(cls, data: Mapping[str, Any]) -> BreakerRule:
        """Read APIM's JSON: the ``circuitBreaker`` object, a backend's ``properties``, or its whole document."""
        if isinstance(data, Mapping) and ("properties" in data or "circuitBreaker" in data):
            data = backend_properties(data).get("circuitBreaker")
            if data is None:
                raise ArtifactError("backend has no circuitBreaker")
        where = "circuitBreaker"
        if not isinstance(data, Mapping):
            raise ArtifactError(f"{where} must be an object")
        rules = data.get("rules")
        if not isinstance(rules, list) or len(rules) != 1:
            raise ArtifactError(f"{where}.rules must hold exactly one rule (APIM accepts only one)")
        rule = rules[0]
        where += ".rules[0]"
        if not isinstance(rule, Mapping):
            raise ArtifactError(f"{where} must be an object")
        condition = rule.get("failureCondition")
        if not isinstance(condition, Mapping):
            raise ArtifactError(f"{where}.failureCondition must be an object")
        cwhere = f"{where}.failureCondition"
        accept = rule.get("acceptRetryAfter", False)
        if accept is None:
            accept = False
        if not isinstance(accept, bool):
            raise ArtifactError(f"{where}.acceptRetryAfter must be true or false, got {accept!r}")
        name = rule.get("name")
        try:
            return cls(
                count=_optional_int(condition, "count", cwhere),
                percentage=_optional_int(condition, "percentage", cwhere),
                interval_seconds=_duration_seconds(condition, "interval", cwhere),
                status_ranges=_status_ranges(condition.get("statusCodeRanges"), cwhere),
                error_reasons=_error_reasons(condition.get("errorReasons"), cwhere),
                trip_seconds=_duration_seconds(rule, "tripDuration", where),
                accept_retry_after=accept,
                name=name if isinstance(name, str) else None,
            )
        except ArtifactError as exc:
            if exc.message.startswith(where):
                raise
            raise ArtifactError(f"{where}: {exc.message}", hint=exc.hint) from None


@dataclass(frozen=True)
class Transition:
    """The breaker tripped: when, until when, and the evidence."""

    state: str  # always "open": closing happens by itself, without an event
    at: float
    open_until: float
    failures: int  # failures in the window, the tripping one included
    requests: int | None  # requests in the window (percentage mode), else None
    retry_after_used: bool  # True when the backend's Retry-After set the open time


class CircuitBreaker:
    """The breaker state of ONE backend; thread-safe (the control API reads from another thread)."""

    def __init__(self, rule: BreakerRule, clock: Callable[[], float]) -> None:
        self.rule = rule
        self._clock = clock
        self._lock = threading.Lock()
        self._track_all = rule.percentage is not None  # count mode needs only the failures
        self._cap = max(MAX_SAMPLES, rule.count or 0) if self._track_all else rule.count or 1
        self._window: deque[tuple[float, bool]] = deque()
        self._failed = 0
        self._opened_at: float | None = None
        self._open_until: float | None = None
        self._trips = 0

    def is_open(self, now: float | None = None) -> bool:
        """Whether the breaker refuses traffic at ``now`` (default: the clock)."""
        if now is None:
            now = self._clock()
        open_until = self._open_until  # one attribute read: atomic, no lock on the hot path
        return open_until is not None and now < open_until

    def record(
        self,
        status: int | None,
        *,
        connection_failure: bool = False,
        retry_after: str | None = None,
    ) -> Transition | None:
        """Count one backend outcome; returns the event when it makes the breaker trip."""
        failed = self.rule.is_failure(status, connection_failure)
        if not failed and not self._track_all:
            return None
        now = self._clock()
        with self._lock:
            if self._open_until is not None:
                if now < self._open_until:
                    return None  # in flight when it tripped
                self._opened_at = self._open_until = None
            self._prune(now)
            if len(self._window) >= self._cap:
                self._failed -= self._window.popleft()[1]
            self._window.append((now, failed))
            self._failed += failed
            if failed and self._threshold_reached():
                return self._trip(now, retry_after)
        return None

    def state(self) -> dict[str, Any]:
        """A snapshot for traces and the control API."""
        now = self._clock()
        with self._lock:
            is_open = self._open_until is not None and now < self._open_until
            if not is_open:
                self._prune(now)
            return {
                "state": "open" if is_open else "closed",
                "opened_at": self._opened_at if is_open else None,
                "open_until": self._open_until if is_open else None,
                "failures_in_window": 0 if is_open else self._failed,
                "requests_in_window": None if not self._track_all else 0 if is_open else len(self._window),
                "trips": self._trips,
            }

    def reset(self) -> None:
        """Close the breaker and forget everything, the trip count included."""
        with self._lock:
            self._window.clear()
            self._failed = 0
            self._opened_at = self._open_until = None
            self._trips = 0

    def _prune(self, now: float) -> None:
        horizon = now - self.rule.interval_seconds
        window = self._window
        while window and window[0][0] <= horizon:
            self._failed -= window.popleft()[1]

    def _threshold_reached(self) -> bool:
        rule = self.rule
        if rule.count is not None and self._failed >= rule.count:
            return True
        total = len(self._window)
        return (
            rule.percentage is not None
            and total >= MIN_REQUESTS
            and self._failed * 100 >= rule.percentage * total
        )

    def _trip(self, now: float, retry_after: str | None) -> Transition:
        duration = None
        if self.rule.accept_retry_after and retry_after is not None:
            duration = parse_retry_after(retry_after, now)
        used = duration is not None
        if duration is None:
            duration = self.rule.trip_seconds
        event = Transition(
            state="open",
            at=now,
            open_until=now + duration,
            failures=self._failed,
            requests=len(self._window) if self._track_all else None,
            retry_after_used=used,
        )
        self._opened_at, self._open_until = now, event.open_until
        self._trips += 1
        self._window.clear()
        self._failed = 0
        return event


def parse_retry_after(value: str, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or HTTP-date); None if it does not parse."""
    text = value.strip()
    if _DELTA_SECONDS.match(text):
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # HTTP-dates are GMT
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - now)


def _optional_int(obj: Mapping[str, Any], key: str, where: str) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ArtifactError(f"{where}.{key} must be an integer, got {value!r}")
    return value


@functools.lru_cache(maxsize=512)
def _parse_duration(value: str) -> Any:
    """isodate's parse, remembered: every backend load re-reads the same few durations ('PT1M')."""
    return isodate.parse_duration(value)


def _duration_seconds(obj: Mapping[str, Any], key: str, where: str) -> float:
    value = obj.get(key)
    if not isinstance(value, str):
        raise ArtifactError(f"{where}.{key} must be an ISO 8601 duration such as 'PT1M', got {value!r}")
    try:
        duration = _parse_duration(value)
    except (isodate.ISO8601Error, ValueError):
        raise ArtifactError(f"{where}.{key}: {value!r} is not an ISO 8601 duration (e.g. 'PT1M')") from None
    if isinstance(duration, isodate.Duration):  # years/months have no fixed length
        raise ArtifactError(f"{where}.{key}: {value!r} uses years or months; use days, hours, minutes or seconds")
    return duration.total_seconds()


def _status_ranges(value: Any, where: str) -> tuple[tuple[int, int], ...]:
    if value is None:
        return ()
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise ArtifactError(f"{where}.statusCodeRanges must be a list")
    ranges = []
    for i, item in enumerate(value):
        lo = item.get("min") if isinstance(item, Mapping) else None
        hi = item.get("max") if isinstance(item, Mapping) else None
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (lo, hi)):
            raise ArtifactError(f"{where}.statusCodeRanges[{i}] needs integer 'min' and 'max', got {item!r}")
        ranges.append((lo, hi))
    return tuple(ranges)


def _error_reasons(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ArtifactError(f"{where}.errorReasons must be a list of strings")
    return tuple(value)
