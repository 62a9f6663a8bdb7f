"""End-to-end fixtures: the sample config published to a real emulator through the real SDK."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from toolkit.config import load_config
from toolkit.emulator.runtime import Emulator
from toolkit.local import LocalGateway, local_gateway
from toolkit.testing.emulator_servers import management_client

from e2e_requests import REPO


@pytest.fixture(scope="module")
def sample_gateway() -> Iterator[LocalGateway]:
    """The committed toolkit.yaml on a fresh emulator (module-scoped; tests reset it)."""
    with local_gateway(load_config(REPO / "toolkit.yaml", "local", environ={}), seed=7) as gateway:
        yield gateway


@pytest.fixture
def gateway(sample_gateway: LocalGateway) -> Iterator[LocalGateway]:
    """The sample gateway, reset to a fresh data plane for each test."""
    sample_gateway.emulator.reset()
    yield sample_gateway
    sample_gateway.emulator.clock.set_speed(1.0)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30.0) as http:
        yield http


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    """A bare emulator (a constant 2-dimension embedding), one per module; modules needing another define their own."""
    with Emulator(embed=lambda texts: [[1.0, 0.0]] * len(texts)) as running:
        yield running


@pytest.fixture
def sdk(emulator: Emulator) -> Iterator[Any]:
    """The real management SDK on ``emulator``'s plane."""
    with management_client(emulator.management_url, emulator.ca_bundle_path, emulator.subscription_id,
                           token=emulator.control_token) as client:
        yield client
