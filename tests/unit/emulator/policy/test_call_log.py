"""CallLog: a rate-limit counter's calls, seen through sliding windows of any period."""

from __future__ import annotations

from toolkit.emulator.policy.state import MERGE_SECONDS, CallLog, PolicyState


def test_a_window_holds_the_calls_of_its_last_period_seconds() -> None:
    log = CallLog()
    assert log.calls(10, 100.0) == 0
    log.count(1, 100.0)
    log.count(2, 105.0)
    assert log.calls(10, 109.9) == 3
    assert log.calls(10, 110.0) == 2  # a call exactly a period old has left: the window is (now - 10, now]
    assert log.calls(10, 115.0) == 0


def test_a_window_opened_a_period_after_a_call_does_not_hold_it() -> None:
    log = CallLog()
    log.calls(60, 0.0)
    log.count(1, 0.0)
    assert log.calls(10, 10.0) == 0 and log.calls(60, 10.0) == 1


def test_calls_a_merge_interval_apart_get_entries_of_their_own() -> None:
    log = CallLog()
    log.calls(10, 0.0)
    log.count(1, 0.0)
    log.count(1, 0.005)  # closer than MERGE_SECONDS: the same entry
    log.count(1, MERGE_SECONDS)  # MERGE_SECONDS after that entry's time: a new one
    assert list(log._calls) == [2, 1]


def test_a_period_asked_for_later_sees_the_calls_already_counted_within_it() -> None:
    log = CallLog()
    log.calls(60, 0.0)
    for at in (0.0, 20.0, 40.0):
        log.count(1, at)
    assert log.calls(30, 45.0) == 2  # t=20 and t=40; t=0 is older than 30 s
    assert log.calls(60, 45.0) == 3
    log.count(5, 50.0)
    assert (log.calls(30, 55.0), log.calls(60, 55.0)) == (6, 8)  # t=40 and t=50; and t=20
    assert (log.calls(30, 71.0), log.calls(60, 71.0)) == (5, 7)


def test_calls_no_window_holds_any_more_are_forgotten() -> None:
    log = CallLog()
    log.calls(10, 0.0)
    for step in range(1000):
        log.count(1, step * 0.1)
    assert log.calls(10, 99.95) == 100
    assert len(log._times) == 100  # the memory held: only the last 10 s
    assert log.calls(10, 1000.0) == 0 and len(log._times) == 0


def test_calls_close_together_share_an_entry_so_a_log_stays_bounded() -> None:
    log = CallLog()
    log.calls(300, 0.0)
    for step in range(100_000):  # 100,000 calls in 100 s
        log.count(1, step * 0.001)
    assert log.calls(300, 100.0) == 100_000
    assert len(log._times) <= 100 / MERGE_SECONDS + 1


def test_the_wait_is_until_enough_of_the_oldest_calls_have_left() -> None:
    log = CallLog()
    log.calls(60, 0.0)
    log.count(2, 0.0)
    log.count(1, 10.0)
    log.count(1, 30.0)
    assert log.seconds_until_below(4, 60, 40.0) == 20  # one call must leave: t=0's, at 60
    assert log.seconds_until_below(2, 60, 40.0) == 30  # three must leave: t=0's two and t=10's, at 70
    assert log.seconds_until_below(1, 60, 40.0) == 50  # all four: the last at t=30 leaves at 90
    assert log.seconds_until_below(4, 60, 59.5) == 1  # half a second left: rounded up
    assert log.seconds_until_below(0, 60, 40.0) == 60  # nothing leaving makes room for a limit of 0
    assert log.seconds_until_below(0, 1, 40.0) == 1


def test_the_wait_counts_only_the_calls_of_its_own_window() -> None:
    log = CallLog()
    log.calls(60, 0.0)  # a longer window keeps older calls in the log
    log.count(2, 0.0)
    log.count(1, 55.0)
    assert log.seconds_until_below(1, 10, 58.0) == 7  # t=55's call leaves the 10 s window at 65
    other = CallLog()
    other.calls(60, 0.0)
    other.count(1, 0.0)
    other.count(3, 55.0)
    assert other.seconds_until_below(1, 10, 58.0) == 7  # the window's 3 calls, all of t=55, leave at 65


def test_a_reset_forgets_every_call() -> None:
    now = [0.0]
    state = PolicyState(lambda: now[0])
    state.rate("k").calls(60, 0.0)
    state.count("k", calls=3)
    assert state.rate("k").calls(60, 1.0) == 3
    state.reset()
    assert state.rate("k").calls(60, 1.0) == 0
