"""The requests table: one row per request validation sent (requests.csv, and what charts and summary read)."""

from __future__ import annotations

from typing import Any

# requests.csv's columns, in order (issue 11's list, then what the charts also use).
REQUEST_COLUMNS = ("time", "scenario", "prompt_id", "status", "latency_ms", "backend", "region", "cache_hit",
                   "prompt_tokens", "completion_tokens", "retry_after", "trace_id", "completion_id", "phase",
                   "remaining_tokens")


def requests_frame(run: Any) -> Any:
    """The run's observations as a DataFrame with REQUEST_COLUMNS, plus `t` (seconds since the first request)
    and `total_tokens`; integer columns stay integers where values are missing (pandas' nullable Int64)."""
    frame = run.log.to_frame()[list(REQUEST_COLUMNS)].copy()  # every Observation field is a column, rows or not
    for column in ("status", "prompt_tokens", "completion_tokens", "remaining_tokens"):
        frame[column] = frame[column].astype("Int64")
    frame["cache_hit"] = frame["cache_hit"].astype(bool)
    frame["t"] = frame["time"] - frame["time"].min()  # an empty frame stays empty (its minimum is NaN)
    frame["total_tokens"] = frame["prompt_tokens"].fillna(0) + frame["completion_tokens"].fillna(0)
    return frame


def csv_text(frame: Any) -> str:
    """requests.csv: ISO-8601 UTC times, the documented columns only."""
    import pandas as pd

    table = frame[list(REQUEST_COLUMNS)].copy()
    table["time"] = pd.to_datetime(table["time"], unit="s", utc=True).dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return str(table.to_csv(index=False, lineterminator="\n"))
