"""The gateway's HTTP client at its edges: streamed request bodies, early answers, broken and odd responses, which
connection a request goes out on, the messages of its failures, event streams, and the httpx-backed twin."""

from __future__ import annotations

import asyncio
import gzip
import re
import socket
import struct
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
import pytest
import uvloop

from tests.unit.emulator.gateway.raw_http_backend import read_request, requests, serve
from toolkit.emulator.gateway.http_client import (BackendHttpClient, BackendStream, ConnectFailure, HttpxBackendClient,
                                                  InvalidRequestHead, ResponseTimeout, StreamedBody,
                                                  check_request_head)

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
PATTERN = bytes(range(256)) * 800  # 204,800 bytes: four chunks, and an offset read shows


def run_clean(main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run ``main`` on a fresh loop and fail if any callback of the loop raised meanwhile (the loop only logs those)."""
    errors: list[str] = []

    async def wrapped() -> None:
        asyncio.get_running_loop().set_exception_handler(lambda _, context: errors.append(context["message"]))
        await main()
        await asyncio.sleep(0.05)  # callbacks still due (connection_lost) run before the check

    asyncio.run(wrapped())
    assert errors == []


def spooled(tmp_path: Any, content: bytes) -> StreamedBody:
    spool = (tmp_path / "body").open("w+b")
    spool.write(content)
    return StreamedBody(spool, len(content))


# -- streamed request bodies ---------------------------------------------------------------------------------


def test_a_streamed_body_goes_out_whole_with_its_length_on_a_new_and_on_a_reused_connection(tmp_path: Any) -> None:
    received: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async for request in requests(reader):
            received.append(request)
            writer.write(OK)
            await writer.drain()

    async def main() -> None:
        server, url, accepted = await serve(handler)
        client = BackendHttpClient()
        body = spooled(tmp_path, PATTERN)
        for _ in range(2):  # the second goes out on the idle connection, read from the start again (a retry)
            assert (await client.request("POST", url, [], body, 5)).body == b"ok"
        assert len(accepted) == 1
        body.close()
        await client.aclose()
        server.close()

    run_clean(main)
    for request in received:
        head, content = request.split(b"\r\n\r\n", 1)
        assert f"Content-Length: {len(PATTERN)}".encode() in head.split(b"\r\n")
        assert content == PATTERN


def test_a_streamed_body_is_read_from_its_file_in_chunks_of_64_kib(tmp_path: Any) -> None:
    body = spooled(tmp_path, PATTERN)
    assert [len(chunk) for chunk in body.chunks()] == [65536, 65536, 65536, len(PATTERN) - 3 * 65536]
    assert b"".join(body.chunks()) == PATTERN  # again from the start
    body.close()


@pytest.mark.parametrize("then", ["hang up", "stop reading"])
def test_an_answer_that_comes_before_the_streamed_body_was_read_is_returned_not_waited_on(tmp_path: Any,
                                                                                          then: str) -> None:
    """A backend that refuses a big body (413) after its head and hangs up, or stops reading: the socket stays full,
    and the request used to wait for room for ever (its timeout only watches for an answer, which had come)."""
    connections: list[int] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        if len(connections) > 1:  # later connections: a well-behaved backend
            async for _ in requests(reader):
                writer.write(OK)
                await writer.drain()
            return
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        if then == "stop reading":
            await asyncio.sleep(10)

    async def main() -> None:
        server, url, accepted = await serve(handler)
        client = BackendHttpClient()
        body = spooled(tmp_path, b"x" * (32 * 1024 * 1024))
        response = await asyncio.wait_for(client.request("POST", url, [], body, 60), 5)
        assert response.status == 413
        # The connection's body was cut short: reusing it would send the next request into the middle of it.
        assert (await client.request("GET", url, [], b"", 5)).body == b"ok"
        assert len(accepted) == 2
        body.close()
        await client.aclose()
        server.close()

    asyncio.run(main())


# -- failures, and what they say ------------------------------------------------------------------------------


def test_a_refused_connection_names_the_address_and_the_reason() -> None:
    async def main() -> None:
        server, url, _ = await serve(lambda reader, writer: read_request(reader))
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        with pytest.raises(ConnectFailure) as caught:
            await BackendHttpClient().request("GET", url, [], b"", 5)
        assert str(caught.value) == f"cannot connect to 127.0.0.1:{port} (Connection refused)"

    uvloop.run(main())  # the emulator's loop (asyncio's own words it "Connect call failed (...)")


def test_a_connect_error_without_a_reason_names_its_type() -> None:
    async def main() -> None:
        async def fail(*_: Any, **__: Any) -> Any:
            raise OSError()

        asyncio.get_running_loop().create_connection = fail  # type: ignore[method-assign]
        with pytest.raises(ConnectFailure) as caught:
            await BackendHttpClient().request("GET", "http://127.0.0.1:9/", [], b"", 5)
        assert str(caught.value) == "cannot connect to 127.0.0.1:9 (OSError)"

    asyncio.run(main())


def test_the_connection_is_opened_to_the_host_and_port_the_url_names() -> None:
    async def main() -> None:
        server, url, accepted = await serve(_answer_ok)
        port = server.sockets[0].getsockname()[1]
        loop = asyncio.get_running_loop()
        opened: list[tuple[str, int]] = []
        real = loop.create_connection

        async def recording(factory: Any, host: str, port: int, **options: Any) -> Any:
            opened.append((host, port))
            return await real(factory, host, port, **options)

        loop.create_connection = recording  # type: ignore[method-assign]
        client = BackendHttpClient()
        answer = await client.request("GET", f"http://localhost:{port}/p", [], b"", 5)
        assert (answer.status, opened, len(accepted)) == (200, [("localhost", port)], 1)
        await client.aclose()
        server.close()

    asyncio.run(main())


async def _answer_ok(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    writer.write(OK)
    await writer.drain()


def test_a_connection_that_does_not_open_in_time_is_a_connect_failure() -> None:
    async def main() -> None:
        async def never(*_: Any, **__: Any) -> Any:
            await asyncio.sleep(60)

        asyncio.get_running_loop().create_connection = never  # type: ignore[method-assign]
        started = time.monotonic()
        with pytest.raises(ConnectFailure) as caught:
            await asyncio.wait_for(BackendHttpClient(connect_timeout=0.1).request("GET", "http://127.0.0.1:9/", [], b"",
                                                                                   30), 5)
        assert str(caught.value) == "connecting to 127.0.0.1:9 timed out"
        assert time.monotonic() - started < 3

    asyncio.run(main())


def test_a_malformed_response_fails_the_request_and_its_connection_is_not_reused() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async for _ in requests(reader):
            writer.write(b"NOT HTTP\r\n\r\n")
            await writer.drain()

    async def main() -> None:
        server, url, accepted = await serve(handler)
        client = BackendHttpClient()
        for attempt in (1, 2):
            with pytest.raises(ConnectFailure) as caught:
                await asyncio.wait_for(client.request("GET", url, [], b"", 5), 3)
            assert str(caught.value) == "malformed response (HttpParserError)"
            assert len(accepted) == attempt  # a fresh connection each time
        await client.aclose()
        server.close()

    run_clean(main)


def test_a_reused_connection_that_answers_with_garbage_is_not_retried() -> None:
    """Only a reused connection on which nothing came back is retried: the backend may have acted on this one."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        answers = iter([OK, b"garbage\r\n\r\n"])
        async for _ in requests(reader):
            writer.write(next(answers, OK))
            await writer.drain()

    async def main() -> None:
        server, url, accepted = await serve(handler)
        client = BackendHttpClient()
        assert (await client.request("GET", url, [], b"", 5)).body == b"ok"
        with pytest.raises(ConnectFailure, match="^malformed response"):
            await client.request("GET", url, [], b"", 5)
        assert len(accepted) == 1
        await client.aclose()
        server.close()

    asyncio.run(main())


def test_bytes_after_an_answer_spoil_the_idle_connection_and_the_next_request_opens_another() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        first = True
        async for _ in requests(reader):
            writer.write(OK + (b"stray bytes\r\n" if first else b""))
            first = False
            await writer.drain()

    async def main() -> None:
        server, url, accepted = await serve(handler)
        client = BackendHttpClient()
        assert (await client.request("GET", url, [], b"", 5)).body == b"ok"
        await asyncio.sleep(0.05)  # the stray bytes arrive while the connection is idle
        assert (await client.request("GET", url, [], b"", 5)).body == b"ok"
        assert len(accepted) == 2
        await client.aclose()
        server.close()

    run_clean(main)


def test_a_backend_that_hangs_up_without_answering_says_so() -> None:
    async def main() -> None:
        server, url, _ = await serve(lambda reader, writer: read_request(reader))  # reads it, then hangs up
        with pytest.raises(ConnectFailure) as caught:
            await BackendHttpClient().request("GET", url, [], b"", 5)
        assert str(caught.value) == "connection closed by the backend"
        server.close()

    run_clean(main)


def test_a_timeout_says_how_long_it_waited() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(5)

    async def main() -> None:
        server, url, _ = await serve(handler)
        with pytest.raises(ResponseTimeout) as caught:
            await BackendHttpClient().request("GET", url, [], b"", 0.2)
        assert str(caught.value) == "no response within 0.2 s"
        server.close()

    asyncio.run(main())


def test_a_long_timeout_after_a_short_one_still_ends_at_its_own_deadline() -> None:
    """The connection's timer was set for the first request's deadline; when it fires it must be set again for the
    second's, or a backend that never answers the second would hold it for ever."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(OK)
        await writer.drain()
        await read_request(reader)
        await asyncio.sleep(10)  # never answers the second

    async def main() -> None:
        server, url, accepted = await serve(handler)
        client = BackendHttpClient()
        assert (await client.request("GET", url, [], b"", 0.1)).body == b"ok"
        started = time.monotonic()
        with pytest.raises(ResponseTimeout):
            await asyncio.wait_for(client.request("GET", url, [], b"", 0.5), 5)
        assert time.monotonic() - started >= 0.45  # its own 0.5 s, not the first request's 0.1
        assert len(accepted) == 1
        server.close()

    asyncio.run(main())


def test_an_idle_connection_outliving_its_deadline_or_its_backend_raises_nothing_in_the_loop() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(OK)
        await writer.drain()
        await asyncio.sleep(0.2)  # then hangs up on the idle connection

    async def main() -> None:
        server, url, _ = await serve(handler)
        client = BackendHttpClient()
        assert (await client.request("GET", url, [], b"", 0.1)).body == b"ok"
        await asyncio.sleep(0.4)  # the deadline's timer fires on an idle connection, then the backend hangs up
        server.close()

    run_clean(main)


def test_a_status_line_without_a_reason_phrase_gives_an_empty_reason() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async for _ in requests(reader):
            writer.write(b"HTTP/1.1 204\r\n\r\n")
            await writer.drain()

    async def main() -> None:
        server, url, _ = await serve(handler)
        response = await BackendHttpClient().request("GET", url, [], b"", 5)
        assert (response.status, response.reason) == (204, "")
        server.close()

    asyncio.run(main())


def test_a_request_abandoned_by_its_caller_closes_its_connection() -> None:
    """The caller (a client that went away) cancels the call: the backend's late answer must not stay in a socket
    that nobody reads, and the connection must not wait for the garbage collector to be closed."""
    ended = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await reader.read()  # until the client hangs up
        ended.set()

    async def main() -> None:
        server, url, _ = await serve(handler)
        call = asyncio.ensure_future(BackendHttpClient().request("GET", url, [], b"", 30))
        await asyncio.sleep(0.1)
        call.cancel()
        await asyncio.wait_for(ended.wait(), 2)
        server.close()

    run_clean(main)


def test_a_response_nobody_asked_for_spoils_the_idle_connection() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        first = True
        async for _ in requests(reader):
            writer.write(OK)
            await writer.drain()
            if first:  # then a second, unasked-for answer while the connection is idle
                first = False
                await asyncio.sleep(0.02)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale")
                await writer.drain()

    async def main() -> None:
        server, url, accepted = await serve(handler)
        client = BackendHttpClient()
        assert (await client.request("GET", url, [], b"", 5)).body == b"ok"
        await asyncio.sleep(0.1)
        assert (await client.request("GET", url, [], b"", 5)).body == b"ok"  # not "stale"
        assert len(accepted) == 2
        await client.aclose()
        server.close()

    run_clean(main)


def test_connecting_waits_5_seconds_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    waited: list[float] = []

    async def wait_for(awaitable: Any, timeout: float) -> Any:
        awaitable.close()
        waited.append(timeout)
        raise asyncio.TimeoutError

    monkeypatch.setattr(asyncio, "wait_for", wait_for)

    async def main() -> None:
        with pytest.raises(ConnectFailure, match="timed out"):
            await BackendHttpClient().request("GET", "http://127.0.0.1:9/", [], b"", 30)

    asyncio.run(main())
    assert waited == [5.0]


def test_a_head_answer_is_complete_at_its_headers_and_its_connection_is_set_aside() -> None:
    """A HEAD's answer announces the length of a body it does not send (RFC 9110, 9.3.2); the parser would wait
    for that body, and take the next answer for it."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async for request in requests(reader):
            head = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
            writer.write(head if request.startswith(b"HEAD ") else head + b"0123456789")
            await writer.drain()

    async def main() -> None:
        server, url, accepted = await serve(handler)
        client = BackendHttpClient()
        head = await asyncio.wait_for(client.request("HEAD", url, [], b"", 30), 3)
        assert (head.status, head.reason, head.headers, head.body) == (200, "OK", [("content-length", "10")], b"")
        assert (await client.request("GET", url, [], b"", 5)).body == b"0123456789"
        assert len(accepted) == 2
        await client.aclose()
        server.close()

    run_clean(main)


@pytest.mark.parametrize("interim", [
    [b"HTTP/1.1 100 Continue\r\n\r\n"],
    [b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"],
    [b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\nX-Step: 1\r\n\r\n"],  # two, in one write
])
@pytest.mark.parametrize("method", ["POST", "HEAD"])
def test_interim_answers_are_read_past_to_the_final_one(interim: list[bytes], method: str) -> None:
    """A client must read 1xx answers before the final one, asked for or not (RFC 9110, 15.2): their status and
    headers are not the answer's, and the connection stays in step for the next request."""
    final = b"HTTP/1.1 201 Created\r\nContent-Length: 4\r\n\r\n"

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async for request in requests(reader):
            for part in interim:
                writer.write(part)
                await writer.drain()
                await asyncio.sleep(0.01)  # each in a read of its own
            writer.write(final if request.startswith(b"HEAD ") else final + b"done")

    async def main() -> None:
        server, url, accepted = await serve(handler)
        client = BackendHttpClient()
        for _ in range(2):
            answer = await asyncio.wait_for(client.request(method, url, [], b"x", 5), 3)
            expected_body = b"" if method == "HEAD" else b"done"
            assert (answer.status, answer.reason, answer.headers, answer.body) == (
                201, "Created", [("content-length", "4")], expected_body)
        assert len(accepted) == (2 if method == "HEAD" else 1)  # a HEAD's connection is set aside (see above)
        await client.aclose()
        server.close()

    run_clean(main)


def test_an_event_stream_after_an_interim_answer_is_handed_over_at_its_own_headers() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 103 Early Hints\r\nContent-Type: text/event-stream\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"5\r\ndata:\r\n0\r\n\r\n")

    async def main() -> None:
        server, url, _ = await serve(handler)
        client = BackendHttpClient()
        answer = await asyncio.wait_for(client.request("POST", url, [], b"x", 5, stream=True), 3)
        assert answer.status == 200 and answer.stream is not None
        assert [chunk async for chunk in answer.stream] == [b"data:"]
        await client.aclose()
        server.close()

    run_clean(main)


@pytest.mark.parametrize("case", ["final without a reason", "final not a stream", "closed after the interim"])
def test_nothing_of_an_interim_answer_carries_over_to_the_final_one(case: str) -> None:
    final = {"final without a reason": b"HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok",
             "final not a stream": b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\nok",
             "closed after the interim": b""}[case]

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 103 Early Hints\r\nContent-Type: text/event-stream\r\n\r\n" + final)
        await writer.drain()
        await asyncio.sleep(0.05)

    async def main() -> None:
        server, url, _ = await serve(handler)
        client = BackendHttpClient()
        if not final:
            with pytest.raises(ConnectFailure, match="closed by the backend"):
                await asyncio.wait_for(client.request("GET", url, [], b"", 5, stream=True), 3)
        else:
            answer = await asyncio.wait_for(client.request("GET", url, [], b"", 5, stream=True), 3)
            assert (answer.status, answer.reason, answer.body, answer.stream) == (
                200, "OK" if b" OK" in final else "", b"ok", None)
        await client.aclose()
        server.close()

    run_clean(main)


# -- answers whose body ends with the connection (RFC 9112, 6.3: no Content-Length, not chunked) -------------


def _until_close(parts: list[bytes], *, reset: bool = False) -> Callable[..., Coroutine[Any, Any, None]]:
    """A backend answering every request with ``parts`` (each written on its own), then closing (or resetting)."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        for part in parts:
            writer.write(part)
            await writer.drain()
            await asyncio.sleep(0.01)
        if reset:  # RST, not FIN: linger 0, then close
            writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()

    return handler


@pytest.mark.parametrize(("version", "coding"), [
    (b"HTTP/1.0", b""),
    (b"HTTP/1.1", b""),
    (b"HTTP/1.1", b"Transfer-Encoding: gzip\r\n"),  # codings whose last is not chunked: read until the close too
])
def test_an_answer_without_length_or_chunks_ends_with_the_connection(version: bytes, coding: bytes) -> None:
    """An HTTP/1.0 server (Python's http.server by default) and some HTTP/1.1 ones delimit a body by closing: the
    close is the answer's end, not a failure (it was "connection closed by the backend")."""
    handler = _until_close([version + b" 200 OK\r\nContent-Type: text/plain\r\n" + coding + b"\r\nfirst ", b"second ",
                            b"third"])

    async def main() -> None:
        server, url, accepted = await serve(handler)
        client = BackendHttpClient()
        for _ in range(2):
            answer = await asyncio.wait_for(client.request("GET", url, [], b"", 5), 3)
            assert (answer.status, answer.body) == (200, b"first second third")
            assert answer.headers[0] == ("content-type", "text/plain")
        assert len(accepted) == 2  # a connection that ended its answer is not reused
        await client.aclose()
        server.close()

    run_clean(main)


def test_an_event_stream_without_length_or_chunks_ends_cleanly_with_the_connection() -> None:
    handler = _until_close([b"HTTP/1.0 200 OK\r\nContent-Type: text/event-stream\r\n\r\n", b"data: 1\n\n",
                            b"data: [DONE]\n\n"])

    async def main() -> None:
        server, url, _ = await serve(handler)
        client = BackendHttpClient()
        answer = await asyncio.wait_for(client.request("POST", url, [], b"x", 5, stream=True), 3)
        assert answer.stream is not None
        ends: list[bool] = []
        answer.stream._on_end = ends.append
        assert b"".join([chunk async for chunk in answer.stream]) == b"data: 1\n\ndata: [DONE]\n\n"
        assert ends == [True]
        await client.aclose()
        server.close()

    run_clean(main)


@pytest.mark.parametrize(("answer", "reset"), [
    (b"HTTP/1.1 200 OK\r\n\r\npart of it", True),  # no framing, but a reset is no clean end
    (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", False),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nshort\r\n", False),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked  \r\n\r\n5\r\nshort\r\n", False),  # the parser keeps the spaces
], ids=["reset", "short", "last-chunk-missing", "last-chunk-missing-spaced"])
def test_an_answer_cut_off_is_a_failure_not_a_short_body(answer: bytes, reset: bool) -> None:
    """Only a clean close ends an answer, and only one with neither a length nor chunks: a shorter body than
    announced, or chunks without their last one, were cut off."""
    handler = _until_close([answer], reset=reset)

    async def main() -> None:
        server, url, _ = await serve(handler)
        client = BackendHttpClient()
        with pytest.raises(ConnectFailure, match="closed by the backend"):
            await asyncio.wait_for(client.request("GET", url, [], b"", 5), 3)
        await client.aclose()
        server.close()

    run_clean(main)


@pytest.mark.parametrize("status", [b"204 No Content", b"304 Not Modified"])
def test_an_answer_that_has_no_body_does_not_wait_for_the_close(status: bytes) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async for _ in requests(reader):  # keep-alive: the connection stays open
            writer.write(b"HTTP/1.1 " + status + b"\r\n\r\n")

    async def main() -> None:
        server, url, accepted = await serve(handler)
        client = BackendHttpClient()
        for _ in range(2):
            answer = await asyncio.wait_for(client.request("GET", url, [], b"", 5), 3)
            assert (answer.status, answer.body) == (int(status[:3]), b"")
        assert len(accepted) == 1
        await client.aclose()
        server.close()

    run_clean(main)


# -- request heads that HTTP does not allow -------------------------------------------------------------------

_BROKEN_HEADS = [
    ("GET", [("x-ok", "1"), ("x-test", "a\r\nx-injected: yes")], "header 'x-test'"),
    ("GET", [("x-test", "a\nb")], "header 'x-test'"),
    ("GET", [("x-test", "a\rb")], "header 'x-test'"),
    ("GET", [("x-test", "a\0b")], "header 'x-test'"),
    ("GET", [("x-te\r\nst", "a")], "header 'x-te\\r\\nst'"),
    ("GET / HTTP/1.1\r\nX-Injected: yes\r\n\r\nGET", [], "the method"),
]


@pytest.mark.parametrize(("method", "headers", "named"), _BROKEN_HEADS)
def test_a_request_head_with_a_line_break_or_nul_is_refused_naming_the_field(
        method: str, headers: list[tuple[str, str]], named: str) -> None:
    """Written as it is, the value would end its line and start a header, or a request, of its author's choosing."""
    with pytest.raises(InvalidRequestHead) as refused:
        check_request_head(method, headers)
    assert str(refused.value) == (f"{named} of the request holds a line break (CR or LF) or NUL, which HTTP does "
                                  "not allow (RFC 9110, 5.5)")


def test_a_request_head_with_tabs_and_spaces_in_its_values_is_fine() -> None:
    check_request_head("GET", [("x-test", "a\tb  c"), ("x-other", "")])


@pytest.mark.parametrize(("method", "headers", "named"), _BROKEN_HEADS)
def test_the_httpx_client_refuses_the_same_heads_with_the_same_message(
        method: str, headers: list[tuple[str, str]], named: str) -> None:
    sent: list[httpx.Request] = []

    async def main() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(lambda r: (sent.append(r), httpx.Response(200))[1])) as http:
            with pytest.raises(InvalidRequestHead, match=f"^{re.escape(named)} of the request holds"):
                await HttpxBackendClient(http).request(method, "http://backend.local/", headers, b"", 2)
        assert sent == []

    asyncio.run(main())


# -- which connection a request goes out on -------------------------------------------------------------------


def test_connection_close_is_honoured_even_when_the_backend_keeps_the_socket_open() -> None:
    ended: list[bool] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async for _ in requests(reader):
            writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
        ended.append(True)  # the client closed its end

    async def main() -> None:
        server, url, accepted = await serve(handler)
        client = BackendHttpClient()
        for _ in range(2):
            assert (await client.request("GET", url, [], b"", 5)).body == b"ok"
        await asyncio.sleep(0.1)
        assert len(accepted) == 2
        assert ended == [True, True]  # each closed by the client, not left open
        server.close()

    asyncio.run(main())


def test_idle_connections_are_kept_per_backend() -> None:
    def answering(name: bytes) -> Any:
        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            async for _ in requests(reader):
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(name), name))
                await writer.drain()

        return handler

    async def main() -> None:
        first, first_url, _ = await serve(answering(b"first"))
        second, second_url, _ = await serve(answering(b"second"))
        client = BackendHttpClient()
        bodies = [(await client.request("GET", url, [], b"", 5)).body for url in (first_url, second_url, first_url)]
        assert bodies == [b"first", b"second", b"first"]
        await client.aclose()
        first.close()
        second.close()

    asyncio.run(main())


def test_a_backend_on_ipv6_loopback_is_reached_at_its_address() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async for _ in requests(reader):
            writer.write(OK)
            await writer.drain()

    async def main() -> None:
        server, _, accepted = await serve(handler, host="::1")
        port = server.sockets[0].getsockname()[1]
        client = BackendHttpClient()
        for _ in range(2):
            assert (await client.request("GET", f"http://[::1]:{port}/", [], b"", 5)).body == b"ok"
        assert len(accepted) == 1
        await client.aclose()
        server.close()

    asyncio.run(main())


def test_at_most_64_idle_connections_are_kept_per_backend_and_the_rest_closed() -> None:
    closed_by_client: list[int] = []

    async def main() -> None:
        arrived: list[int] = []
        release = asyncio.Event()

        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            async for _ in requests(reader):
                arrived.append(1)
                if len(arrived) == 70:
                    release.set()
                await release.wait()  # every request holds its connection until all 70 are in
                writer.write(OK)
                await writer.drain()
            closed_by_client.append(1)

        server, url, accepted = await serve(handler)
        client = BackendHttpClient()
        answers = await asyncio.gather(*(client.request("GET", url, [], b"", 10) for _ in range(70)))
        assert all(answer.body == b"ok" for answer in answers)
        await asyncio.sleep(0.2)
        assert len(accepted) == 70
        assert len(closed_by_client) == 6  # 64 stay idle for the next requests
        await client.aclose()
        server.close()

    asyncio.run(main())


# -- event streams ------------------------------------------------------------------------------------------


def test_with_streams_asked_for_only_an_event_stream_is_handed_over_at_its_headers() -> None:
    answers = [b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
               b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Note: text/event-stream\r\nContent-Length: 2"
               b"\r\n\r\n{}",
               b"HTTP/1.1 200 OK\r\nContent-Type: Text/Event-Stream; charset=utf-8\r\nContent-Length: 9\r\n\r\n"
               b"data: 1\n\n"]

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async for _ in requests(reader):
            writer.write(answers.pop(0))
            await writer.drain()

    async def main() -> None:
        server, url, _ = await serve(handler)
        client = BackendHttpClient()
        for _ in range(2):  # JSON, and JSON with a header that merely mentions event streams: buffered
            response = await client.request("POST", url, [], b"{}", 5, stream=True)
            assert response.stream is None and response.body == b"{}"
        streamed = await client.request("POST", url, [], b"{}", 5, stream=True)
        assert streamed.stream is not None and streamed.body == b""
        assert (streamed.status, streamed.reason) == (200, "OK")
        assert ("content-type", "Text/Event-Stream; charset=utf-8") in streamed.headers
        assert [chunk async for chunk in streamed.stream] == [b"data: 1\n\n"]
        await client.aclose()
        server.close()

    asyncio.run(main())


def test_an_event_stream_the_backend_cuts_off_fails_where_it_is_read() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"9\r\ndata: 1\n\n\r\n")
        await writer.drain()  # then hangs up mid-stream

    async def main() -> None:
        server, url, _ = await serve(handler)
        client = BackendHttpClient()
        response = await client.request("POST", url, [], b"{}", 5, stream=True)
        assert response.stream is not None
        read: list[bytes] = []
        with pytest.raises(ConnectFailure, match="^connection closed by the backend$"):
            async for chunk in response.stream:
                read.append(chunk)
        assert read == [b"data: 1\n\n"]
        server.close()

    asyncio.run(main())


def test_closing_the_client_closes_a_connection_still_in_use_so_that_its_loop_can_close() -> None:
    """uvloop's loop.close() waits until every connection is closed: a stream nobody finished reading or closing (a
    bug elsewhere) held the emulator's shutdown for ever."""
    closed = threading.Event()

    async def endless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
        while True:
            writer.write(b"5\r\ndata:\r\n")
            await writer.drain()
            await asyncio.sleep(0.01)

    async def main() -> None:
        server, url, _ = await serve(endless)
        client = BackendHttpClient()
        answer = await client.request("GET", url, [], b"", 5, stream=True)
        assert answer.stream is not None  # neither read to its end nor closed
        await client.aclose()
        await asyncio.sleep(0.1)  # the backend sees its connection go and ends
        server.close()

    def run() -> None:
        loop = uvloop.new_event_loop()
        try:
            loop.run_until_complete(main())
        finally:
            loop.close()
            closed.set()

    threading.Thread(target=run, daemon=True).start()
    assert closed.wait(10), "the loop did not finish closing"


def test_a_backend_stream_with_no_owner_reads_to_its_end() -> None:
    async def main() -> None:
        stream = BackendStream()
        stream.feed(b"a")
        stream.feed(b"b")
        stream.end()
        assert [chunk async for chunk in stream] == [b"a", b"b"]
        stream.close()

    asyncio.run(main())


@pytest.mark.parametrize(("how", "complete"), [
    ("read to its end", True),
    ("ended, nothing fed", True),
    ("ended, left unread", False),
    ("ended by an error", False),
    ("ended by an error, nothing fed", False),
    ("closed before its end", False),
])
def test_a_backend_stream_reports_its_end_once_and_whether_it_was_read_whole(how: str, complete: bool) -> None:
    async def main() -> None:
        ends: list[bool] = []
        stream = BackendStream()
        stream._on_end = ends.append
        if "nothing fed" not in how:
            stream.feed(b"a")
        if how != "closed before its end":
            stream.end(ConnectFailure("gone") if "error" in how else None)
        if how == "read to its end":
            assert [chunk async for chunk in stream] == [b"a"]
        stream.close()
        stream.close()
        assert ends == [complete]

    asyncio.run(main())


# -- the httpx-backed client (tests hand it an httpx client with a mock transport) ------------------------------


def test_the_httpx_client_sends_the_request_and_returns_the_response_as_the_lean_one_does(tmp_path: Any) -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, headers=[("X-Echo", "yes"), ("X-Echo", "again")], content=b"made")

    async def main() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
            client = HttpxBackendClient(http)
            response = await client.request("PUT", "http://backend.local/things?x=1", [("api-key", "k")], b"{}", 2.5)
            assert (response.status, response.reason, response.body) == (201, "Created", b"made")
            assert [h for h in response.headers if h[0] == "x-echo"] == [("x-echo", "yes"), ("x-echo", "again")]
            body = spooled(tmp_path, PATTERN)
            await client.request("POST", "http://backend.local/big", [], body, 2.5)
            body.close()
            await client.aclose()

    asyncio.run(main())
    sent, big = seen
    assert (sent.method, str(sent.url), sent.headers["api-key"], sent.content) == (
        "PUT", "http://backend.local/things?x=1", "k", b"{}")
    assert sent.extensions["timeout"] == {"connect": 2.5, "read": 2.5, "write": 2.5, "pool": 2.5}
    assert (big.headers["content-length"], big.content) == (str(len(PATTERN)), PATTERN)


def test_the_httpx_client_hands_on_the_body_it_decoded_without_its_content_encoding() -> None:
    async def main() -> None:
        packed = gzip.compress(b"the body")
        answer = lambda request: httpx.Response(200, headers={"content-encoding": "gzip", "x-other": "1"}, content=packed)  # noqa: E731
        async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
            response = await HttpxBackendClient(http).request("GET", "http://backend.local/", [], b"", 2)
        assert response.body == b"the body"
        assert ("x-other", "1") in response.headers
        assert all(name != "content-encoding" for name, _ in response.headers)

    asyncio.run(main())


@pytest.mark.parametrize(("raised", "expected"), [
    (httpx.ConnectTimeout("slow"), ConnectFailure("connect timeout")),
    (httpx.ReadTimeout("slow"), ResponseTimeout("no response within 2 s")),
    (httpx.ConnectError("refused"), ConnectFailure("ConnectError")),
])
def test_the_httpx_client_maps_its_failures_to_the_lean_clients(raised: Exception, expected: Exception) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        raise raised

    async def main() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
            with pytest.raises(type(expected)) as caught:
                await HttpxBackendClient(http).request("GET", "http://backend.local/", [], b"", 2)
            assert str(caught.value) == str(expected)

    asyncio.run(main())
