"""The gateway remembers which subscription holds a key until the next management change: every change
(created, suspended, key regenerated, deleted) applies to the very next request."""

from __future__ import annotations

import asyncio

import pytest

from toolkit.emulator.gateway.app import GatewayRuntime
from toolkit.emulator.management import ManagementPlane, ResourceKey, ResourceKind
from toolkit.emulator.policy.default_services import DefaultGatewayServices

ANSWER = ("<policies><inbound><base /><return-response><set-status code=\"204\" /></return-response></inbound>"
          "<backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>")
SUBSCRIPTION = ResourceKey(ResourceKind.SUBSCRIPTION, "s1")


class _Farm:
    def simulated_url(self, name: str, url: str) -> str:
        return url


@pytest.fixture
def gateway() -> GatewayRuntime:
    plane = ManagementPlane()
    plane.store.put(ResourceKey(ResourceKind.API, "a"), {"displayName": "a", "path": "a", "protocols": ["https"]})
    plane.store.put(ResourceKey(ResourceKind.OPERATION, "op", "a"), {"method": "GET", "urlTemplate": "/x"})
    plane.store.put(ResourceKey(ResourceKind.API_POLICY, "a"), {"value": ANSWER})
    runtime = GatewayRuntime(plane, DefaultGatewayServices(object()), _Farm())  # type: ignore[arg-type]
    runtime.rebuild()
    return runtime


def _status(gateway: GatewayRuntime, key: str) -> int:
    headers = [("host", "localhost"), ("ocp-apim-subscription-key", key)]
    return asyncio.run(gateway.handle("GET", "/a/x", "", headers, b"", "127.0.0.1", "t"))[0]


def _subscription(state: str, primary: str) -> dict[str, str]:
    return {"displayName": "s1", "scope": "/apis", "state": state, "primaryKey": primary, "secondaryKey": "k-second"}


def test_each_subscription_change_applies_to_the_next_request(gateway: GatewayRuntime) -> None:
    store = gateway.plane.store
    assert _status(gateway, "k1") == 401  # unknown yet (and remembered as unknown)
    store.put(SUBSCRIPTION, _subscription("active", "k1"))
    assert _status(gateway, "k1") == 204
    assert _status(gateway, "k1") == 204  # remembered
    assert _status(gateway, "k-second") == 204
    store.put(SUBSCRIPTION, _subscription("suspended", "k1"))
    assert _status(gateway, "k1") == 401
    store.put(SUBSCRIPTION, _subscription("active", "k2"))  # the primary key regenerated
    assert (_status(gateway, "k1"), _status(gateway, "k2")) == (401, 204)
    store.delete(SUBSCRIPTION)
    assert _status(gateway, "k2") == 401


def test_a_flood_of_wrong_keys_does_not_grow_the_memory(gateway: GatewayRuntime) -> None:
    from toolkit.emulator.gateway import app

    for index in range(app.SUBSCRIPTION_CACHE_SIZE + 10):
        assert _status(gateway, f"wrong-{index}") == 401
    assert len(gateway._subscriptions) <= app.SUBSCRIPTION_CACHE_SIZE
