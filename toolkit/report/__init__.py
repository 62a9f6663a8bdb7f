"""Reports of a validation run: the files people read and pipelines gate on.

    ValidationRun --frame--> requests table (pandas) --summary--> analysis (shares, latency, slowest)
                  --charts--> PNGs (matplotlib, Agg) --html / markdown / junit / summary_json--> files

`write_report(run, DIR)` writes requests.csv, summary.json, junit.xml, report.md and report.html;
`write_junit(run, FILE)` writes only the JUnit file. pandas and matplotlib are imported inside functions
so `toolkit --help` stays fast. Nothing secret reaches a file: every text goes through `redact`.
"""

from __future__ import annotations

from typing import Any

from toolkit.report.writer import REPORT_FILES, ReportInput, write_junit, write_report

__all__ = ["REPORT_FILES", "ReportInput", "charts", "region_summary", "requests_table", "slowest", "write_junit",
           "write_report"]


def requests_table(run: Any) -> Any:
    """Every request of ``run`` as a pandas DataFrame (requests.csv's columns, plus `t` and `total_tokens`)."""
    from toolkit.report.frame import requests_frame

    return requests_frame(run)


def charts(run: Any) -> list[Any]:
    """The report's charts for ``run`` (each shows itself inline in Jupyter; `.png` holds the bytes)."""
    from toolkit.report.charts import all_charts

    return all_charts(run, requests_table(run))


def region_summary(run: Any) -> Any:
    """The APIM ❤️ OpenAI notebook's summary: share (%) and latency mean/p50/p90/p99 (ms) per region, as a DataFrame."""
    import pandas as pd

    from toolkit.report.summary import region_table

    rows = [{"region": r["region"], "requests": r["requests"], "share %": r["share"],
             **{f"{k} ms": v for k, v in r["latency_ms"].items()}} for r in region_table(requests_table(run))]
    return pd.DataFrame(rows).set_index("region") if rows else pd.DataFrame()


def slowest(run: Any) -> Any:
    """The slowest requests (at or above the 90th percentile) with their probable cause, as a DataFrame."""
    import pandas as pd

    from toolkit.report.summary import slowest_requests

    return pd.DataFrame(slowest_requests(requests_table(run)))
