"""The control API over real HTTP: the per-start token, loopback-only Host, no cross-site requests, JSON only,
typed fields (a wrong one is a 400 naming it), body limits, and /reset bringing everything back."""

from __future__ import annotations

import json
import socket
import ssl
from collections.abc import Iterator

import httpx
import pytest

from toolkit.emulator.access import bearer
from toolkit.emulator.request_guard import CONTROL_MAX_BODY_BYTES
from toolkit.emulator.runtime import Emulator
from toolkit.testing.emulator_servers import control_client
from toolkit.emulator.simulator.farm import SimulatorSpec


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(specs={"b1": SimulatorSpec()}) as running:
        yield running


@pytest.fixture
def control(emulator: Emulator) -> Iterator[httpx.Client]:
    """An authenticated client of the control API."""
    with control_client(emulator, timeout=10) as client:
        yield client
    emulator.reset()


def _ca(emulator: Emulator) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=emulator.ca_bundle_path)


def _error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    return str(response.json()["error"]["message"])


# -- item 5: token, Host, Origin, content type -------------------------------------------------------


def test_every_control_call_needs_this_runs_token(emulator: Emulator) -> None:
    url = emulator.control_url
    assert "Authorization: Bearer" in _error(httpx.post(f"{url}/tokens", json={}), 401)
    assert _error(httpx.post(f"{url}/tokens", json={}, headers=bearer("guessed")), 401)
    assert httpx.post(f"{url}/tokens", json={}, headers=bearer(emulator.control_token)).status_code == 200
    assert _error(httpx.get(f"{url}/health"), 401)


def test_the_issuers_public_documents_need_no_token(emulator: Emulator) -> None:
    answer = httpx.get(f"{emulator.control_url}/issuer/.well-known/jwks.json")
    assert answer.status_code == 200 and "keys" in answer.json()


def test_the_management_plane_needs_the_same_token(emulator: Emulator) -> None:
    url = (f"{emulator.management_url}/subscriptions/s/resourceGroups/r/providers/Microsoft.ApiManagement/service/x"
           "/backends?api-version=2024-05-01")
    with httpx.Client(verify=_ca(emulator)) as client:
        assert client.get(url, headers=bearer("guessed")).json()["error"]["code"] == "AuthenticationFailed"
        assert client.get(url, headers=bearer(emulator.control_token)).status_code == 200


@pytest.mark.parametrize("surface", ["control", "management", "gateway"])
def test_a_non_loopback_host_header_is_refused_on_every_surface(emulator: Emulator, surface: str) -> None:
    """DNS rebinding: a page on evil.example whose name resolves to 127.0.0.1 sends Host: evil.example."""
    url = {"control": emulator.control_url + "/health", "gateway": emulator.gateway_url + "/anything",
           "management": emulator.management_url + "/subscriptions"}[surface]
    headers = {**bearer(emulator.control_token), "Host": "evil.example:80"}
    answer = httpx.get(url, headers=headers, verify=_ca(emulator))
    assert answer.status_code == 403, answer.text
    body = answer.json()
    assert "evil.example" in (body.get("message") or body["error"]["message"])
    for host in ("localhost", f"127.0.0.1:{url.split(':')[2].split('/')[0]}", "[::1]:1"):
        assert httpx.get(url, headers={**bearer(emulator.control_token), "Host": host},
                         verify=_ca(emulator)).status_code != 403


@pytest.mark.parametrize("headers", [{"Origin": "https://evil.example"}, {"Origin": "null"},
                                     {"Sec-Fetch-Site": "cross-site"}])
def test_cross_site_requests_are_refused(control: httpx.Client, headers: dict[str, str]) -> None:
    assert "other sites" in _error(control.post("/subscriptions", json={"name": "x"}, headers=headers), 403)
    assert "x" not in control.get("/subscriptions").json()["subscriptions"]


def test_a_loopback_origin_is_served(control: httpx.Client) -> None:
    answer = control.get("/clock", headers={"Origin": "http://localhost:3000", "Sec-Fetch-Site": "same-site"})
    assert answer.status_code == 200


def test_a_text_plain_post_the_csrf_case_is_415(control: httpx.Client) -> None:
    body = json.dumps({"name": "attacker", "key": "attacker-chosen-key"})
    answer = control.post("/subscriptions", content=body, headers={"Content-Type": "text/plain"})
    assert "application/json" in _error(answer, 415)
    assert _error(control.post("/subscriptions", content=body, headers={"Content-Type": ""}), 415)
    assert "attacker" not in control.get("/subscriptions").json()["subscriptions"]


def test_a_post_without_a_body_needs_no_content_type(control: httpx.Client) -> None:
    assert control.post("/reset").status_code == 204


# -- items 8, 12, 14: typed fields -------------------------------------------------------------------


@pytest.mark.parametrize("body", [{"advance": "nan"}, {"advance": "inf"}, {"advance": "61"}, {"advance": True},
                                  {"advance": -1}, {"speed": 0}, {"speed": "fast"}, {"advance": 1e300}])
def test_clock_refuses_what_is_not_a_finite_number_in_range(control: httpx.Client, body: dict[str, object]) -> None:
    before = control.get("/clock").json()
    name = next(iter(body))
    assert repr(name) in _error(control.post("/clock", json=body), 400)
    after = control.get("/clock").json()
    assert after["speed"] == before["speed"] and after["now"] >= before["now"]


@pytest.mark.parametrize("raw", [b'{"advance": NaN}', b'{"advance": Infinity}', b'{"advance": 1e400}'])
def test_clock_refuses_json_nan_and_infinity_literals(control: httpx.Client, raw: bytes) -> None:
    answer = control.post("/clock", content=raw, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    now = control.get("/clock").json()["now"]
    assert now == now and now < 1e12  # finite: NaN != NaN


def test_clock_accepts_a_number(control: httpx.Client) -> None:
    before = control.get("/clock").json()["now"]
    assert control.post("/clock", json={"advance": 61}).json()["now"] >= before + 61


@pytest.mark.parametrize(("body", "field"), [({"down": "no"}, "down"), ({"down": 0}, "down"),
                                             ({"down": None}, "down")])
def test_down_needs_a_boolean(control: httpx.Client, body: dict[str, object], field: str) -> None:
    assert repr(field) in _error(control.post("/backends/b1/down", json=body), 400)
    assert control.get("/backends").json()["backends"]["b1"].get("down") in (False, None)


@pytest.mark.parametrize(("body", "field"), [({"name": "s", "key": {"a": 1}}, "key"), ({"name": ["s"]}, "name"),
                                             ({"name": "s", "api": 5}, "api"), ({"name": "s", "kye": "k"}, "kye")])
def test_subscription_fields_are_typed(control: httpx.Client, body: dict[str, object], field: str) -> None:
    assert repr(field) in _error(control.post("/subscriptions", json=body), 400)
    assert "s" not in control.get("/subscriptions").json()["subscriptions"]


@pytest.mark.parametrize(("body", "field"), [({"expires_in": "abc"}, "expires_in"), ({"claims": [1]}, "claims"),
                                             ({"audience": 5}, "audience"), ({"not_before": "x"}, "not_before")])
def test_token_fields_are_typed(control: httpx.Client, body: dict[str, object], field: str) -> None:
    assert repr(field) in _error(control.post("/tokens", json=body), 400)


@pytest.mark.parametrize(("body", "field"), [({"status": "429"}, "status"), ({"status": 429, "count": 0}, "count"),
                                             ({"timeout": "yes"}, "timeout"),
                                             ({"timeout": True, "hang_seconds": "nan"}, "hang_seconds")])
def test_fault_fields_are_typed(control: httpx.Client, body: dict[str, object], field: str) -> None:
    assert repr(field) in _error(control.post("/backends/b1/faults", json=body), 400)


@pytest.mark.parametrize("raw", [b"[" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000, b'{"name": "\\ud800"}',
                                 b"\xff\xfe", b"[1, 2]"])
def test_hostile_json_bodies_are_400(control: httpx.Client, raw: bytes) -> None:
    answer = control.post("/subscriptions", content=raw, headers={"Content-Type": "application/json"})
    assert _error(answer, 400)


def test_reset_while_a_backend_is_down_brings_it_back(emulator: Emulator, control: httpx.Client) -> None:
    assert control.post("/backends/b1/down", json={"down": True}).json() == {"name": "b1", "down": True}
    with pytest.raises(httpx.ConnectError):
        httpx.get(emulator.farm.urls["b1"] + "/")
    assert control.post("/reset").status_code == 204
    assert control.get("/backends").json()["backends"]["b1"]["down"] is False
    assert httpx.get(emulator.farm.urls["b1"] + "/").status_code < 500


# -- item 9: body limits -------------------------------------------------------------------------------


def test_a_body_over_the_control_limit_is_413(control: httpx.Client) -> None:
    big = b'{"name": "' + b"a" * CONTROL_MAX_BODY_BYTES + b'"}'
    answer = control.post("/subscriptions", content=big, headers={"Content-Type": "application/json"})
    assert "limit" in _error(answer, 413)


def test_a_chunked_body_over_the_limit_is_413_while_it_is_read(control: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(CONTROL_MAX_BODY_BYTES // 65536 + 2):
            yield b"a" * 65536
        yield b'"}'

    answer = control.post("/subscriptions", content=chunks(), headers={"Content-Type": "application/json"})
    assert "transfer-encoding" not in answer.request.headers or answer.request.headers["transfer-encoding"] == "chunked"
    assert _error(answer, 413)


def test_a_body_over_the_management_limit_is_413_in_arm_shape(emulator: Emulator) -> None:
    from toolkit.emulator.request_guard import MANAGEMENT_MAX_BODY_BYTES

    url = (f"{emulator.management_url}/subscriptions/s/resourceGroups/r/providers/Microsoft.ApiManagement/service/x"
           "/namedValues/big?api-version=2024-05-01")
    body = b'{"properties": {"displayName": "big", "value": "' + b"v" * MANAGEMENT_MAX_BODY_BYTES + b'"}}'
    answer = httpx.put(url, content=body, headers={**bearer(emulator.control_token), "Content-Type": "application/json"},
                       verify=_ca(emulator), timeout=30)
    assert answer.status_code == 413 and answer.json()["error"]["code"] == "RequestEntityTooLarge"


def test_a_bad_content_length_is_a_json_400(emulator: Emulator) -> None:
    host, port = emulator.control_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"POST /reset HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {emulator.control_token}\r\n"
                     "Content-Type: application/json\r\nContent-Length: -5\r\n\r\n".encode())
        reply = sock.recv(4096)
    assert reply.startswith(b"HTTP/1.1 400")
