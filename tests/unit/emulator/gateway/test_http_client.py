"""The gateway's lean HTTP/1.1 client: keep-alive, chunked bodies, refused connections, timeouts, stale sockets."""

from __future__ import annotations

import asyncio
import socket

import pytest

from tests.unit.emulator.gateway.raw_http_backend import Handler, read_request, requests, serve
from toolkit.emulator.gateway.http_client import BackendHttpClient, ConnectFailure, ResponseTimeout, StreamedBody


def test_keep_alive_reuses_one_connection() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async for request in requests(reader):
            body = request.split(b"\r\n\r\n", 1)[1]
            writer.write(b"HTTP/1.1 201 Created\r\nX-Echo: yes\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            await writer.drain()

    async def main() -> None:
        server, url, accepted = await serve(handler)
        client = BackendHttpClient()
        for i in range(5):
            response = await client.request("POST", url, [("content-type", "text/plain")], f"hello {i}".encode(), 5)
            assert (response.status, response.reason, response.body) == (201, "Created", f"hello {i}".encode())
            assert ("x-echo", "yes") in response.headers
        assert len(accepted) == 1
        await client.aclose()
        server.close()

    asyncio.run(main())


def test_chunked_response_and_connection_close() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                     b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
        await writer.drain()

    async def main() -> None:
        server, url, accepted = await serve(handler)
        client = BackendHttpClient()
        first = await client.request("GET", url, [], b"", 5)
        second = await client.request("GET", url, [], b"", 5)
        assert first.body == second.body == b"hello world"
        assert len(accepted) == 2  # "Connection: close" is honoured: no reuse
        server.close()

    asyncio.run(main())


def test_refused_connection_is_a_connect_failure() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connections are refused

        async def main() -> None:
            with pytest.raises(ConnectFailure, match="cannot connect"):
                await BackendHttpClient().request("GET", f"http://127.0.0.1:{port}/", [], b"", 5)

        asyncio.run(main())


def test_silent_backend_times_out() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(5)

    async def main() -> None:
        server, url, _ = await serve(handler)
        with pytest.raises(ResponseTimeout):
            await BackendHttpClient().request("GET", url, [], b"", 0.2)
        server.close()

    asyncio.run(main())


def test_a_timed_out_connection_is_not_reused_for_the_next_request() -> None:
    answers = [b"late", b"fresh"]

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async for _ in requests(reader):
            answer = answers.pop(0)
            if answer == b"late":
                await asyncio.sleep(0.3)  # answers after the client gave up
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(answer), answer))
            await writer.drain()

    async def main() -> None:
        server, url, accepted = await serve(handler)
        client = BackendHttpClient()
        with pytest.raises(ResponseTimeout):
            await client.request("GET", url, [], b"", 0.1)
        await asyncio.sleep(0.4)  # the late answer arrives meanwhile
        assert (await client.request("GET", url, [], b"", 5)).body == b"fresh"
        assert len(accepted) == 2
        await client.aclose()
        server.close()

    asyncio.run(main())


def test_a_streamed_body_the_backend_does_not_read_times_out(tmp_path) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")  # the head only: the body fills the socket buffers
        await asyncio.sleep(5)

    async def main() -> None:
        server, url, _ = await serve(handler)
        spool = (tmp_path / "body").open("w+b")
        spool.write(b"x" * (32 * 1024 * 1024))
        body = StreamedBody(spool, 32 * 1024 * 1024)
        with pytest.raises(ResponseTimeout):  # not a hang while waiting for the socket to drain
            await asyncio.wait_for(BackendHttpClient().request("POST", url, [], body, 0.3), 3)
        body.close()
        server.close()

    asyncio.run(main())


def test_the_request_line_percent_encodes_what_it_may_not_carry() -> None:
    lines: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async for request in requests(reader):
            lines.append(request.split(b"\r\n", 1)[0])
            writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
            await writer.drain()

    async def main() -> None:
        server, url, _ = await serve(handler)
        base = url.split("/path", 1)[0]
        client = BackendHttpClient()
        await client.request("GET", base + "/a b\x00X-Injected: 1/\u00e9?q=%41&x=[1]", [], b"", 5)
        await client.request("GET", base + "/deployments/gpt-4o/chat?api-version=2024-10-21&k=a~b", [], b"", 5)
        await client.aclose()
        server.close()

    asyncio.run(main())
    assert lines == [b"GET /a%20b%00X-Injected:%201/%C3%A9?q=%41&x=[1] HTTP/1.1",
                     b"GET /deployments/gpt-4o/chat?api-version=2024-10-21&k=a~b HTTP/1.1"]


def test_idle_connection_closed_by_the_backend_is_replaced() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        # then close without "Connection: close": the client holds a dead idle connection

    async def main() -> None:
        server, url, accepted = await serve(handler)
        client = BackendHttpClient()
        assert (await client.request("GET", url, [], b"", 5)).body == b"ok"
        await asyncio.sleep(0.05)
        assert (await client.request("GET", url, [], b"", 5)).body == b"ok"
        assert len(accepted) == 2
        server.close()

    asyncio.run(main())


def test_https_is_refused_clearly() -> None:
    async def main() -> None:
        with pytest.raises(ConnectFailure, match="http only"):
            await BackendHttpClient().request("GET", "https://127.0.0.1:1/", [], b"", 1)

    asyncio.run(main())


def _sse_handler(release: asyncio.Event) -> Handler:
    """Answers each request with a chunked event stream: one event, then (after ``release``) the rest."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async for _ in requests(reader):
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
            writer.write(b"9\r\ndata: 1\n\n\r\n")
            await writer.drain()
            await release.wait()
            writer.write(b"9\r\ndata: 2\n\n\r\n0\r\n\r\n")
            await writer.drain()

    return handler


def test_an_event_stream_is_handed_over_at_its_headers_and_the_connection_reused_after() -> None:
    async def main() -> None:
        release = asyncio.Event()
        server, url, accepted = await serve(_sse_handler(release))
        client = BackendHttpClient()
        response = await client.request("POST", url, [], b"{}", 5, stream=True)
        assert response.status == 200 and response.body == b"" and response.stream is not None
        first = await asyncio.wait_for(response.stream.__anext__(), 5)  # before the backend sent the rest
        assert first == b"data: 1\n\n"
        release.set()
        assert [chunk async for chunk in response.stream] == [b"data: 2\n\n"]
        again = await client.request("POST", url, [], b"{}", 5, stream=True)
        assert [chunk async for chunk in again.stream] == [b"data: 1\n\n", b"data: 2\n\n"]
        assert len(accepted) == 1  # a stream read to its end gives the connection back
        # Without stream=True the same answer is buffered whole.
        buffered = await client.request("POST", url, [], b"{}", 5)
        assert buffered.stream is None and buffered.body == b"data: 1\n\ndata: 2\n\n"
        await client.aclose()
        server.close()

    asyncio.run(main())


def test_a_stream_closed_early_drops_its_connection() -> None:
    async def main() -> None:
        release = asyncio.Event()
        server, url, accepted = await serve(_sse_handler(release))
        client = BackendHttpClient()
        response = await client.request("POST", url, [], b"{}", 5, stream=True)
        assert await response.stream.__anext__() == b"data: 1\n\n"
        response.stream.close()  # the client went away mid-stream
        release.set()
        follow_up = await client.request("POST", url, [], b"{}", 5)
        assert follow_up.status == 200
        assert len(accepted) == 2  # the half-read connection was not reused
        await client.aclose()
        server.close()

    asyncio.run(main())


def test_a_reused_connection_dropped_before_answering_is_retried_once_on_a_fresh_one() -> None:
    """The idle connection still looks open when it is taken; the backend drops it on the next request."""
    connections: list[int] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        first_connection = len(connections) == 1
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        if first_connection:
            await read_request(reader)  # the reused connection's request: dropped unanswered

    async def main() -> None:
        server, url, accepted = await serve(handler)
        client = BackendHttpClient()
        assert (await client.request("GET", url, [], b"", 5)).body == b"ok"
        assert (await client.request("GET", url, [], b"", 5)).body == b"ok"  # retried on a fresh connection
        assert len(accepted) == 2
        server.close()

    asyncio.run(main())


def _delayed_backend(delays: list[float]) -> Handler:
    """Answers each request of a connection after the next of ``delays`` (seconds)."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async for _ in requests(reader):
            await asyncio.sleep(delays.pop(0))
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()

    return handler


def test_a_short_timeout_after_a_long_one_on_the_same_connection_still_times_out() -> None:
    async def main() -> None:
        server, url, accepted = await serve(_delayed_backend([0.0, 1.0]))
        client = BackendHttpClient()
        assert (await client.request("GET", url, [], b"", 30)).body == b"ok"
        with pytest.raises(ResponseTimeout):  # its own 0.2 s, not the 30 s of the request before
            await client.request("GET", url, [], b"", 0.2)
        assert len(accepted) == 1
        await client.aclose()
        server.close()

    asyncio.run(main())


def test_a_long_timeout_after_a_short_one_on_the_same_connection_is_not_cut_short() -> None:
    async def main() -> None:
        server, url, accepted = await serve(_delayed_backend([0.0, 0.5]))
        client = BackendHttpClient()
        assert (await client.request("GET", url, [], b"", 0.2)).body == b"ok"
        # The 0.2 s deadline of the first request passes while this one waits: its own 5 s apply.
        assert (await client.request("GET", url, [], b"", 5)).body == b"ok"
        assert len(accepted) == 1
        await client.aclose()
        server.close()

    asyncio.run(main())


def test_a_connection_closed_as_it_opened_is_a_connect_failure_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    """Out of file descriptors, uvloop closes a new connection at once; writing to it raised RuntimeError, which
    reached the client as a 500 "emulator bug" instead of the backend being unreachable."""
    from toolkit.emulator.gateway import http_client

    async def main() -> None:
        server, url, _ = await serve(lambda reader, writer: read_request(reader))
        client = BackendHttpClient()
        real_connect = client._connect

        async def closed_at_once(host: str, port: int) -> http_client._Connection:
            connection = await real_connect(host, port)
            assert connection.transport is not None
            connection.transport.close()
            return connection

        monkeypatch.setattr(client, "_connect", closed_at_once)
        with pytest.raises(ConnectFailure, match="^connection closed before the request was sent$"):
            await client.request("GET", url, [], b"", 5)
        server.close()

    asyncio.run(main())


def test_on_send_is_called_before_each_request_leaves() -> None:
    received: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async for request in requests(reader):
            received.append(request)
            writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()

    async def main() -> None:
        server, url, _ = await serve(handler)
        client = BackendHttpClient()
        seen_before: list[int] = []
        client.on_send = lambda: seen_before.append(len(received))
        for _ in range(3):
            assert (await client.request("GET", url, [], b"", 5)).status == 204
        assert seen_before == [0, 1, 2]  # once per request, each time before the backend had it
        await client.aclose()
        server.close()
        await server.wait_closed()

    asyncio.run(main())
