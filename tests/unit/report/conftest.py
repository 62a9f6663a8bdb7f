"""A small, hand-made validation run that exercises every report part (no emulator needed)."""

from __future__ import annotations

import pytest

from toolkit.validate.observations import Observation, ObservationLog
from toolkit.validate.runner import ValidationRun
from toolkit.validate.verdict import Check, Outcome, Verdict

SECRET_KEY = "0123456789abcdef0123456789abcdef"
SECRET_JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
REGIONS = {"openai-eastus": "East US", "openai-northcentralus": "North Central US", "openai-westus": "West US"}


def _row(log: ObservationLog, i: int, scenario: str, backend: str | None, *, status: int = 200,
         latency: float = 40.0, phase: str = "", hit: bool = False, tokens: int = 30, retry_after: float | None = None,
         prompt_id: str = "p1") -> None:
    log.add(Observation(time=1_800_000_000.0 + i, scenario=scenario, prompt_id=prompt_id, status=status,
                        latency_ms=latency, backend=backend, region=REGIONS.get(backend or ""), cache_hit=hit,
                        prompt_tokens=tokens if status == 200 else None, completion_tokens=10 if status == 200 else None,
                        retry_after=retry_after, trace_id=f"trace{i}", completion_id=f"c{i}", phase=phase,
                        remaining_tokens=None))


def make_run() -> ValidationRun:
    log = ObservationLog()
    i = 0
    for n in range(40):  # load-balancing: eastus 24, northcentralus 16
        _row(log, i, "load-balancing", "openai-eastus" if n % 5 < 3 else "openai-northcentralus", latency=20.0 + n,
             phase="healthy")
        i += 1
    # circuit-breaker: eastus fails twice, then 4 requests elsewhere, then serves again
    for backend, status, phase in [("openai-eastus", 429, "at-count"), ("openai-eastus", 429, "at-count"),
                                   ("openai-northcentralus", 200, "open"), ("openai-northcentralus", 200, "open"),
                                   ("openai-northcentralus", 200, "open"), (None, 503, "pool-out"),
                                   ("openai-eastus", 200, "recovered")]:
        _row(log, i, "circuit-breaker", backend, status=status, phase=phase, latency=900.0 if status == 503 else 30.0)
        i += 1
    for n, (group, hit) in enumerate([("set1", False), ("set1", True), ("set2", True), ("control", False)]):
        _row(log, i, "semantic-cache", "openai-westus", hit=hit, phase=group, latency=5.0 if hit else 60.0,
             prompt_id=f"{group}-{n}")
        i += 1
    for n in range(5):
        _row(log, i, "token-limit", "openai-eastus", tokens=300, phase="fill")
        i += 1
    _row(log, i, "token-limit", None, status=429, retry_after=42.0, phase="fill", latency=2000.0)
    verdicts = [
        Verdict("load-balancing", Outcome.PASS, "every share is within ±10%",
                (Check("openai-eastus", Outcome.PASS, "eastus ok", 0.6, 0.6),
                 Check("openai-northcentralus", Outcome.PASS, "ncus ok", 0.4, 0.4)),
                expected={"shares": {"openai-eastus": 0.6, "openai-northcentralus": 0.4}},
                observed={"shares": {"openai-eastus": {"count": 24, "share": 0.6, "expected": 0.6, "ci": [0.45, 0.74]},
                                     "openai-northcentralus": {"count": 16, "share": 0.4, "expected": 0.4,
                                                               "ci": [0.26, 0.55]}}}, requests=40, seconds=2.0),
        Verdict("circuit-breaker", Outcome.FAIL, f"openai-eastus never tripped (key {SECRET_KEY})",
                (Check("trips", Outcome.FAIL, f"openai-eastus never tripped (key {SECRET_KEY})", 3, 0),
                 Check("pool-503", Outcome.PASS, "the pool answered 503", 503, 503)), requests=7, seconds=1.0),
        Verdict("semantic-cache", Outcome.PASS, "repeats hit",
                (Check("set1", Outcome.PASS, "1 of 1 repeats hit", 1, 1),),
                expected={"score_threshold": 0.2},
                observed={"score_threshold": 0.2, "pairs": [
                    {"group": "set1", "prompt": "a", "distance": 0.0, "hit": True},
                    {"group": "set2", "prompt": "b", "distance": 0.1, "hit": True},
                    {"group": "control", "prompt": "c", "distance": 0.8, "hit": False}],
                    "separating_thresholds": {"low": 0.1, "high": 0.8, "separable": True}}, requests=4, seconds=0.5),
        Verdict("token-limit", Outcome.INCONCLUSIVE, f"no 429 seen (Authorization: Bearer {SECRET_JWT})",
                (Check("limit", Outcome.INCONCLUSIVE, f"no 429 seen (Authorization: Bearer {SECRET_JWT})", 1000, None),),
                expected={"tokens_per_minute": 1000}, requests=6, seconds=0.5),
    ]
    return ValidationRun(verdicts, log)


@pytest.fixture
def run() -> ValidationRun:
    return make_run()
