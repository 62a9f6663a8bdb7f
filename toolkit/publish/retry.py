"""Retry with exponential backoff for the statuses worth waiting out (429 throttling, 409 conflicts).

The SDK's own status retries are switched off (client.py), so one place decides what is retried,
and a 500 fails at once (apply then rolls back). ``sleep`` is injectable: tests record the delays.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from toolkit.errors import RemoteError
from toolkit.publish.errors import RemoteHttpError

T = TypeVar("T")
_ABANDONED = threading.Event()  # set when the process stops at once: waits end, no retry follows


def abandon_waits() -> None:
    """End every retry wait now, in every thread, and let no retry follow (a second Ctrl-C: the process must not
    stay alive until a worker thread's Retry-After has passed)."""
    _ABANDONED.set()


def interruptible_sleep(seconds: float) -> None:
    """``time.sleep`` that `abandon_waits` ends early, raising RetryAbandoned."""
    if _ABANDONED.wait(seconds):
        raise RetryAbandoned("stopped at once: the retry was abandoned")


class RetryAbandoned(RemoteError):
    """A retry wait ended by `abandon_waits`."""


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` tries in all; delays ``base_delay * 2**n`` capped at ``max_delay`` (Retry-After wins, capped too)."""

    attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 20.0
    statuses: frozenset[int] = frozenset({409, 429})
    sleep: Callable[[float], None] = field(default=interruptible_sleep, compare=False)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait after failed try number ``attempt`` (1-based)."""
        wanted = retry_after if retry_after is not None else self.base_delay * 2 ** (attempt - 1)
        return max(0.0, min(wanted, self.max_delay))

    def run(self, call: Callable[[], T], on_retry: Callable[[RemoteHttpError, float], None] | None = None) -> T:
        """``call()``, retried while it fails with a retryable status and tries remain."""
        attempt = 1
        while True:
            try:
                return call()
            except RemoteHttpError as exc:
                if exc.status not in self.statuses or attempt >= self.attempts:
                    raise
                wait = self.delay(attempt, exc.retry_after)
                if on_retry is not None:
                    on_retry(exc, wait)
                self.sleep(wait)
                attempt += 1


NO_RETRY = RetryPolicy(attempts=1)
