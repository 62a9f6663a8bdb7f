"""AppHost's servers sit idle without polling: the emulator runs one server per simulated backend, so a
per-server poll costs CPU in proportion to the backends for as long as the emulator runs."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn

from toolkit.emulator import hosting
from toolkit.emulator.hosting import AppHost


async def _ok(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


def test_an_idle_server_does_not_wake_up_ten_times_a_second() -> None:
    apps = AppHost()
    apps.add("a", _ok)
    apps.start()
    try:
        server = apps._slots["a"].server
        ticks: list[int] = []
        real_tick = server.on_tick

        async def counting_tick(counter: int) -> bool:
            ticks.append(counter)
            return await real_tick(counter)

        server.on_tick = counting_tick
        time.sleep(0.6)  # uvicorn's own loop ticks every 0.1 s: ~6 here; ours once a second at most
        assert len(ticks) <= 1
        assert all(counter % 10 == 0 for counter in ticks)  # each tick refreshes the Date header
        response = httpx.get(apps.url("a"), timeout=10)
        assert response.status_code == 200 and response.headers["date"]
    finally:
        apps.stop()


def test_a_server_told_to_exit_wakes_at_once_not_at_its_next_tick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hosting, "_TICK_SECONDS", 3600.0)
    server = hosting._server_class()(uvicorn.Config(_ok, lifespan="off"))

    async def run() -> None:
        task = asyncio.create_task(server.main_loop())
        await asyncio.sleep(0.05)
        assert not task.done()  # idle: waiting for its next tick (an hour away)
        server.should_exit = True
        await asyncio.wait_for(task, 30)

    asyncio.run(run())
    assert server.should_exit


def test_a_server_told_to_stop_listening_stops_and_can_listen_again() -> None:
    apps = AppHost()
    apps.add("a", _ok)
    apps.start()
    try:
        url = apps.url("a")
        parts = urlsplit(url)
        apps.set_listening("a", False)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((parts.hostname, parts.port), timeout=5).close()
        apps.set_listening("a", True)
        assert httpx.get(url, timeout=10).text == "ok"
    finally:
        apps.stop()
    assert apps.loop is None
