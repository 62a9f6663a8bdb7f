"""The emulator's simulated Azure OpenAI instances: one per published backend, created on demand.

The emulator cannot reach Azure, so a published backend whose URL is not on loopback is served by a
simulated instance of its own (own port, so "down" is a real connection refused). Its region label and
behaviour come from the local environment of toolkit.yaml when the backend is named there. Like Azure
OpenAI, each instance requires its own api-key (random unless given) or a bearer token for
``https://cognitiveservices.azure.com`` from the emulator's issuer, and an ``api-version``.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from toolkit.emulator.hosting import AppHost, is_loopback_host
from toolkit.emulator.simulator.auth import BackendAuth
from toolkit.emulator.simulator.behaviour import BackendBehaviour
from toolkit.emulator.simulator.openai_app import SimulatedBackend, create_backend_app

DEFAULT_REGION = "Local"


@dataclass(frozen=True)
class SimulatorSpec:
    """What the config says about a backend's simulated instance."""

    region: str = DEFAULT_REGION
    behaviour: BackendBehaviour | None = None
    api_key: str | None = None  # the key the config authenticates with (else a random one)


def is_loopback_url(url: str) -> bool:
    """Whether a backend URL points at this machine (then the gateway calls it for real)."""
    return is_loopback_host(urlsplit(url).hostname or "")


class SimulatorFarm:
    """Creates and keeps the simulated backends, serving each on its own port of the emulator's AppHost."""

    def __init__(
        self,
        host: AppHost,
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], Any],
        embed: Callable[[list[str]], Any] | None,
        specs: Mapping[str, SimulatorSpec] | None = None,
        seed: int = 0,
        verify_bearer: Callable[[str], bool] | None = None,
        api_keys: Mapping[str, str] | None = None,
    ) -> None:
        self._host = host
        self._clock = clock
        self._sleep = sleep
        self._embed = embed
        self._specs = dict(specs or {})
        self._seed = seed
        self._verify_bearer = verify_bearer
        self._api_keys = dict(api_keys or {})
        self._backends: dict[str, SimulatedBackend] = {}
        self._urls: dict[str, str] = {}
        self._lock = threading.Lock()

    def url_for(self, name: str) -> str:
        """The base URL of ``name``'s simulated instance, starting it on first use."""
        with self._lock:
            if name not in self._urls:
                spec = self._specs.get(name, SimulatorSpec())
                backend = SimulatedBackend(
                    name,
                    spec.region,
                    spec.behaviour,
                    embed=self._embed,
                    clock=self._clock,
                    rng_seed=self._seed + len(self._backends),
                    sleep=self._sleep,
                    auth=BackendAuth(self._api_keys.get(name) or spec.api_key or secrets.token_hex(16),
                                     self._verify_bearer),
                )
                self._backends[name] = backend
                self._urls[name] = self._host.add_live(f"simulator:{name}", create_backend_app(backend))
            return self._urls[name]

    def simulated_url(self, name: str, published_url: str) -> str:
        """Where the gateway really sends traffic for a backend published with ``published_url``."""
        if is_loopback_url(published_url):
            return published_url
        path = urlsplit(published_url).path.rstrip("/")
        return self.url_for(name) + path

    def api_key(self, name: str) -> str:
        """The api-key of ``name``'s simulated instance (its own; a random one unless given at start)."""
        self.url_for(name)
        auth = self._backends[name].auth
        assert auth is not None  # the farm always gives its instances credentials
        return auth.api_key

    def backend(self, name: str) -> SimulatedBackend | None:
        """The simulated instance of ``name`` (None when none was started)."""
        return self._backends.get(name)

    @property
    def backends(self) -> dict[str, SimulatedBackend]:
        """Every started instance by backend name."""
        return dict(self._backends)

    @property
    def urls(self) -> dict[str, str]:
        """Base URL of every started instance."""
        return dict(self._urls)

    def set_down(self, name: str, down: bool) -> None:
        """Refuse connections to ``name`` (a real connection refused) or accept them again."""
        backend = self._backends[name]
        self._host.set_listening(f"simulator:{name}", not down)
        backend.down = down

    async def aset_down(self, name: str, down: bool) -> None:
        """``set_down`` from the serving loop."""
        backend = self._backends[name]
        await self._host.aset_listening(f"simulator:{name}", not down)
        backend.down = down

    def release_hangs(self) -> None:
        """End hanging (timeout-fault) requests, before shutdown."""
        for backend in self._backends.values():
            backend.release_hangs()
