"""report.md: fits $GITHUB_STEP_SUMMARY (GitHub-flavoured Markdown, no images), the verdict table first."""

from __future__ import annotations

from typing import Any

_ICONS = {"pass": "✅ pass", "fail": "❌ fail", "inconclusive": "⚠️ inconclusive"}


def report_markdown(summary: dict[str, Any]) -> str:
    lines = ["| scenario | verdict | requests | seconds | why |", "| --- | --- | --- | --- | --- |"]
    for row in summary["scenarios"]:
        lines.append(f"| {row['scenario']} | {_ICONS[row['verdict']]} | {row['requests']} | {row['seconds']} "
                     f"| {_cell(row['sentence'])} |")
    lines += ["", f"## toolkit validate: {_ICONS[summary['verdict']]} (exit {summary['exit_code']})", ""]
    if summary["partial"]:
        lines += [f"**Partial report: {summary['interrupted']}.** The verdict is inconclusive.", ""]
    lines.append(f"{summary['requests']} requests; target: {_cell(summary['target'])}; "
                 f"generated {summary['generated_at']}.")
    if summary["regions"]:
        lines += ["", "### Share and latency per region", "",
                  "| region | requests | share | mean ms | p50 ms | p90 ms | p99 ms |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for r in summary["regions"]:
            ms = r["latency_ms"]
            lines.append(f"| {r['region']} | {r['requests']} | {r['share']}% | {ms['mean']} | {ms['p50']} "
                         f"| {ms['p90']} | {ms['p99']} |")
    if summary["slowest"]:
        lines += ["", "### Slowest requests and their probable cause", "",
                  "| ms | scenario | prompt | status | region | probable cause |",
                  "| ---: | --- | --- | ---: | --- | --- |"]
        for s in summary["slowest"]:
            lines.append(f"| {s['latency_ms']} | {s['scenario']} | {s['prompt_id']} | {s['status']} "
                         f"| {s['region'] or '-'} | {s['cause']} |")
    lines += ["", "Charts: open `report.html` from the report folder (self-contained)."]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
