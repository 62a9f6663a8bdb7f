"""APIM001: pool member priority or weight outside 0..100."""

from __future__ import annotations

import json
from collections.abc import Iterator

from toolkit.lint.core import Finding, LintContext, Rule, Severity, integer


class PoolMemberRange(Rule):
    """A pool member's ``priority`` or ``weight`` is not an integer from 0 to 100.

    The management API rejects the pool (both fields are int32 with minimum 0 and maximum 100).
    Lower priority numbers are served first; weights are relative within a priority group.

    Anti-pattern:
        "services": [{"id": "/backends/aoai-eastus", "priority": 1, "weight": 150},
                     {"id": "/backends/aoai-westus", "priority": -1}]

    Best practice:
        "services": [{"id": "/backends/aoai-eastus", "priority": 1, "weight": 75},
                     {"id": "/backends/aoai-westus", "priority": 2}]
    """

    code = "APIM001"
    name = "pool-member-range"
    severity = Severity.ERROR
    summary = "Pool member priority or weight is not an integer from 0 to 100."

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        """Each out-of-range or non-integer priority/weight, at its line."""
        for backend in ctx.backends.values():
            if not backend.is_pool:
                continue
            for member in backend.members:
                if not isinstance(member.entry, dict):
                    continue
                for key in ("priority", "weight"):
                    raw = member.entry.get(key)
                    if raw is None:
                        continue
                    value = integer(raw)
                    if value is None or not 0 <= value <= 100:
                        yield self.finding(
                            backend.file,
                            backend.prop_line("pool", "services", member.index, key),
                            f"pool '{backend.name}' {member.label}: {key} must be an integer from 0 to 100, "
                            f"got {json.dumps(raw)}",
                        )
