"""token_counter edges found by mutation testing: a fractional 'now' never shifts a quota window, the local
time zone plays no part, and the refusal messages name the settings."""

from __future__ import annotations

import os
import time
from datetime import datetime, timezone

import pytest

from toolkit.emulator.gateway.token_counter import QUOTA_PERIODS, TokenLimiter, period_bounds
from toolkit.errors import InputError


def utc(*parts: int) -> float:
    return datetime(*parts, tzinfo=timezone.utc).timestamp()


@pytest.mark.parametrize("period", QUOTA_PERIODS)
def test_a_fractional_now_gives_whole_second_bounds(period: str) -> None:
    now = utc(2025, 6, 11, 12, 34, 56) + 0.75
    start, end = period_bounds(period, now)
    assert start == int(start) and end == int(end)
    assert start <= now < end


@pytest.mark.skipif(not hasattr(time, "tzset"), reason="needs time.tzset")
def test_the_bounds_are_utc_whatever_the_local_time_zone() -> None:
    before = os.environ.get("TZ")
    os.environ["TZ"] = "America/Los_Angeles"
    time.tzset()
    try:
        assert period_bounds("Daily", utc(2025, 6, 11, 3)) == (utc(2025, 6, 11), utc(2025, 6, 12))
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()


def test_refusals_name_what_is_missing_or_wrong() -> None:
    limiter = TokenLimiter(lambda: utc(2025, 6, 11, 12))
    with pytest.raises(InputError, match="^a token limit needs tokens-per-minute or token-quota$"):
        limiter.check("sub")
    with pytest.raises(InputError, match="^token-quota needs token-quota-period$"):
        limiter.check("sub", quota=10)
    with pytest.raises(InputError) as info:
        period_bounds("Fortnightly", 0)
    assert str(info.value) == "token-quota-period 'Fortnightly' is not one of Hourly, Daily, Weekly, Monthly, Yearly"
