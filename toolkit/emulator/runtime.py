"""The local emulator as one object: management plane (TLS), gateway, control API, simulated backends.

    with Emulator.from_config(load_config("toolkit.yaml")) as emulator:
        emulator.management_url, emulator.gateway_url, emulator.control_url
        key = emulator.create_subscription("demo")

Everything listens on loopback, in one background thread. The SDK reaches the management plane with
`emulator.credential`, `connection_verify=emulator.ca_bundle_path` and `base_url=emulator.management_url`.
The management and control APIs require `Authorization: Bearer <emulator.control_token>`, a random
token of this start (`emulator.credential` hands it to the SDK).
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from toolkit.config.models import LoadedConfig
from toolkit.emulator.clock import EmulatorClock
from toolkit.emulator.serving_gc import start_serving, stop_serving
from toolkit.emulator.hosting import AppHost, TlsFiles
from toolkit.emulator.simulator.behaviour import BackendBehaviour
from toolkit.emulator.simulator.farm import SimulatorFarm, SimulatorSpec
from toolkit.errors import InputError

# The emulator's built-in identity provider. `.invalid` never resolves (RFC 2606): the gateway answers
# these URLs in-process, and the control API serves the same documents on loopback.
ISSUER_URL = "https://sts.emulator.invalid/toolkit/v2.0"
SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000000"
RESOURCE_GROUP = "toolkit-local"
SERVICE_NAME = "toolkit-emulator"


def specs_from_config(config: LoadedConfig | None) -> dict[str, SimulatorSpec]:
    """Region, behaviour and api-key of each backend's simulated instance, from the config's local environment."""
    if config is None:
        return {}
    behaviours = config.environment.simulator
    specs: dict[str, SimulatorSpec] = {}
    for backend in config.gateway.backends:
        simulated = behaviours.get(backend.name)
        behaviour = None
        if simulated is not None:
            behaviour = BackendBehaviour(
                latency_base_ms=simulated.latency_ms,
                latency_per_token_ms=simulated.latency_per_token_ms,
                latency_jitter_ms=simulated.jitter_ms,
                tokens_per_minute=simulated.tokens_per_minute,
                requests_per_minute=simulated.requests_per_minute,
                error_rate=simulated.error_rate,
                error_status=simulated.error_status,
            )
        # A backend that authenticates with an api-key (auth: {api_key: ...}) gets a simulated instance
        # holding that key, as the Azure OpenAI resource holds the key the config was given.
        api_key = getattr(getattr(backend, "auth", None), "api_key", None)
        specs[backend.name] = SimulatorSpec(region=backend.region or "Local", behaviour=behaviour, api_key=api_key)
    unknown = sorted(set(behaviours) - {b.name for b in config.gateway.backends})
    if unknown:
        raise InputError(f"{config.path}: environments.{config.env_name}.simulator names unknown backend(s): "
                         f"{', '.join(unknown)}")
    return specs


class Emulator:
    """APIM + Azure OpenAI on loopback. Start with `start()` (or a `with` block), stop with `stop()`."""

    def __init__(
        self,
        *,
        specs: dict[str, SimulatorSpec] | None = None,
        host: str = "127.0.0.1",
        gateway_port: int = 0,
        management_port: int = 0,
        control_port: int = 0,
        state_file: str | Path | None = None,
        cache_url: str | None = None,
        clock: EmulatorClock | None = None,
        seed: int = 0,
        embed: Callable[[list[str]], Any] | None = None,
        backend_api_keys: dict[str, str] | None = None,
        control_token: str | None = None,
        busy_poll_us: int | None = None,
    ) -> None:
        from toolkit.emulator.access import new_token
        from toolkit.emulator.gateway.busy_poll import window_from_environment

        self.control_token = control_token or new_token()
        self.clock = clock or EmulatorClock()
        self._specs = specs or {}
        self._host_name = host
        self._ports = {"gateway": gateway_port, "management": management_port, "control": control_port}
        self._state_file = state_file
        self._cache_url = cache_url or os.environ.get("TOOLKIT_CACHE_URL")
        # How long the gateway's loop polls instead of sleeping after it starts to wait (gateway/busy_poll.py)
        self._busy_poll_window = window_from_environment() if busy_poll_us is None else busy_poll_us / 1e6
        self._seed = seed
        self._embed = embed
        self._backend_api_keys = dict(backend_api_keys or {})
        self._host: AppHost | None = None
        self._tls: Any = None
        self.plane: Any = None
        self.gateway: Any = None
        self.farm: SimulatorFarm | None = None
        self.issuer: Any = None
        self.managed_identity: Any = None  # the gateway's identity (authentication-managed-identity)
        self._client: Any = None
        self._serving_gc = False  # serving_gc: this emulator counts among those serving

    @classmethod
    def from_config(cls, config: LoadedConfig | None, **options: Any) -> Emulator:
        """An emulator whose simulated backends follow the config's local environment."""
        if config is not None and "cache_url" not in options and config.environment.cache_url:
            options["cache_url"] = config.environment.cache_url
        return cls(specs=specs_from_config(config), **options)

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> Emulator:
        """Start serving; returns self."""
        if self._host is not None:
            raise RuntimeError("the emulator is already running")
        try:
            self._serve()
        except BaseException:
            self.stop()  # a bad --state file or a busy port: release the TLS files and anything started
            raise
        return self

    def _serve(self) -> None:
        import random

        from toolkit.emulator.cache.factory import open_cache_store
        from toolkit.emulator.control import create_control_app
        from toolkit.emulator.gateway.app import GatewayRuntime
        from toolkit.emulator.gateway.http_client import BackendHttpClient
        from toolkit.emulator.jwt_issuer import TestIssuer
        from toolkit.emulator.jwt_validation import OpenIdKeyCache
        from toolkit.emulator.managed_identity import COGNITIVE_SERVICES_AUDIENCES, BearerVerifier, ManagedIdentity
        from toolkit.emulator.management.plane import ManagementPlane
        from toolkit.emulator.management.tls import create_tls_material
        from toolkit.emulator.policy import AzureAdAuthority, policy_validator
        from toolkit.emulator.policy.default_services import DefaultGatewayServices
        from toolkit.emulator.request_guard import GATEWAY_MAX_BODY_BYTES, GuardRules, RequestGuard, gateway_error_body

        self._tls = create_tls_material()
        self.issuer = TestIssuer(ISSUER_URL, clock=self.clock)
        self.managed_identity = ManagedIdentity(self.issuer, self.clock)
        host = AppHost(self._host_name, before_stop=self._before_stop)
        self.farm = SimulatorFarm(host, clock=self.clock, sleep=self._sleep, embed=self._embed_function(),
                                  specs=self._specs, seed=self._seed, api_keys=self._backend_api_keys,
                                  verify_bearer=BearerVerifier(self.issuer, self.clock, COGNITIVE_SERVICES_AUDIENCES))
        plane_holder: dict[str, Any] = {}

        def backend_names() -> set[str]:
            return set(plane_holder["plane"].view.backends())

        def named_values() -> dict[str, str]:
            return plane_holder["plane"].view.named_values()

        self.plane = ManagementPlane(
            state_file=self._state_file,
            token=self.control_token,
            policy_validator=policy_validator(named_values=named_values, backends=backend_names,
                                              fragments=self._fragment_sources),
        )
        plane_holder["plane"] = self.plane
        self._client = BackendHttpClient()
        services = DefaultGatewayServices(
            self._client,
            clock=self.clock,
            sleep=self._sleep,
            rng=random.Random(self._seed),
            cache_store=open_cache_store(self._cache_url),
            jwt_keys=OpenIdKeyCache(self._fetch_json, self.clock),
            azure_ad_authority=lambda tenant: AzureAdAuthority(self.issuer.openid_configuration_url, (ISSUER_URL,)),
            managed_identity=self.managed_identity,
        )
        farm = self.farm
        # set-backend-service base-url to a host off the machine: a simulated instance named by the host.
        services.simulated_url = lambda url: farm.simulated_url(urlsplit(url).hostname or "external", url)
        self.gateway = GatewayRuntime(self.plane, services, self.farm, busy_poll_window=self._busy_poll_window)
        self._client.on_send = self.gateway.backend_call_sending
        host.add("management", self.plane.app, port=self._ports["management"],
                 tls=TlsFiles(str(self._tls.cert_path), str(self._tls.key_path)))
        gateway_rules = GuardRules("gateway", gateway_error_body, GATEWAY_MAX_BODY_BYTES, same_site_only=False,
                                   date_header=True)
        # Backend responses keep the backend's Date (as APIM passes backend headers through); the gateway's
        # own answers (and the guard's) get the current time: they date themselves, the server adds none.
        host.add("gateway", RequestGuard(self.gateway, gateway_rules), port=self._ports["gateway"], date_header="app")
        host.add("control", create_control_app(self), port=self._ports["control"])
        host.start()
        self._host = host
        for name in self._specs:
            self.farm.url_for(name)
        self.gateway.rebuild(strict=False)  # serve what a restored --state file holds (a bad backend is left out)
        start_serving()
        self._serving_gc = True

    def stop(self) -> None:
        """Stop serving and release ports, threads and temporary files (idempotent)."""
        host, self._host = self._host, None
        if host is not None:
            if self._client is not None:
                host.call(self._client.aclose())
            host.stop()
        if self._serving_gc:
            self._serving_gc = False
            stop_serving()
        if self._tls is not None:
            self._tls.cleanup()
            self._tls = None

    close = stop

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses and credentials ---------------------------------------------------------------

    def _url(self, name: str) -> str:
        if self._host is None:
            raise RuntimeError("the emulator is not running")
        return self._host.url(name)

    @property
    def management_url(self) -> str:
        """Base URL of the ARM management plane (https, the emulator's own CA)."""
        return self._url("management")

    @property
    def gateway_url(self) -> str:
        """Base URL of the gateway (what APIM_BASE_URL is on Azure)."""
        return self._url("gateway")

    @property
    def control_url(self) -> str:
        """Base URL of the control API (faults, traces, breakers, clock, subscriptions)."""
        return self._url("control")

    @property
    def label(self) -> str | None:
        """A stable name when state persists in a file (ports change between runs), else None."""
        return f"local emulator with state {self._state_file}" if self._state_file else None

    @property
    def ca_bundle_path(self) -> str:
        """PEM file of the CA that signed the management plane's certificate."""
        return str(self._tls.ca_bundle_path)

    @property
    def credential(self) -> Any:
        """The credential the management plane accepts: this start's token as the SDK's bearer token."""
        from toolkit.emulator.management.credential import StaticTokenCredential

        return StaticTokenCredential(self.control_token)

    subscription_id = SUBSCRIPTION_ID
    resource_group = RESOURCE_GROUP
    service = SERVICE_NAME

    # -- operations ------------------------------------------------------------------------------

    def create_subscription(self, name: str = "default", *, key: str | None = None, api: str | None = None) -> str:
        """Create (or replace) an APIM subscription and return its primary key."""
        from toolkit.emulator.management.store import ResourceKey, ResourceKind

        primary = key or secrets.token_hex(16)
        scope = f"/apis/{api}" if api else "/apis"
        properties = {"displayName": name, "scope": scope, "state": "active", "primaryKey": primary,
                      "secondaryKey": secrets.token_hex(16)}
        self.plane.store.put(ResourceKey(ResourceKind.SUBSCRIPTION, name), properties)
        return primary

    def mint_token(self, claims: dict[str, Any] | None = None, **options: Any) -> str:
        """A JWT from the emulator's identity provider (valid for policies that trust ISSUER_URL)."""
        return str(self.issuer.mint(claims, **options))

    def reset(self) -> None:
        """Back to a fresh data plane: breakers, token counters, cache, traces and simulated backends
        (those marked down listen again). Call from any thread but the serving loop (there: ``areset``)."""
        assert self.farm is not None
        for name in self._reset_data_plane():
            self.farm.set_down(name, False)

    async def areset(self) -> None:
        """``reset`` from the serving loop (the control API's ``POST /reset``)."""
        assert self.farm is not None
        for name in self._reset_data_plane():
            await self.farm.aset_down(name, False)

    def _reset_data_plane(self) -> list[str]:
        """Reset everything but the listening state; returns the simulated backends that are down."""
        from toolkit.emulator.policy.state import state_of

        services = self.gateway.services
        for breaker in services.breakers().values():
            breaker.reset()
        services.token_limiter.reset()
        if services.cache_store is not None:
            services.cache_store.clear()
        self.gateway.traces.clear()
        state_of(services).reset()  # policy caches, rate/quota counters, recorded metrics and events
        assert self.farm is not None
        for backend in self.farm.backends.values():
            backend.reset()
        return [name for name, backend in self.farm.backends.items() if backend.down]

    # -- internals -------------------------------------------------------------------------------

    async def _sleep(self, seconds: float) -> None:
        await asyncio.sleep(self.clock.real_seconds(seconds))

    def _before_stop(self) -> None:
        if self.farm is not None:
            self.farm.release_hangs()

    def _embed_function(self) -> Callable[[list[str]], Any]:
        if self._embed is not None:
            return self._embed

        def embed(texts: list[str]) -> Any:
            from toolkit.emulator.embeddings import get_embedder

            return get_embedder().embed(texts)

        return embed

    def _fragment_sources(self) -> dict[str, str]:
        from toolkit.emulator.management.store import ResourceKind

        return {r.key.name: str(r.properties.get("value", "")) for r in self.plane.store.list(ResourceKind.FRAGMENT)}

    def _fetch_json(self, url: str) -> Any:
        """openid-config / JWKS fetches: the built-in issuer in-process, loopback over HTTP, nothing else."""
        if url.startswith(ISSUER_URL):
            path = url[len(ISSUER_URL):]
            if path == "/.well-known/openid-configuration":
                return self.issuer.openid_configuration()
            if path == "/.well-known/jwks.json":
                return self.issuer.jwks()
            raise LookupError(f"the emulator's issuer has no document at {url}")
        from toolkit.emulator.policy.default_services import fetch_loopback_json  # refuses non-loopback hosts

        return fetch_loopback_json(url)
