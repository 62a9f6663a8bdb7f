"""`toolkit load`'s arithmetic on hand-made replies: durations, which backend a reply counts under, error kinds,
per-backend figures that add up to the total, and the printed table and JSON (the soak itself runs in e2e)."""

from __future__ import annotations

import pytest

from toolkit.errors import InputError
from toolkit.validate.load import GATEWAY, NO_RESPONSE, backend_of, error_kind, parse_duration, summarise
from toolkit.validate.traffic import Reply

REGIONS = {"East US": ["east"], "West US": ["west"], "Shared": ["a", "b"], "Lonely": []}


def _reply(status: int = 200, started: float = 100.0, latency: float = 10.0, region: str | None = "East US",
           error: str | None = None) -> Reply:
    headers = {"x-ms-region": region} if region is not None else {}
    return Reply(started, latency, status, headers, b"", error)


@pytest.mark.parametrize(("text", "seconds"), [("90", 90.0), ("30s", 30.0), ("5m", 300.0), ("1h", 3600.0),
                                               ("1m30s", 90.0), (" 2H ", 7200.0), ("1.5m", 90.0), ("0.5", 0.5),
                                               ("1h1m1s", 3661.0)])
def test_a_duration_in_seconds_minutes_or_hours(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "  ", "soon", "5 m", "1m1h", "m", "-5", "1d"])
def test_what_is_not_a_duration_is_bad_input(text: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_duration(text)
    assert caught.value.message == f"{text!r} is not a duration: use seconds (90), or 30s, 5m, 1h, 1m30s"


@pytest.mark.parametrize("text", ["0", "0s", "0m0s"])
def test_a_duration_of_zero_is_refused(text: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_duration(text)
    assert caught.value.message == f"the duration {text!r} must be longer than zero"


@pytest.mark.parametrize(("reply", "kind"), [
    (_reply(200), None), (_reply(204), None), (_reply(299), None), (_reply(300), "HTTP 300"), (_reply(199), "HTTP 199"),
    (_reply(429), "HTTP 429"), (_reply(0, error="ConnectTimeout"), "ConnectTimeout"), (_reply(0), "NoResponse")])
def test_the_kind_of_an_error(reply: Reply, kind: str | None) -> None:
    assert error_kind(reply) == kind


@pytest.mark.parametrize(("reply", "backend"), [
    (_reply(region="East US"), "east"), (_reply(region=None), GATEWAY), (_reply(0), NO_RESPONSE),
    (_reply(region="Shared"), "Shared (a or b)"), (_reply(region="Lonely"), "Lonely (no backend has it)"),
    (_reply(region="Mars"), "Mars (no backend has it)")])
def test_the_backend_a_reply_counts_under(reply: Reply, backend: str) -> None:
    assert backend_of(reply, "X-MS-Region", REGIONS) == backend


def test_the_figures_per_backend_add_up_to_the_total() -> None:
    replies = [_reply(200, 100.0, 10.0), _reply(200, 100.5, 20.0), _reply(429, 101.0, 30.0, region=None),
               _reply(0, 101.5, 100.0, region=None, error="ReadTimeout"), _reply(200, 101.0, 40.0, region="West US"),
               _reply(500, 101.9, 100.0)]
    report = summarise(replies, "x-ms-region", REGIONS, engine="builtin", users=3, workers=0, seconds=2.0)
    assert report.elapsed == pytest.approx(2.0)  # first sent at 100.0, last answered at 101.9 + 0.1
    assert report.to_json() == {
        "engine": "builtin", "users": 3, "workers": 0, "duration_s": 2.0, "elapsed_s": 2.0,
        "total": {"backend": "all", "requests": 6, "ok": 3, "per_second": 3.0,
                  "latency_ms": {"p50": 30.0, "p90": 76.0, "p99": 97.6},
                  "errors": {"HTTP 429": 1, "HTTP 500": 1, "ReadTimeout": 1}},
        "backends": [
            {"backend": GATEWAY, "requests": 1, "ok": 0, "per_second": 0.5,
             "latency_ms": {"p50": 30.0, "p90": 30.0, "p99": 30.0}, "errors": {"HTTP 429": 1}},
            {"backend": NO_RESPONSE, "requests": 1, "ok": 0, "per_second": 0.5,
             "latency_ms": {"p50": None, "p90": None, "p99": None}, "errors": {"ReadTimeout": 1}},
            {"backend": "east", "requests": 3, "ok": 2, "per_second": 1.5,
             "latency_ms": {"p50": 20.0, "p90": 84.0, "p99": 98.4}, "errors": {"HTTP 500": 1}},
            {"backend": "west", "requests": 1, "ok": 1, "per_second": 0.5,
             "latency_ms": {"p50": 40.0, "p90": 40.0, "p99": 40.0}, "errors": {}}]}
    assert sum(b.requests for b in report.backends) == report.total.requests


def test_the_table_lists_each_backend_then_the_total() -> None:
    replies = [_reply(200, 100.0, 10.0), _reply(0, 100.0, 1000.0, region=None, error="ConnectError")]
    report = summarise(replies, "x-ms-region", REGIONS, engine="locust", users=2, workers=4, seconds=1.0)
    assert report.to_text().splitlines() == [
        "2 requests in 1.0 s with 2 users on locust (4 workers)",
        "backend        requests     req/s    p50 ms    p90 ms    p99 ms  errors",
        "(no response)         1       1.0         -         -         -  ConnectError: 1",
        "east                  1       1.0      10.0      10.0      10.0  -",
        "all                   2       2.0      10.0      10.0      10.0  ConnectError: 1"]
    builtin = summarise(replies[:1], "x-ms-region", REGIONS, engine="builtin", users=1, workers=0, seconds=1.0)
    assert builtin.to_text().splitlines()[0] == "1 requests in 0.0 s with 1 users on builtin"


def test_no_reply_has_no_figures() -> None:
    report = summarise([], "x-ms-region", REGIONS, engine="builtin", users=1, workers=0, seconds=1.0)
    assert (report.elapsed, report.backends, report.total.requests, report.total.per_second) == (0.0, [], 0, 0.0)


def test_figures_are_rounded_and_a_300_is_not_ok() -> None:
    replies = [_reply(200, 100.0, 10.0), _reply(300, 100.0, 10.001), _reply(500, 100.0, 10.0),
               _reply(0, 102.0, 1.0, region=None, error="ReadError")]  # elapsed 2.001 s
    report = summarise(replies, "x-ms-region", REGIONS, engine="builtin", users=1, workers=0, seconds=2.0)
    assert report.to_json()["elapsed_s"] == 2.001 and report.to_json()["total"]["per_second"] == 2.0
    total = report.total
    assert (total.ok, total.p50, total.p90) == (1, 10.0, 10.0) and total.errors == {
        "HTTP 300": 1, "HTTP 500": 1, "ReadError": 1}
    assert report.to_text().splitlines()[-1].endswith("  HTTP 300: 1, HTTP 500: 1, ReadError: 1")
    odd = summarise([_reply(200, 100.0, 10.0), _reply(200, 100.0, 1.0 / 3)], "x-ms-region", REGIONS,
                    engine="builtin", users=1, workers=0, seconds=1.0)
    assert odd.total.p50 == 5.17 and odd.total.per_second == 200.0 and odd.to_json()["elapsed_s"] == 0.01
    third = summarise([_reply(200, 100.0, 3000.0)] * 2 + [_reply(200, 100.0, 1.0)], "x-ms-region", REGIONS,
                      engine="builtin", users=1, workers=0, seconds=3.0)
    assert third.total.per_second == 1.0
    seventh = summarise([_reply(200, 100.0, 7000.0)] + [_reply(200, 100.0, 1.0)] * 2, "x-ms-region", REGIONS,
                        engine="builtin", users=1, workers=0, seconds=7.0)
    assert seventh.total.per_second == 0.43  # 3 / 7, to two decimals
    assert summarise([_reply(200, 100.0, 2000.4567)], "x-ms-region", REGIONS, engine="builtin", users=1,
                     workers=0, seconds=2.0).to_json()["elapsed_s"] == 2.0
