"""APIM024: retry condition that matches on the status reason text."""

from __future__ import annotations

import re
from collections.abc import Iterator

from toolkit.lint.core import Finding, LintContext, Rule, Severity

_REASON_TEXT = re.compile(r"StatusReason|Backend pool|temporarily unavailable", re.IGNORECASE)


class RetryOnReasonText(Rule):
    """A <retry> condition matches on the response's reason text instead of its status code.

    Matched: StatusReason, "Backend pool", "temporarily unavailable" (case-insensitive).

    Older gateways described an exhausted pool with a StatusReason like "Backend pool ... is
    temporarily unavailable", and samples excluded such 503s from retrying by matching that text.
    Microsoft has since changed the text (Azure-Samples/AI-Gateway issue #262, PR #285), so such
    conditions silently stop matching. Decide on the status code only.

    Anti-pattern:
        <retry condition="@(context.Response.StatusCode == 429 || (context.Response.StatusCode == 503
            &amp;&amp; !context.Response.StatusReason.Contains(&quot;Backend pool&quot;)))" ...>

    Best practice:
        <retry condition="@(context.Response.StatusCode == 429 || context.Response.StatusCode == 503)" ...>
    """

    code = "APIM024"
    name = "retry-on-reason-text"
    severity = Severity.WARNING
    summary = "Retry conditions must not depend on the reason text, which APIM changed."

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        """Retry conditions mentioning the status reason text."""
        for document, retry in ctx.policy_elements("retry"):
            match = _REASON_TEXT.search(retry.get("condition") or "")
            if match:
                yield self.finding(
                    document.file,
                    retry.sourceline,
                    f"retry condition matches on the reason text ('{match.group(0)}'); APIM changed that text "
                    "(Azure-Samples/AI-Gateway #262), so test context.Response.StatusCode only",
                )
