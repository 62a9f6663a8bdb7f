"""APIM008: circuit-breaker status code range outside 200..599 or reversed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from toolkit.lint.core import BackendDocument, Finding, LintContext, Rule, Severity, integer

MAX_RANGES = 10


class CircuitBreakerStatusRange(Rule):
    """A ``statusCodeRanges`` entry has min/max missing, outside 200..599, or min > max.

    The spec bounds min and max to 200..599 and allows at most 10 ranges. A reversed range
    matches nothing, so the breaker never trips on it.

    Anti-pattern:
        "statusCodeRanges": [{"min": 599, "max": 500}, {"min": 429, "max": 700}]

    Best practice:
        "statusCodeRanges": [{"min": 429, "max": 429}, {"min": 500, "max": 599}]
    """

    code = "APIM008"
    name = "circuit-breaker-status-range"
    severity = Severity.ERROR
    summary = "Circuit-breaker status ranges need min <= max, both within 200..599."

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        """Each malformed status range (and a list over 10 ranges)."""
        for backend in ctx.backends.values():
            for index, rule in enumerate(backend.breaker_rules):
                condition = rule.get("failureCondition") if isinstance(rule, dict) else None
                if isinstance(condition, dict) and condition.get("statusCodeRanges") is not None:
                    yield from self._ranges(backend, index, condition["statusCodeRanges"])

    def _ranges(self, backend: BackendDocument, index: int, ranges: Any) -> Iterator[Finding]:
        where = ("circuitBreaker", "rules", index, "failureCondition", "statusCodeRanges")
        prefix = f"backend '{backend.name}': statusCodeRanges"
        if not isinstance(ranges, list):
            yield self.finding(backend.file, backend.prop_line(*where), f"{prefix} must be a list of {{min, max}} objects")
            return
        if len(ranges) > MAX_RANGES:
            yield self.finding(backend.file, backend.prop_line(*where), f"{prefix} has {len(ranges)} ranges; APIM allows {MAX_RANGES}")
        for position, entry in enumerate(ranges):
            line = backend.prop_line(*where, position)
            bounds = {key: integer(entry.get(key)) if isinstance(entry, dict) else None for key in ("min", "max")}
            if None in bounds.values():
                yield self.finding(backend.file, line, f"{prefix}[{position}] needs integer min and max, got {json.dumps(entry)}")
                continue
            low, high = bounds["min"], bounds["max"]
            assert low is not None and high is not None
            if not (200 <= low <= 599 and 200 <= high <= 599):
                yield self.finding(backend.file, line, f"{prefix}[{position}] {low}-{high} is outside 200..599")
            elif low > high:
                yield self.finding(backend.file, line, f"{prefix}[{position}] has min {low} > max {high}; it matches nothing")
