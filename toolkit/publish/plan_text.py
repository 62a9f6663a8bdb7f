"""The plan as text for a person: one line per resource, changed fields below it, secrets masked."""

from __future__ import annotations

import difflib
import json
from typing import Any

from toolkit.publish.errors import SECRET_MASK
from toolkit.publish.normalize import pretty_xml
from toolkit.publish.plan import MISSING, Change, FieldChange, Op, Plan, shown_value, summary_line

_MARKS = {Op.CREATE: "+", Op.UPDATE: "~", Op.DELETE: "-", Op.UNCHANGED: "="}
_MAX_XML_DIFF_LINES = 40


def render_plan(plan: Plan) -> str:
    """The plan as text: one line per resource that changes (unchanged ones are counted), fields below."""
    lines = [f"Target: {plan.target}"] if plan.target else []
    lines.append(f"Features: {', '.join(plan.features)}")
    for change in plan.actions:
        lines.append(f"  {_MARKS[change.op]} {change.op.value:<9} {change.ref.label}")
        lines.extend(f"      {line}" for f in change.fields for line in _field_lines(f))
    if plan.kept:
        lines.append(f"  Not in the artifacts, kept on the target ({len(plan.kept)}; --prune deletes them):")
        lines.extend(f"      {ref.label}" for ref in plan.kept)
    if not plan.has_changes:
        lines.append("No changes: the target matches the artifacts.")
    lines.append(summary_line(plan))
    return "\n".join(lines) + "\n"


def _field_lines(change: FieldChange) -> list[str]:
    secret = change.secret
    if not secret and change.path.endswith("value") and _is_xml(change.before) and _is_xml(change.after):
        return [f"{change.path} (policy XML):", *_xml_diff(change.before, change.after)]
    return [f"{change.path}: {_show(change.before, secret)} -> {_show(change.after, secret)}"]


def _show(value: Any, secret: bool) -> str:
    if value is MISSING:
        return "(absent)"
    if secret:
        return SECRET_MASK
    value = shown_value(value)
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)


def _is_xml(value: Any) -> bool:
    return isinstance(value, str) and value.lstrip().startswith("<")


def _xml_diff(before: str, after: str) -> list[str]:
    diff = list(difflib.unified_diff(pretty_xml(before), pretty_xml(after), lineterm="", n=1))[2:]
    diff = [shown_value(line) for line in diff]
    if len(diff) > _MAX_XML_DIFF_LINES:
        diff = diff[:_MAX_XML_DIFF_LINES] + [f"... ({len(diff) - _MAX_XML_DIFF_LINES} more diff lines)"]
    return [f"  {line}" for line in diff]


def change_line(change: Change) -> str:
    """``create backend 'x'`` (for progress and reports)."""
    return f"{change.op.value} {change.ref.label}"
