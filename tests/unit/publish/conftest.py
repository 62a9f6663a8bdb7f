"""Fixtures: a TLS management plane on loopback, a publish target for it (the real SDK), and configs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from publish_helpers import desired_of
from toolkit.config import LoadedConfig, load_config
from toolkit.config.models import EnvironmentConfig
from toolkit.emulator.management import ManagementPlane, TlsMaterial
from toolkit.publish import ApimTarget, Desired, RetryPolicy, connect_target
from toolkit.testing.emulator_servers import serve_app_in_thread

@pytest.fixture
def management_url(plane: ManagementPlane, tls: TlsMaterial) -> Iterator[str]:
    """The plane served over TLS on loopback."""
    with serve_app_in_thread(plane.app, ssl=tls) as url:
        yield url


@pytest.fixture
def sleeps() -> list[float]:
    """Backoff delays the target's retry policy asked for (nothing really sleeps)."""
    return []


@pytest.fixture
def target(management_url: str, tls: TlsMaterial, sleeps: list[float], plane: ManagementPlane) -> Iterator[ApimTarget]:
    """A publish target on the served plane, through the real azure-mgmt-apimanagement client."""
    retry = RetryPolicy(attempts=4, base_delay=0.5, sleep=sleeps.append)
    with connect_target(EnvironmentConfig(target="local"), management_url=management_url,
                        ca_bundle=str(tls.ca_bundle_path), environ={"TOOLKIT_EMULATOR_TOKEN": plane.token},
                        retry=retry) as connected:
        yield connected


@pytest.fixture
def sdk(target: ApimTarget) -> Any:
    """The raw SDK client of the target, for changes made behind the tool's back."""
    return target.client.sdk


@pytest.fixture
def sample(repo_root: Path) -> tuple[LoadedConfig, Desired]:
    """The repository's sample gateway (local environment) and its desired state."""
    config = load_config(repo_root / "toolkit.yaml", "local", environ={})
    return config, desired_of(config)
