"""The whole gateway on the local emulator: start it, publish the config through the real SDK, hand it over.

Used by `toolkit demo`, by validation on `local` environments, by the end-to-end tests and the benchmarks.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolkit.config import LoadedConfig
from toolkit.errors import InputError


@dataclass
class LocalGateway:
    """A running emulator with the config published to it, and a subscription key for callers."""

    emulator: Any
    subscription_key: str
    applied: int

    @property
    def gateway_url(self) -> str:
        """The gateway's base URL (what APIM_BASE_URL is on Azure)."""
        return str(self.emulator.gateway_url)

    def chat_url(self, api_path: str, deployment: str, api_version: str) -> str:
        """The chat-completions URL of an Azure OpenAI API published at ``api_path``."""
        return (f"{self.gateway_url}/{api_path.strip('/')}/openai/deployments/{deployment}/chat/completions"
                f"?api-version={api_version}")


@contextmanager
def local_gateway(
    config: LoadedConfig,
    *,
    templates_dir: str | Path | None = None,
    seed: int = 0,
    subscription: str | None = "toolkit",
    **emulator_options: Any,
) -> Iterator[LocalGateway]:
    """Start an emulator for ``config``'s local environment, apply the rendered config, yield it, stop it."""
    from toolkit.emulator.runtime import Emulator
    from toolkit.lint.formats import to_text
    from toolkit.publish import apply_plan, connect_target, load_desired, plan_against

    if config.environment.target != "local":
        raise InputError(f"environment {config.env_name!r} targets {config.environment.target}, not the local emulator")
    templates = Path(templates_dir) if templates_dir else Path(config.path).parent / "policies"
    desired = load_desired(config, templates_dir=templates)
    if desired.lint.errors:
        raise InputError(f"the rendered tree has lint errors:\n{to_text(desired.lint)}")
    emulator = Emulator.from_config(config, seed=seed, **emulator_options).start()
    try:
        with connect_target(config.environment, emulator=emulator) as target:
            plan = plan_against(target, desired, env=config.env_name)
            outcome = apply_plan(target.client, plan, desired.resources)
        key = emulator.create_subscription(subscription) if subscription else ""  # None: callers make their own
        yield LocalGateway(emulator, key, len(outcome.done))
    finally:
        emulator.stop()
