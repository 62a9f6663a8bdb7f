"""Semantic-cache predictions (pure): distance to the nearest stored entry vs the threshold; separating range."""

from __future__ import annotations

import numpy as np

from toolkit.validate.scenarios.semantic_cache import _Asked, _predicted, _separating
from toolkit.validate.verdict import Outcome


def _unit(angle: float) -> list[float]:
    return [float(np.cos(angle)), float(np.sin(angle))]


def _cos_distance_angle(distance: float) -> float:
    return float(np.arccos(1 - distance))


def _run(paraphrase_distance: float, paraphrase_hit: bool, control_hit: bool = False):
    asked = [_Asked("set1", "anchor", False, 200), _Asked("set1", "anchor", True, 200),
             _Asked("set2", "para", paraphrase_hit, 200), _Asked("control", "other", control_hit, 200)]
    vectors = np.array([_unit(0), _unit(0), _unit(_cos_distance_angle(paraphrase_distance)), _unit(1.5)])
    return asked, vectors


def test_hits_and_misses_as_predicted_pass() -> None:
    assert all(c.outcome is Outcome.PASS for c in _predicted(*_run(0.03, True), 0.05, 0.01))
    assert all(c.outcome is Outcome.PASS for c in _predicted(*_run(0.2, False), 0.05, 0.01))


def test_a_hit_beyond_the_threshold_fails_as_looser() -> None:
    checks = _predicted(*_run(0.2, True), 0.05, 0.01)
    assert checks[0].outcome is Outcome.FAIL and "more loosely" in checks[0].sentence


def test_a_miss_within_the_threshold_fails_as_stricter() -> None:
    checks = _predicted(*_run(0.02, False), 0.05, 0.01)
    assert checks[0].outcome is Outcome.FAIL and "more strictly" in checks[0].sentence


def test_near_the_threshold_nothing_is_predicted() -> None:
    assert _predicted(*_run(0.055, True), 0.05, 0.01)[0].outcome is Outcome.PASS
    assert _predicted(*_run(0.045, False), 0.05, 0.01)[0].outcome is Outcome.PASS


def test_a_control_hit_fails() -> None:
    checks = _predicted(*_run(0.2, False, control_hit=True), 0.05, 0.01)
    assert checks[1].outcome is Outcome.FAIL and "'other'" in checks[1].sentence


def test_separating_range() -> None:
    asked, vectors = _run(0.2, False)
    result = _separating(asked, vectors, "anchor")
    assert result["separable"] and abs(result["low"] - 0.2) < 1e-6 and result["high"] > 0.9
