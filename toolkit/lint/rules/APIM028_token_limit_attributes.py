"""APIM028: token limit policy missing required attributes."""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from toolkit.artifacts.policy_xml import is_expression, local_name
from toolkit.lint.core import Finding, LintContext, Rule, Severity

TOKEN_LIMIT_ELEMENTS = ("azure-openai-token-limit", "llm-token-limit")
QUOTA_PERIODS = ("Hourly", "Daily", "Weekly", "Monthly", "Yearly")


def problems(element: etree._Element) -> list[str]:
    """What is missing or wrong on one token-limit element."""
    found = []
    if not (element.get("counter-key") or "").strip():
        found.append("counter-key is required")
    if element.get("estimate-prompt-tokens") is None:
        found.append('estimate-prompt-tokens is required ("true" or "false")')
    if element.get("tokens-per-minute") is None and element.get("token-quota") is None:
        found.append("set tokens-per-minute or token-quota (at least one)")
    period = element.get("token-quota-period")
    if element.get("token-quota") is not None and period is None:
        found.append(f"token-quota needs token-quota-period ({', '.join(QUOTA_PERIODS)})")
    elif period is not None and not is_expression(period) and "{{" not in period and period.lower() not in {p.lower() for p in QUOTA_PERIODS}:
        found.append(f"token-quota-period '{period}' is not one of {', '.join(QUOTA_PERIODS)}")
    return found


class TokenLimitAttributes(Rule):
    """A token limit policy lacks a required attribute.

    ``counter-key`` and ``estimate-prompt-tokens`` are required; at least one of
    ``tokens-per-minute`` and ``token-quota`` must be set; ``token-quota`` needs
    ``token-quota-period`` (Hourly, Daily, Weekly, Monthly or Yearly). APIM refuses the policy
    otherwise.

    Anti-pattern:
        <azure-openai-token-limit tokens-per-minute="5000" />
        <llm-token-limit counter-key="@(context.Subscription.Id)" estimate-prompt-tokens="true" token-quota="100000" />

    Best practice:
        <azure-openai-token-limit counter-key="@(context.Subscription.Id)" tokens-per-minute="5000"
            estimate-prompt-tokens="true" remaining-tokens-header-name="x-remaining-tokens" />
        <llm-token-limit counter-key="@(context.Subscription.Id)" estimate-prompt-tokens="true"
            token-quota="100000" token-quota-period="Monthly" />
    """

    code = "APIM028"
    name = "token-limit-attributes"
    severity = Severity.ERROR
    summary = "A token limit needs counter-key, estimate-prompt-tokens and tokens-per-minute or a token-quota with a period."
    explains_refusals = True

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        """One finding per missing or wrong attribute."""
        for document, element in ctx.policy_elements(*TOKEN_LIMIT_ELEMENTS):
            for problem in problems(element):
                yield self.finding(document.file, element.sourceline, f"<{local_name(element)}>: {problem}")
