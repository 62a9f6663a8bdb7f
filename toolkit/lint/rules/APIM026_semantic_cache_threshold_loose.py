"""APIM026: semantic-cache score-threshold above 0.2."""

from __future__ import annotations

from collections.abc import Iterator

from toolkit.lint.core import Finding, LintContext, Rule, Severity, number
from toolkit.lint.rules._semantic_cache import LOOKUP_ELEMENTS

LOOSE_THRESHOLD = 0.2


class SemanticCacheThresholdLoose(Rule):
    """A semantic-cache lookup's ``score-threshold`` is above 0.2.

    score-threshold is a *distance*, not a similarity: a prompt hits the cache when its
    distance to a stored prompt is at most the threshold, so lower is stricter. Microsoft's
    guidance is to start around 0.05 and notes that values above 0.2 cause mismatches. The
    seed notebook's 0.8 lets nearly any prompt hit: unrelated questions get someone else's
    cached answer.

    Anti-pattern:
        <azure-openai-semantic-cache-lookup score-threshold="0.8" embeddings-backend-id="embeddings" ... />

    Best practice:
        <azure-openai-semantic-cache-lookup score-threshold="0.05" embeddings-backend-id="embeddings" ... />
    """

    code = "APIM026"
    name = "semantic-cache-threshold-loose"
    severity = Severity.WARNING
    summary = "Semantic-cache score-threshold above 0.2 lets unrelated prompts hit the cache."

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        """Lookups with a literal threshold in (0.2, 1]."""
        for document, element in ctx.policy_elements(*LOOKUP_ELEMENTS):
            value = number(ctx.resolve(element.get("score-threshold")))
            if value is not None and LOOSE_THRESHOLD < value <= 1:
                yield self.finding(
                    document.file,
                    element.sourceline,
                    f"score-threshold {value:g} is a distance (lower is stricter, hit when distance <= threshold): "
                    f"above {LOOSE_THRESHOLD} unrelated prompts start to hit, and at 0.8 (the seed's value) nearly "
                    "any prompt gets a cached answer; start around 0.05",
                )
