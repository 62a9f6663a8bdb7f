"""APIM007: invalid ISO 8601 duration in a circuit-breaker rule."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from toolkit.lint.core import Finding, LintContext, Rule, Severity

# The forms .NET's XmlConvert.ToTimeSpan reads: [-]P[nY][nM][nD][T[nH][nM][n[.n]S]], at least one part.
_DURATION = re.compile(r"-?P(?=\d|T\d)(?:\d+Y)?(?:\d+M)?(?:\d+D)?(?:T(?=\d)(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?")


def is_positive_duration(value: object) -> bool:
    """True for an ISO 8601 duration string longer than zero (e.g. PT30S, PT5M, P1D)."""
    return (
        isinstance(value, str)
        and _DURATION.fullmatch(value) is not None
        and not value.startswith("-")
        and re.search(r"[1-9]", value) is not None
    )


class CircuitBreakerDuration(Rule):
    """``failureCondition.interval`` or ``tripDuration`` is not a positive ISO 8601 duration.

    Both are TimeSpans written as ISO 8601 durations: the window in which failures are counted
    and how long the circuit stays open. Plain numbers, "5m" or "00:01:00" are refused by APIM;
    a zero duration never counts anything or never opens.

    Anti-pattern:
        "failureCondition": {"count": 3, "interval": "5m", ...}, "tripDuration": 60

    Best practice:
        "failureCondition": {"count": 3, "interval": "PT5M", ...}, "tripDuration": "PT1M"
    """

    code = "APIM007"
    name = "circuit-breaker-duration"
    severity = Severity.ERROR
    summary = "Circuit-breaker interval and tripDuration must be positive ISO 8601 durations."

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        """Each present interval/tripDuration that is not a positive duration."""
        for backend in ctx.backends.values():
            for index, rule in enumerate(backend.breaker_rules):
                if not isinstance(rule, dict):
                    continue
                condition = rule.get("failureCondition")
                candidates = [(("tripDuration",), rule.get("tripDuration"))]
                if isinstance(condition, dict):
                    candidates.insert(0, (("failureCondition", "interval"), condition.get("interval")))
                for keys, value in candidates:
                    if value is not None and not is_positive_duration(value):
                        yield self.finding(
                            backend.file,
                            backend.prop_line("circuitBreaker", "rules", index, *keys),
                            f"backend '{backend.name}': {'.'.join(keys)} {json.dumps(value)} is not a positive "
                            "ISO 8601 duration (e.g. PT30S, PT5M, PT1H)",
                        )
