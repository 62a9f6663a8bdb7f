"""A slow policy compile runs off the event loop (other endpoints keep answering) and within a time bound."""

from __future__ import annotations

import threading

import httpx

from toolkit.emulator.management import ManagementPlane, PolicyScope
from toolkit.testing.management_bodies import RG, SUB, SVC

POLICY = "<policies><inbound /><backend><forward-request /></backend><outbound /><on-error /></policies>"
BASE = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.ApiManagement/service/{SVC}"


class SlowValidator:
    """A policy validator that blocks until released, recording the order of events."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.events: list[str] = []

    def __call__(self, xml: str, scope: PolicyScope) -> None:
        self.events.append("compile started")
        self.entered.set()
        self.release.wait(60)
        self.events.append("compile finished")


def _client(url: str, tls, plane: ManagementPlane) -> httpx.Client:
    return httpx.Client(base_url=url + BASE, verify=tls.client_ssl_context(), params={"api-version": "2024-05-01"},
                        headers={"Authorization": f"Bearer {plane.token}"}, timeout=30)


def test_other_endpoints_answer_while_a_policy_compiles(serve, tls) -> None:
    slow = SlowValidator()
    plane = ManagementPlane(policy_validator=slow)
    url, _ = serve(plane)
    results: dict[str, int] = {}

    def put_policy() -> None:
        with _client(url, tls, plane) as client:
            results["put"] = client.put("/policies/policy", json={"properties": {"format": "rawxml",
                                                                                 "value": POLICY}}).status_code

    writer = threading.Thread(target=put_policy)
    writer.start()
    try:
        assert slow.entered.wait(30), "the PUT never reached the validator"
        with _client(url, tls, plane) as client:
            assert client.get("/backends").status_code == 200  # served while the compile is still running
        slow.events.append("other endpoint answered")
    finally:
        slow.release.set()
        writer.join(60)
    assert slow.events == ["compile started", "other endpoint answered", "compile finished"]
    assert results["put"] in (200, 201)


def test_a_compile_over_the_time_bound_is_refused_and_nothing_is_written(serve, tls, refusal) -> None:
    slow = SlowValidator()
    plane = ManagementPlane(policy_validator=slow, compile_timeout=0.2)
    url, _ = serve(plane)
    try:
        with _client(url, tls, plane) as client:
            answer = client.put("/policies/policy", json={"properties": {"format": "rawxml", "value": POLICY}})
            assert answer.status_code == 400, answer.text
            assert "took longer than 0.2 s" in refusal(answer)
            assert client.get("/policies/policy").status_code == 404
    finally:
        slow.release.set()
