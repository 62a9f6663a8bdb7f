"""PolicyState's quota windows: counting calls and bytes, and renewing windows aligned to first-period-start."""

from __future__ import annotations

from toolkit.emulator.policy.state import PolicyState


def state_at(now: list[float]) -> PolicyState:
    return PolicyState(lambda: now[0])


def test_counting_bytes_adds_no_call_and_bytes_add_up() -> None:
    now = [0.0]
    state = state_at(now)
    window = state.window("q", 60)
    assert window.calls == 0  # a window opened by a request that counted nothing through another policy
    state.count("q", bandwidth=100)
    state.count("q", bandwidth=50)
    assert (window.calls, window.bandwidth) == (0, 150)


def test_a_window_renewed_by_a_count_stays_aligned_to_first_period_start() -> None:
    now = [250.0]
    state = state_at(now)
    assert state.window("k", 100, first_start=0.0).start == 200.0
    now[0] = 310.0
    state.count("k", calls=1)  # the period passed: the count opens the next window, aligned
    renewed = state.window("k", 100, first_start=0.0)
    assert (renewed.start, renewed.calls) == (300.0, 1)


def test_rate_limit_counters_count_apart_from_quota_windows() -> None:
    now = [0.0]
    state = state_at(now)
    state.window("quota|x", 60)
    state.rate("rate|x").calls(60, 0.0)
    state.count("rate|x", calls=2)
    state.count("quota|x", calls=1)
    assert state.rate("rate|x").calls(60, 0.0) == 2 and state.window("quota|x", 60).calls == 1


def test_an_internal_cache_entry_expires_at_its_duration() -> None:
    now = [0.0]
    state = state_at(now)
    state.cache_put(state.values, "k", "v", 10)
    now[0] = 9.9
    assert state.cache_get(state.values, "k") == ("v", 10.0)
    now[0] = 10.0
    assert state.cache_get(state.values, "k") is None and "k" not in state.values


def test_recorded_metrics_and_events_carry_the_time_of_the_state_clock() -> None:
    now = [12.5]
    state = state_at(now)
    state.record_metric(name="Total Tokens", value=3)
    state.record_event("trace", message="m")
    assert list(state.metrics) == [{"name": "Total Tokens", "value": 3, "time": 12.5}]
    assert list(state.events) == [{"kind": "trace", "time": 12.5, "message": "m"}]
