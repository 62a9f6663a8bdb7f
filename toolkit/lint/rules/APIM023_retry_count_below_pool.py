"""APIM023: retry count too small to try every member of the pool."""

from __future__ import annotations

from collections.abc import Iterator

from toolkit.lint.core import Finding, LintContext, Rule, Severity, integer, number


class RetryCountBelowPool(Rule):
    """A <retry> around <forward-request> retries fewer times than its pool's size minus one.

    Each retry re-selects a pool member; with count = pool size - 1 every member can be tried
    once within one client request before the pool is exhausted (Microsoft's AI-Gateway lab:
    "set count to one less than the number of backends"). Fewer retries hand a 429 back to the
    caller while healthy members are left untried. Checked when the same policy document has a
    <set-backend-service backend-id> naming a pool of the tree and a literal count.

    Anti-pattern:
        <set-backend-service backend-id="aoai-pool" />          (4 members)
        <retry count="1" ...><forward-request buffer-request-body="true" /></retry>

    Best practice:
        <set-backend-service backend-id="aoai-pool" />          (4 members)
        <retry count="3" ...><forward-request buffer-request-body="true" /></retry>
    """

    code = "APIM023"
    name = "retry-count-below-pool"
    severity = Severity.WARNING
    summary = "Retry count is below pool size - 1, so some pool members are never tried."

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        """Retries whose count is below the size - 1 of a pool the document routes to."""
        for document in ctx.policies:
            pools: dict[str, int] = {}
            for element in document.elements("set-backend-service"):
                backend_id = ctx.resolve(element.get("backend-id"))
                size = ctx.pool_size(backend_id) if backend_id else None
                if backend_id and size:
                    pools.setdefault(backend_id, size)
            if not pools:
                continue
            for retry in document.elements("retry"):
                if not any(True for _ in retry.iter("forward-request")):
                    continue
                parsed = number(ctx.resolve(retry.get("count")))
                count = integer(parsed) if parsed is not None else None
                if count is None:
                    continue
                for pool, size in sorted(pools.items()):
                    if count < size - 1:
                        yield self.finding(
                            document.file,
                            retry.sourceline,
                            f"retry count is {count} but pool '{pool}' has {size} members: set count to at least "
                            f"{size - 1} (pool size - 1) so every member can be tried before the caller gets the error",
                        )
