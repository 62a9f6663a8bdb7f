"""The throwaway redis-server helper starts a real server on loopback and stops it."""

from __future__ import annotations

import socket

import pytest

from toolkit.testing.redis_server import RedisServer, RedisServerError, require_redis_server


def _ping(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.sendall(b"PING\r\n")
        return sock.recv(64)


@pytest.mark.redis
def test_starts_answers_and_stops() -> None:
    require_redis_server()
    with RedisServer() as url:
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        assert url == f"redis://127.0.0.1:{port}/0"
        assert _ping(port) == b"+PONG\r\n"
    with pytest.raises(OSError):
        _ping(port)


def test_missing_binary_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("toolkit.testing.redis_server.shutil.which", lambda _: None)
    with pytest.raises(RedisServerError, match="not on PATH"):
        RedisServer().start()


def test_missing_binary_skips_locally_but_fails_on_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("toolkit.testing.redis_server.shutil.which", lambda _: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        require_redis_server()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run"):
        require_redis_server()
