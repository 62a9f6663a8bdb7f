"""`toolkit load`: a soak of unique-prompt chat completions, summarised per backend.

Every request carries a fresh nonce (the semantic cache cannot answer), so each reply is the pool's
work. The backend comes from the region header mapped through each backend's region, as in validation;
a reply without it (the gateway answered by itself: a 429 of the token limit, a 401) counts under
GATEWAY, one with no response under NO_RESPONSE. Every reply is in exactly one row.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from toolkit.errors import InputError, RemoteError
from toolkit.validate.traffic import NONCE_WORDS, Reply

GATEWAY = "(gateway: no backend header)"
NO_RESPONSE = "(no response)"
DEFAULT_PROMPTS = ("What is climate change?", "Explain how a rainbow forms.", "Describe a busy harbor.",
                   "Why is the sky blue?", "Summarise the water cycle.")
_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s?)?$")


def parse_duration(text: str) -> float:
    """Seconds from "90", "30s", "5m", "1h", "1m30s" (InputError otherwise, or when not positive)."""
    match = _DURATION.match(text.strip().lower())  # blank text matches with no group: refused below
    if match is None or not any(match.groups()):
        raise InputError(f"{text!r} is not a duration: use seconds (90), or 30s, 5m, 1h, 1m30s")
    hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if total <= 0:
        raise InputError(f"the duration {text!r} must be longer than zero")
    return total


@dataclass(frozen=True)
class Figures:
    """Requests, throughput, latency percentiles (ms) and error kinds of one backend (or of all)."""

    name: str
    requests: int
    ok: int
    per_second: float
    p50: float | None
    p90: float | None
    p99: float | None
    errors: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"backend": self.name, "requests": self.requests, "ok": self.ok, "per_second": self.per_second,
                "latency_ms": {"p50": self.p50, "p90": self.p90, "p99": self.p99}, "errors": self.errors}


@dataclass(frozen=True)
class LoadReport:
    engine: str
    users: int
    workers: int
    seconds: float             # the planned duration
    elapsed: float             # first request sent to last reply received
    total: Figures
    backends: list[Figures]

    def to_json(self) -> dict[str, Any]:
        return {"engine": self.engine, "users": self.users, "workers": self.workers, "duration_s": self.seconds,
                "elapsed_s": round(self.elapsed, 3), "total": self.total.to_json(),
                "backends": [b.to_json() for b in self.backends]}

    def to_text(self) -> str:
        width = max(len(b.name) for b in [self.total, *self.backends])
        lines = [f"{self.total.requests} requests in {self.elapsed:.1f} s with {self.users} users on {self.engine}"
                 + (f" ({self.workers} workers)" if self.engine == "locust" else ""),
                 f"{'backend':<{width}}  {'requests':>8}  {'req/s':>8}  {'p50 ms':>8}  {'p90 ms':>8}  {'p99 ms':>8}  errors"]
        for row in [*self.backends, self.total]:
            errors = ", ".join(f"{kind}: {n}" for kind, n in row.errors.items()) or "-"
            lines.append(f"{row.name:<{width}}  {row.requests:>8}  {row.per_second:>8.1f}  {_ms(row.p50):>8}  "
                         f"{_ms(row.p90):>8}  {_ms(row.p99):>8}  {errors}")
        return "\n".join(lines)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def error_kind(reply: Reply) -> str | None:
    """None for a 2xx; "HTTP 429" for a refusal; the transport error's name when nothing came back."""
    if reply.status == 0:
        return reply.error or "NoResponse"
    return None if 200 <= reply.status < 300 else f"HTTP {reply.status}"


def backend_of(reply: Reply, header: str, regions: Mapping[str, Sequence[str]]) -> str:
    """The backend a reply came from: its region header through the backends' regions."""
    if reply.status == 0:
        return NO_RESPONSE
    region = reply.headers.get(header.lower())
    if region is None:
        return GATEWAY
    names = regions.get(region, [])
    return names[0] if len(names) == 1 else f"{region} ({' or '.join(names) if names else 'no backend has it'})"


def summarise(replies: Sequence[Reply], header: str, regions: Mapping[str, Sequence[str]], *, engine: str,
              users: int, workers: int, seconds: float) -> LoadReport:
    """Per-backend figures of a soak; their requests add up to the total."""
    if replies:
        elapsed = max(r.started + r.latency_ms / 1000 for r in replies) - min(r.started for r in replies)
    else:
        elapsed = 0.0
    groups: dict[str, list[Reply]] = {}
    for reply in replies:
        groups.setdefault(backend_of(reply, header, regions), []).append(reply)
    backends = [_figures(name, rows, elapsed) for name, rows in sorted(groups.items())]
    return LoadReport(engine, users, workers, seconds, elapsed, _figures("all", list(replies), elapsed), backends)


def _figures(name: str, replies: Sequence[Reply], elapsed: float) -> Figures:
    answered = [r.latency_ms for r in replies if r.status]
    p50, p90, p99 = (round(float(v), 2) for v in np.percentile(answered, [50, 90, 99])) if answered else (None,) * 3
    errors = Counter(kind for kind in map(error_kind, replies) if kind)
    return Figures(name, len(replies), sum(1 for r in replies if 200 <= r.status < 300),
                   round(len(replies) / elapsed, 2) if elapsed > 0 else 0.0, p50, p90, p99,
                   dict(sorted(errors.items())))


def run_load(*, config: str | os.PathLike[str] = "toolkit.yaml", env: str | None = None, users: int,
             seconds: float, engine: str = "builtin", workers: int = 2, emulator: Any = None,
             credential: Any = None, environ: Mapping[str, str] | None = None) -> LoadReport:
    """Soak the environment's gateway with ``users`` concurrent users for ``seconds`` and summarise it."""
    from toolkit.validate.api import open_run
    from toolkit.validate.engines import SoakPlan, open_engine
    from toolkit.validate.observations import ObservationLog
    from toolkit.validate.traffic import Caller

    if users < 1 or seconds <= 0:
        raise InputError(f"a soak needs at least one user and a positive duration (got {users} users, {seconds} s)")
    loaded, expect, target = open_run(config, env, None, emulator=emulator, credential=credential, environ=environ)
    prompts, shape, header = _request_settings(Path(config).parent)
    try:
        caller = Caller(None, target, expect, ObservationLog())  # prepares the request; the engine sends it
        plan = SoakPlan(caller.prepare(prompts[0], shape), prompts, NONCE_WORDS, (header.lower(),), seconds, users)
        driver = open_engine(engine, users=users, workers=workers)
        try:
            replies = driver.soak(plan)
        finally:
            driver.close()
    finally:
        target.close()
    if not replies:
        raise InputError(f"the soak sent no request in {seconds:g} s: give a longer --duration")
    if all(r.status == 0 for r in replies):
        kinds = Counter(r.error or "NoResponse" for r in replies).most_common(1)[0][0]
        raise RemoteError(f"the gateway at {target.gateway_url} answered none of {len(replies)} requests ({kinds})")
    return summarise(replies, header, caller.regions, engine=engine, users=users,
                     workers=workers if engine == "locust" else 0, seconds=seconds)


def _request_settings(config_dir: Path) -> tuple[tuple[str, ...], Any, str]:
    """Prompts, request shape and backend header: validations/load-balancing.yaml's when it exists."""
    from toolkit.validate.settings import VALIDATIONS_DIR, load_settings
    from toolkit.validate.traffic import RequestShape

    if not (config_dir / VALIDATIONS_DIR / "load-balancing.yaml").is_file():
        return DEFAULT_PROMPTS, RequestShape(), "x-ms-region"
    settings: Any = load_settings("load-balancing", config_dir / VALIDATIONS_DIR)
    return (tuple(settings.prompts), RequestShape(settings.request.max_tokens, settings.request.system),
            settings.backend_header)
