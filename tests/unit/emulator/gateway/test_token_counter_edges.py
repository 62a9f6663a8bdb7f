"""token_counter edges found by mutation testing: a fractional 'now' never shifts a quota window, the local
time zone plays no part, and the refusal messages name the settings."""

from __future__ import annotations

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


def test_the_bounds_are_utc_whatever_the_local_time_zone(machine_time_zone) -> None:
    machine_time_zone("America/Los_Angeles")
    assert period_bounds("Daily", utc(2025, 6, 11, 3)) == (utc(2025, 6, 11), utc(2025, 6, 12))


def test_refusals_name_what_is_missing_or_wrong() -> None:
    limiter = TokenLimiter(lambda: utc(2025, 6, 11, 12))
    with pytest.raises(InputError, match="^a token limit needs tokens-per-minute or token-quota$"):
        limiter.check("sub")
    with pytest.raises(InputError, match="^token-quota needs token-quota-period$"):
        limiter.check("sub", quota=10)
    with pytest.raises(InputError) as info:
        period_bounds("Fortnightly", 0)
    assert str(info.value) == "token-quota-period 'Fortnightly' is not one of Hourly, Daily, Weekly, Monthly, Yearly"


def test_a_period_without_a_quota_counts_no_quota() -> None:
    limiter = TokenLimiter(lambda: utc(2025, 6, 11, 12))
    decision = limiter.check("sub", tpm=100, period="Daily", prompt_estimate=10)
    assert (decision.remaining_tokens, decision.remaining_quota) == (90, None)
    assert limiter.snapshot()["quota"] == []


def test_an_estimate_of_zero_reserves_nothing() -> None:
    limiter = TokenLimiter(lambda: utc(2025, 6, 11, 12))
    decision = limiter.check("sub", tpm=100, quota=1_000, period="Daily", prompt_estimate=0)
    assert (decision.remaining_tokens, decision.remaining_quota) == (100, 1_000)
    assert decision.reservation is not None and decision.reservation.tokens == 0


def test_a_quota_reservation_adds_to_what_the_period_used() -> None:
    limiter = TokenLimiter(lambda: utc(2025, 6, 11, 12))
    limiter.consume("sub", 100, period="Daily")
    assert limiter.check("sub", quota=1_000, period="Daily", prompt_estimate=50).remaining_quota == 850


def test_a_quota_settled_below_its_reservation_goes_back_to_zero() -> None:
    limiter = TokenLimiter(lambda: utc(2025, 6, 11, 12))
    decision = limiter.check("sub", quota=1_000, period="Daily", prompt_estimate=100)
    limiter.consume("sub", 0, reservation=decision.reservation)
    assert limiter.snapshot()["quota"][0]["used"] == 0
    assert limiter.check("sub", quota=1_000, period="Daily").remaining_quota == 1_000


def test_a_reservation_made_after_a_reset_settles_in_its_window() -> None:
    limiter = TokenLimiter(lambda: utc(2025, 6, 11, 12))
    limiter.reset()
    decision = limiter.check("sub", tpm=1_000, prompt_estimate=100)
    limiter.consume("sub", 40, reservation=decision.reservation)  # used less than reserved: the rest comes back
    assert limiter.check("sub", tpm=1_000).remaining_tokens == 960


def test_each_reset_starts_a_new_generation() -> None:
    limiter = TokenLimiter(lambda: utc(2025, 6, 11, 12))
    limiter.reset()
    before_second_reset = limiter.check("sub", tpm=1_000, prompt_estimate=100)
    limiter.reset()
    limiter.consume("sub", 80)  # a request after the second reset
    limiter.consume("sub", 40, reservation=before_second_reset.reservation)  # held in no current window: adds 0
    assert limiter.check("sub", tpm=1_000).remaining_tokens == 920


def test_a_sweep_is_due_exactly_a_minute_after_the_last(clock) -> None:
    clock.now = utc(2025, 6, 11, 12, 10, 30)
    limiter = TokenLimiter(clock)
    limiter.check("old", tpm=100)  # sweeps (the first call); its window ends at 12:11:00
    clock.now = utc(2025, 6, 11, 12, 11, 29)
    limiter.check("new", tpm=100)
    assert set(limiter._minutes) == {"old", "new"}  # expired, but the next sweep is not due yet
    clock.now = utc(2025, 6, 11, 12, 11, 30)
    limiter.check("new", tpm=100)
    assert set(limiter._minutes) == {"new"}


def test_a_snapshot_lists_no_expired_window_even_between_sweeps(clock) -> None:
    clock.now = utc(2025, 6, 11, 12, 10, 30)
    limiter = TokenLimiter(clock)
    limiter.check("sub", tpm=100, quota=1_000, period="Hourly", prompt_estimate=10)  # the sweep is next due at 12:11:30
    clock.now = utc(2025, 6, 11, 12, 11, 10)
    assert limiter.snapshot()["tokens_per_minute"] == {}
    assert [entry["used"] for entry in limiter.snapshot()["quota"]] == [10]
