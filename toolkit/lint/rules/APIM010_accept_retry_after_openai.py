"""APIM010: acceptRetryAfter on an Azure OpenAI backend."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

from toolkit.lint.core import Finding, LintContext, Rule, Severity

_OPENAI_HOSTS = (".openai.azure.com", ".cognitiveservices.azure.com", ".services.ai.azure.com")


def is_azure_openai_url(url: str) -> bool:
    """True for Azure OpenAI / AI Services endpoints (by host, or a path containing /openai)."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    return host.endswith(_OPENAI_HOSTS) or "/openai" in parts.path.lower()


class AcceptRetryAfterOpenAI(Rule):
    """``acceptRetryAfter: true`` on a backend whose URL is Azure OpenAI.

    With acceptRetryAfter the breaker stays open for as long as the backend's Retry-After says.
    Azure OpenAI can answer 429 with a Retry-After of a day (86400 s, "Please retry after 86400
    seconds"), so a single such response sidelines that deployment for a day, and with every
    pool member affected the whole pool returns 503.

    Anti-pattern:
        {"url": "https://aoai-eastus.openai.azure.com/openai",
         "circuitBreaker": {"rules": [{..., "tripDuration": "PT1M", "acceptRetryAfter": true}]}}

    Best practice:
        {"url": "https://aoai-eastus.openai.azure.com/openai",
         "circuitBreaker": {"rules": [{..., "tripDuration": "PT1M", "acceptRetryAfter": false}]}}
        (let tripDuration bound the outage; retry on the pool moves traffic meanwhile)
    """

    code = "APIM010"
    name = "accept-retry-after-openai"
    severity = Severity.WARNING
    summary = "acceptRetryAfter on Azure OpenAI can sideline a backend for a day."

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        """Rules with acceptRetryAfter true on Azure OpenAI backends."""
        for backend in ctx.backends.values():
            url = ctx.resolve(backend.url) or backend.url
            if backend.is_pool or not url or not is_azure_openai_url(url):
                continue
            for index, rule in enumerate(backend.breaker_rules):
                if isinstance(rule, dict) and rule.get("acceptRetryAfter") is True:
                    yield self.finding(
                        backend.file,
                        backend.prop_line("circuitBreaker", "rules", index, "acceptRetryAfter"),
                        f"backend '{backend.name}' is Azure OpenAI and its breaker accepts Retry-After: one 429 with "
                        "Retry-After: 86400 would keep it out of service for a day; set acceptRetryAfter to false "
                        "and let tripDuration bound the outage",
                    )
