"""serve_app_in_thread: serves over http and https on loopback, stops cleanly, frees the port."""

from __future__ import annotations

import socket

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from toolkit.emulator.management.tls import create_tls_material
from toolkit.testing.emulator_servers import serve_app_in_thread


def _app() -> Starlette:
    return Starlette(routes=[Route("/", lambda request: PlainTextResponse("hello"))])


def _refused(url: str) -> bool:
    host, port = url.rsplit(":", 1)
    host = host.split("//")[1].strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        return sock.connect_ex((host, int(port))) != 0


def test_plain_http_server_answers_and_stops():
    with serve_app_in_thread(_app()) as url:
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(url).text == "hello"
    assert _refused(url)


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_tls_server_is_trusted_through_the_generated_ca(tmp_path, host):
    if host == "::1" and not _ipv6_loopback():
        pytest.skip("no IPv6 loopback here")
    material = create_tls_material(tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == {"ca.pem", "server.pem", "server.key"}
    with serve_app_in_thread(_app(), ssl=material, host=host) as url:
        assert url.startswith("https://")
        with httpx.Client(verify=material.client_ssl_context()) as client:
            assert client.get(url).text == "hello"
        with pytest.raises(httpx.ConnectError):
            httpx.get(url)  # the system trust store does not know the test CA
    assert _refused(url)


def test_localhost_name_is_in_the_certificate(tmp_path):
    material = create_tls_material(tmp_path)
    with serve_app_in_thread(_app(), ssl=material) as url:
        named = url.replace("127.0.0.1", "localhost")
        with httpx.Client(verify=material.client_ssl_context()) as client:
            assert client.get(named).text == "hello"


def test_owned_temp_dir_is_removed_by_cleanup():
    material = create_tls_material()
    folder = material.ca_bundle_path.parent
    assert material.key_path.stat().st_mode & 0o077 == 0
    material.cleanup()
    assert not folder.exists()
    material.cleanup()  # twice is fine


def test_control_client_sends_the_emulators_token() -> None:
    from toolkit.emulator.runtime import Emulator
    from toolkit.testing.emulator_servers import control_client

    with Emulator() as emulator, control_client(emulator) as client:
        assert client.get("/health").json()["control_url"] == emulator.control_url
