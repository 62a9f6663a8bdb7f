"""The `--format json` documents of render and apply (one object on stdout, for scripts)."""

from __future__ import annotations

import json
from typing import Any

from toolkit.cli._output import out


def print_render(outcome: Any, *, check: bool) -> None:
    written = list(outcome.written)
    out(json.dumps({
        "env": outcome.env_name, "out_dir": str(outcome.out_dir), "features": list(outcome.features), "check": check,
        "lint_errors": [str(error) for error in outcome.lint_errors],
        "differs": outcome.diff.paths if check else [], "written": written,
        "unchanged": len(outcome.owned) - len([p for p in written if p in outcome.owned]),
    }, indent=2))


def print_apply(plan: Any, target: str, *, outcome: Any = None, dry_run: bool = False, failed: bool = False) -> None:
    """The plan (as `plan --out` saves it, secrets masked), and what was written; after a failed apply, what failed
    and what the rollback did as well."""
    document: dict[str, Any] = {
        "target": target, "dry_run": dry_run, "plan": plan.to_json(),
        "applied": [change.to_json() for change in outcome.done] if outcome is not None else [],
        "writes": outcome.writes if outcome is not None else 0,
    }
    if failed and outcome is not None:
        document["failed"] = {
            "change": outcome.failed.to_json() if outcome.failed is not None else None,
            "error": outcome.error, "interrupted": outcome.interrupted,
            "rolled_back": list(outcome.restored), "changed_by_others": list(outcome.changed_by_others),
            "left_changed": [{"resource": label, "reason": reason} for label, reason in outcome.unrestored],
            "target_as_before": outcome.target_as_before,
        }
    out(json.dumps(document, indent=2))
