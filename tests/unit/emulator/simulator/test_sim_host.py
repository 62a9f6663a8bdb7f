"""SimulatorHost over real loopback sockets: ports, down/up on the same port, hangs, clean stop."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from toolkit.emulator.simulator import SimulatedBackend, SimulatorHost
from toolkit.errors import InputError, RemoteError

REGIONS = {"openai-eastus": "East US", "openai-westus": "West US"}


@pytest.fixture
def host(sim: Any) -> Iterator[SimulatorHost]:
    backends = [SimulatedBackend(name, region, embed=sim.embed) for name, region in REGIONS.items()]
    simulator = SimulatorHost(backends)
    simulator.start()
    try:
        yield simulator
    finally:
        simulator.stop()


def test_each_backend_answers_on_its_own_port(sim: Any, host: SimulatorHost) -> None:
    urls = host.base_urls
    assert set(urls) == set(REGIONS)
    assert len({url.rsplit(":", 1)[1] for url in urls.values()}) == 2
    for name, url in urls.items():
        assert url.startswith("http://127.0.0.1:")
        response = httpx.post(url + sim.CHAT, json=sim.chat_body())
        assert response.status_code == 200
        assert response.headers["x-ms-region"] == REGIONS[name]
    embedding = httpx.post(urls["openai-eastus"] + sim.EMBEDDINGS, json={"input": ["a", "b"]})
    assert len(embedding.json()["data"]) == 2
    assert host.backend("openai-westus").stats.requests == 1


def test_down_refuses_connections_and_up_listens_on_the_same_port(sim: Any, host: SimulatorHost) -> None:
    url = host.base_urls["openai-eastus"]
    with httpx.Client(base_url=url) as pooled:  # keeps a keep-alive connection across the outage
        assert pooled.post(sim.CHAT, json=sim.chat_body()).status_code == 200
        host.set_down("openai-eastus", True)
        assert host.backend("openai-eastus").down
        with pytest.raises(httpx.ConnectError, match="refused"):
            httpx.post(url + sim.CHAT, json=sim.chat_body())
        with pytest.raises(httpx.ConnectError):
            pooled.post(sim.CHAT, json=sim.chat_body())
        assert httpx.post(host.base_urls["openai-westus"] + sim.CHAT, json=sim.chat_body()).status_code == 200

        host.set_down("openai-eastus", False)
        assert host.base_urls["openai-eastus"] == url
        assert not host.backend("openai-eastus").down
        assert httpx.post(url + sim.CHAT, json=sim.chat_body()).status_code == 200
        assert pooled.post(sim.CHAT, json=sim.chat_body()).status_code == 200


def test_down_and_up_are_idempotent(sim: Any, host: SimulatorHost) -> None:
    url = host.base_urls["openai-westus"]
    host.set_down("openai-westus", False)
    host.set_down("openai-westus", True)
    host.set_down("openai-westus", True)
    host.set_down("openai-westus", False)
    assert httpx.post(url + sim.CHAT, json=sim.chat_body()).status_code == 200


def test_timeout_fault_outlasts_the_client_timeout_then_recovers(sim: Any, host: SimulatorHost) -> None:
    url = host.base_urls["openai-eastus"]
    host.backend("openai-eastus").inject_timeout(count=1, hang_seconds=0.5)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(url + sim.CHAT, json=sim.chat_body(), timeout=0.1)
    assert httpx.post(url + sim.CHAT, json=sim.chat_body(), timeout=5).status_code == 200


def test_stop_is_clean_even_with_a_request_hanging(sim: Any, caplog: pytest.LogCaptureFixture) -> None:
    threads_before = set(threading.enumerate())
    backend = sim.backend()
    simulator = SimulatorHost([backend], graceful_shutdown=0.2)
    url = simulator.start()["openai-eastus"]
    assert httpx.post(url + sim.EMBEDDINGS, json={"input": "x"}).status_code == 200  # uses a worker thread
    backend.inject_timeout(count=1, hang_seconds=60)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(url + sim.CHAT, json=sim.chat_body(), timeout=0.1)
    simulator.stop()
    simulator.stop()  # idempotent
    # The process's one embeddings worker (made at the first embeddings call, whichever test makes it, and kept
    # for the process's life) is not the host's; every other thread the host started has ended.
    shared = {t for t in threading.enumerate() if t.name.startswith("simulated-embeddings")}
    assert set(threading.enumerate()) - shared == threads_before - shared and len(shared) == 1
    # The hang was released, not cancelled by uvicorn (which logs "Exception in ASGI application").
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    with pytest.raises(httpx.ConnectError):
        httpx.post(url + sim.CHAT, json=sim.chat_body())


def test_a_taken_port_is_reported_as_a_remote_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        simulator = SimulatorHost([SimulatedBackend("a", "East US")], ports={"a": port})
        with pytest.raises(RemoteError, match=f"127.0.0.1:{port}"):
            simulator.start()


def test_configuration_mistakes_are_refused() -> None:
    backend = SimulatedBackend("a", "East US")
    with pytest.raises(InputError, match="duplicate"):
        SimulatorHost([backend, SimulatedBackend("a", "West US")])
    with pytest.raises(InputError, match="unknown backend"):
        SimulatorHost([backend], ports={"b": 1})
    with pytest.raises(InputError, match="loop"):
        SimulatorHost([backend], loop="trio")
    with pytest.raises(InputError, match="no backend"):
        SimulatorHost([backend]).backend("b")


def test_control_calls_need_a_running_host() -> None:
    simulator = SimulatorHost([SimulatedBackend("a", "East US")])
    with pytest.raises(RuntimeError, match="not running"):
        simulator.set_down("a", True)


@pytest.mark.parametrize(("loop", "http"), [("asyncio", "h11"), ("uvloop", "httptools")])
def test_every_supported_server_option_serves(sim: Any, loop: str, http: str) -> None:
    with SimulatorHost([SimulatedBackend("a", "East US")], loop=loop, http=http) as simulator:
        url = simulator.base_urls["a"]
        assert httpx.post(url + sim.CHAT, json=sim.chat_body()).status_code == 200
        simulator.set_down("a", True)
        with pytest.raises(httpx.ConnectError):
            httpx.post(url + sim.CHAT, json=sim.chat_body())
        simulator.set_down("a", False)
        assert httpx.post(url + sim.CHAT, json=sim.chat_body()).status_code == 200
