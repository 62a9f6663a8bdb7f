"""Kept request traces: recorded events are kept as recorded and read as JSON-ready dicts; bounded, newest first."""

from __future__ import annotations

from toolkit.emulator.gateway.app import TraceLog
from toolkit.emulator.policy.context import Trace


def _record(trace_id: str, trace: Trace) -> dict[str, object]:
    return {"trace_id": trace_id, "status": 200, "events": tuple(trace.events)}


def test_events_are_read_as_dicts_rounded_with_empty_data_as_an_object() -> None:
    ticks = iter([10.0, 10.0012344, 10.002])
    trace = Trace(lambda: next(ticks))
    trace.add("inbound", "rate-limit", "allowed", {"remaining": 3})
    trace.add("backend", "forward-request", "attempt 1: 200")
    log = TraceLog()
    log.add("t1", _record("t1", trace))
    assert log.get("t1") == {"trace_id": "t1", "status": 200, "events": [
        {"ms": 1.234, "section": "inbound", "source": "rate-limit", "message": "allowed", "data": {"remaining": 3}},
        {"ms": 2.0, "section": "backend", "source": "forward-request", "message": "attempt 1: 200", "data": {}},
    ]}
    assert log.get("unknown") is None


def test_the_newest_are_kept_and_listed_first() -> None:
    log = TraceLog(capacity=2)
    for name in ("a", "b", "c"):
        log.add(name, _record(name, Trace()))
    assert [record["trace_id"] for record in log.latest(10)] == ["c", "b"]
    assert log.get("a") is None and log.latest(1)[0]["events"] == []
