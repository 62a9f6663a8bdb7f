"""Fixtures for the gateway's pure modules: an injectable clock."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

# Wednesday 11 June 2025, 12:00:00 UTC: whole minute, mid-week, mid-month.
START = datetime(2025, 6, 11, 12, 0, 0, tzinfo=timezone.utc).timestamp()


class FakeClock:
    """A settable epoch-seconds clock."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        """Move forward and return the new time."""
        self.now += seconds
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    """A clock at START that only moves when told."""
    return FakeClock()
