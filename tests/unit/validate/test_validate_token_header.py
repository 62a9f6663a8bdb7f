"""The remaining-tokens header judgement (pure): falls with every call, and by what the calls used overall."""

from __future__ import annotations

from toolkit.validate.observations import Observation
from toolkit.validate.scenarios.token_limit import _remaining_header, _window_rolled
from toolkit.validate.verdict import Outcome


def _obs(remaining: int | None) -> Observation:
    return Observation(0.0, "token-limit", "t", 200, 1.0, None, None, False, 10, 5, None, None, "c",
                       remaining_tokens=remaining)


def test_falls_by_the_usage() -> None:
    check = _remaining_header("x-rem", [(100, 100), (98, 100), (103, 100)], [_obs(1)], 100, 0.1)
    assert check.outcome is Outcome.PASS


def test_rising_header_fails() -> None:
    check = _remaining_header("x-rem", [(100, 100), (-5, 100)], [_obs(1)], 100, 0.1)
    assert check.outcome is Outcome.FAIL and "did not fall" in check.sentence


def test_falling_by_much_more_than_used_fails() -> None:
    check = _remaining_header("x-rem", [(400, 100)] * 10, [_obs(1)], 100, 0.1)
    assert check.outcome is Outcome.FAIL and "fell by 4000" in check.sentence


def test_missing_header_fails_and_too_few_calls_is_inconclusive() -> None:
    assert _remaining_header("x-rem", [(1, 1)], [_obs(None)], 1, 0.1).outcome is Outcome.FAIL
    assert _remaining_header("x-rem", [], [_obs(5)], 1, 0.1).outcome is Outcome.INCONCLUSIVE


def test_a_new_window_is_seen_as_the_header_rising() -> None:
    assert _window_rolled(_obs(100), _obs(19000)) and not _window_rolled(_obs(100), _obs(50))
