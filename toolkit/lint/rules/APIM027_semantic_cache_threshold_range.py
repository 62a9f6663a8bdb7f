"""APIM027: semantic-cache score-threshold missing or outside 0..1."""

from __future__ import annotations

from collections.abc import Iterator

from toolkit.artifacts.policy_xml import local_name
from toolkit.lint.core import Finding, LintContext, Rule, Severity, number
from toolkit.lint.rules._semantic_cache import LOOKUP_ELEMENTS


class SemanticCacheThresholdRange(Rule):
    """A semantic-cache lookup has no ``score-threshold``, or one that is not a number from 0.0 to 1.0.

    The attribute is required and documented as a decimal from 0.0 to 1.0 (a distance: lower
    is stricter). Values resolved from ``{{named values}}`` of the tree are checked too.

    Anti-pattern:
        <llm-semantic-cache-lookup score-threshold="5" embeddings-backend-id="embeddings" ... />
        <llm-semantic-cache-lookup embeddings-backend-id="embeddings" ... />

    Best practice:
        <llm-semantic-cache-lookup score-threshold="0.05" embeddings-backend-id="embeddings" ... />
    """

    code = "APIM027"
    name = "semantic-cache-threshold-range"
    severity = Severity.ERROR
    summary = "Semantic-cache score-threshold is required and must be a number from 0.0 to 1.0."
    explains_refusals = True

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        """Lookups with a missing, non-numeric or out-of-range threshold."""
        for document, element in ctx.policy_elements(*LOOKUP_ELEMENTS):
            raw = element.get("score-threshold")
            where = f"<{local_name(element)}>"
            if raw is None:
                yield self.finding(document.file, element.sourceline, f"{where} has no score-threshold (required, 0.0 to 1.0)")
                continue
            resolved = ctx.resolve(raw)
            if resolved is None:
                continue
            value = number(resolved)
            if value is None:
                yield self.finding(document.file, element.sourceline, f"{where} score-threshold '{resolved}' is not a number")
            elif not 0 <= value <= 1:
                yield self.finding(document.file, element.sourceline, f"{where} score-threshold {value:g} is outside 0.0 to 1.0")
