"""Calibration: against a correctly configured emulator every seeded run passes (false-fail rate ~0).

Slow by design (hundreds of validation runs): run with TOOLKIT_CALIBRATION=1, optionally
TOOLKIT_CALIBRATION_RUNS=N to change the counts (default: 100 for load-balancing, semantic-cache and
auth, 30 for the others, as the issue requires).
"""

from __future__ import annotations

import os
from collections import Counter

import pytest

import toolkit
from pathlib import Path

pytestmark = [
    pytest.mark.calibration,
    pytest.mark.skipif(os.environ.get("TOOLKIT_CALIBRATION") != "1", reason="set TOOLKIT_CALIBRATION=1"),
]
RUNS = {"load-balancing": 100, "semantic-cache": 100, "auth": 100, "priority-failover": 30, "circuit-breaker": 30,
        "token-limit": 30}


@pytest.mark.timeout(3600)
@pytest.mark.parametrize("scenario", list(RUNS))
def test_every_seeded_run_passes(committed_gateway: object, config_path: Path, scenario: str) -> None:
    runs = int(os.environ.get("TOOLKIT_CALIBRATION_RUNS") or RUNS[scenario])
    outcomes: Counter[str] = Counter()
    requests = 0
    sentences = []
    for seed in range(runs):
        run = toolkit.validate([scenario], config=config_path, env="local", emulator=committed_gateway.emulator,  # type: ignore[attr-defined]
                               seed=seed, environ={})
        verdict = run.verdicts[0]
        outcomes[verdict.outcome.value] += 1
        requests += verdict.requests
        if not verdict.passed:
            sentences.append(f"seed {seed}: {verdict.outcome.value}: {verdict.sentence}")
    print(f"\ncalibration {scenario}: {runs} runs, {dict(outcomes)}, false-fail rate {outcomes['fail'] / runs:.2%}, "
          f"inconclusive rate {outcomes['inconclusive'] / runs:.2%}, {requests / runs:.0f} requests per run")
    assert outcomes["pass"] == runs, sentences
