"""report.html: one self-contained page (CSS inline, charts as data: URIs, no script, no network)."""

from __future__ import annotations

import base64
from html import escape
from typing import Any

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1000px;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}
th{background:#f3f3f3}.pass{color:#1a7f37}.fail{color:#cf222e}.inconclusive{color:#9a6700}
figure{margin:1.5rem 0}figcaption{font-size:.9rem;color:#555}img{max-width:100%;border:1px solid #eee}
.banner{padding:.5rem 1rem;background:#fff8c5;border:1px solid #d4a72c}
"""


def report_html(summary: dict[str, Any], run: Any, charts: list[Any], redact: Any) -> str:
    """The page. ``summary`` is already masked; every other text (the run's checks, chart captions) is passed
    through ``redact`` before it is escaped (a key with a quote or an ampersand is masked as it was sent)."""

    def text(value: Any) -> str:
        return escape(redact(str(value)))

    parts = [f"<h1>toolkit validate: <span class='{summary['verdict']}'>{summary['verdict']}</span></h1>"]
    if summary["partial"]:
        parts.append(f"<p class='banner'>Partial report: {escape(summary['interrupted'])}. "
                     "The verdict is inconclusive.</p>")
    parts.append(f"<p>{summary['requests']} requests; target: {escape(summary['target'])}; "
                 f"generated {escape(summary['generated_at'])}; exit code {summary['exit_code']}.</p>")
    parts.append(_table(["scenario", "verdict", "requests", "seconds", "why"],
                        [[s["scenario"], _verdict(s["verdict"]), s["requests"], s["seconds"], s["sentence"]]
                         for s in summary["scenarios"]], raw_columns={1}))
    figures = [f"<figure id='{chart.name}'><img alt='{text(chart.title)}' "
               f"src='data:image/png;base64,{base64.b64encode(chart.png).decode('ascii')}'>"
               f"<figcaption><b>{text(chart.title)}</b>: {text(chart.caption)}</figcaption></figure>"
               for chart in charts]
    tail: list[str] = []
    if summary["regions"]:
        tail.append("<h2>Share and latency per region</h2>")
        tail.append(_table(["region", "requests", "share %", "mean ms", "p50 ms", "p90 ms", "p99 ms"],
                           [[r["region"], r["requests"], r["share"], *r["latency_ms"].values()]
                            for r in summary["regions"]]))
    if summary["slowest"]:
        tail.append("<h2>Slowest requests and their probable cause</h2>")
        tail.append(_table(["ms", "scenario", "prompt", "status", "region", "probable cause"],
                           [[s["latency_ms"], s["scenario"], s["prompt_id"], s["status"], s["region"] or "-",
                             s["cause"]] for s in summary["slowest"]]))
    tail.append("<h2>Checks</h2>")
    for verdict in run.verdicts:
        tail.append(f"<h3>{text(verdict.scenario)}</h3>")
        tail.append(_table(["check", "verdict", "expected", "observed", "sentence"],
                           [[redact(c.name), _verdict(c.outcome.value), redact(_short(c.expected)),
                             redact(_short(c.observed)), redact(c.sentence)]
                            for c in verdict.checks], raw_columns={1}))
    parts = [*parts, "<h2>Charts</h2>", *figures, *tail]
    body = "\n".join(parts)
    return (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>toolkit validate report</title>"
            f"<style>{_STYLE}</style></head><body>\n{body}\n</body></html>\n")


def _verdict(value: str) -> str:
    return f"<span class='{escape(value)}'>{escape(value)}</span>"


def _short(value: Any, limit: int = 120) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _table(headers: list[str], rows: list[list[Any]], raw_columns: set[int] = frozenset()) -> str:  # type: ignore[assignment]
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell if i in raw_columns else escape(str(cell))}</td>"
                                    for i, cell in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
