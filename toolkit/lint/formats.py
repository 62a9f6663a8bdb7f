"""Render a LintResult as text, JSON or SARIF 2.1.0. Pure functions returning strings."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from toolkit.lint.core import Rule, Severity
from toolkit.lint.registry import REGISTRY
from toolkit.lint.runner import LintResult
from toolkit.lint.suppressions import Suppression

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
TOOL_NAME = "toolkit-lint"
_SARIF_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def to_text(result: LintResult) -> str:
    """One ``file:line: CODE severity: message`` line per finding, the suppressed findings and the unused
    suppressions, then a summary line."""
    lines = [f"{f.file}:{f.line}: {f.code} {f.severity.value}: {f.message}" for f in result.findings]
    lines += suppression_lines(result)
    checked = _plural(result.files, "file")
    if result.findings:
        counts = [_plural(len(result.errors), "error"), _plural(len(result.warnings), "warning")]
        if result.infos:
            counts.append(_plural(len(result.infos), "info"))
        summary = f"{', '.join(counts)} in {checked}"
    else:
        summary = f"no findings in {checked}"
    accepted = [f"{len(result.suppressed)} suppressed"] if result.suppressed else []
    if result.unused:
        accepted.append(_plural(len(result.unused), "unused suppression"))
    lines.append(f"{summary} ({', '.join(accepted)})" if accepted else summary)
    return "\n".join(lines) + "\n"


def suppression_lines(result: LintResult) -> list[str]:
    """``file:line: CODE severity suppressed (source: reason): message`` per suppressed finding, then
    :func:`unused_lines`."""
    lines = [f"{s.finding.file}:{s.finding.line}: {s.finding.code} {s.finding.severity.value} suppressed "
             f"({s.suppression.source}: {s.suppression.reason}): {s.finding.message}" for s in result.suppressed]
    return lines + unused_lines(result.unused)


def unused_lines(unused: Iterable[Suppression]) -> list[str]:
    """``source: unused suppression of CODE at 'pattern': ...`` per suppression that matched no finding."""
    return [f"{rule.source}: unused suppression of {rule.describe()}: it matches no finding (remove it)"
            for rule in unused]


def to_json(result: LintResult) -> str:
    """One JSON object: ``findings`` ({code, severity, file, line, message} each), ``suppressed`` (the same
    plus ``reason`` and ``suppressed_by``), ``unused_suppressions`` and ``counts``."""
    document = {
        "findings": [finding.to_dict() for finding in result.findings],
        "suppressed": [item.to_dict() for item in result.suppressed],
        "unused_suppressions": [rule.to_dict() for rule in result.unused],
        "counts": {"error": len(result.errors), "warning": len(result.warnings), "info": len(result.infos),
                   "suppressed": len(result.suppressed), "unused_suppressions": len(result.unused)},
    }
    return json.dumps(document, indent=2) + "\n"


def _rule_metadata(rule: type[Rule]) -> dict[str, Any]:
    description = rule.description()
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": description},
        "help": {"text": description},
        "defaultConfiguration": {"level": _SARIF_LEVELS[rule.severity]},
    }


def _sarif_uri(file: str) -> str:
    """A finding's file as SARIF wants it: relative to the working folder (the repository root in CI: GitHub code
    scanning resolves it there) when it lies below it, else an absolute file:// URI (lint given a path elsewhere)."""
    path = Path(file.replace("\\", "/"))
    if path.is_absolute():
        try:
            path = path.relative_to(Path.cwd())
        except ValueError:
            return path.as_uri()
    return quote(path.as_posix())


def to_sarif(result: LintResult, *, rules: dict[str, type[Rule]] | None = None) -> str:
    """A SARIF 2.1.0 log with one run: every registered rule's metadata and one result per finding."""
    registry = REGISTRY if rules is None else rules
    codes = list(registry)
    results = []
    accepted = [(item.finding, item.suppression) for item in result.suppressed]
    for finding, suppression in [*((finding, None) for finding in result.findings), *accepted]:
        entry: dict[str, Any] = {
            "ruleId": finding.code,
            "level": _SARIF_LEVELS[finding.severity],
            "message": {"text": finding.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": _sarif_uri(finding.file)},
                        "region": {"startLine": max(1, finding.line)},
                    }
                }
            ],
        }
        if finding.code in registry:
            entry["ruleIndex"] = codes.index(finding.code)
        if suppression is not None:  # code scanning shows these as dismissed, with the reason
            kind = "external" if suppression.path is not None else "inSource"
            entry["suppressions"] = [{"kind": kind, "justification": f"{suppression.source}: {suppression.reason}"}]
        results.append(entry)
    log = {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {"driver": {"name": TOOL_NAME, "rules": [_rule_metadata(rule) for rule in registry.values()]}},
                "columnKind": "unicodeCodePoints",
                "results": results,
                "invocations": [{"executionSuccessful": True, "toolConfigurationNotifications": [
                    {"level": "warning", "message": {"text": line}} for line in unused_lines(result.unused)]}],
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"
