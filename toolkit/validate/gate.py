"""`toolkit apply ... --validate [--rollback-on-fail]`: which scenarios prove which features, and putting the
resources an apply changed back as they were when validation fails.

The restore is a plan like any other (update to the pre-apply body, delete what the apply created), run by
the same `apply_plan`: ETag-checked, in dependency order, and itself rolled back if a write fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from toolkit.validate.settings import SCENARIOS

# feature -> the scenarios that prove it (issue 10)
FEATURE_SCENARIOS: dict[str, tuple[str, ...]] = {
    "backend-pool": ("load-balancing", "priority-failover"),
    "circuit-breaker": ("circuit-breaker", "priority-failover"),
    "retry": ("circuit-breaker",),
    "semantic-cache": ("semantic-cache",),
    "token-limit": ("token-limit",),
    "jwt": ("auth",),
    "all": SCENARIOS,
}


def scenarios_for(features: tuple[str, ...] | list[str]) -> list[str]:
    """The scenarios that match ``features`` (none given: all), in the canonical order."""
    wanted = {name for feature in (features or ("all",)) for name in FEATURE_SCENARIOS.get(feature, ())}
    return [name for name in SCENARIOS if name in wanted]


@dataclass
class PreApplySnapshot:
    """The live state of every resource a plan is about to change (None: it did not exist)."""

    before: dict[Any, Any]

    @classmethod
    def take(cls, client: Any, plan: Any) -> PreApplySnapshot:
        """Read before the apply: a secret named value with its value, so that a restore puts the old one back."""
        from toolkit.publish.apply import read_with_secret_value

        return cls({change.ref: read_with_secret_value(client, change.ref) for change in plan.actions})

    def restore(self, client: Any, *, on_event: Any = None) -> Any:
        """Put every resource back as it was; returns the ApplyOutcome (raises ApplyFailed like apply)."""
        from toolkit.publish.apply import apply_plan
        from toolkit.publish.normalize import strip_server_fields
        from toolkit.publish.order import delete_order, write_order
        from toolkit.publish.plan import Change, Op, Plan

        bodies = {ref: strip_server_fields(ref.kind, live.body) for ref, live in self.before.items() if live}
        current = {ref: client.get(ref) for ref in self.before}
        writes = write_order(((Change(Op.UPDATE if current[ref] else Op.CREATE, ref,
                                      etag=current[ref].etag if current[ref] else None), body)
                              for ref, body in bodies.items()), key=lambda item: (item[0].ref, item[1]))
        deletes = delete_order(((Change(Op.DELETE, ref, etag=current[ref].etag), current[ref].body)
                                for ref, live in self.before.items() if live is None and current[ref] is not None),
                               key=lambda item: (item[0].ref, item[1]))
        plan = Plan([change for change, _ in writes] + [change for change, _ in deletes])
        return apply_plan(client, plan, bodies, on_event=on_event)
