"""The hostile HTTP corpus (tests/fixtures/hostile/http/<surface>.json) against a running emulator, over real sockets.

Rule for every case: a 4xx JSON error in the surface's own shape (or a legitimate 2xx), never a 5xx other than the
management plane's documented 501 for what the emulator does not implement, never a hang (each case has a socket
time bound), and afterwards the emulator still serves a normal request.

A case: ``name``, ``surface``, ``method``, ``path``, ``headers`` (``{token}``, ``{subscription_key}`` and ``{jwt}``
are filled in), a body as ``body`` (text), ``body_hex`` or ``body_parts`` ([[text, times], ...]), optionally
``chunked``, ``before`` (control calls made first) and ``expect`` (the exact status). ``framing`` cases are not
HTTP at all (a negative or doubled Content-Length, a method that is not a token the parser knows): the HTTP server
refuses them with its own plain-text 400 before any surface sees them; for those only "4xx, no hang, still serving"
is checked.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from e2e_requests import API_VERSION, auth_headers, chat_body
from toolkit.emulator.access import bearer
from toolkit.local import LocalGateway

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "hostile" / "http"
CASE_SECONDS = 30.0  # the time bound of one case: a hang fails the case instead of the whole run
CHUNK = 64 * 1024


def _cases(surface: str) -> list[Any]:
    document = json.loads((CORPUS / f"{surface}.json").read_text(encoding="utf-8"))
    assert document["surface"] == surface
    return [pytest.param(case, id=case["name"]) for case in document["cases"]]


def _body(case: dict[str, Any]) -> bytes:
    if "body_hex" in case:
        return bytes.fromhex(case["body_hex"])
    if "body_parts" in case:
        return b"".join(text.encode() * times for text, times in case["body_parts"])
    return str(case.get("body", "")).encode("utf-8", "surrogatepass")


def _fill(value: str, values: dict[str, str]) -> str:
    for name, filled in values.items():
        value = value.replace("{" + name + "}", filled)
    return value


def send(base_url: str, method: str, path: str, headers: dict[str, str], body: bytes, *, chunked: bool = False,
         verify: ssl.SSLContext | None = None) -> tuple[int, dict[str, str], bytes]:
    """One request written byte by byte (so malformed ones go out as they are); (status, headers, body)."""
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    names = {name.lower() for name in headers}
    lines = [f"{method} {path} HTTP/1.1"]
    if "host" not in names:
        lines.append(f"Host: {host}:{port}")
    lines.extend(f"{name}: {value}" for name, value in headers.items())
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    elif "content-length" not in names and (body or method in ("POST", "PUT", "PATCH")):
        lines.append(f"Content-Length: {len(body)}")
    lines.append("Connection: close")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    raw = socket.create_connection((host, port), timeout=CASE_SECONDS)
    sock = verify.wrap_socket(raw, server_hostname=host) if verify is not None else raw
    try:
        try:
            sock.sendall(head)
            if chunked:
                for offset in range(0, len(body), CHUNK):
                    piece = body[offset:offset + CHUNK]
                    sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                sock.sendall(b"0\r\n\r\n")
            else:
                sock.sendall(body)
        except OSError:
            pass  # the server answered (413) and closed before taking the whole body: read that answer
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        sock.close()


@pytest.fixture(scope="module")
def surfaces(sample_gateway: LocalGateway) -> Iterator[dict[str, Any]]:
    emulator = sample_gateway.emulator
    yield {
        "gateway": emulator.gateway_url, "management": emulator.management_url, "control": emulator.control_url,
        "verify": ssl.create_default_context(cafile=emulator.ca_bundle_path),
    }


def _values(gateway: LocalGateway) -> dict[str, str]:
    headers = auth_headers(gateway)
    return {"token": gateway.emulator.control_token, "subscription_key": gateway.subscription_key,
            "jwt": headers["Authorization"].removeprefix("Bearer ")}


def _check_error_shape(surface: str, status: int, headers: dict[str, str], body: bytes) -> None:
    assert headers.get("content-type", "").startswith("application/json"), (status, headers, body[:200])
    document = json.loads(body)
    if surface == "gateway":
        # the gateway's own errors, or the (Azure OpenAI shaped) error of the backend it forwarded to
        assert ("statusCode" in document and "message" in document) or "error" in document, document
    else:
        assert set(document["error"]) >= {"code", "message"}, document


def _still_serves(surface: str, gateway: LocalGateway) -> None:
    emulator = gateway.emulator
    if surface == "gateway":
        answer = httpx.post(gateway.chat_url("openai", "gpt-4o", API_VERSION), json=chat_body(),
                            headers=auth_headers(gateway), timeout=CASE_SECONDS)
    elif surface == "management":
        url = (f"{emulator.management_url}/subscriptions/s/resourceGroups/r/providers/Microsoft.ApiManagement"
               "/service/x/backends?api-version=2024-05-01")
        answer = httpx.get(url, headers=bearer(emulator.control_token), timeout=CASE_SECONDS,
                           verify=ssl.create_default_context(cafile=emulator.ca_bundle_path))
    else:
        answer = httpx.get(f"{emulator.control_url}/clock", headers=bearer(emulator.control_token), timeout=CASE_SECONDS)
        now = answer.json()["now"]
        assert now == now and now < 1e11, "the clock is broken"  # NaN != NaN
        answer = httpx.post(gateway.chat_url("openai", "gpt-4o", API_VERSION), json=chat_body(),
                            headers=auth_headers(gateway), timeout=CASE_SECONDS)
    assert answer.status_code == 200, (surface, answer.status_code, answer.text[:300])


def _run(surface: str, case: dict[str, Any], gateway: LocalGateway, surfaces: dict[str, Any]) -> None:
    assert case["surface"] == surface
    values = _values(gateway)
    verify = surfaces["verify"] if surface == "management" else None
    for step in case.get("before", []):
        send(surfaces["control"], step["method"], step["path"],
             {**bearer(values["token"]), "Content-Type": "application/json"}, step.get("body", "").encode())
    headers = {name: _fill(value, values) for name, value in case.get("headers", {}).items()}
    status, answer_headers, body = send(surfaces[surface], case["method"], _fill(case["path"], values), headers,
                                        _body(case), chunked=bool(case.get("chunked")), verify=verify)
    assert status < 500 or (surface == "management" and status == 501), (status, body[:300])
    if "expect" in case:
        assert status == case["expect"], (status, body[:300])
    if case.get("framing"):
        assert 400 <= status < 500, (status, body[:300])
    elif status >= 400:
        _check_error_shape(surface, status, answer_headers, body)
    gateway.emulator.reset()
    _still_serves(surface, gateway)


@pytest.mark.parametrize("case", _cases("gateway"))
def test_hostile_gateway_requests(case: dict[str, Any], gateway: LocalGateway, surfaces: dict[str, Any]) -> None:
    _run("gateway", case, gateway, surfaces)


@pytest.mark.parametrize("case", _cases("management"))
def test_hostile_management_requests(case: dict[str, Any], gateway: LocalGateway, surfaces: dict[str, Any]) -> None:
    _run("management", case, gateway, surfaces)


@pytest.mark.parametrize("case", _cases("control"))
def test_hostile_control_requests(case: dict[str, Any], gateway: LocalGateway, surfaces: dict[str, Any]) -> None:
    _run("control", case, gateway, surfaces)
