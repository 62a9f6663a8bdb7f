"""APIM002: pool with no members or more than 30."""

from __future__ import annotations

from collections.abc import Iterator

from toolkit.lint.core import Finding, LintContext, Rule, Severity

MAX_POOL_MEMBERS = 30


class PoolSize(Rule):
    """A pool has no members (or no ``pool.services`` list), or more than 30.

    APIM requires at least one member (``minItems: 1``) and allows at most 30 backends per pool.

    Anti-pattern:
        {"properties": {"type": "Pool", "pool": {"services": []}}}

    Best practice:
        {"properties": {"type": "Pool", "pool": {"services": [
            {"id": "/backends/aoai-eastus", "priority": 1},
            {"id": "/backends/aoai-westus", "priority": 2}]}}}
    """

    code = "APIM002"
    name = "pool-size"
    severity = Severity.ERROR
    summary = "A pool must have between 1 and 30 members."

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        """Pools with a missing, empty or oversized services list."""
        for backend in ctx.backends.values():
            if not backend.is_pool:
                continue
            services = backend.services
            line = backend.prop_line("pool", "services")
            if not isinstance(services, list):
                yield self.finding(backend.file, line, f"pool '{backend.name}' has no pool.services list; APIM needs 1 to {MAX_POOL_MEMBERS} members")
            elif not services:
                yield self.finding(backend.file, line, f"pool '{backend.name}' has no members; APIM needs 1 to {MAX_POOL_MEMBERS}")
            elif len(services) > MAX_POOL_MEMBERS:
                yield self.finding(
                    backend.file, line, f"pool '{backend.name}' has {len(services)} members; APIM allows at most {MAX_POOL_MEMBERS}"
                )
