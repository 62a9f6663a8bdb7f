"""summary.json: the run in one document (schema: summary.schema.json beside this module)."""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from importlib import resources
from typing import Any

SCHEMA_ID = "toolkit-validate-summary/1"


def summary_document(run: Any, frame: Any, *, target: str, partial: bool, interrupted: str | None) -> dict[str, Any]:
    from toolkit.report.summary import region_table, slowest_requests

    outcomes = [v.outcome.value for v in run.verdicts]
    verdict = "fail" if "fail" in outcomes else "inconclusive" if partial or "inconclusive" in outcomes else "pass"
    return _plain({
        "schema": SCHEMA_ID,
        "generated_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "target": target,
        "verdict": verdict,
        "exit_code": INTERRUPTED_EXIT if partial else {"pass": 0, "fail": 1, "inconclusive": 5}[verdict],
        "partial": partial,
        "interrupted": interrupted,
        "requests": len(frame),
        "counts": {name: outcomes.count(name) for name in ("pass", "fail", "inconclusive")},
        "scenarios": [v.to_json() for v in run.verdicts],
        "regions": region_table(frame),
        "slowest": slowest_requests(frame),
    })


INTERRUPTED_EXIT = 130  # what the CLI exits with after an interrupted run


def schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) summary.json follows."""
    text = resources.files("toolkit.report").joinpath("summary.schema.json").read_text(encoding="utf-8")
    return dict(json.loads(text))


def _plain(value: Any) -> Any:
    """JSON-safe: tuples become lists, NaN and infinities null, numpy scalars plain numbers, other objects text."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float) or hasattr(value, "item"):
        number = value.item() if hasattr(value, "item") else value
        if isinstance(number, float) and not math.isfinite(number):
            return None
        return number
    return str(value)
