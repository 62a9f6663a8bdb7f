"""APIM005: url or protocol on a pool."""

from __future__ import annotations

from collections.abc import Iterator

from toolkit.lint.core import Finding, LintContext, Rule, Severity


class PoolUrlProtocol(Rule):
    """A pool sets ``url`` or ``protocol``.

    APIM rejects the pool with "Url is not supported for backend pool." / "Protocol is not
    supported for backend pool." (MicrosoftDocs/azure-docs#122455), even though the 2024-05-01
    REST spec marks both as required. Each member backend carries its own URL.

    Anti-pattern:
        {"properties": {"type": "Pool", "url": "https://aoai.openai.azure.com", "protocol": "http",
                        "pool": {"services": [{"id": "/backends/aoai-eastus"}]}}}

    Best practice:
        {"properties": {"type": "Pool", "pool": {"services": [{"id": "/backends/aoai-eastus"}]}}}
    """

    code = "APIM005"
    name = "pool-url-protocol"
    severity = Severity.ERROR
    summary = "A pool must not set url or protocol."

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        """Each url/protocol key present on a pool."""
        for backend in ctx.backends.values():
            if not backend.is_pool:
                continue
            for key in ("url", "protocol"):
                if backend.properties.get(key) is not None:
                    yield self.finding(
                        backend.file,
                        backend.prop_line(key),
                        f"pool '{backend.name}' sets {key}; APIM refuses it ('{key.capitalize()} is not supported for backend pool')",
                    )
