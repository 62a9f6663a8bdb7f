"""A throwaway redis-server on a free loopback port (no persistence), for tests and benchmarks."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from toolkit.errors import ToolkitError

_START_TIMEOUT = 10.0
_PORT_ATTEMPTS = 3


class RedisServerError(ToolkitError):
    """redis-server is missing or did not start."""


def redis_server_binary() -> str | None:
    """Path of redis-server on PATH, or None."""
    return shutil.which("redis-server")


def require_redis_server() -> None:
    """In a pytest run: skip without redis-server, but fail when CI is set (CI must run these)."""
    import pytest

    if redis_server_binary() is None:
        reason = "redis-server is not on PATH (apt-get install redis-server)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must run the tests that need it", pytrace=False)
        pytest.skip(reason)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """One redis-server process; start() returns its redis:// URL, stop() ends it."""

    def __init__(self, binary: str | None = None) -> None:
        self._binary = binary or redis_server_binary()
        self._process: subprocess.Popen[bytes] | None = None
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        """redis://127.0.0.1:PORT/0 of the running server."""
        if self.port is None:
            raise RedisServerError("redis-server is not running")
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> str:
        """Start the server and wait until it answers PING; returns its URL."""
        if self._binary is None:
            raise RedisServerError("redis-server is not on PATH",
                                   hint="install it, e.g. apt-get install redis-server")
        self._dir = tempfile.TemporaryDirectory(prefix="toolkit-redis-")
        for _ in range(_PORT_ATTEMPTS):  # another process may grab the port between probe and bind
            if self._launch(_free_port()):
                return self.url
        log = Path(self._dir.name, "redis.log")
        tail = log.read_text(errors="replace")[-500:] if log.exists() else ""
        self.stop()
        raise RedisServerError(f"redis-server did not start: {tail.strip()}")

    def _launch(self, port: int) -> bool:
        assert self._dir is not None and self._binary is not None
        args = [self._binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", self._dir.name, "--daemonize", "no",
                "--logfile", str(Path(self._dir.name, "redis.log"))]
        self._process = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._process = None
                return False
            if _answers_ping(port):
                self.port = port
                return True
            time.sleep(0.02)
        self._terminate()
        return False

    def _terminate(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def stop(self) -> None:
        """Stop the server and delete its directory (safe to call twice)."""
        self._terminate()
        self.port = None
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextmanager
def running_redis_server() -> Iterator[str]:
    """Context manager yielding the URL of a fresh redis-server, stopped on exit."""
    with RedisServer() as url:
        yield url
