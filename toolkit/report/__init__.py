"""Reports of a validation run: the files people read and pipelines gate on.

    ValidationRun --frame--> requests table (pandas) --summary--> analysis (shares, latency, slowest)
                  --charts--> PNGs (matplotlib, Agg) --html / markdown / junit / summary_json--> files

`write_report(run, DIR)` writes requests.csv, summary.json, junit.xml, report.md and report.html;
`write_junit(run, FILE)` writes only the JUnit file. pandas and matplotlib are imported inside functions
so `toolkit --help` stays fast. Nothing secret reaches a file: every text goes through `redact`.
"""

from __future__ import annotations

from toolkit.report.writer import REPORT_FILES, ReportInput, write_junit, write_report

__all__ = ["REPORT_FILES", "ReportInput", "write_junit", "write_report"]
