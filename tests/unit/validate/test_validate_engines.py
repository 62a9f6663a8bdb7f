"""Engines seen from the scenarios' side: batches sized to the token window, a window's 429 retried once
and kept in the log; the soak summary (per-backend rows that add up) and duration parsing."""

from __future__ import annotations

import random

import httpx
import pytest

from toolkit.errors import InputError
from toolkit.validate.context import Context
from toolkit.validate.engines import open_engine
from toolkit.validate.expectations import Expectations, Member, TokenRule
from toolkit.validate.load import GATEWAY, NO_RESPONSE, parse_duration, summarise
from toolkit.validate.observations import ObservationLog
from toolkit.validate.settings import LoadBalancingSettings
from toolkit.validate.target import Target
from toolkit.validate.traffic import Caller, Reply

EXPECT = Expectations(
    source="test", api="a", api_path="openai", key_header="api-key", subscription_required=True,
    deployment="d", api_version="v", pool="p",
    members=(Member("east", 1, 50, "East US"), Member("west", 1, 50, "West US")),
    tokens=TokenRule(20000, None, "k", "x-remaining", None, "Retry-After"),
)


class FakeControl:
    def __init__(self) -> None:
        self.advanced: list[float] = []

    def advance(self, seconds: float) -> None:
        self.advanced.append(seconds)

    def subscription(self, name: str) -> str:
        return f"key-of-{name}"


class FakeEngine:
    """Answers each batch from a script: (status, remaining tokens) per request, in order."""

    name = "fake"

    def __init__(self, script: list[tuple[int, int]]) -> None:
        self.script, self.batches, self.keys = list(script), [], []

    def send_all(self, outgoing, wanted):  # type: ignore[no-untyped-def]
        self.batches.append(len(outgoing))
        self.keys.append({o.headers.get("api-key") for o in outgoing})
        replies = []
        for index, _ in enumerate(outgoing):
            status, remaining = self.script.pop(0)
            headers = {"x-ms-region": "East US" if index % 2 else "West US", "x-remaining": str(remaining)}
            if status == 429:
                headers["retry-after"] = "30"
            body = b'{"id": "c%d", "usage": {"prompt_tokens": 30, "completion_tokens": 16}}' % len(self.script)
            replies.append(Reply(0.0, 1.0, status, headers, body if status == 200 else b"{}"))
        return replies


def _context(engine: FakeEngine, control: FakeControl) -> Context:
    target = Target("t", "http://gw", "key", control=control)  # type: ignore[arg-type]
    log = ObservationLog()
    caller = Caller(httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(500))), target, EXPECT,
                    log, seed=1)
    settings = LoadBalancingSettings(prompts=["q"])
    return Context("load-balancing", target, EXPECT, settings, caller, log, random.Random(1), engine=engine)


def test_batches_fit_the_token_window_left_by_the_previous_batch() -> None:
    engine = FakeEngine([(200, 5000)] * 88 + [(200, 4000)] * 19 + [(200, 3000)] * 5)
    ctx = _context(engine, FakeControl())
    rows = list(ctx.ask_unique_many("healthy", 112))
    # 20000 tokens / (16 + 200 per request) - 4 of margin = 88; then 5000 left: 23 - 4 = 19; then 4000: 14
    assert engine.batches == [88, 19, 5]
    assert len(rows) == 112 == len(ctx.log) and all(row.status == 200 for row in rows)
    assert {row.backend for row in rows} == {"east", "west"}


def test_a_token_window_429_is_retried_once_under_a_fresh_counter_and_stays_in_the_log() -> None:
    engine = FakeEngine([(200, 900), (429, 0), (429, 0), (200, 19000), (200, 18900)])
    control = FakeControl()
    ctx = _context(engine, control)
    rows = list(ctx.ask_unique_many("healthy", 3))
    assert engine.batches == [3, 2]
    assert [row.status for row in rows] == [200, 200, 200]
    assert [row.status for row in ctx.log.rows] == [200, 429, 429, 200, 200]
    # the run's own subscription from the start, a fresh one (a new counter) for the retried requests
    assert engine.keys == [{"key-of-toolkit-validate-load-balancing-1"}, {"key-of-toolkit-validate-load-balancing-2"}]
    assert control.advanced == []


def test_without_an_engine_requests_go_one_by_one_through_the_caller() -> None:
    ctx = _context(FakeEngine([]), FakeControl())
    ctx.engine = None
    rows = list(ctx.ask_unique_many("healthy", 2))
    assert [row.status for row in rows] == [500, 500]


def test_an_unknown_engine_is_bad_input() -> None:
    with pytest.raises(InputError, match="unknown engine 'jmeter'"):
        open_engine("jmeter", users=1, workers=1)


@pytest.mark.parametrize(("text", "seconds"), [("90", 90), ("30s", 30), ("5m", 300), ("1h", 3600), ("1m30s", 90),
                                               ("0.5s", 0.5), (" 2M ", 120)])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "5x", "m", "1s1m", "-3s", "0", "0s"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(InputError):
        parse_duration(text)


def test_summary_rows_add_up_and_name_the_backend_or_why_not() -> None:
    regions = {"East US": ["east"], "West US": ["west"], "Shared": ["a", "b"]}
    replies = [Reply(100.0 + i, 10.0 * (i + 1), 200, {"x-ms-region": "East US"}, b"") for i in range(4)] + [
        Reply(101.0, 50.0, 503, {"x-ms-region": "West US"}, b""),
        Reply(102.0, 5.0, 429, {}, b""),
        Reply(103.0, 1000.0, 0, {}, b"", "ConnectTimeout"),
        Reply(104.0, 7.0, 200, {"x-ms-region": "Shared"}, b""),
    ]
    report = summarise(replies, "x-ms-region", regions, engine="builtin", users=2, workers=0, seconds=5)
    rows = {row.name: row for row in report.backends}
    assert set(rows) == {"east", "west", GATEWAY, NO_RESPONSE, "Shared (a or b)"}
    assert sum(row.requests for row in rows.values()) == report.total.requests == 8
    assert rows["east"].requests == 4 and rows["east"].ok == 4 and rows["east"].errors == {}
    assert rows["east"].p50 == 25.0 and rows["east"].p99 == pytest.approx(39.7)
    assert rows["west"].errors == {"HTTP 503": 1} and rows["west"].ok == 0
    assert rows[GATEWAY].errors == {"HTTP 429": 1}
    assert rows[NO_RESPONSE].errors == {"ConnectTimeout": 1} and rows[NO_RESPONSE].p50 is None
    assert report.elapsed == pytest.approx(4.007)  # first sent at 100.0, last answered at 104.007
    assert report.total.per_second == pytest.approx(8 / 4.007, abs=0.01)
    assert report.total.errors == {"ConnectTimeout": 1, "HTTP 429": 1, "HTTP 503": 1}
    assert "east" in report.to_text() and report.to_json()["total"]["requests"] == 8


@pytest.mark.parametrize(("users", "workers", "environ", "words"), [
    (1, 2, {}, "fewer than the 2 Locust workers"),
    (3, 2, {"TOOLKIT_LOCUST_REMOTE_WORKERS": "2"}, "fewer than the 4 Locust workers"),
    (4, 0, {}, "at least one worker"),
    (4, 1, {"TOOLKIT_LOCUST_REMOTE_WORKERS": "many"}, "TOOLKIT_LOCUST_REMOTE_WORKERS='many' is not a whole number"),
    (4, 1, {"TOOLKIT_LOCUST_PORT": "-1"}, "must not be negative"),
])
def test_locust_options_are_checked_before_anything_starts(users: int, workers: int, environ: dict[str, str],
                                                           words: str) -> None:
    from toolkit.validate.engines.locust_engine import LocustEngine

    with pytest.raises(InputError, match=words):
        LocustEngine(users=users, workers=workers, environ=environ)


def test_remote_workers_count_toward_the_users_needed() -> None:
    from toolkit.validate.engines.locust_engine import LocustEngine

    engine = LocustEngine(users=4, workers=1, environ={"TOOLKIT_LOCUST_REMOTE_WORKERS": "3",
                                                       "TOOLKIT_LOCUST_BIND": "0.0.0.0", "TOOLKIT_LOCUST_PORT": "5557"})
    assert (engine.remote, engine.bind, engine.port) == (3, "0.0.0.0", 5557)
    assert LocustEngine(users=2, workers=2, environ={}).bind == "127.0.0.1"  # loopback unless told otherwise
