"""Verdicts: pass / fail / inconclusive, with the numbers that decided them and one sentence to act on."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Outcome(str, Enum):
    """What a scenario concluded. Ordered by severity for the exit code: fail > inconclusive > pass."""

    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class Check:
    """One judged property inside a scenario (e.g. "openai-eastus share")."""

    name: str
    outcome: Outcome
    sentence: str
    expected: Any = None
    observed: Any = None


@dataclass(frozen=True)
class Verdict:
    """A scenario's verdict: the worst of its checks, the figures and the requests it cost."""

    scenario: str
    outcome: Outcome
    sentence: str
    checks: tuple[Check, ...] = ()
    expected: dict[str, Any] = field(default_factory=dict)
    observed: dict[str, Any] = field(default_factory=dict)
    requests: int = 0
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.PASS

    def to_json(self) -> dict[str, Any]:
        """The JSON shape `toolkit validate --format json` prints per scenario."""
        return {
            "scenario": self.scenario,
            "verdict": self.outcome.value,
            "sentence": self.sentence,
            "expected": self.expected,
            "observed": self.observed,
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "checks": [{"name": c.name, "verdict": c.outcome.value, "sentence": c.sentence,
                        "expected": c.expected, "observed": c.observed} for c in self.checks],
        }


def combine(scenario: str, checks: list[Check], *, expected: dict[str, Any] | None = None,
            observed: dict[str, Any] | None = None, requests: int = 0, seconds: float = 0.0) -> Verdict:
    """The scenario verdict from its checks: any fail fails, else any inconclusive, else pass.

    The sentence is the first fail's (or inconclusive's) sentence, so the headline names what is wrong.
    """
    worst = next((c for c in checks if c.outcome is Outcome.FAIL), None) or \
        next((c for c in checks if c.outcome is Outcome.INCONCLUSIVE), None)
    if worst is None:
        outcome = Outcome.PASS
        sentence = "; ".join(c.sentence for c in checks) if checks else "nothing to check"
    else:
        outcome, sentence = worst.outcome, worst.sentence
    return Verdict(scenario, outcome, sentence, tuple(checks), expected or {}, observed or {}, requests, seconds)


def inconclusive(scenario: str, reason: str, **figures: Any) -> Verdict:
    """A scenario that could not run (stimulus impossible, nothing configured to check)."""
    return Verdict(scenario, Outcome.INCONCLUSIVE, reason, (Check("precondition", Outcome.INCONCLUSIVE, reason),),
                   expected=figures)


def exit_code(verdicts: list[Verdict]) -> int:
    """0 all pass, 1 any fail, 5 any inconclusive and none fail."""
    outcomes = {v.outcome for v in verdicts}
    if Outcome.FAIL in outcomes:
        return 1
    if Outcome.INCONCLUSIVE in outcomes:
        return 5
    return 0
