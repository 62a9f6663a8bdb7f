"""The control API's happy paths over real HTTP: each route does what it says, in JSON, and the simulated
backend it steers answers accordingly (the refusals are in test_control.py)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import jwt
import pytest

from toolkit.emulator.runtime import Emulator
from toolkit.testing.emulator_servers import control_client
from toolkit.emulator.simulator.farm import SimulatorSpec

CHAT = "/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21"
BODY = {"messages": [{"role": "user", "content": "hi"}]}
KEY = "b1-key-0123456789abcdef"


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(specs={"b1": SimulatorSpec(api_key=KEY)}) as running:
        yield running


@pytest.fixture
def control(emulator: Emulator) -> Iterator[httpx.Client]:
    with control_client(emulator, timeout=10) as client:
        yield client
    emulator.reset()


def _backend_url(control: httpx.Client) -> str:
    return control.get("/backends").json()["backends"]["b1"]["url"].rstrip("/")


def test_health_and_backends_describe_the_running_emulator(control: httpx.Client) -> None:
    assert control.get("/health").status_code == 200
    backend = control.get("/backends").json()["backends"]["b1"]
    assert backend["url"].startswith("http://127.0.0.1:") and backend["down"] is False
    assert backend["pending_faults"] in ([], 0, {})


def test_subscriptions_are_created_and_listed(control: httpx.Client) -> None:
    created = control.post("/subscriptions", json={"name": "team-a", "key": "team-a-key-0123456789"})
    assert created.status_code == 201
    assert created.json() == {"name": "team-a", "primaryKey": "team-a-key-0123456789"}
    assert "team-a" in control.get("/subscriptions").json()["subscriptions"]


def test_faults_are_answered_by_the_backend_then_used_up(control: httpx.Client) -> None:
    injected = control.post("/backends/b1/faults", json={"status": 429, "count": 2, "retry_after": 7})
    assert injected.status_code == 201
    assert injected.json() == control.get("/backends").json()["backends"]["b1"]  # the backend, as GET /backends
    url = _backend_url(control) + CHAT
    answers = [httpx.post(url, json=BODY, headers={"api-key": KEY}, timeout=10) for _ in range(3)]
    assert [a.status_code for a in answers] == [429, 429, 200]
    assert answers[0].headers["retry-after"] == "7"


def test_down_and_reset_of_one_backend(control: httpx.Client) -> None:
    url = _backend_url(control) + CHAT
    assert control.post("/backends/b1/down", json={"down": True}).json() == {"name": "b1", "down": True}
    with pytest.raises(httpx.TransportError):
        httpx.post(url, json=BODY, headers={"api-key": KEY}, timeout=5)
    assert control.post("/backends/b1/reset").status_code == 204
    assert httpx.post(url, json=BODY, headers={"api-key": KEY}, timeout=10).status_code == 200


def test_behaviour_is_changed_and_shown(control: httpx.Client) -> None:
    changed = control.patch("/backends/b1/behaviour", json={"error_rate": 1.0, "error_status": 503})
    assert changed.status_code == 200 and changed.json()["behaviour"]["error_rate"] == 1.0
    assert changed.json() == control.get("/backends").json()["backends"]["b1"]  # the backend, as GET /backends
    assert httpx.post(_backend_url(control) + CHAT, json=BODY, headers={"api-key": KEY}, timeout=10).status_code == 503


def test_clock_moves_forward_by_what_is_asked(control: httpx.Client) -> None:
    before = control.get("/clock").json()["now"]
    after = control.post("/clock", json={"advance": 90}).json()["now"]
    assert 90 <= after - before < 100


def test_tokens_are_minted_for_the_audience_asked(emulator: Emulator, control: httpx.Client) -> None:
    token = control.post("/tokens", json={"audience": "api://mine", "subject": "someone"}).json()["token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["aud"] == "api://mine" and claims["sub"] == "someone"
    assert jwt.get_unverified_header(token)["alg"] == "RS256"


def test_an_unknown_backend_is_a_json_404(control: httpx.Client) -> None:
    missing = control.post("/backends/ghost/faults", json={"status": 429})
    assert missing.status_code == 404
    assert "ghost" in missing.json()["error"]["message"]
