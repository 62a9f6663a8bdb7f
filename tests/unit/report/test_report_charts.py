"""What each report chart draws, read back from its matplotlib figure: the data, colours, markers, labels and limits
a reader relies on (a chart that plotted the wrong column would still be a valid PNG). Drawn under a matplotlib style
unlike the defaults, as a notebook may have set one: a chart's colours, markers and size must not depend on it.
Presentation constants (font and marker sizes, z-order, transparency, legend placement) are not pinned."""

from __future__ import annotations

import importlib
import io
from collections.abc import Iterator
from typing import Any

import matplotlib
import numpy as np
import pytest
from cycler import cycler
from matplotlib.colors import to_rgba
from matplotlib.markers import MarkerStyle

from toolkit.report.frame import requests_frame
from toolkit.validate.observations import Observation, ObservationLog
from toolkit.validate.runner import ValidationRun
from toolkit.validate.verdict import Outcome, Verdict

charts = importlib.import_module("toolkit.report.charts")  # toolkit.report.charts is also a function's name


# What the charts must not inherit from a notebook's matplotlib settings.
NOTEBOOK_STYLE = {"axes.prop_cycle": cycler(color=["gold", "pink"]), "scatter.marker": "s", "figure.figsize": (3, 2),
                  "savefig.format": "svg"}


@pytest.fixture
def drawn(monkeypatch) -> Iterator[dict[str, Any]]:
    """Chart name -> the figure its maker drew (the PNG is not rendered: `test_png_*` checks that part)."""
    figures: dict[str, Any] = {}

    def keep(fig: Any, name: str, title: str, caption: str) -> Any:
        figures[name] = fig
        return charts.Chart(name, title, caption, b"")

    monkeypatch.setattr(charts, "_chart", keep)
    with matplotlib.rc_context(NOTEBOOK_STYLE):
        yield figures


def _log(*rows: dict[str, Any]) -> ObservationLog:
    log = ObservationLog()
    for i, row in enumerate(rows):
        fields = {"time": 1_800_000_000.0 + i, "scenario": "load-balancing", "prompt_id": f"p{i}", "status": 200,
                  "latency_ms": 10.0, "backend": None, "region": None, "cache_hit": False, "prompt_tokens": None,
                  "completion_tokens": None, "retry_after": None, "trace_id": f"t{i}", "completion_id": f"c{i}",
                  "phase": "", "remaining_tokens": None}
        fields.update(row)
        log.add(Observation(**fields))
    return log


def _draw(drawn: dict[str, Any], maker: Any, verdicts: list[Verdict], *rows: dict[str, Any]) -> tuple[Any, Any]:
    """(the Chart, the figure's first axes) of ``maker`` on a run of ``verdicts`` and ``rows``."""
    run = ValidationRun(verdicts, _log(*rows))
    chart = maker(run, requests_frame(run))
    return chart, chart and drawn[chart.name].axes[0]


def _bars(container: Any) -> list[tuple[float, float]]:
    """(centre x, height) of each bar."""
    return [(patch.get_x() + patch.get_width() / 2, patch.get_height()) for patch in container.patches]


def _points(collection: Any) -> list[tuple[float, float]]:
    return [tuple(float(v) for v in point) for point in np.asarray(collection.get_offsets())]


def _marker(collection: Any) -> str:
    """Which of the charts' markers a scatter draws."""
    drawn = collection.get_paths()[0].vertices
    for name in ("o", "X", "x", "|", "D"):
        style = MarkerStyle(name)
        if np.array_equal(drawn, style.get_path().transformed(style.get_transform()).vertices):
            return name
    raise AssertionError("not one of the charts' markers")


def _color(artist: Any) -> tuple[float, ...]:
    return tuple(artist.get_facecolor()[0])


def _legend(ax: Any) -> list[str]:
    return [text.get_text() for text in ax.get_legend().get_texts()]


def _verdict(scenario: str, *, expected: dict[str, Any] | None = None, observed: dict[str, Any] | None = None) -> Verdict:
    return Verdict(scenario, Outcome.PASS, "ok", (), expected=expected or {}, observed=observed or {})


# -- latency by region (the notebook's load-balancing chart) -----------------------------------------------------------

def test_latency_by_region_one_bar_per_request_in_the_regions_colour(drawn) -> None:
    chart, ax = _draw(drawn, charts.latency_by_region, [],
                      {"region": "West US", "latency_ms": 30.0}, {"region": None, "latency_ms": 99.0},
                      {"region": "East US", "latency_ms": 10.0}, {"region": "West US", "latency_ms": 50.0},
                      {"region": "Sweden Central", "latency_ms": 70.0})
    assert (chart.name, chart.title) == ("latency-by-region", "Response time per request by region")
    assert chart.caption == ("As in the APIM ❤️ OpenAI notebook: one bar per request, coloured by the region that "
                             "answered.")
    bars = {container.get_label(): container for container in ax.containers}
    assert list(bars) == ["East US", "Sweden Central", "West US"]  # sorted; the request without a region left out
    assert _bars(bars["West US"]) == [(0.0, 30.0), (3.0, 50.0)]  # x: the request's position in the run
    assert _bars(bars["East US"]) == [(2.0, 10.0)] and _bars(bars["Sweden Central"]) == [(4.0, 70.0)]
    assert all(patch.get_width() == 1.0 for container in ax.containers for patch in container.patches)
    assert bars["West US"].patches[0].get_facecolor() == to_rgba("red")
    assert bars["East US"].patches[0].get_facecolor() == to_rgba("blue")
    assert bars["Sweden Central"].patches[0].get_facecolor() == to_rgba("purple")  # the first spare colour
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == (
        "request", "response time (ms)", "Response time per request by region")
    assert ax.get_legend().get_title().get_text() == "region"
    assert _legend(ax) == ["East US", "Sweden Central", "West US"]


def test_latency_by_region_needs_a_region(drawn) -> None:
    assert _draw(drawn, charts.latency_by_region, [], {"region": None}) == (None, None)


def test_region_colours_keep_the_notebooks_and_give_others_distinct_spares() -> None:
    colors = charts.region_colors(["Japan East", "East US", "Sweden Central"])
    assert colors == {"Japan East": "purple", "East US": "blue", "Sweden Central": "orange"}
    many = list(charts.region_colors([f"region {n}" for n in range(30)]).values())  # Azure has more regions
    assert many[:7] == list(charts._OTHER_COLORS) and many[7:9] == ["purple", "orange"] and len(many) == 30


# -- latency by cache ----------------------------------------------------------------------------------------------

def test_latency_by_cache_hits_apart_from_misses_successes_only(drawn) -> None:
    chart, ax = _draw(drawn, charts.latency_by_cache, [],
                      {"cache_hit": False, "latency_ms": 60.0}, {"cache_hit": True, "latency_ms": 5.0},
                      {"status": 429, "latency_ms": 900.0}, {"status": 201, "latency_ms": 800.0},
                      {"cache_hit": True, "latency_ms": 4.0})
    assert (chart.name, chart.title) == ("latency-by-cache", "Response time per request by cache hit")
    assert chart.caption == ("Successful requests; a hit repeats an earlier completion id (served from the semantic "
                             "cache).")
    miss, hit = ax.containers
    assert (miss.get_label(), hit.get_label()) == ("cache miss", "cache hit")
    assert _bars(miss) == [(0.0, 60.0)] and _bars(hit) == [(1.0, 5.0), (4.0, 4.0)]  # 429 and 201: not a 200
    assert miss.patches[0].get_facecolor() == to_rgba("tab:gray")
    assert hit.patches[0].get_facecolor() == to_rgba("tab:green")
    assert all(patch.get_width() == 1.0 for container in ax.containers for patch in container.patches)
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == (
        "request", "response time (ms)", "Response time per request: cache hit or miss")
    assert _legend(ax) == ["cache miss", "cache hit"]


def test_latency_by_cache_draws_only_the_groups_it_has(drawn) -> None:
    _, ax = _draw(drawn, charts.latency_by_cache, [], {"cache_hit": True}, {"cache_hit": True, "latency_ms": 3.0})
    assert [container.get_label() for container in ax.containers] == ["cache hit"]
    _, ax = _draw(drawn, charts.latency_by_cache, [], {"cache_hit": False})
    assert [container.get_label() for container in ax.containers] == ["cache miss"]
    assert _draw(drawn, charts.latency_by_cache, [], {"status": 503}) == (None, None)


# -- backend shares --------------------------------------------------------------------------------------------------

def _shares_verdict(scenario: str, shares: dict[str, tuple[float, float, tuple[float, float]]]) -> Verdict:
    return _verdict(scenario, observed={"shares": {
        name: {"share": share, "expected": expected, "ci": list(ci), "count": 1}
        for name, (share, expected, ci) in shares.items()}})


def test_backend_shares_one_panel_per_scenario_observed_bars_intervals_and_expected_diamonds(drawn) -> None:
    verdicts = [
        _shares_verdict("load-balancing", {"openai-eastus": (0.6, 0.5, (0.45, 0.74)),
                                           "openai-westus": (0.4, 0.5, (0.42, 0.55))}),  # an interval above its share
        _verdict("circuit-breaker", observed={"shares": {}}),  # no shares: no panel
        _verdict("auth", observed={"shares": "n/a"}),
        _shares_verdict("priority-failover", {"openai-northcentralus": (1.0, 1.0, (0.9, 1.2))}),
    ]
    chart, _ = _draw(drawn, charts.backend_shares, verdicts)
    assert (chart.name, chart.title) == ("backend-shares", "Expected vs observed share per backend")
    assert chart.caption == ("Bars: observed share; whiskers: its confidence interval; diamonds: the share the "
                             "config expects.")
    figure = drawn["backend-shares"]
    assert tuple(figure.get_size_inches()) == (11.0, 4.0)  # 5.5 inches per panel
    first, second = figure.axes
    assert (first.get_title(), second.get_title()) == ("load-balancing", "priority-failover")
    bars, whiskers = first.containers
    assert _bars(bars) == [(0.0, 0.6), (1.0, 0.4)]
    assert bars.patches[0].get_facecolor() == to_rgba("tab:blue", 0.7)
    data_line, _, (whisker_lines,) = whiskers.lines
    assert data_line is None and tuple(whisker_lines.get_color()[0]) == to_rgba("black")  # no line joins the bars
    segments = [segment.tolist() for segment in whisker_lines.get_segments()]
    assert segments == [[[0.0, 0.45], [0.0, 0.74]], [[1.0, 0.4], [1.0, 0.55]]]  # the lower end never above the bar
    diamonds = first.collections[-1]
    assert _points(diamonds) == [(0.0, 0.5), (1.0, 0.5)]
    assert _color(diamonds) == to_rgba("tab:red") and _marker(diamonds) == "D"
    assert [label.get_text() for label in first.get_xticklabels()] == ["openai-eastus", "openai-westus"]
    assert first.get_ylim() == (0.0, 1.05) and first.get_ylabel() == "share of routed requests"
    assert sorted(_legend(first)) == ["confidence interval", "expected", "observed"]
    assert [segment.tolist() for segment in second.containers[1].lines[2][0].get_segments()] == [[[0.0, 0.9], [0.0, 1.2]]]


def test_backend_shares_needs_a_scenario_with_shares(drawn) -> None:
    assert _draw(drawn, charts.backend_shares, [_verdict("load-balancing", observed={"shares": {}})]) == (None, None)
    assert _draw(drawn, charts.backend_shares, [_verdict("auth")]) == (None, None)


# -- breaker timeline ------------------------------------------------------------------------------------------------

def test_breaker_timeline_lanes_served_failures_and_open_periods(drawn) -> None:
    chart, ax = _draw(drawn, charts.breaker_timeline, [],
                      {"backend": "openai-westus"},                     # t=0 served
                      {"backend": "openai-eastus", "status": 429},      # t=1 failure: out of the pool from here
                      {"backend": "openai-westus"},                     # t=2
                      {"backend": "openai-westus", "status": 400},      # t=3 neither served nor a failure
                      {"backend": "openai-eastus", "status": 200},      # t=4 served again
                      {"backend": "openai-westus", "status": 500},      # t=5 a failure: out of the pool from here
                      {"backend": "openai-westus", "status": 399},      # t=6 served (below 400), too soon: no period
                      {"backend": "openai-westus", "status": 503},      # t=7 a failure
                      {"backend": None, "status": 503},                 # t=8 no backend: no lane
                      {"backend": "openai-eastus"},                     # t=9
                      {"backend": "openai-westus"})                     # t=10 served again
    assert (chart.name, chart.title) == ("breaker-timeline", "Breaker timeline")
    assert chart.caption == ("Out of the pool: from a backend's failure until it served again, while other requests "
                             "went elsewhere (inferred from the traffic, as a client sees it).")
    assert tuple(drawn["breaker-timeline"].get_size_inches()) == (9.0, 1.2 + 0.8 * 2)
    assert [label.get_text() for label in ax.get_yticklabels()] == ["openai-eastus", "openai-westus"]
    assert ax.get_ylim() == (-0.7, 1.7)
    by_label = {collection.get_label(): collection for collection in ax.collections}
    out_of_pool = by_label["out of the pool"]
    assert out_of_pool.get_paths()[0].vertices[[0, 2]].tolist() == [[1.0, -0.35], [4.0, 0.35]]  # t 1..4, lane 0
    assert _color(out_of_pool) == to_rgba("tab:orange", 0.35)
    assert _points(by_label["served"]) == [(4.0, 0.0), (9.0, 0.0)]
    assert _points(by_label["failure (429/5xx)"]) == [(1.0, 0.0)]
    lane1 = [c for c in ax.collections if c.get_label().startswith("_")]  # the second lane: no legend entries again
    assert lane1[0].get_paths()[0].vertices[[0, 2]].tolist() == [[7.0, 0.65], [10.0, 1.35]]
    assert [_points(c) for c in lane1[1:]] == [[(0.0, 1.0), (2.0, 1.0), (6.0, 1.0), (10.0, 1.0)], [(5.0, 1.0), (7.0, 1.0)]]
    for served, failed in ((by_label["served"], by_label["failure (429/5xx)"]), lane1[1:]):
        assert (_color(served), _marker(served)) == (to_rgba("tab:blue"), "|")
        assert (_color(failed), _marker(failed)) == (to_rgba("tab:red"), "x")
    assert (ax.get_xlabel(), ax.get_title()) == ("seconds since the first request", "Breaker timeline per backend")
    assert _legend(ax) == ["out of the pool", "served", "failure (429/5xx)"]


def test_breaker_timeline_a_lane_with_no_open_period_draws_none(drawn) -> None:
    _, ax = _draw(drawn, charts.breaker_timeline, [], {"backend": "openai-eastus"}, {"backend": "openai-eastus", "status": 429})
    assert [c.get_label() for c in ax.collections] == ["served", "failure (429/5xx)"]
    assert _legend(ax) == ["served", "failure (429/5xx)"]
    assert _draw(drawn, charts.breaker_timeline, [], {"backend": None}) == (None, None)


def test_an_open_period_still_open_at_the_end_lasts_until_the_last_request() -> None:
    run = ValidationRun([], _log({"backend": "a", "status": 503}, {"backend": "b"}, {"backend": "b"},
                                 {"backend": None, "status": 503}))
    frame = requests_frame(run)
    assert charts.open_periods(frame, "a") == [(0.0, 3.0)]
    assert charts.open_periods(frame, "a", min_skipped=3) == [(0.0, 3.0)]
    assert charts.open_periods(frame, "a", min_skipped=4) == []
    assert charts.open_periods(frame, "b") == []


def test_an_open_period_starts_at_the_first_of_consecutive_failures() -> None:
    run = ValidationRun([], _log({"backend": "a", "status": 429}, {"backend": "b"}, {"backend": "a", "status": 500},
                                 {"backend": "b"}, {"backend": "b"}, {"backend": "a"}))
    assert charts.open_periods(requests_frame(run), "a") == [(0.0, 5.0)]  # a failure resets the count of skipped


# -- cache distances -------------------------------------------------------------------------------------------------

def _cache_verdict(pairs: list[dict[str, Any]], **observed: Any) -> Verdict:
    return _verdict("semantic-cache", observed={"pairs": pairs, **observed})


def test_cache_distances_a_point_per_prompt_in_its_groups_lane_and_the_threshold(drawn) -> None:
    pairs = [{"group": "set1", "distance": 0.0, "hit": True}, {"group": "set2", "distance": 0.12, "hit": False},
             {"group": "control", "distance": 0.8, "hit": False}, {"group": "other", "distance": 0.5}]
    verdict = _cache_verdict(pairs, score_threshold=0.1,
                             separating_thresholds={"low": 0.12, "high": 0.8, "separable": True})
    chart, ax = _draw(drawn, charts.cache_distances, [_verdict("token-limit"), verdict])
    assert (chart.name, chart.title) == ("cache-distances", "Cache distance vs hit/miss")
    assert chart.caption == "A prompt is a hit when its distance is within the score-threshold (dashed line)."
    assert tuple(drawn["cache-distances"].get_size_inches()) == (9.0, 3.6)
    points, proxies = ax.collections[:4], ax.collections[4:]
    assert [_points(c) for c in points] == [[(0.0, 0.0)], [(0.12, 1.0)], [(0.8, 2.0)], [(0.5, 3.0)]]
    hit, miss = (to_rgba("tab:green"), "o"), (to_rgba("tab:gray"), "X")
    assert [(_color(c), _marker(c)) for c in points] == [hit, miss, miss, miss]  # no "hit": a miss
    assert [(_color(c), _marker(c), c.get_label()) for c in proxies] == [(*hit, "hit"), (*miss, "miss")]
    assert {tuple(c.get_edgecolor()[0]) for c in ax.collections} == {to_rgba("black")}
    (threshold,) = ax.lines
    assert list(threshold.get_xdata()) == [0.1, 0.1] and threshold.get_linestyle() == "--"
    assert to_rgba(threshold.get_color()) == to_rgba("tab:red")
    (band,) = ax.patches
    assert (band.get_x(), round(band.get_x() + band.get_width(), 9)) == (0.12, 0.8)
    assert band.get_facecolor() == to_rgba("tab:green", 0.12)
    assert [label.get_text() for label in ax.get_yticklabels()] == [
        "set 1 (repeats)", "set 2 (paraphrases)", "controls (unrelated)"]
    assert ax.get_ylim() == (-0.6, 2.6)
    assert (ax.get_xlabel(), ax.get_title()) == ("distance to the nearest cached prompt (cosine)",
                                                 "Semantic cache: distance vs hit/miss")
    assert _legend(ax) == ["score-threshold 0.1", "thresholds that separate paraphrases from controls", "hit", "miss"]


def test_cache_distances_without_a_threshold_or_a_separating_band(drawn) -> None:
    verdict = _cache_verdict([{"group": "set1", "distance": 0.3, "hit": False}],
                             separating_thresholds={"low": 0.2, "high": 0.1, "separable": False})
    _, ax = _draw(drawn, charts.cache_distances, [verdict])
    assert list(ax.lines) == [] and list(ax.patches) == []
    assert _legend(ax) == ["hit", "miss"]
    _, ax = _draw(drawn, charts.cache_distances, [_cache_verdict([{"group": "set2", "distance": 0.3, "hit": True}])])
    assert _legend(ax) == ["hit", "miss"]


def test_cache_distances_needs_the_semantic_cache_pairs(drawn) -> None:
    assert _draw(drawn, charts.cache_distances, [_cache_verdict([])]) == (None, None)
    assert _draw(drawn, charts.cache_distances, [_verdict("load-balancing", observed={"pairs": [{"group": "set1"}]})]) == (
        None, None)


# -- token consumption -----------------------------------------------------------------------------------------------

def _token_rows() -> list[dict[str, Any]]:
    row = {"scenario": "token-limit", "phase": "fill", "prompt_tokens": 100, "completion_tokens": 20}
    return [{"scenario": "load-balancing"},
            {**row, "phase": "probe", "prompt_tokens": 5000},       # not the fill phase: left out
            row, {**row, "prompt_tokens": 200}, {**row, "status": 429, "prompt_tokens": None, "completion_tokens": None},
            {**row, "status": 500, "prompt_tokens": 7, "completion_tokens": 1}, row]


def test_token_consumption_cumulative_usage_of_the_answered_calls_against_the_limit(drawn) -> None:
    verdict = _verdict("token-limit", expected={"tokens_per_minute": 400}, observed={"limit": 999})
    chart, ax = _draw(drawn, charts.token_consumption, [verdict], *_token_rows())
    assert (chart.name, chart.title) == ("token-consumption", "Token consumption against the limit")
    assert chart.caption == ("Cumulative tokens the gateway counted (prompt + completion of each answered call) and "
                             "the limit.")
    used, limit = ax.lines
    assert used.get_drawstyle() == "steps-post" and to_rgba(used.get_color()) == to_rgba("tab:blue")
    assert to_rgba(limit.get_color()) == to_rgba("tab:red")
    assert list(used.get_xdata()) == [0.0, 1.0, 2.0, 3.0, 4.0]  # seconds since the first fill call
    assert list(used.get_ydata()) == [120, 340, 340, 340, 460]  # a 429 and a 500 consumed nothing
    assert list(limit.get_ydata()) == [400, 400] and limit.get_linestyle() == "--"
    (refused,) = ax.collections
    assert _points(refused) == [(2.0, 340.0)]
    assert (_color(refused), _marker(refused)) == (to_rgba("tab:red"), "x")
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == (
        "seconds since the first call", "tokens", "Token consumption against the limit")
    assert sorted(_legend(ax)) == ["429", "limit 400 tokens/min", "tokens consumed (usage of each 200)"]


def test_token_consumption_without_a_fill_phase_plots_every_call_and_reads_the_observed_limit(drawn) -> None:
    rows = [{**row, "phase": "probe"} for row in _token_rows()]
    _, ax = _draw(drawn, charts.token_consumption, [_verdict("token-limit", observed={"limit": 999})], *rows)
    used, limit = ax.lines
    assert list(used.get_ydata()) == [5020, 5140, 5360, 5360, 5360, 5480]
    assert list(limit.get_ydata()) == [999, 999]
    _, ax = _draw(drawn, charts.token_consumption, [_verdict("token-limit")], *rows)
    assert len(ax.lines) == 1 and "limit" not in " ".join(_legend(ax))


def test_token_consumption_needs_the_scenarios_verdict_and_calls(drawn) -> None:
    assert _draw(drawn, charts.token_consumption, [_verdict("load-balancing")], *_token_rows()) == (None, None)
    assert _draw(drawn, charts.token_consumption, [_verdict("token-limit")], {"scenario": "load-balancing"}) == (None, None)


# -- the set and the PNG ---------------------------------------------------------------------------------------------

def test_all_charts_in_report_order(run) -> None:
    names = [chart.name for chart in charts.all_charts(run, requests_frame(run))]
    assert names == ["latency-by-region", "latency-by-cache", "backend-shares", "breaker-timeline", "cache-distances",
                     "token-consumption"]


def test_png_is_the_figure_at_90_dpi_and_shows_inline_in_jupyter() -> None:
    from matplotlib.figure import Figure
    from matplotlib.image import imread

    with matplotlib.rc_context(NOTEBOOK_STYLE):  # a notebook that saves figures as SVG by default
        fig, ax = charts._figure()
        assert isinstance(fig, Figure) and tuple(fig.get_size_inches()) == (9.0, 4.0)
        chart = charts._chart(fig, "n", "t", "c")
    assert (chart.name, chart.title, chart.caption) == ("n", "t", "c")
    assert chart.png.startswith(b"\x89PNG\r\n\x1a\n") and chart._repr_png_() == chart.png
    assert imread(io.BytesIO(chart.png)).shape[:2] == (360, 810)  # 4 x 9 inches at 90 dpi
    fig, axes = charts._figure((4, 3), ncols=2)
    assert len(axes) == 2 and tuple(fig.get_size_inches()) == (4.0, 3.0)
