"""Every rule case under tests/fixtures/rules/APIMnnn.yaml yields exactly its expected findings.

A finding is compared whole: code, file, line and message (each expected entry must give all four), so a
rule that reports the right line of the wrong file, or a wrong figure in its message, fails its case.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from toolkit.artifacts.model import ArtifactSet
from toolkit.lint import lint_tree, to_text
from toolkit.lint.core import UNPARSEABLE

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "rules"


def load_cases() -> list[Any]:
    """One pytest param per case: (code, case)."""
    params = []
    for path in sorted(FIXTURES.glob("APIM*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")):
            params.append(pytest.param(path.stem, case, id=f"{path.stem}: {case['name']}"))
    return params


@pytest.mark.parametrize(("code", "case"), load_cases())
def test_rule_case(code: str, case: dict[str, Any]) -> None:
    entries = case["expect"] or []
    for entry in entries:
        assert set(entry) == {"code", "file", "line", "message"}, f"an expected finding gives code, file, line, message: {entry}"
    expected = sorted((entry["code"], entry["file"], entry["line"], entry["message"]) for entry in entries)
    assert all(found == code for found, *_ in expected), "a case file only lists its own rule's code"
    result = lint_tree(ArtifactSet(case["files"]))
    got = sorted(
        (finding.code, str(finding.file), finding.line, finding.message)
        for finding in result.findings
        if finding.code == code
    )
    assert got == expected, to_text(result)
    if code != UNPARSEABLE and UNPARSEABLE not in case.get("allow", []):
        assert not [f for f in result.findings if f.code == UNPARSEABLE], to_text(result)
