"""Bounds on what one client can make the emulator's servers hold: a request head over 64 KiB is a 431, a request
not read whole in time closes its connection (408 when its head never came), and neither disturbs other clients."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from toolkit.emulator import hosting
from toolkit.emulator.hosting import MAX_REQUEST_HEAD_BYTES, AppHost

READ_TIMEOUT_S = 1.0  # the tests' REQUEST_READ_TIMEOUT_S


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture
def address(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, int]]:
    monkeypatch.setattr(hosting, "REQUEST_READ_TIMEOUT_S", READ_TIMEOUT_S)
    apps = AppHost()  # uvloop + httptools, as the emulator serves
    apps.add("app", _app)
    apps.start()
    try:
        host, port = apps.url("app").removeprefix("http://").rsplit(":", 1)
        yield host, int(port)
    finally:
        apps.stop()


def _answer(sock: socket.socket) -> bytes:
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def _ok(address: tuple[str, int]) -> float:
    """A normal request's latency in seconds (it must succeed)."""
    start = time.perf_counter()
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert _answer(sock).startswith(b"HTTP/1.1 200")
    return time.perf_counter() - start


def test_a_head_over_the_limit_is_431_at_once_and_others_are_served(address: tuple[str, int]) -> None:
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ")
        sent = 0
        try:
            while sent < 64 * MAX_REQUEST_HEAD_BYTES:  # 4 MiB of one header value, unless refused first
                sock.sendall(b"a" * 65536)
                sent += 65536
        except OSError:
            pass  # the server answered and closed: the rest could not be sent
        answer = _answer(sock)
    assert answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")
    assert b"connection: close" in answer
    assert sent < 64 * MAX_REQUEST_HEAD_BYTES  # refused while the client was still sending (socket buffers aside)
    assert _ok(address) < 5


def test_heads_just_under_the_limit_and_many_pipelined_requests_are_served(address: tuple[str, int]) -> None:
    header = b"X-Fill: " + b"a" * (MAX_REQUEST_HEAD_BYTES - 200) + b"\r\n"
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + header + b"Connection: close\r\n\r\n")
        assert _answer(sock).startswith(b"HTTP/1.1 200")
    with socket.create_connection(address, timeout=10) as sock:  # 3,000 small requests in a few large reads
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" * 2999
                     + b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        answers = _answer(sock)
    assert answers.count(b"HTTP/1.1 200") == 3000 and b" 431 " not in answers


def test_a_silent_or_slow_client_is_answered_408_and_closed(address: tuple[str, int]) -> None:
    with socket.create_connection(address, timeout=10) as silent, \
            socket.create_connection(address, timeout=10) as slow:
        slow.sendall(b"GET / HTTP/1.1\r\n")  # then nothing more: its head never completes
        start = time.perf_counter()
        assert _answer(silent).startswith(b"HTTP/1.1 408 Request Timeout\r\n")
        assert _answer(slow).startswith(b"HTTP/1.1 408 Request Timeout\r\n")
        assert READ_TIMEOUT_S - 0.1 <= time.perf_counter() - start < READ_TIMEOUT_S + 3
    assert _ok(address) < 5


def test_a_body_that_stops_coming_closes_the_connection(address: tuple[str, int]) -> None:
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 50\r\n\r\nx")
        start = time.perf_counter()
        assert _answer(sock) == b""  # closed without an answer: the app saw the client go away
        assert time.perf_counter() - start < READ_TIMEOUT_S + 3


def test_a_keep_alive_connection_between_requests_is_not_timed_by_the_read_bound(address: tuple[str, int]) -> None:
    """The bound covers reading a request; an idle keep-alive connection is uvicorn's (timeout_keep_alive)."""
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        time.sleep(READ_TIMEOUT_S + 0.5)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert _answer(sock).startswith(b"HTTP/1.1 200")


def _status_of(address: tuple[str, int], request: bytes) -> bytes:
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(request)
        return _answer(sock).split(b"\r\n", 1)[0]


def test_host_rules_of_rfc_9112_and_an_absolute_target_are_applied_by_every_surface() -> None:
    """Found by probing: the first of two Host lines was the one checked, an absolute-form target naming another
    host was served, and an HTTP/1.1 request without Host was served."""
    from toolkit.emulator.runtime import Emulator

    with Emulator() as emulator:
        for url in (emulator.gateway_url, emulator.control_url):
            host, port = url.removeprefix("http://").split("/")[0].rsplit(":", 1)
            address = (host, int(port))
            assert _status_of(address, b"GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n"
                                       b"Connection: close\r\n\r\n") == b"HTTP/1.1 400 Bad Request"
            assert _status_of(address, b"GET /x HTTP/1.1\r\nConnection: close\r\n\r\n") == b"HTTP/1.1 400 Bad Request"
            assert _status_of(address, b"GET http://evil.example/x HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                       b"Connection: close\r\n\r\n") == b"HTTP/1.1 403 Forbidden"
            # what stays allowed: HTTP/1.0 without Host, an absolute-form target on loopback
            assert _status_of(address, b"GET /x HTTP/1.0\r\n\r\n") != b"HTTP/1.0 400 Bad Request"
            served = _status_of(address, f"GET http://127.0.0.1:{port}/x HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                         "Connection: close\r\n\r\n".encode())
            assert served not in (b"HTTP/1.1 400 Bad Request", b"HTTP/1.1 403 Forbidden"), served
