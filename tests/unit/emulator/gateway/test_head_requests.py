"""HEAD through the gateway: the backend's answer has headers only, whatever length it announces."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from toolkit.emulator.access import bearer
from toolkit.emulator.runtime import Emulator

API = ("/subscriptions/s/resourceGroups/r/providers/Microsoft.ApiManagement/service/x/apis/files"
       "?api-version=2024-05-01")
CONTENT = b"0123456789" * 100


def _file_server(sock: socket.socket) -> None:
    """A keep-alive backend serving CONTENT: GET with its body, HEAD with its headers only (RFC 9110, 9.3.2)."""

    def serve(conn: socket.socket) -> None:
        with conn:
            pending = b""
            while True:
                while b"\r\n\r\n" not in pending:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    pending += chunk
                head, _, pending = pending.partition(b"\r\n\r\n")
                answer = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % len(CONTENT)
                conn.sendall(answer if head.startswith(b"HEAD ") else answer + CONTENT)

    while True:
        try:
            conn, _ = sock.accept()
        except OSError:
            return
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


@pytest.fixture(scope="module")
def gateway() -> Iterator[str]:
    files = socket.create_server(("127.0.0.1", 0))
    threading.Thread(target=_file_server, args=(files,), daemon=True).start()
    with Emulator() as emulator:
        verify = ssl.create_default_context(cafile=emulator.ca_bundle_path)
        api = {"properties": {"displayName": "files", "path": "files", "protocols": ["http"],
                              "serviceUrl": f"http://127.0.0.1:{files.getsockname()[1]}", "subscriptionRequired": False}}
        put = httpx.put(emulator.management_url + API, json=api, headers=bearer(emulator.control_token), verify=verify)
        assert put.status_code in (200, 201), put.text
        for method in ("GET", "HEAD"):
            operation = {"properties": {"displayName": method, "method": method, "urlTemplate": "/*"}}
            put = httpx.put(emulator.management_url + API.replace("?", f"/operations/{method.lower()}?"),
                            json=operation, headers=bearer(emulator.control_token), verify=verify)
            assert put.status_code == 201, put.text
        yield emulator.gateway_url
    files.close()


def test_a_head_request_is_answered_at_once_with_the_length_a_get_would_get(gateway: str) -> None:
    with httpx.Client(base_url=gateway, timeout=10) as client:
        for _ in range(2):  # the second after the first one's backend connection was set aside
            started = time.monotonic()
            head = client.head("/files/report.txt")
            assert head.status_code == 200, head.text
            assert time.monotonic() - started < 5  # not held until the forward timeout, waiting for a body
            assert head.headers["content-length"] == str(len(CONTENT))
            assert head.content == b""
            get = client.get("/files/report.txt")  # the connection after a HEAD is not misread
            assert (get.status_code, get.content) == (200, CONTENT)
            assert get.headers["content-length"] == str(len(CONTENT))
