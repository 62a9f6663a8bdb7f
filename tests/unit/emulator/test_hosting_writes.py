"""How AppHost writes responses: a whole small response in one socket write; one Date header per response."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from toolkit.errors import InputError
from toolkit.emulator.hosting import AppHost

BACKEND_DATE = b"Mon, 01 Jan 2024 00:00:00 GMT"


def _app(extra_headers: list[tuple[bytes, bytes]]) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        body = b'{"ok": true}'
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                *extra_headers]})
        await send({"type": "http.response.body", "body": body})

    return app


async def _streaming_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    for part in (b"one ", b"two"):
        await send({"type": "http.response.body", "body": part, "more_body": True})
        await asyncio.sleep(0)
    await send({"type": "http.response.body", "body": b""})


@pytest.fixture
def host(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[AppHost, list[bytes]]]:
    """Apps on the plain asyncio loop, whose socket transport's write is counted."""
    from asyncio import selector_events

    writes: list[bytes] = []
    real_write = selector_events._SelectorSocketTransport.write

    def counting_write(self: Any, data: bytes) -> None:
        writes.append(bytes(data))
        real_write(self, data)

    monkeypatch.setattr(selector_events._SelectorSocketTransport, "write", counting_write)
    apps = AppHost(loop="asyncio", http="httptools")
    apps.add("plain", _app([]))
    apps.add("proxy", _app([(b"date", BACKEND_DATE)]), date_header=False)
    apps.add("proxy-no-date", _app([]), date_header=False)
    apps.add("self-dated", _app([(b"date", BACKEND_DATE)]), date_header="app")
    apps.add("self-dated-none", _app([]), date_header="app")
    apps.add("stream", _streaming_app)
    apps.start()
    try:
        yield apps, writes
    finally:
        apps.stop()


def _exchange(url: str, count: int = 1) -> bytes:
    """``count`` keep-alive requests on one raw socket; every byte received until the last response ends."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    received = b""
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        for index in range(count):
            sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
            while received.count(b'{"ok": true}') <= index and not received.endswith(b"0\r\n\r\n"):
                chunk = sock.recv(65536)
                assert chunk, "connection closed early"
                received += chunk
    return received


def _headers(response: bytes) -> list[tuple[bytes, bytes]]:
    head = response.split(b"\r\n\r\n", 1)[0]
    return [tuple(part.strip() for part in line.split(b":", 1)) for line in head.split(b"\r\n")[1:]]  # type: ignore[misc]


def test_a_small_response_is_one_socket_write(host: tuple[AppHost, list[bytes]]) -> None:
    apps, writes = host
    received = _exchange(apps.url("plain"), count=3)
    assert received.count(b"HTTP/1.1 200") == 3
    assert len(writes) == 3  # one per response: head and body together
    assert all(w.startswith(b"HTTP/1.1 200") and w.endswith(b'{"ok": true}') for w in writes)


def test_a_streamed_response_still_arrives_whole(host: tuple[AppHost, list[bytes]]) -> None:
    apps, writes = host
    received = _exchange(apps.url("stream"))
    assert b"transfer-encoding: chunked" in received
    assert received.endswith(b"4\r\none \r\n3\r\ntwo\r\n0\r\n\r\n")
    assert b"".join(writes) == received


def test_server_date_by_default(host: tuple[AppHost, list[bytes]]) -> None:
    apps, _ = host
    dates = [v for k, v in _headers(_exchange(apps.url("plain"))) if k.lower() == b"date"]
    assert len(dates) == 1 and dates[0].endswith(b" GMT")


def test_a_proxied_date_is_kept_and_not_doubled(host: tuple[AppHost, list[bytes]]) -> None:
    apps, _ = host
    dates = [v for k, v in _headers(_exchange(apps.url("proxy"))) if k.lower() == b"date"]
    assert dates == [BACKEND_DATE]


def test_an_app_without_a_date_gets_the_servers_once(host: tuple[AppHost, list[bytes]]) -> None:
    apps, _ = host
    dates = [v for k, v in _headers(_exchange(apps.url("proxy-no-date"))) if k.lower() == b"date"]
    assert len(dates) == 1 and dates[0] != BACKEND_DATE and dates[0].endswith(b" GMT")


def test_an_app_that_dates_itself_is_served_as_it_answers(host: tuple[AppHost, list[bytes]]) -> None:
    apps, _ = host
    dated = [v for k, v in _headers(_exchange(apps.url("self-dated"))) if k.lower() == b"date"]
    undated = [v for k, v in _headers(_exchange(apps.url("self-dated-none"))) if k.lower() == b"date"]
    assert (dated, undated) == ([BACKEND_DATE], [])  # the server neither adds a Date nor wraps the app


def test_date_header_takes_true_false_or_app() -> None:
    with pytest.raises(InputError, match="date_header"):
        AppHost().add("x", _app([]), date_header="yes")  # type: ignore[arg-type]
