"""Token counters for ``azure-openai-token-limit`` / ``llm-token-limit``.

- Tokens per minute: one counter per counter key over fixed one-minute windows aligned to whole
  minutes of the clock. Over budget → 429 with ``retry_after`` = seconds to the window end, rounded
  up, at least 1.
- Quota: one counter per (key, period) over fixed calendar periods in UTC; the window starts at the
  clock truncated to the unit: ``Hourly`` the hour, ``Daily`` midnight, ``Weekly`` Monday 00:00 (ISO
  week), ``Monthly`` the 1st, ``Yearly`` 1 January. Over quota → 403, which wins over a 429 (waiting
  for the minute would not help); ``retry_after`` is then the seconds to the period end.
- Admission (``check``, inbound): a budget already used up refuses. With a prompt estimate
  (``estimate-prompt-tokens="true"``), a request whose estimate exceeds what is left refuses too.
  Refused requests count nothing.
- Reserve-then-settle: an admitted estimate is reserved at once (so concurrent requests see it) and
  returned in ``Decision.reservation``; ``consume`` (after the response) replaces it with the actual
  usage. If the window rolled over in between, the reserved part stays with the old window and only
  usage beyond the reservation is charged to the new one; the same after ``reset()`` (a reservation made
  before a reset is not in the fresh counters, so settling it never takes tokens others used since).
  Without an estimate, ``consume`` charges
  the actual usage, so a request can overshoot the budget; later ones are refused until the reset,
  as APIM documents.

The clock returns seconds since the Unix epoch. Memory is bounded: expired windows are dropped.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from toolkit.errors import InputError

MINUTE = 60.0
QUOTA_PERIODS = ("Hourly", "Daily", "Weekly", "Monthly", "Yearly")
_PERIOD_BY_NAME = {p.lower(): p for p in QUOTA_PERIODS}


# Reservation and Decision are made on every request through a token limit: plain slotted dataclasses (a
# frozen one costs 2.5x to build); nothing changes them after `check` made them.
@dataclass(slots=True)
class Reservation:
    """Tokens held by an admitted request until ``consume`` settles them."""

    key: str
    tokens: int
    minute_start: float
    period: str | None
    period_start: float | None
    generation: int = 0  # the limiter's reset count when reserved


@dataclass(slots=True)
class Decision:
    """The answer of ``check``: allowed, or refused with the status and when to retry."""

    allowed: bool
    status: int | None  # 429 (tokens per minute), 403 (quota), None when allowed
    retry_after: int | None  # whole seconds to the end of the exhausted window; None when allowed
    remaining_tokens: int | None  # left this minute after the reservation; None without a TPM limit
    remaining_quota: int | None  # left this period after the reservation; None without a quota
    reservation: Reservation | None = None


def normalise_period(period: str) -> str:
    """The canonical spelling of a ``token-quota-period`` (case-insensitive)."""
    canonical = _PERIOD_BY_NAME.get(str(period).lower())
    if canonical is None:
        raise InputError(f"token-quota-period {period!r} is not one of {', '.join(QUOTA_PERIODS)}")
    return canonical


def period_bounds(period: str, now: float) -> tuple[float, float]:
    """Start and end (epoch seconds) of the quota window holding ``now``, in UTC."""
    period = normalise_period(period)
    t = datetime.fromtimestamp(now, tz=timezone.utc)
    if period == "Hourly":
        start = t.replace(minute=0, second=0, microsecond=0)
        end = start + timedelta(hours=1)
    elif period == "Daily":
        start = t.replace(hour=0, minute=0, second=0, microsecond=0)
        end = start + timedelta(days=1)
    elif period == "Weekly":
        start = t.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=t.weekday())
        end = start + timedelta(weeks=1)
    elif period == "Monthly":
        start = t.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    else:
        start = t.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
        end = start.replace(year=start.year + 1)
    return start.timestamp(), end.timestamp()


def _retry_seconds(window_end: float, now: float) -> int:
    return max(1, math.ceil(window_end - now))


class _Window:
    """Tokens counted in one fixed window [start, end)."""

    __slots__ = ("start", "end", "used")

    def __init__(self, start: float, end: float) -> None:
        self.start = start
        self.end = end
        self.used = 0


class TokenLimiter:
    """Tokens-per-minute and quota counters for every counter key; thread-safe."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._minutes: dict[str, _Window] = {}
        self._quotas: dict[tuple[str, str], _Window] = {}
        self._next_sweep = -math.inf
        self._generation = 0  # bumped by reset(): reservations from before hold nothing in the new counters

    def check(
        self,
        key: str,
        tpm: int | None = None,
        quota: int | None = None,
        period: str | None = None,
        prompt_estimate: int | None = None,
    ) -> Decision:
        """Admit or refuse a request for ``key``; an admitted estimate is reserved."""
        if tpm is None and quota is None:
            raise InputError("a token limit needs tokens-per-minute or token-quota")
        if quota is not None and period is None:
            raise InputError("token-quota needs token-quota-period")
        period = normalise_period(period) if quota is not None and period is not None else None
        now = self._clock()
        with self._lock:
            self._sweep(now)
            minute = self._minute(key, now)
            quota_window = self._quota(key, period, now) if period is not None else None
            estimate = prompt_estimate or 0

            status: int | None = None
            retry_after: int | None = None
            if quota is not None and quota_window is not None:
                if _over(quota_window.used, estimate, quota, prompt_estimate):
                    status, retry_after = 403, _retry_seconds(quota_window.end, now)
            if status is None and tpm is not None and _over(minute.used, estimate, tpm, prompt_estimate):
                status, retry_after = 429, _retry_seconds(minute.end, now)
            reservation = None
            if status is None and prompt_estimate is not None:
                minute.used += estimate
                if quota_window is not None:
                    quota_window.used += estimate
                period_start = quota_window.start if quota_window else None
                reservation = Reservation(key, estimate, minute.start, period, period_start, self._generation)
            return Decision(
                allowed=status is None,
                status=status,
                retry_after=retry_after,
                remaining_tokens=_left(tpm, minute.used),
                remaining_quota=None if quota_window is None else _left(quota, quota_window.used),
                reservation=reservation,
            )

    def consume(
        self,
        key: str,
        tokens: int,
        *,
        reservation: Reservation | None = None,
        period: str | None = None,
    ) -> None:
        """Charge the actual usage of a request, settling its reservation if it had one.

        ``period`` is the quota period when there is a quota and no reservation (a reservation
        carries its own).
        """
        if reservation is not None:
            if reservation.key != key:
                raise ValueError(f"reservation for key {reservation.key!r} settled under {key!r}")
            period = reservation.period
        elif period is not None:
            period = normalise_period(period)
        reserved = reservation.tokens if reservation is not None else 0
        minute_start = reservation.minute_start if reservation is not None else None
        period_start = reservation.period_start if reservation is not None else None
        now = self._clock()
        with self._lock:
            if reservation is not None and reservation.generation != self._generation:
                minute_start = period_start = None  # reserved before a reset: held in no current window
            minute = self._minute(key, now)
            minute.used = max(0, minute.used + _settlement(tokens, reserved, minute_start, minute.start))
            if period is not None:
                window = self._quota(key, period, now)
                window.used = max(0, window.used + _settlement(tokens, reserved, period_start, window.start))

    def snapshot(self) -> dict[str, Any]:
        """The live counters, for traces and the control API."""
        now = self._clock()
        with self._lock:
            self._sweep(now, force=True)
            return {
                "tokens_per_minute": {
                    key: {"window_start": w.start, "window_end": w.end, "used": w.used}
                    for key, w in self._minutes.items()
                },
                "quota": [
                    {"key": key, "period": period, "window_start": w.start, "window_end": w.end, "used": w.used}
                    for (key, period), w in self._quotas.items()
                ],
            }

    def reset(self) -> None:
        """Forget every counter."""
        with self._lock:
            self._minutes.clear()
            self._quotas.clear()
            self._generation += 1

    def _minute(self, key: str, now: float) -> _Window:
        window = self._minutes.get(key)
        if window is None or now >= window.end:
            start = math.floor(now / MINUTE) * MINUTE
            window = self._minutes[key] = _Window(start, start + MINUTE)
        return window

    def _quota(self, key: str, period: str, now: float) -> _Window:
        window = self._quotas.get((key, period))
        if window is None or now >= window.end:
            window = self._quotas[(key, period)] = _Window(*period_bounds(period, now))
        return window

    def _sweep(self, now: float, *, force: bool = False) -> None:
        # Drop expired windows at most once a minute (amortised O(1) per call).
        if not force and now < self._next_sweep:
            return
        self._next_sweep = now + MINUTE
        for store in (self._minutes, self._quotas):
            for k in [k for k, w in store.items() if now >= w.end]:
                del store[k]


def _over(used: int, estimate: int, limit: int, prompt_estimate: int | None) -> bool:
    """Refuse when the budget is used up, or when the estimate does not fit in what is left."""
    return used >= limit or (prompt_estimate is not None and used + estimate > limit)


def _left(limit: int | None, used: int) -> int | None:
    return None if limit is None else max(0, limit - used)


def _settlement(actual: int, reserved: int, reserved_in: float | None, current: float) -> int:
    """What to add to the current window: the difference if the reservation lives there, else the excess."""
    if reserved_in == current:
        return actual - reserved
    return max(0, actual - reserved)
