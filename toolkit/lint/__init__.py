"""Lint APIOps artifact trees: one rule per module (APIMnnn), findings as data."""

from __future__ import annotations

from toolkit.lint.core import Finding, LintContext, Rule, Severity
from toolkit.lint.formats import to_json, to_sarif, to_text
from toolkit.lint.registry import REGISTRY, all_rules, get_rule
from toolkit.lint.runner import LintResult, lint_path, lint_tree

__all__ = [
    "REGISTRY",
    "Finding",
    "LintContext",
    "LintResult",
    "Rule",
    "Severity",
    "all_rules",
    "get_rule",
    "lint_path",
    "lint_tree",
    "to_json",
    "to_sarif",
    "to_text",
]
