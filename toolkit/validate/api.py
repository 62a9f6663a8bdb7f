"""The library entry point: `toolkit.validate(...)` returns the verdicts the CLI prints."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import httpx

from toolkit.config.models import LoadedConfig
from toolkit.validate.expectations import Expectations
from toolkit.validate.runner import ValidationRun, run_scenarios
from toolkit.validate.target import Target
from toolkit.validate.settings import VALIDATIONS_DIR
from toolkit.validate.verdict import Verdict


def validate(
    scenarios: Iterable[str] | str = ("all",),
    *,
    config: str | os.PathLike[str] = "toolkit.yaml",
    env: str | None = None,
    artifacts: str | os.PathLike[str] | None = None,
    validations: str | os.PathLike[str] | None = None,
    seed: int | None = None,
    max_requests: int | None = None,
    allow_quota_burn: bool = False,
    emulator: Any = None,
    credential: Any = None,
    http: httpx.Client | None = None,
    environ: Mapping[str, str] | None = None,
    sleep: Callable[[float], None] | None = None,
    on_verdict: Callable[[Verdict], None] | None = None,
    run: ValidationRun | None = None,
    engine: str = "builtin",
    users: int | None = None,
    workers: int = 2,
) -> ValidationRun:
    """Prove with traffic that the deployed gateway behaves as the configuration says. Never publishes.

    Expectations come from ``config`` rendered for ``env`` (or the APIOps tree ``artifacts``); the target is
    the environment's: the emulator (``emulator`` in-process, else TOOLKIT_EMULATOR_URL) or APIM on Azure
    (gateway_url, subscription_key; JWTs from ``credential`` or azure-identity). ``sleep`` is how waits
    happen where the clock cannot be advanced (Azure: trip durations, token windows; default time.sleep).
    ``engine="locust"`` sends load-balancing and priority-failover traffic through Locust (a master and
    ``workers`` local worker processes, ``users`` users, default 4 per worker); the other scenarios are
    sequential by nature and stay on the built-in driver (``run.engines`` says which ran where).
    ``run.verdicts`` holds one Verdict per scenario; ``run.log.to_frame()`` every request as a DataFrame.
    Pass ``run`` to have it filled as scenarios finish (kept when the call is interrupted).
    """
    names = [scenarios] if isinstance(scenarios, str) else list(scenarios)
    loaded, expect, target = open_run(config, env, artifacts, emulator=emulator, credential=credential,
                                      environ=environ)
    config_dir = Path(config).parent
    driver = None
    try:
        if engine != "builtin":
            from toolkit.validate.engines import open_engine

            driver = open_engine(engine, users=users or 4 * workers, workers=workers)
        return run_scenarios(loaded, expect, target, names,
                             validations_dir=Path(validations) if validations else config_dir / VALIDATIONS_DIR,
                             seed=seed, max_requests=max_requests, allow_quota_burn=allow_quota_burn, http=http,
                             on_verdict=on_verdict, run=run, engine=driver, **({"sleep": sleep} if sleep else {}))
    finally:
        if driver is not None:
            driver.close()
        target.close()


def open_run(config: str | os.PathLike[str], env: str | None, artifacts: str | os.PathLike[str] | None, *,
             emulator: Any = None, credential: Any = None,
             environ: Mapping[str, str] | None = None) -> tuple[LoadedConfig, Expectations, Target]:
    """The loaded config, what it makes the gateway do, and the environment's gateway (close it after)."""
    from toolkit.artifacts.io import read_tree
    from toolkit.config.loader import load_config
    from toolkit.render.pipeline import render_artifacts
    from toolkit.validate.expectations import load_expectations
    from toolkit.validate.target import open_target

    loaded = load_config(config, env, environ=environ)
    if artifacts is not None:
        tree, source = read_tree(artifacts), str(artifacts)
    else:
        tree = render_artifacts(loaded.gateway, Path(config).parent / "policies")
        source = f"{config} rendered for {loaded.env_name}"
    expect = load_expectations(loaded, tree, source=source)
    environment = loaded.require("gateway_url", "subscription_key") if loaded.environment.target == "azure" \
        else loaded.environment
    return loaded, expect, open_target(environment, emulator=emulator, credential=credential, environ=environ)
