"""The library entry point: `toolkit.validate(...)` returns the verdicts the CLI prints."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import httpx

from toolkit.validate.runner import ValidationRun, run_scenarios
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
) -> ValidationRun:
    """Prove with traffic that the deployed gateway behaves as the configuration says. Never publishes.

    Expectations come from ``config`` rendered for ``env`` (or the APIOps tree ``artifacts``); the target is
    the environment's: the emulator (``emulator`` in-process, else TOOLKIT_EMULATOR_URL) or APIM on Azure
    (gateway_url, subscription_key; JWTs from ``credential`` or azure-identity). ``sleep`` is how waits
    happen where the clock cannot be advanced (Azure: trip durations, token windows; default time.sleep).
    ``run.verdicts`` holds one Verdict per scenario; ``run.log.to_frame()`` every request as a DataFrame.
    Pass ``run`` to have it filled as scenarios finish (kept when the call is interrupted).
    """
    from toolkit.artifacts.io import read_tree
    from toolkit.config.loader import load_config
    from toolkit.render.pipeline import render_artifacts
    from toolkit.validate.expectations import load_expectations
    from toolkit.validate.target import open_target

    names = [scenarios] if isinstance(scenarios, str) else list(scenarios)
    loaded = load_config(config, env, environ=environ)
    config_dir = Path(config).parent
    if artifacts is not None:
        tree, source = read_tree(artifacts), str(artifacts)
    else:
        tree = render_artifacts(loaded.gateway, config_dir / "policies")
        source = f"{config} rendered for {loaded.env_name}"
    expect = load_expectations(loaded, tree, source=source)
    environment = loaded.require("gateway_url", "subscription_key") if loaded.environment.target == "azure" \
        else loaded.environment
    target = open_target(environment, emulator=emulator, credential=credential, environ=environ)
    try:
        return run_scenarios(loaded, expect, target, names,
                             validations_dir=Path(validations) if validations else config_dir / VALIDATIONS_DIR,
                             seed=seed, max_requests=max_requests, allow_quota_burn=allow_quota_burn, http=http,
                             on_verdict=on_verdict, run=run, **({"sleep": sleep} if sleep else {}))
    finally:
        target.close()
