"""The report's charts, drawn with matplotlib's Agg backend (no display) into PNG bytes.

Each function returns a Chart, or None when the run holds no data for it (the scenario did not run).
"""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass
from typing import Any

# The APIM ❤️ OpenAI notebook's region colour map (what its users know); other regions get the next default colour.
REGION_COLORS = {"East US": "blue", "North Central US": "green", "West US": "red"}
_OTHER_COLORS = ("purple", "orange", "brown", "teal", "olive", "magenta", "gray")


@dataclass(frozen=True)
class Chart:
    name: str        # file-safe id, e.g. "latency-by-region"
    title: str
    caption: str     # one line saying how to read it
    png: bytes

    def _repr_png_(self) -> bytes:
        """Shown inline by Jupyter (`display(chart)` or a chart as a cell's last expression)."""
        return self.png


def all_charts(run: Any, frame: Any) -> list[Chart]:
    """Every chart the run has data for, in report order."""
    makers = (latency_by_region, latency_by_cache, backend_shares, breaker_timeline, cache_distances,
              token_consumption)
    return [chart for chart in (make(run, frame) for make in makers) if chart is not None]


def region_colors(regions: list[str]) -> dict[str, str]:
    colors, spare = {}, itertools.cycle(_OTHER_COLORS)  # past seven other regions, colours repeat
    for region in regions:
        colors[region] = REGION_COLORS.get(region) or next(spare)
    return colors


def latency_by_region(run: Any, frame: Any) -> Chart | None:
    """The APIM ❤️ OpenAI notebook's load-balancing chart: response time per request, coloured by the serving region."""
    rows = frame[frame["region"].notna()]
    if rows.empty:
        return None
    fig, ax = _figure()
    colors = region_colors(sorted(rows["region"].unique()))
    for region, group in rows.groupby("region"):  # sorted by region
        ax.bar(group.index, group["latency_ms"], color=colors[str(region)], label=str(region), width=1.0)
    ax.set(xlabel="request", ylabel="response time (ms)", title="Response time per request by region")
    ax.legend(title="region")
    return _chart(fig, "latency-by-region", "Response time per request by region",
                  "As in the APIM ❤️ OpenAI notebook: one bar per request, coloured by the region that answered.")


def latency_by_cache(run: Any, frame: Any) -> Chart | None:
    """The APIM ❤️ OpenAI notebook's caching chart: response time per request, cache hits apart from misses."""
    rows = frame[frame["status"] == 200]
    if rows.empty:
        return None
    fig, ax = _figure()
    for hit, color, label in ((False, "tab:gray", "cache miss"), (True, "tab:green", "cache hit")):
        group = rows[rows["cache_hit"] == hit]
        if not group.empty:
            ax.bar(group.index, group["latency_ms"], color=color, label=label, width=1.0)
    ax.set(xlabel="request", ylabel="response time (ms)", title="Response time per request: cache hit or miss")
    ax.legend()
    return _chart(fig, "latency-by-cache", "Response time per request by cache hit",
                  "Successful requests; a hit repeats an earlier completion id (served from the semantic cache).")


def backend_shares(run: Any, frame: Any) -> Chart | None:
    """Expected vs observed share per backend with the confidence intervals the verdict used."""
    panels = [(v.scenario, v.observed["shares"]) for v in run.verdicts
              if isinstance(v.observed.get("shares"), dict) and v.observed["shares"]]
    if not panels:
        return None
    fig, axes = _figure((5.5 * len(panels), 4), ncols=len(panels))
    for ax, (scenario, shares) in zip(axes, panels):
        names = list(shares)
        observed = [shares[n]["share"] for n in names]
        low = [max(0.0, shares[n]["share"] - shares[n]["ci"][0]) for n in names]
        high = [max(0.0, shares[n]["ci"][1] - shares[n]["share"]) for n in names]
        xs = range(len(names))
        ax.bar(xs, observed, color="tab:blue", alpha=0.7, label="observed")
        ax.errorbar(xs, observed, yerr=[low, high], fmt="none", ecolor="black", capsize=6, label="confidence interval")
        ax.scatter(xs, [shares[n]["expected"] for n in names], marker="D", color="tab:red", zorder=3,
                   label="expected")
        ax.set_xticks(list(xs), names, rotation=15, fontsize=8)
        ax.set(ylim=(0, 1.05), ylabel="share of routed requests", title=scenario)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return _chart(fig, "backend-shares", "Expected vs observed share per backend",
                  "Bars: observed share; whiskers: its confidence interval; diamonds: the share the config expects.")


def breaker_timeline(run: Any, frame: Any) -> Chart | None:
    """One lane per backend: requests it served, failures it returned, and the periods it was out of the pool."""
    rows = frame[frame["backend"].notna()]
    if rows.empty:
        return None
    backends = sorted(rows["backend"].unique())
    fig, ax = _figure((9, 1.2 + 0.8 * len(backends)))
    for lane, backend in enumerate(backends):
        mine = rows[rows["backend"] == backend]
        failed = mine[(mine["status"] == 429) | (mine["status"] >= 500)]
        served = mine[mine["status"] < 400]
        periods = open_periods(frame, backend)
        if periods:
            ax.broken_barh([(start, end - start) for start, end in periods], (lane - 0.35, 0.7),
                           facecolors="tab:orange", alpha=0.35, label="out of the pool" if lane == 0 else None)
        ax.scatter(served["t"], [lane] * len(served), marker="|", color="tab:blue", s=60,
                   label="served" if lane == 0 else None)
        ax.scatter(failed["t"], [lane] * len(failed), marker="x", color="tab:red", s=40,
                   label="failure (429/5xx)" if lane == 0 else None)
    ax.set_yticks(range(len(backends)), backends)
    ax.set(xlabel="seconds since the first request", title="Breaker timeline per backend", ylim=(-0.7, len(backends) - 0.3))
    ax.legend(loc="upper left", fontsize=8)  # lane 0's "served" is always there, points or not
    fig.tight_layout()
    return _chart(fig, "breaker-timeline", "Breaker timeline",
                  "Out of the pool: from a backend's failure until it served again, while other requests went "
                  "elsewhere (inferred from the traffic, as a client sees it).")


def open_periods(frame: Any, backend: str, *, min_skipped: int = 2) -> list[tuple[float, float]]:
    """Intervals (seconds) from a failure of ``backend`` to the next request it served, when at least
    ``min_skipped`` requests went elsewhere (or got no backend) in between: its breaker was open."""
    periods: list[tuple[float, float]] = []
    failed_at: float | None = None  # the first failure since the backend last served
    skipped = 0  # requests that went elsewhere since its last failure (counted only while failed_at is set)
    for row in frame.itertuples():
        status = int(row.status)
        if row.backend == backend:
            if status == 429 or status >= 500:
                failed_at = row.t if failed_at is None else failed_at
                skipped = 0
                continue
            if failed_at is not None and skipped >= min_skipped:
                periods.append((float(failed_at), float(row.t)))
            failed_at = None
        elif failed_at is not None:
            skipped += 1
    if failed_at is not None and skipped >= min_skipped:
        periods.append((float(failed_at), float(frame["t"].max())))
    return periods


def cache_distances(run: Any, frame: Any) -> Chart | None:
    """Each cache prompt's embedding distance to its nearest stored prompt, hit or miss, and the threshold."""
    verdict = next((v for v in run.verdicts if v.scenario == "semantic-cache" and v.observed.get("pairs")), None)
    if verdict is None:
        return None
    groups = ["set1", "set2", "control"]
    labels = {"set1": "set 1 (repeats)", "set2": "set 2 (paraphrases)", "control": "controls (unrelated)"}
    fig, ax = _figure((9, 3.6))
    for pair in verdict.observed["pairs"]:
        lane = groups.index(pair["group"]) if pair["group"] in groups else len(groups)
        hit = bool(pair.get("hit"))
        ax.scatter([pair["distance"]], [lane], s=70, marker="o" if hit else "X",
                   color="tab:green" if hit else "tab:gray", edgecolors="black", linewidths=0.5, zorder=3)
    threshold = verdict.observed.get("score_threshold")
    if threshold is not None:
        ax.axvline(threshold, color="tab:red", linestyle="--", label=f"score-threshold {threshold}")
    separating = verdict.observed.get("separating_thresholds") or {}
    if separating.get("separable"):
        ax.axvspan(separating["low"], separating["high"], color="tab:green", alpha=0.12,
                   label="thresholds that separate paraphrases from controls")
    ax.scatter([], [], marker="o", color="tab:green", edgecolors="black", label="hit")
    ax.scatter([], [], marker="X", color="tab:gray", edgecolors="black", label="miss")
    ax.set_yticks(range(len(groups)), [labels[g] for g in groups])
    ax.set(xlabel="distance to the nearest cached prompt (cosine)", ylim=(-0.6, len(groups) - 0.4),
           title="Semantic cache: distance vs hit/miss")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return _chart(fig, "cache-distances", "Cache distance vs hit/miss",
                  "A prompt is a hit when its distance is within the score-threshold (dashed line).")


def token_consumption(run: Any, frame: Any) -> Chart | None:
    """Tokens consumed (cumulative) against the token limit over time, with the 429s marked."""
    verdict = next((v for v in run.verdicts if v.scenario == "token-limit"), None)
    rows = frame[frame["scenario"] == "token-limit"]
    if verdict is None or rows.empty:
        return None
    if (rows["phase"] == "fill").any():
        rows = rows[rows["phase"] == "fill"]
    limit = verdict.expected.get("tokens_per_minute") or verdict.observed.get("limit")
    used = rows["total_tokens"].where(rows["status"] == 200, 0).cumsum()
    t = rows["t"] - rows["t"].min()
    fig, ax = _figure()
    ax.step(t, used, where="post", color="tab:blue", label="tokens consumed (usage of each 200)")
    refused = rows["status"] == 429
    ax.scatter(t[refused], used[refused], marker="x", color="tab:red", s=60, zorder=3, label="429")
    if limit:
        ax.axhline(limit, color="tab:red", linestyle="--", label=f"limit {limit} tokens/min")
    ax.set(xlabel="seconds since the first call", ylabel="tokens", title="Token consumption against the limit")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return _chart(fig, "token-consumption", "Token consumption against the limit",
                  "Cumulative tokens the gateway counted (prompt + completion of each answered call) and the limit.")


def _figure(figsize: tuple[float, float] = (9, 4), ncols: int | None = None) -> Any:
    """A Figure drawn on its own Agg canvas: no pyplot state, no display, and a notebook's backend untouched."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    return fig, fig.subplots() if ncols is None else list(fig.subplots(1, ncols, squeeze=False)[0])


def _chart(fig: Any, name: str, title: str, caption: str) -> Chart:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    return Chart(name, title, caption, buffer.getvalue())
