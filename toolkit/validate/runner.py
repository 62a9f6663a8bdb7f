"""Runs scenarios against a target: loads settings, builds a caller per scenario, collects verdicts."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Any

import httpx

from toolkit.config.models import LoadedConfig
from toolkit.errors import RemoteError
from toolkit.validate.context import Context
from toolkit.validate.engines import CONCURRENT_SCENARIOS
from toolkit.validate.expectations import Expectations
from toolkit.validate.observations import ObservationLog
from toolkit.validate.scenarios import MODULES
from toolkit.validate.settings import SCENARIOS, load_settings
from toolkit.validate.target import Target
from toolkit.validate.traffic import Caller
from toolkit.validate.verdict import Verdict, exit_code, inconclusive


@dataclass
class ValidationRun:
    """The verdicts of a run, in the order asked, and every request it sent."""

    verdicts: list[Verdict]
    log: ObservationLog = field(default_factory=ObservationLog)
    engines: dict[str, str] = field(default_factory=dict)   # scenario -> the engine that sent its traffic
    target: str = ""  # what was validated (for reports), never a key
    secrets: list[str] = field(default_factory=list, repr=False, compare=False)  # what reports must mask

    @property
    def exit_code(self) -> int:
        return exit_code(self.verdicts)

    def to_json(self) -> dict[str, Any]:
        return {"exit_code": self.exit_code, "requests": len(self.log), "engines": self.engines,
                "scenarios": [v.to_json() for v in self.verdicts]}


def expand(names: Iterable[str]) -> list[str]:
    """Scenario names with `all` (or nothing) expanded, in the canonical order, without repeats."""
    wanted = list(names) or ["all"]
    if "all" in wanted:
        return list(SCENARIOS)
    return [name for name in SCENARIOS if name in wanted]


def run_scenarios(config: LoadedConfig, expect: Expectations, target: Target, scenarios: Iterable[str], *,
                  validations_dir: str | Path, seed: int | None = None, max_requests: int | None = None,
                  allow_quota_burn: bool = False, http: httpx.Client | None = None,
                  embed: Callable[[list[str]], Any] | None = None,
                  sleep: Callable[[float], None] = time.sleep,
                  on_verdict: Callable[[Verdict], None] | None = None,
                  run: ValidationRun | None = None, engine: Any = None) -> ValidationRun:
    """Each scenario in turn (settings are all loaded first, so a bad file stops before any traffic).

    ``run``, when given, is filled as the scenarios go (a caller interrupted mid-run still has what was done).
    ``engine`` (engines.Engine) sends the sample traffic of CONCURRENT_SCENARIOS; the rest stay one by one.
    """
    names = expand(scenarios)
    settings = {name: load_settings(name, validations_dir) for name in names}
    run = run if run is not None else ValidationRun([])
    run.target = target.label
    own_http = http is None
    client = http or httpx.Client(timeout=60.0)
    base_seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
    try:
        for index, name in enumerate(names):
            caller = Caller(client, target, expect, run.log, backend_header=settings[name].backend_header,
                            seed=base_seed + index)
            ctx = Context(name, target, expect, settings[name], caller, run.log, random.Random(base_seed + index),
                          max_requests=max_requests, allow_quota_burn=allow_quota_burn,
                          embed=embed if embed is not None else _embedder(config, expect, target, client),
                          sleep=sleep, engine=engine if name in CONCURRENT_SCENARIOS else None)
            run.engines[name] = ctx.engine.name if ctx.engine is not None else "builtin"
            started = time.perf_counter()
            try:
                verdict = import_module(MODULES[name]).run(ctx)
            except RemoteError as exc:
                verdict = inconclusive(name, f"the target failed during the run: {exc.message}")
            except httpx.HTTPError as exc:
                verdict = inconclusive(name, f"the target stopped answering ({type(exc).__name__})")
            verdict = _timed(verdict, time.perf_counter() - started, ctx.sent)
            run.verdicts.append(verdict)
            if on_verdict:
                on_verdict(verdict)
    finally:
        run.secrets.extend(_secrets(target))
        if own_http:
            client.close()
    return run


def _secrets(target: Target) -> list[str]:
    """Every key and token the run used, for reports to mask."""
    control = target.control.secret if target.control is not None else None
    values = [target.subscription_key, target.second_key, *target._keys.values(), control]
    return [value for value in values if value]


def _timed(verdict: Verdict, seconds: float, sent: int) -> Verdict:
    from dataclasses import replace

    return replace(verdict, seconds=seconds, requests=max(verdict.requests, sent))


def _embedder(config: LoadedConfig, expect: Expectations, target: Target,
              client: httpx.Client) -> Callable[[list[str]], Any] | None:
    """Embeddings from the deployment the cache uses (lazily: only the semantic-cache scenario asks)."""
    if expect.cache is None or not expect.cache.embeddings_backend:
        return None
    backend = expect.cache.embeddings_backend
    cached: dict[str, Any] = {}

    def embed(texts: list[str]) -> Any:
        if "f" not in cached:
            from toolkit.validate.embeddings import embeddings_url, http_embedder

            url = embeddings_url(config, backend, target)
            if url is None:
                raise RuntimeError(f"no embeddings endpoint for backend {backend!r}")
            cached["f"] = http_embedder(client, url, target)
        return cached["f"](texts)

    return embed
