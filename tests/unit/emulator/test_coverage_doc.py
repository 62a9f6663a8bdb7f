"""COVERAGE.md is generated from the handler registry and must match it."""

from __future__ import annotations

from pathlib import Path

from toolkit.emulator.policy import coverage_markdown

COVERAGE = Path(__file__).resolve().parents[3] / "toolkit" / "emulator" / "COVERAGE.md"


def test_coverage_doc_is_current() -> None:
    assert COVERAGE.read_text(encoding="utf-8") == coverage_markdown(), (
        "regenerate: python -c \"from toolkit.emulator.policy import coverage_markdown; "
        "open('toolkit/emulator/COVERAGE.md','w').write(coverage_markdown())\""
    )
