"""APIM009: circuit-breaker rule without a count or percentage threshold."""

from __future__ import annotations

import json
from collections.abc import Iterator

from toolkit.lint.core import Finding, LintContext, Rule, Severity, integer


class CircuitBreakerThreshold(Rule):
    """A circuit-breaker rule has no threshold: neither ``count`` nor ``percentage``.

    Also reported: a rule without ``failureCondition``, and a count or percentage that is not a
    positive integer (percentage at most 100).
    The threshold is what opens the circuit; without it the rule can never trip. All Microsoft
    samples use ``count``.

    Anti-pattern:
        "failureCondition": {"interval": "PT1M", "statusCodeRanges": [{"min": 429, "max": 429}]}

    Best practice:
        "failureCondition": {"count": 3, "interval": "PT1M", "statusCodeRanges": [{"min": 429, "max": 429}]}
    """

    code = "APIM009"
    name = "circuit-breaker-threshold"
    severity = Severity.ERROR
    summary = "A circuit-breaker rule needs a positive count or percentage threshold."

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        """Rules without a usable threshold."""
        for backend in ctx.backends.values():
            for index, rule in enumerate(backend.breaker_rules):
                where = ("circuitBreaker", "rules", index)
                condition = rule.get("failureCondition") if isinstance(rule, dict) else None
                if not isinstance(condition, dict):
                    yield self.finding(backend.file, backend.prop_line(*where), f"backend '{backend.name}': circuit-breaker rule has no failureCondition")
                    continue
                count, percentage = condition.get("count"), condition.get("percentage")
                if count is None and percentage is None:
                    yield self.finding(
                        backend.file,
                        backend.prop_line(*where, "failureCondition"),
                        f"backend '{backend.name}': failureCondition sets neither count nor percentage, so the circuit never opens",
                    )
                for key, value, upper in (("count", count, None), ("percentage", percentage, 100)):
                    number = integer(value)
                    if value is not None and (number is None or number < 1 or (upper is not None and number > upper)):
                        limit = f"from 1 to {upper}" if upper else "of at least 1"
                        yield self.finding(
                            backend.file,
                            backend.prop_line(*where, "failureCondition", key),
                            f"backend '{backend.name}': failureCondition.{key} must be an integer {limit}, got {json.dumps(value)}",
                        )
