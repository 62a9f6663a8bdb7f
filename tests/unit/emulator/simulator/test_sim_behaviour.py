"""BackendBehaviour validation and serialisation, FaultQueue order, MinuteWindows accounting."""

from __future__ import annotations

import json
from typing import Any

import pytest

from toolkit.emulator.simulator import BackendBehaviour, Fault, FaultQueue, MinuteWindows
from toolkit.errors import InputError


def test_behaviour_round_trips_through_json() -> None:
    behaviour = BackendBehaviour(latency_base_ms=5, tokens_per_minute=1000, error_rate=0.25, error_status=503)
    assert BackendBehaviour.from_dict(json.loads(json.dumps(behaviour.to_dict()))) == behaviour


def test_defaults_are_fast_and_unlimited() -> None:
    behaviour = BackendBehaviour()
    assert behaviour.latency_base_ms == behaviour.latency_per_token_ms == behaviour.latency_jitter_ms == 0
    assert behaviour.tokens_per_minute is None and behaviour.requests_per_minute is None
    assert behaviour.error_rate == 0


def test_updated_applies_a_partial_change() -> None:
    behaviour = BackendBehaviour(tokens_per_minute=1000).updated({"requests_per_minute": 6})
    assert (behaviour.tokens_per_minute, behaviour.requests_per_minute) == (1000, 6)
    assert behaviour.updated({"tokens_per_minute": None}).tokens_per_minute is None


@pytest.mark.parametrize(
    "changes",
    [
        {"error_rate": 1.5},
        {"error_rate": -0.1},
        {"error_status": 200},
        {"tokens_per_minute": 0},
        {"requests_per_minute": 2.5},
        {"latency_base_ms": -1},
        {"latency_jitter_ms": "fast"},
        {"tokens_per_minute": True},
    ],
)
def test_invalid_values_are_refused_with_the_field_name(changes: dict[str, object]) -> None:
    with pytest.raises(InputError) as info:
        BackendBehaviour().updated(changes)
    assert next(iter(changes)) in str(info.value)


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(InputError, match="latency_ms"):
        BackendBehaviour.from_dict({"latency_ms": 3})


def test_fault_queue_serves_entries_in_order_then_empties() -> None:
    queue = FaultQueue()
    first, second = Fault("status", status=429, retry_after=3), Fault("hang", hang_seconds=0.5)
    queue.push(first, 2)
    queue.push(second, 1)
    assert len(queue) == 3
    assert queue.pending()[0]["remaining"] == 2
    assert [queue.pop(), queue.pop(), queue.pop(), queue.pop()] == [first, first, second, None]
    assert len(queue) == 0


def test_fault_queue_clear_and_bad_counts() -> None:
    queue = FaultQueue()
    queue.push(Fault("status", status=500), 5)
    queue.clear()
    assert queue.pop() is None
    with pytest.raises(InputError):
        queue.push(Fault("status", status=500), 0)


@pytest.mark.parametrize(
    "kwargs", [{"kind": "status", "status": 302}, {"kind": "nap"}, {"kind": "hang", "hang_seconds": -1}]
)
def test_invalid_faults_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(InputError):
        Fault(**kwargs)  # type: ignore[arg-type]


def test_windows_count_tokens_and_refuse_over_the_limit(clock: Any) -> None:
    clock.now = 120.0
    windows = MinuteWindows(clock)
    first = windows.admit(60, tokens_per_minute=100, requests_per_minute=None)
    assert first.allowed and first.remaining_tokens == 40 and first.remaining_requests is None
    clock.now = 150.25
    refused = windows.admit(41, tokens_per_minute=100, requests_per_minute=None)
    assert not refused.allowed and refused.exceeded == "tokens"
    assert refused.retry_after == pytest.approx(29.75)
    assert windows.tokens == 60  # refused requests are not counted
    assert windows.admit(40, tokens_per_minute=100, requests_per_minute=None).remaining_tokens == 0


def test_windows_roll_over_on_the_minute(clock: Any) -> None:
    clock.now = 59.0
    windows = MinuteWindows(clock)
    assert windows.admit(1, None, requests_per_minute=1).allowed
    assert windows.admit(1, None, requests_per_minute=1).exceeded == "requests"
    clock.now = 60.0
    admission = windows.admit(1, None, requests_per_minute=1)
    assert admission.allowed and admission.remaining_requests == 0


def test_request_limit_is_checked_before_token_limit(clock: Any) -> None:
    windows = MinuteWindows(clock)
    windows.admit(10, tokens_per_minute=10, requests_per_minute=1)
    assert windows.admit(10, tokens_per_minute=10, requests_per_minute=1).exceeded == "requests"


def test_peek_counts_nothing(clock: Any) -> None:
    windows = MinuteWindows(clock)
    windows.admit(30, tokens_per_minute=100, requests_per_minute=10)
    peek = windows.peek(tokens_per_minute=100, requests_per_minute=10)
    assert (peek.remaining_tokens, peek.remaining_requests) == (70, 9)
    assert (windows.tokens, windows.requests) == (30, 1)
