"""The summary analysis and the chart helpers on known data."""

from __future__ import annotations

from toolkit.report.charts import REGION_COLORS, all_charts, open_periods, region_colors
from toolkit.report.frame import requests_frame
from toolkit.report.redact import MASK, Redactor
from toolkit.report.summary import probable_cause, slowest_requests


def test_probable_causes(run) -> None:
    frame = requests_frame(run)
    causes = {row.Index: probable_cause(frame, row.Index) for row in frame.itertuples()}
    by_phase = {(r.scenario, r.status, r.phase): causes[r.Index] for r in frame.itertuples()}
    assert by_phase[("token-limit", 429, "fill")].startswith("throttled")
    assert by_phase[("circuit-breaker", 503, "pool-out")].startswith("breaker open")
    recovered = frame.index[frame["phase"] == "recovered"][0]
    assert causes[recovered].startswith("backend latency")
    first_open = frame.index[frame["phase"] == "open"][0]
    assert causes[first_open].startswith("breaker open")
    miss = frame.index[(frame["scenario"] == "semantic-cache") & ~frame["cache_hit"]][0]
    assert causes[miss].startswith("cache miss")
    assert causes[0].startswith("first request")


def test_retried_needs_another_backend_failing_just_before(run) -> None:
    frame = requests_frame(run)
    frame.loc[frame["phase"] == "open", "phase"] = "x"  # not a breaker phase any more
    after_failures = frame.index[frame["phase"] == "x"][0]
    assert probable_cause(frame, after_failures).startswith("retried")


def test_slowest_are_sorted_and_above_the_90th_percentile(run) -> None:
    frame = requests_frame(run)
    slowest = slowest_requests(frame)
    latencies = [row["latency_ms"] for row in slowest]
    assert latencies == sorted(latencies, reverse=True) and latencies[0] == 2000.0
    assert min(latencies) >= frame["latency_ms"].quantile(0.9)


def test_open_periods_from_failures_to_the_next_served_request(run) -> None:
    frame = requests_frame(run)
    periods = open_periods(frame, "openai-eastus")
    failed = frame[(frame["backend"] == "openai-eastus") & (frame["status"] == 429)]["t"].min()
    back = frame[frame["phase"] == "recovered"]["t"].iloc[0]
    assert periods == [(failed, back)]
    assert open_periods(frame, "openai-eastus", min_skipped=4) == periods  # 3 served elsewhere and one 503
    assert open_periods(frame, "openai-eastus", min_skipped=5) == []
    assert open_periods(frame, "openai-westus") == []


def test_the_seeds_region_colours() -> None:
    assert REGION_COLORS == {"East US": "blue", "North Central US": "green", "West US": "red"}
    colors = region_colors(["East US", "Sweden Central", "West US"])
    assert colors["East US"] == "blue" and colors["West US"] == "red" and colors["Sweden Central"] not in REGION_COLORS.values()


def test_charts_are_skipped_without_their_data(run) -> None:
    run.verdicts = [v for v in run.verdicts if v.scenario == "circuit-breaker"]
    names = [chart.name for chart in all_charts(run, requests_frame(run))]
    assert names == ["latency-by-region", "latency-by-cache", "breaker-timeline"]


def test_redactor_masks_values_and_token_shapes() -> None:
    redact = Redactor(["supersecretkey", None, "abc"])
    text = redact("key supersecretkey; Authorization: Bearer xyz.abc; api-key: 12345678; word abc; eyJa1b2c3.eyJx.sig")
    assert "supersecretkey" not in text and "xyz.abc" not in text and "12345678" not in text
    assert "word abc" in text and "eyJa1b2c3" not in text and text.count(MASK) == 4


def test_an_unknown_cache_hit_is_a_miss_not_a_crash(run) -> None:
    import pandas as pd

    frame = requests_frame(run)
    miss = frame.index[(frame["scenario"] == "semantic-cache") & ~frame["cache_hit"]][0]
    frame["cache_hit"] = frame["cache_hit"].astype("boolean")
    frame.loc[miss, "cache_hit"] = pd.NA  # a request with no answer: hit unknown
    assert probable_cause(frame, miss).startswith("cache miss")
