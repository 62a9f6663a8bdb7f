"""TokenLimiter: one-minute TPM windows, quota periods in UTC, reserve-then-settle, bounded memory."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from toolkit.emulator.gateway.token_counter import Decision, TokenLimiter, period_bounds
from toolkit.errors import InputError


def utc(*parts: int) -> float:
    return datetime(*parts, tzinfo=timezone.utc).timestamp()


@pytest.fixture
def limiter(clock) -> TokenLimiter:
    return TokenLimiter(clock)


# --- tokens per minute ---------------------------------------------------------------------------


def test_estimate_is_reserved_and_refused_when_it_does_not_fit(clock, limiter):
    clock.now = utc(2025, 6, 11, 12, 0, 10)
    first = limiter.check("sub", tpm=100, prompt_estimate=60)
    assert (first.allowed, first.status, first.retry_after, first.remaining_tokens) == (True, None, None, 40)
    refused = limiter.check("sub", tpm=100, prompt_estimate=50)
    assert refused == Decision(False, 429, 50, 40, None)
    fits = limiter.check("sub", tpm=100, prompt_estimate=40)
    assert fits.allowed and fits.remaining_tokens == 0


@pytest.mark.parametrize(
    ("second", "retry_after"),
    [(10.2, 50), (10.7, 50), (59.0, 1), (59.999, 1), (0.0, 60)],
)
def test_retry_after_is_the_rest_of_the_window_rounded_up(clock, limiter, second, retry_after):
    clock.now = utc(2025, 6, 11, 12, 0, 0) + second
    limiter.consume("sub", 100)
    decision = limiter.check("sub", tpm=100)
    assert (decision.status, decision.retry_after) == (429, retry_after)


def test_window_rolls_over_on_the_minute_boundary(clock, limiter):
    clock.now = utc(2025, 6, 11, 12, 0, 30)
    assert limiter.check("sub", tpm=100, prompt_estimate=100).allowed
    clock.now = utc(2025, 6, 11, 12, 0, 59) + 0.999
    assert limiter.check("sub", tpm=100, prompt_estimate=1).status == 429
    clock.now = utc(2025, 6, 11, 12, 1, 0)
    again = limiter.check("sub", tpm=100, prompt_estimate=30)
    assert again.allowed and again.remaining_tokens == 70


def test_without_an_estimate_a_request_can_overshoot_then_blocks(limiter):
    assert limiter.check("sub", tpm=100).allowed
    limiter.consume("sub", 250)  # usage known only from the response
    decision = limiter.check("sub", tpm=100)
    assert decision.status == 429 and decision.remaining_tokens == 0
    assert limiter.check("sub", tpm=100, prompt_estimate=0).status == 429


def test_refused_requests_count_nothing(limiter):
    limiter.check("sub", tpm=100, prompt_estimate=80)
    for _ in range(5):
        assert not limiter.check("sub", tpm=100, prompt_estimate=30).allowed
    assert limiter.check("sub", tpm=100, prompt_estimate=20).allowed


# --- reserve then settle -------------------------------------------------------------------------


def used_this_minute(limiter: TokenLimiter, key: str) -> int:
    return limiter.snapshot()["tokens_per_minute"][key]["used"]


@pytest.mark.parametrize("actual", [20, 50, 70])
def test_actual_usage_replaces_the_estimate(limiter, actual):
    decision = limiter.check("sub", tpm=100, prompt_estimate=50)
    assert used_this_minute(limiter, "sub") == 50
    limiter.consume("sub", actual, reservation=decision.reservation)
    assert used_this_minute(limiter, "sub") == actual
    assert limiter.check("sub", tpm=100).remaining_tokens == 100 - actual


def test_settling_after_the_window_rolled_over_charges_only_the_excess(clock, limiter):
    clock.now = utc(2025, 6, 11, 12, 0, 50)
    decision = limiter.check("sub", tpm=100, prompt_estimate=50)
    clock.now = utc(2025, 6, 11, 12, 1, 5)
    limiter.consume("sub", 80, reservation=decision.reservation)
    assert used_this_minute(limiter, "sub") == 30
    later = limiter.check("sub", tpm=100, prompt_estimate=10)
    clock.advance(60)
    limiter.consume("sub", 5, reservation=later.reservation)  # less than reserved: nothing to add
    assert used_this_minute(limiter, "sub") == 0


def test_settle_applies_to_the_quota_too(limiter):
    decision = limiter.check("sub", quota=1_000, period="Daily", prompt_estimate=300)
    assert decision.remaining_quota == 700 and decision.remaining_tokens is None
    limiter.consume("sub", 120, reservation=decision.reservation)
    assert limiter.check("sub", quota=1_000, period="Daily").remaining_quota == 880


def test_a_reservation_settles_only_under_its_own_key(limiter):
    decision = limiter.check("a", tpm=100, prompt_estimate=10)
    with pytest.raises(ValueError, match="reservation"):
        limiter.consume("b", 10, reservation=decision.reservation)


# --- quota ---------------------------------------------------------------------------------------


def test_quota_exhaustion_is_403_and_wins_over_429(clock, limiter):
    clock.now = utc(2025, 6, 11, 12, 40, 0)
    limiter.consume("sub", 1_000, period="Hourly")
    decision = limiter.check("sub", tpm=100, quota=1_000, period="Hourly")
    assert decision == Decision(False, 403, 20 * 60, 0, 0)


def test_quota_estimate_refusal(limiter):
    assert limiter.check("sub", quota=100, period="Monthly", prompt_estimate=90).allowed
    assert limiter.check("sub", quota=100, period="Monthly", prompt_estimate=20).status == 403
    assert limiter.check("sub", quota=100, period="Monthly", prompt_estimate=10).allowed


@pytest.mark.parametrize(
    ("period", "last_instant", "next_start"),
    [
        ("Hourly", utc(2025, 6, 11, 12, 59, 59), utc(2025, 6, 11, 13)),
        ("Daily", utc(2025, 6, 11, 23, 59, 59), utc(2025, 6, 12)),
        ("Weekly", utc(2025, 6, 15, 23, 59, 59), utc(2025, 6, 16)),  # Sunday → Monday
        ("Monthly", utc(2025, 6, 30, 23, 59, 59), utc(2025, 7, 1)),
        ("Yearly", utc(2025, 12, 31, 23, 59, 59), utc(2026, 1, 1)),
    ],
)
def test_quota_resets_at_the_period_boundary(clock, limiter, period, last_instant, next_start):
    clock.now = last_instant
    limiter.consume("sub", 500, period=period)
    blocked = limiter.check("sub", quota=500, period=period)
    assert (blocked.status, blocked.retry_after) == (403, 1)
    clock.now = next_start
    assert limiter.check("sub", quota=500, period=period).remaining_quota == 500


@pytest.mark.parametrize(
    ("period", "now", "start", "end"),
    [
        ("Hourly", (2025, 6, 11, 12, 34, 56), (2025, 6, 11, 12), (2025, 6, 11, 13)),
        ("Hourly", (2025, 12, 31, 23, 30), (2025, 12, 31, 23), (2026, 1, 1)),
        ("Daily", (2025, 6, 11, 0, 0, 0), (2025, 6, 11), (2025, 6, 12)),
        ("Weekly", (2025, 6, 11, 12), (2025, 6, 9), (2025, 6, 16)),  # Wednesday: ISO week from Monday
        ("Weekly", (2025, 6, 9, 0, 0, 0), (2025, 6, 9), (2025, 6, 16)),  # Monday 00:00 starts it
        ("Weekly", (2025, 6, 8, 23, 59, 59), (2025, 6, 2), (2025, 6, 9)),  # Sunday ends the previous one
        ("Weekly", (2025, 1, 1, 8), (2024, 12, 30), (2025, 1, 6)),  # across a year boundary
        ("Monthly", (2024, 2, 29, 18), (2024, 2, 1), (2024, 3, 1)),  # leap day
        ("Monthly", (2025, 12, 31, 23, 59), (2025, 12, 1), (2026, 1, 1)),
        ("Yearly", (2025, 6, 11, 12), (2025, 1, 1), (2026, 1, 1)),
        ("daily", (2025, 6, 11, 12), (2025, 6, 11), (2025, 6, 12)),  # case-insensitive
    ],
)
def test_period_bounds_in_utc(period, now, start, end):
    assert period_bounds(period, utc(*now)) == (utc(*start), utc(*end))


# --- keys, snapshot, memory, input errors --------------------------------------------------------


def test_keys_are_isolated(limiter):
    limiter.consume("a", 100)
    limiter.consume("a", 1_000, period="Daily")
    assert limiter.check("a", tpm=100).status == 429
    assert limiter.check("a", quota=1_000, period="Daily").status == 403
    b = limiter.check("b", tpm=100, quota=1_000, period="Daily")
    assert (b.allowed, b.remaining_tokens, b.remaining_quota) == (True, 100, 1_000)


def test_snapshot_contents(clock, limiter):
    clock.now = utc(2025, 6, 11, 12, 10, 30)
    limiter.check("sub", tpm=100, quota=1_000, period="Hourly", prompt_estimate=40)
    assert limiter.snapshot() == {
        "tokens_per_minute": {
            "sub": {"window_start": utc(2025, 6, 11, 12, 10), "window_end": utc(2025, 6, 11, 12, 11), "used": 40}
        },
        "quota": [
            {
                "key": "sub",
                "period": "Hourly",
                "window_start": utc(2025, 6, 11, 12),
                "window_end": utc(2025, 6, 11, 13),
                "used": 40,
            }
        ],
    }


def test_reset_forgets_every_counter(limiter):
    limiter.consume("sub", 100, period="Daily")
    limiter.reset()
    assert limiter.snapshot() == {"tokens_per_minute": {}, "quota": []}
    assert limiter.check("sub", tpm=100).allowed


def test_expired_windows_are_dropped(clock, limiter):
    clock.now = utc(2025, 6, 11, 12, 10, 0)
    for i in range(10_000):
        limiter.check(f"k{i}", tpm=100, prompt_estimate=1)
    for i in range(100):
        limiter.check(f"q{i}", quota=100, period="Hourly", prompt_estimate=1)
    clock.now = utc(2025, 6, 11, 12, 12, 0)
    limiter.check("fresh", tpm=100)  # the check itself sweeps (at most once a minute)
    assert (len(limiter._minutes), len(limiter._quotas)) == (1, 100)
    assert set(limiter.snapshot()["tokens_per_minute"]) == {"fresh"}
    assert len(limiter.snapshot()["quota"]) == 100  # the hour is not over yet
    clock.now = utc(2025, 6, 11, 13, 0, 0)
    limiter.check("fresh", tpm=100)
    assert limiter.snapshot() == {
        "tokens_per_minute": {"fresh": {"window_start": clock.now, "window_end": clock.now + 60, "used": 0}},
        "quota": [],
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "tokens-per-minute or token-quota"),
        ({"quota": 10}, "token-quota-period"),
        ({"quota": 10, "period": "Fortnightly"}, "Fortnightly"),
    ],
)
def test_bad_limits_are_refused(limiter, kwargs, message):
    with pytest.raises(InputError, match=message):
        limiter.check("sub", **kwargs)


def test_settling_an_old_reservation_never_takes_tokens_of_the_new_minute(clock, limiter):
    clock.now = utc(2025, 6, 11, 12, 0, 50)
    old = limiter.check("sub", tpm=1_000, prompt_estimate=100)
    clock.now = utc(2025, 6, 11, 12, 1, 5)
    limiter.consume("sub", 50)  # another request, in the new minute
    limiter.consume("sub", 40, reservation=old.reservation)  # used less than it reserved, a minute ago
    assert used_this_minute(limiter, "sub") == 50


def test_a_reset_between_check_and_consume_keeps_counters_right(limiter):
    decision = limiter.check("sub", tpm=1_000, quota=5_000, period="Daily", prompt_estimate=100)
    limiter.reset()
    limiter.consume("sub", 30, period="Daily")  # a request after the reset
    limiter.consume("sub", 40, reservation=decision.reservation)  # less than reserved: adds nothing
    assert used_this_minute(limiter, "sub") == 30
    assert limiter.snapshot()["quota"][0]["used"] == 30
    limiter.consume("sub", 150, reservation=decision.reservation)  # more than reserved: only the excess
    assert used_this_minute(limiter, "sub") == 80
