"""The emulator's clock: wall time that tests and demos can speed up or move forward.

Breakers (tripDuration), token windows, cache TTLs and the simulated backends' rate limits all read this
one clock, so `advance(60)` makes a PT1M breaker close without anyone waiting a minute.
"""

from __future__ import annotations

import threading
import time


class EmulatorClock:
    """Seconds since the epoch, running at ``speed`` x real time, plus manual advances."""

    def __init__(self, speed: float = 1.0) -> None:
        self._lock = threading.Lock()  # serialises writers; readers take the anchor tuple whole, without it
        # (wall time at the anchor, monotonic time at the anchor, speed): replaced as one tuple, so a reader
        # never sees a half-made change (the gateway reads the clock several times per request).
        self._anchor = (time.time(), time.monotonic(), 1.0)
        self.set_speed(speed)

    def __call__(self) -> float:
        wall, mono, speed = self._anchor
        return wall + (time.monotonic() - mono) * speed

    @property
    def speed(self) -> float:
        """How many emulated seconds pass per real second."""
        return self._anchor[2]

    def set_speed(self, speed: float) -> None:
        """Change the speed from now on (the current time does not jump)."""
        if not 0 < speed <= 10_000:
            raise ValueError("clock speed must be in (0, 10000]")
        with self._lock:
            wall, mono, old_speed = self._anchor
            now_mono = time.monotonic()
            self._anchor = (wall + (now_mono - mono) * old_speed, now_mono, float(speed))

    def advance(self, seconds: float) -> float:
        """Jump forward (never backward: windows and breakers assume time is monotonic); returns the new time."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            wall, mono, speed = self._anchor
            self._anchor = (wall + seconds, mono, speed)
        return self()

    def real_seconds(self, emulated_seconds: float) -> float:
        """How long to really sleep for ``emulated_seconds`` at the current speed."""
        return emulated_seconds / self._anchor[2]
