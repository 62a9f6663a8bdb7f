"""Render a LintResult as text, JSON or SARIF 2.1.0. Pure functions returning strings."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from toolkit.lint.core import Rule, Severity
from toolkit.lint.registry import REGISTRY
from toolkit.lint.runner import LintResult

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
TOOL_NAME = "toolkit-lint"
_SARIF_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def to_text(result: LintResult) -> str:
    """One ``file:line: CODE severity: message`` line per finding, then a summary line."""
    lines = [f"{f.file}:{f.line}: {f.code} {f.severity.value}: {f.message}" for f in result.findings]
    checked = _plural(result.files, "file")
    if result.findings:
        counts = [_plural(len(result.errors), "error"), _plural(len(result.warnings), "warning")]
        if result.infos:
            counts.append(_plural(len(result.infos), "info"))
        lines.append(f"{', '.join(counts)} in {checked}")
    else:
        lines.append(f"no findings in {checked}")
    return "\n".join(lines) + "\n"


def to_json(result: LintResult) -> str:
    """A JSON list of {code, severity, file, line, message}."""
    return json.dumps([finding.to_dict() for finding in result.findings], indent=2) + "\n"


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


def to_sarif(result: LintResult, *, rules: dict[str, type[Rule]] | None = None) -> str:
    """A SARIF 2.1.0 log with one run: every registered rule's metadata and one result per finding."""
    registry = REGISTRY if rules is None else rules
    codes = list(registry)
    results = []
    for finding in result.findings:
        entry: dict[str, Any] = {
            "ruleId": finding.code,
            "level": _SARIF_LEVELS[finding.severity],
            "message": {"text": finding.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": quote(finding.file.replace("\\", "/"))},
                        "region": {"startLine": max(1, finding.line)},
                    }
                }
            ],
        }
        if finding.code in registry:
            entry["ruleIndex"] = codes.index(finding.code)
        results.append(entry)
    log = {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {"driver": {"name": TOOL_NAME, "rules": [_rule_metadata(rule) for rule in registry.values()]}},
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"
