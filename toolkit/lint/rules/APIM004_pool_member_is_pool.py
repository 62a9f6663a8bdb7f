"""APIM004: pool member that is itself a pool."""

from __future__ import annotations

from collections.abc import Iterator

from toolkit.lint.core import Finding, LintContext, Rule, Severity


class PoolMemberIsPool(Rule):
    """A pool member references another pool (or the pool itself).

    APIM pools may contain only single backends; a pool cannot be a member of another pool.

    Anti-pattern:
        backends/all-regions (Pool) -> {"id": "/backends/us-pool"} where us-pool is also a Pool

    Best practice:
        One flat pool listing the single backends, with priorities for the fallback order:
        {"id": "/backends/aoai-eastus", "priority": 1}, {"id": "/backends/aoai-westeurope", "priority": 2}
    """

    code = "APIM004"
    name = "pool-member-is-pool"
    severity = Severity.ERROR
    summary = "A pool member must be a single backend, not a pool."

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        """Members that resolve to a pool."""
        for backend in ctx.backends.values():
            if not backend.is_pool:
                continue
            for member in backend.members:
                target = ctx.backend(member.id) if member.id else None
                if target is not None and target.is_pool:
                    yield self.finding(
                        backend.file,
                        backend.prop_line("pool", "services", member.index, "id"),
                        f"pool '{backend.name}' {member.label} is itself a pool; pools may contain only single backends",
                    )
