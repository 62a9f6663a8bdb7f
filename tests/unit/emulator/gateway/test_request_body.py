"""Large gateway request bodies: streamed to the backend (memory stays flat), refused with 413 over APIM's limit."""

from __future__ import annotations

import hashlib
import json
import socket
import ssl
import threading
import tracemalloc
from collections.abc import Iterator

import httpx
import pytest

from toolkit.emulator.access import bearer
from toolkit.emulator.request_guard import GATEWAY_MAX_BODY_BYTES, GATEWAY_MAX_BUFFERED_BYTES
from toolkit.emulator.runtime import Emulator

API = ("/subscriptions/s/resourceGroups/r/providers/Microsoft.ApiManagement/service/x/apis/sink"
       "?api-version=2024-05-01")


def _sink_server(sock: socket.socket) -> None:
    """A loopback backend that reads each body into one reused buffer and answers its size and SHA-256."""
    buffer = bytearray(65536)
    while True:
        try:
            conn, _ = sock.accept()
        except OSError:
            return
        with conn:
            head = b""
            while b"\r\n\r\n" not in head:
                head += conn.recv(4096)
            head, _, rest = head.partition(b"\r\n\r\n")
            length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:"))
            digest, received = hashlib.sha256(rest), len(rest)
            while received < length:
                n = conn.recv_into(buffer)
                if not n:
                    break
                digest.update(memoryview(buffer)[:n])
                received += n
            answer = json.dumps({"received": received, "sha256": digest.hexdigest()}).encode()
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                         b"Content-Length: " + str(len(answer)).encode() + b"\r\n\r\n" + answer)


@pytest.fixture(scope="module")
def gateway() -> Iterator[str]:
    sink = socket.create_server(("127.0.0.1", 0))
    thread = threading.Thread(target=_sink_server, args=(sink,), daemon=True)
    thread.start()
    with Emulator() as emulator:
        api = {"properties": {"displayName": "sink", "path": "sink", "protocols": ["http"],
                              "serviceUrl": f"http://127.0.0.1:{sink.getsockname()[1]}", "subscriptionRequired": False}}
        put = httpx.put(emulator.management_url + API, json=api, headers=bearer(emulator.control_token),
                        verify=ssl.create_default_context(cafile=emulator.ca_bundle_path))
        assert put.status_code in (200, 201), put.text
        operation = {"properties": {"displayName": "upload", "method": "POST", "urlTemplate": "/*"}}
        put = httpx.put(emulator.management_url + API.replace("?", "/operations/upload?"), json=operation,
                        headers=bearer(emulator.control_token),
                        verify=ssl.create_default_context(cafile=emulator.ca_bundle_path))
        assert put.status_code == 201, put.text  # the gateway serves only the API's operations
        yield emulator.gateway_url
    sink.close()


def _content(size: int) -> Iterator[bytes]:
    block = bytes(range(256)) * 256  # 64 KiB
    for offset in range(0, size, len(block)):
        yield block[: min(len(block), size - offset)]


def test_a_body_over_the_buffered_size_reaches_the_backend_whole_without_being_held(gateway: str) -> None:
    size = 12 * GATEWAY_MAX_BUFFERED_BYTES
    expected = hashlib.sha256(b"".join(_content(size))).hexdigest()
    tracemalloc.start()
    try:
        answer = httpx.post(f"{gateway}/sink/upload", content=_content(size),
                            headers={"Content-Length": str(size)}, timeout=60)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"received": size, "sha256": expected}
    assert peak < size // 3, f"peak {peak} bytes of Python memory for a {size}-byte body: it was held"


def test_a_small_body_is_forwarded_as_before(gateway: str) -> None:
    answer = httpx.post(f"{gateway}/sink/upload", content=b'{"a": 1}', timeout=30)
    assert answer.json() == {"received": 8, "sha256": hashlib.sha256(b'{"a": 1}').hexdigest()}


def test_a_body_over_apims_request_limit_is_413_in_the_gateways_shape(gateway: str) -> None:
    host, port = gateway.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"POST /sink/upload HTTP/1.1\r\nHost: {host}\r\nContent-Length: {GATEWAY_MAX_BODY_BYTES + 1}"
                     "\r\n\r\n".encode())
        reply = sock.recv(65536).decode()
    assert reply.startswith("HTTP/1.1 413")
    body = json.loads(reply.partition("\r\n\r\n")[2])
    assert body["statusCode"] == 413 and str(GATEWAY_MAX_BODY_BYTES) in body["message"]


def test_trace_ids_are_random_version_4_uuids() -> None:
    import uuid

    from toolkit.emulator.gateway.app import new_trace_id

    ids = {new_trace_id() for _ in range(1000)}
    assert len(ids) == 1000
    for trace_id in ids:
        parsed = uuid.UUID(hex=trace_id)
        assert (len(trace_id), parsed.hex, parsed.version, parsed.variant) == (32, trace_id, 4, uuid.RFC_4122)
