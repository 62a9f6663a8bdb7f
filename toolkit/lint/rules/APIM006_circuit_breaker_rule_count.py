"""APIM006: more than one circuit-breaker rule."""

from __future__ import annotations

from collections.abc import Iterator

from toolkit.lint.core import Finding, LintContext, Rule, Severity


class CircuitBreakerRuleCount(Rule):
    """A backend's ``circuitBreaker.rules`` has more than one rule.

    The REST spec allows 15, but the service currently accepts only one rule per backend
    (backends.md, "Limitations"; confirmed in MicrosoftDocs/azure-docs PR #123514).

    Anti-pattern:
        "circuitBreaker": {"rules": [{"name": "on429", ...}, {"name": "on5xx", ...}]}

    Best practice:
        One rule whose failure condition lists every status range that should count:
        "circuitBreaker": {"rules": [{"name": "breaker", "failureCondition": {"count": 3,
            "interval": "PT1M", "statusCodeRanges": [{"min": 429, "max": 429}, {"min": 500, "max": 599}]},
            "tripDuration": "PT1M"}]}
    """

    code = "APIM006"
    name = "circuit-breaker-rule-count"
    severity = Severity.ERROR
    summary = "A backend may have only one circuit-breaker rule."

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        """Backends with two or more rules, at the second rule."""
        for backend in ctx.backends.values():
            rules = backend.breaker_rules
            if len(rules) > 1:
                yield self.finding(
                    backend.file,
                    backend.prop_line("circuitBreaker", "rules", 1),
                    f"backend '{backend.name}' has {len(rules)} circuit-breaker rules; APIM accepts only one",
                )
