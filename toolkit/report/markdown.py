"""report.md: fits $GITHUB_STEP_SUMMARY (GitHub-flavoured Markdown, no images), the verdict table first."""

from __future__ import annotations

import html
from typing import Any

_ICONS = {"pass": "✅ pass", "fail": "❌ fail", "inconclusive": "⚠️ inconclusive"}


def report_markdown(summary: dict[str, Any]) -> str:
    lines = ["| scenario | verdict | requests | seconds | why |", "| --- | --- | --- | --- | --- |"]
    for row in summary["scenarios"]:
        lines.append(f"| {_cell(row['scenario'])} | {_ICONS[row['verdict']]} | {row['requests']} | {row['seconds']} "
                     f"| {_cell(row['sentence'])} |")
    lines += ["", f"## toolkit validate: {_ICONS[summary['verdict']]} (exit {summary['exit_code']})", ""]
    if summary["partial"]:
        lines += [f"**Partial report: {_cell(summary['interrupted'])}.** The verdict is inconclusive.", ""]
    lines.append(f"{summary['requests']} requests; target: {_cell(summary['target'])}; "
                 f"generated {summary['generated_at']}.")
    lines += _section("Share and latency per region",
                      ("region", "requests", "share", "mean ms", "p50 ms", "p90 ms", "p99 ms"), "l" + "r" * 6,
                      [(r["region"], r["requests"], f"{r['share']}%", *(r["latency_ms"][k] for k in
                        ("mean", "p50", "p90", "p99"))) for r in summary["regions"]])
    lines += _section("Slowest requests and their probable cause",
                      ("ms", "scenario", "prompt", "status", "region", "probable cause"), "rllrll",
                      [(s["latency_ms"], s["scenario"], s["prompt_id"], s["status"], s["region"] or "-", s["cause"])
                       for s in summary["slowest"]])
    lines += ["", "Charts: open `report.html` from the report folder (self-contained)."]
    return "\n".join(lines) + "\n"


def _section(title: str, header: tuple[str, ...], align: str, rows: list[tuple[Any, ...]]) -> list[str]:
    """A titled table (nothing when there are no rows); ``align`` is one l or r per column."""
    if not rows:
        return []
    rule = " | ".join("---:" if a == "r" else "---" for a in align)
    return ["", f"### {title}", "", f"| {' | '.join(header)} |", f"| {rule} |",
            *(f"| {' | '.join(_cell(cell) for cell in row)} |" for row in rows)]


def _cell(text: Any) -> str:
    """Text as one GitHub Markdown table cell or line: no raw HTML (a step summary renders it), no table break."""
    return html.escape(str(text), quote=False).replace("|", "\\|").replace("\n", " ").replace("\r", " ")
