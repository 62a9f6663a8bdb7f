"""HTTP between the gateway and a backend: a HEAD's answer has headers only, whatever length it announces; a client's
Expect: 100-continue is the gateway's to honour, not the backend's; interim (1xx) answers are read past; a body
with neither a length nor chunks ends with the connection; a header value with a line break is never sent; a compressed answer is relayed as it is, with its Content-Encoding."""

from __future__ import annotations

import gzip
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


FROM_QUERY_POLICY = ('<policies><inbound><base /><set-header name="x-from-query" exists-action="override">'
                     '<value>@(context.Request.Url.Query.GetValueOrDefault("q", ""))</value></set-header></inbound>'
                     '<backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>')
NO_CONTENT_WITH_A_BODY_POLICY = ('<policies><inbound><base /><return-response><set-status code="204" reason="No Content" />'
                                 '<set-body>a body a 204 cannot have</set-body></return-response></inbound>'
                                 '<backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error>'
                                 '</policies>')
HEADS: list[bytes] = []  # every request head the backend received
CONNECTIONS: list[object] = []  # every connection the backend accepted


def _file_server(sock: socket.socket) -> None:
    """A keep-alive backend: GET serves CONTENT, HEAD its headers only (RFC 9110, 9.3.2), POST echoes its body. It
    honours Expect: 100-continue (RFC 9110, 10.1.1), /early-hints answers 103 before its final answer, and
    /until-close answers in HTTP/1.0 with no Content-Length, its body ending with the connection, and /gzip
    compresses its answer when the request accepts gzip."""

    def serve(conn: socket.socket) -> None:
        with conn:
            pending = b""
            while True:
                while b"\r\n\r\n" not in pending:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    pending += chunk
                head, _, pending = pending.partition(b"\r\n\r\n")
                HEADS.append(head)
                fields = head.lower().split(b"\r\n")
                if b"expect: 100-continue" in fields:
                    conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                if b" /early-hints" in fields[0]:
                    conn.sendall(b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n")
                length = next((int(f.split(b":")[1]) for f in fields if f.startswith(b"content-length:")), 0)
                while len(pending) < length:
                    pending += conn.recv(65536)
                body, pending = pending[:length], pending[length:]
                content = body if head.startswith(b"POST ") else CONTENT
                if b" /gzip" in fields[0] and any(f.startswith(b"accept-encoding:") and b"gzip" in f for f in fields):
                    packed = gzip.compress(content)
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\n"
                                 b"Content-Length: %d\r\n\r\n%s" % (len(packed), packed))
                    continue
                if b" /no-content-stream" in fields[0]:
                    conn.sendall(b"HTTP/1.1 204 No Content\r\nContent-Type: text/event-stream\r\n\r\n")
                    continue
                if b" /no-content" in fields[0] or b" /not-modified" in fields[0]:
                    conn.sendall(b"HTTP/1.1 204 No Content\r\n\r\n" if b" /no-content" in fields[0] else
                                 b"HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n")
                    continue
                if b" /until-close" in fields[0]:  # as Python's http.server does by default: HTTP/1.0, no length
                    conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n" + content)
                    return
                answer = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % len(content)
                conn.sendall(answer if head.startswith(b"HEAD ") else answer + content)

    while True:
        try:
            conn, _ = sock.accept()
        except OSError:
            return
        CONNECTIONS.append(conn.getpeername())
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
        for method in ("GET", "HEAD", "POST", "PUT", "DELETE"):
            operation = {"properties": {"displayName": method, "method": method, "urlTemplate": "/*"}}
            put = httpx.put(emulator.management_url + API.replace("?", f"/operations/{method.lower()}?"),
                            json=operation, headers=bearer(emulator.control_token), verify=verify)
            assert put.status_code == 201, put.text
        for operation, document in (("put", FROM_QUERY_POLICY), ("delete", NO_CONTENT_WITH_A_BODY_POLICY)):
            policy = {"properties": {"format": "rawxml", "value": document}}
            put = httpx.put(emulator.management_url + API.replace("?", f"/operations/{operation}/policies/policy?"),
                            json=policy, headers=bearer(emulator.control_token), verify=verify)
            assert put.status_code in (200, 201), put.text
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


def test_a_client_expecting_100_continue_gets_the_backends_final_answer(gateway: str) -> None:
    """The gateway has read the body before it calls the backend: the expectation is not passed on (it used to be,
    and the backend's 100 Continue was taken for its answer: the client's connection was dropped)."""
    with httpx.Client(base_url=gateway, timeout=10) as client:
        for _ in range(2):  # the backend connection is fit for the next request
            HEADS.clear()
            answer = client.post("/files/upload", content=b"the body", headers={"Expect": "100-continue"})
            assert (answer.status_code, answer.content) == (200, b"the body"), answer.text
            assert answer.headers["content-length"] == "8"
            assert len(HEADS) == 1 and b"expect" not in HEADS[0].lower()


def test_an_interim_answer_from_the_backend_is_read_past_to_its_final_one(gateway: str) -> None:
    with httpx.Client(base_url=gateway, timeout=10) as client:
        for _ in range(2):
            answer = client.get("/files/early-hints")
            assert (answer.status_code, answer.content) == (200, CONTENT), answer.text
            assert "link" not in answer.headers  # the interim answer's headers are not the final one's


def test_a_backend_answer_that_ends_with_its_connection_is_relayed_whole(gateway: str) -> None:
    with httpx.Client(base_url=gateway, timeout=10) as client:
        for _ in range(2):
            answer = client.get("/files/until-close")
            assert (answer.status_code, answer.content) == (200, CONTENT), answer.text
            assert answer.headers["content-length"] == str(len(CONTENT))


def test_a_header_value_with_a_line_break_from_the_query_is_never_sent(gateway: str) -> None:
    """The operation's policy copies the query parameter q (decoded) into a header: %0D%0A in it would have split the
    header and added one of the client's choosing to the backend request."""
    with httpx.Client(base_url=gateway, timeout=10) as client:
        HEADS.clear()
        refused = client.put("/files/x?q=a%0D%0Ax-injected:%20yes", content=b"")
        assert refused.status_code == 500
        assert refused.json()["message"] == "Internal server error"
        assert HEADS == []
        fine = client.put("/files/x?q=a%20b", content=b"")
        assert fine.status_code == 200
        assert b"x-from-query: a b" in HEADS[0].split(b"\r\n")


def test_a_compressed_answer_is_relayed_as_it_is_with_its_content_encoding(gateway: str) -> None:
    """A proxy does not decode (RFC 9110, 8.4): the gateway used to drop the Content-Encoding and pass the gzip bytes
    on, which no client could read."""
    packed = len(gzip.compress(CONTENT))
    with httpx.Client(base_url=gateway, timeout=10) as client:
        answer = client.get("/files/gzip", headers={"Accept-Encoding": "gzip"})
        assert answer.status_code == 200
        assert answer.headers["content-encoding"] == "gzip"
        assert answer.headers["content-length"] == str(packed)
        assert answer.content == CONTENT  # httpx decodes what it was told is gzip
        plain = client.get("/files/gzip", headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers and plain.content == CONTENT


@pytest.mark.parametrize(("method", "path", "status"), [("GET", "/files/no-content", 204),
                                                        ("GET", "/files/not-modified", 304),
                                                        ("DELETE", "/files/x", 204)])  # return-response's, with a body
def test_an_answer_without_content_has_no_body_nor_a_content_length(gateway: str, method: str, path: str,
                                                                     status: int) -> None:
    """RFC 9110, 8.6: no Content-Length on a 204 (nor a 0 on a 304, which would not be the length a 200 would have);
    a body after either would be read as the start of the next answer on the connection."""
    host, port = gateway.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode() * 2)  # two, pipelined
        received = b""
        while received.count(b"\r\n\r\n") < 2:
            received += conn.recv(65536)
        first, second, rest = received.split(b"\r\n\r\n", 2)
        assert rest == b""
        for head in (first, second):
            assert head.startswith(f"HTTP/1.1 {status} ".encode())
            assert b"content-length" not in head.lower()


def test_an_event_stream_answered_204_is_ended_and_its_connection_reused(gateway: str) -> None:
    with httpx.Client(base_url=gateway, timeout=10) as client:
        client.get("/files/no-content-stream")  # the gateway's connection to the backend: open and idle after it
        opened = len(CONNECTIONS)
        for _ in range(3):
            answer = client.get("/files/no-content-stream")
            assert (answer.status_code, answer.content) == (204, b"")
        assert len(CONNECTIONS) == opened  # each stream was ended, and its connection went back to the pool
