"""The APIM ❤️ OpenAI notebook's summary analysis, from the requests table: share and latency per region, and the
slowest requests with their probable cause."""

from __future__ import annotations

from typing import Any

SLOWEST = 10
# Phases in which a backend's breaker is open on purpose (circuit-breaker, priority-failover scenarios).
_BREAKER_PHASES = {"open", "before-trip-end", "pool-out", "failed-over", "taking-out"}


def region_table(frame: Any) -> list[dict[str, Any]]:
    """Per region: requests, share of the routed requests (%), latency mean/p50/p90/p99 in ms."""
    routed = frame[frame["region"].notna()]
    if routed.empty:
        return []
    total = len(routed)
    rows = []
    for region, group in routed.groupby("region", sort=True):
        latency = group["latency_ms"]
        rows.append({"region": str(region), "requests": int(len(group)),
                     "share": round(100.0 * len(group) / total, 2),
                     "latency_ms": {"mean": _ms(latency.mean()), "p50": _ms(latency.quantile(0.5)),
                                    "p90": _ms(latency.quantile(0.9)), "p99": _ms(latency.quantile(0.99))}})
    return rows


def slowest_requests(frame: Any, limit: int = SLOWEST) -> list[dict[str, Any]]:
    """The ``limit`` slowest requests above the 90th percentile (that notebook's threshold), each with a cause."""
    if frame.empty:
        return []
    threshold = frame["latency_ms"].quantile(0.9)
    slow = frame[frame["latency_ms"] >= threshold].sort_values("latency_ms", ascending=False).head(limit)
    return [{"time": float(row.time), "scenario": row.scenario, "prompt_id": row.prompt_id,
             "status": int(row.status), "latency_ms": _ms(row.latency_ms),
             "backend": _text(row.backend), "region": _text(row.region), "cause": probable_cause(frame, index)}
            for index, row in slow.iterrows()]


def probable_cause(frame: Any, index: Any) -> str:
    """Why one request was slow, from what the client saw around it (a probable cause, not a certainty)."""
    row = frame.loc[index]
    if int(row["status"]) == 429 or _present(row["retry_after"]):
        return "throttled (429 / Retry-After)"
    if int(row["status"]) == 503 or row["phase"] in _BREAKER_PHASES:
        return "breaker open (backends taken out of the pool)"
    position = frame.index.get_loc(index)
    before = frame.iloc[max(0, position - 3):position]
    before = before[before["scenario"] == row["scenario"]]
    failed = before[((before["status"] == 429) | (before["status"] >= 500)) & before["backend"].notna()
                    & (before["backend"] != row["backend"])]
    if not failed.empty:
        return "retried (a backend failed just before; the gateway's retry went on to another)"
    if position == 0:
        return "first request (connections and the model warming up)"
    prompt_tokens, typical = row["prompt_tokens"], frame["prompt_tokens"].median()
    if _present(prompt_tokens) and _present(typical) and prompt_tokens > 4 * typical:
        return f"large request ({int(prompt_tokens)} prompt tokens; typical {int(typical)})"
    hit = _present(row["cache_hit"]) and bool(row["cache_hit"])  # unknown (NA: no answer) is not a hit
    if not hit and row["scenario"] == "semantic-cache":
        return "cache miss (answered by a backend)"
    return "backend latency (no throttling, retry or breaker seen)"


def scenario_table(run: Any) -> list[dict[str, Any]]:
    return [{"scenario": v.scenario, "verdict": v.outcome.value, "requests": v.requests,
             "seconds": round(v.seconds, 1), "sentence": v.sentence} for v in run.verdicts]


def _ms(value: Any) -> float | None:
    return None if value != value else round(float(value), 2)  # NaN -> None


def _present(value: Any) -> bool:
    """Not None, NaN or pandas.NA (whose truth value raises)."""
    if value is None:
        return False
    try:
        return bool(value == value)
    except TypeError:
        return False


def _text(value: Any) -> str | None:
    return str(value) if _present(value) else None
