"""The Emulator object: start/stop, URLs, a backend published over HTTP gets its simulated instance."""

from __future__ import annotations

import ssl
import threading
import time

import httpx

from toolkit.emulator.runtime import Emulator

BACKEND_PATH = ("/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/svc/backends/{name}"
                "?api-version=2024-05-01")


def _put_backend(emulator: Emulator, name: str) -> int:
    context = ssl.create_default_context(cafile=emulator.ca_bundle_path)
    with httpx.Client(verify=context, headers={"Authorization": f"Bearer {emulator.control_token}"}) as client:
        body = {"properties": {"url": f"https://{name}.openai.azure.com", "protocol": "http"}}
        return client.put(emulator.management_url + BACKEND_PATH.format(name=name), json=body).status_code


def test_urls_are_loopback_and_stop_is_clean() -> None:
    threads_before = threading.active_count()
    with Emulator() as emulator:
        for url in (emulator.gateway_url, emulator.control_url, emulator.management_url):
            assert url.startswith(("http://127.0.0.1:", "https://127.0.0.1:"))
        assert emulator.management_url.startswith("https://")
        health = httpx.get(emulator.control_url + "/health", headers={"Authorization": f"Bearer {emulator.control_token}"})
        assert health.json()["status"] == "ok"
    assert threading.active_count() == threads_before


def test_published_backend_gets_a_simulated_instance() -> None:
    with Emulator() as emulator:
        assert _put_backend(emulator, "aoai-one") == 201
        assert "aoai-one" in emulator.farm.urls
        url = emulator.farm.urls["aoai-one"] + "/openai/deployments/d/chat/completions?api-version=2024-10-21"
        body = {"messages": [{"role": "user", "content": "hi"}]}
        assert httpx.post(url, json=body).status_code == 401  # like Azure OpenAI: its api-key or a token
        answer = httpx.post(url, json=body, headers={"api-key": emulator.farm.api_key("aoai-one")})
        assert answer.status_code == 200 and answer.headers["x-ms-region"] == "Local"


def test_stopping_right_after_a_publish_does_not_hang() -> None:
    """A backend published over HTTP starts its simulator on the serving loop; stop must wait for it."""
    for attempt in range(5):
        emulator = Emulator().start()
        assert _put_backend(emulator, f"b{attempt}") == 201
        started = time.monotonic()
        emulator.stop()
        assert time.monotonic() - started < 5.0


def test_a_simulated_instance_holds_the_api_key_its_config_gives() -> None:
    from toolkit.emulator.simulator.farm import SimulatorSpec

    with Emulator(specs={"keyed": SimulatorSpec(api_key="from-config"), "other": SimulatorSpec()},
                  backend_api_keys={"other": "given"}) as emulator:
        assert (emulator.farm.api_key("keyed"), emulator.farm.api_key("other")) == ("from-config", "given")
        url = emulator.farm.urls["keyed"] + "/openai/deployments/d/chat/completions?api-version=2024-10-21"
        body = {"messages": [{"role": "user", "content": "hi"}]}
        assert httpx.post(url, json=body, headers={"api-key": "from-config"}).status_code == 200
        assert httpx.post(url, json=body, headers={"api-key": "given"}).status_code == 401
