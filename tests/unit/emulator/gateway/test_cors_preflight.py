"""A CORS preflight to an API without an OPTIONS operation: matched by its Access-Control-Request-Method and
answered by the cors policies in scope only, without a subscription key (cors docs, "cors policy scenarios")."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from toolkit.emulator.gateway.app import GatewayRuntime
from toolkit.emulator.management import ManagementPlane, ResourceKey, ResourceKind
from toolkit.emulator.policy.default_services import DefaultGatewayServices

ORIGIN = "https://app.example"
CORS = f"<cors><allowed-origins><origin>{ORIGIN}/</origin></allowed-origins></cors>"
# A policy before cors that would refuse the preflight if it ran: only cors runs on a preflight.
REFUSE = '<return-response><set-status code="418" reason="Teapot" /></return-response>'


class _Farm:
    def simulated_url(self, name: str, url: str) -> str:
        return url


def _policy(inbound: str) -> str:
    return (f"<policies><inbound><base />{inbound}</inbound><backend><base /></backend>"
            "<outbound><base /></outbound><on-error><base /></on-error></policies>")


def _gateway(api_inbound: str | None, *, global_inbound: str = "", options_operation: bool = False) -> GatewayRuntime:
    plane = ManagementPlane()
    put = plane.store.put
    put(ResourceKey(ResourceKind.API, "a1", ""), {"displayName": "a1", "path": "a1", "protocols": ["https"],
                                                   "serviceUrl": "https://backend.example"})
    put(ResourceKey(ResourceKind.OPERATION, "chat", "a1"), {"method": "POST", "urlTemplate": "/chat"})
    if options_operation:
        put(ResourceKey(ResourceKind.OPERATION, "chat-options", "a1"), {"method": "OPTIONS", "urlTemplate": "/chat"})
    if api_inbound is not None:
        put(ResourceKey(ResourceKind.API_POLICY, "a1", ""), {"value": _policy(api_inbound)})
    if global_inbound:
        put(ResourceKey(ResourceKind.GLOBAL_POLICY, "", ""), {"value": _policy(global_inbound)})
    runtime = GatewayRuntime(plane, DefaultGatewayServices(object()), _Farm())  # type: ignore[arg-type]
    runtime.rebuild()
    return runtime


def _send(gateway: GatewayRuntime, method: str, headers: list[tuple[str, str]]) -> tuple[int, dict[str, str], Any]:
    """(status, headers, trace record); the record also holds the body under "body" here."""
    status, out, body, record = asyncio.run(gateway.handle(method, "/a1/chat", "", headers, b"", "10.0.0.1", "t1"))
    return status, dict(out), {**record, "body": body}


def _preflight(method: str = "POST") -> list[tuple[str, str]]:
    return [("Origin", ORIGIN), ("Access-Control-Request-Method", method)]


@pytest.mark.parametrize(("api_inbound", "global_inbound"), [(CORS, ""), (None, CORS), ("", CORS + REFUSE)])
def test_a_preflight_is_answered_by_the_cors_policy_in_scope_without_a_key(api_inbound: str | None,
                                                                           global_inbound: str) -> None:
    status, headers, record = _send(_gateway(api_inbound, global_inbound=global_inbound), "OPTIONS", _preflight())
    assert status == 200
    assert headers["access-control-allow-origin"] == ORIGIN
    assert record["operation"] == "chat"


def test_only_the_cors_policies_run_on_a_preflight() -> None:
    status, headers, _ = _send(_gateway(REFUSE + CORS), "OPTIONS", _preflight())
    assert (status, headers["access-control-allow-origin"]) == (200, ORIGIN)


def test_an_unmatched_preflight_that_no_cors_policy_ends_gets_an_empty_200() -> None:
    gateway = _gateway(CORS.replace("<cors>", '<cors terminate-unmatched-request="false">'))
    status, headers, _ = _send(gateway, "OPTIONS", [("Origin", "https://evil.example"),
                                                    ("Access-Control-Request-Method", "POST")])
    assert status == 200 and "access-control-allow-origin" not in headers


@pytest.mark.parametrize(("api_inbound", "headers"), [
    ("", _preflight()),  # no cors policy in scope
    (CORS, _preflight("PUT")),  # no operation for the requested method
    (CORS, [("Origin", ORIGIN)]),  # not a preflight
    (CORS, [("Access-Control-Request-Method", "POST")]),  # not a preflight
])
def test_otherwise_an_options_request_matches_no_operation(api_inbound: str, headers: list[tuple[str, str]]) -> None:
    status, _, record = _send(_gateway(api_inbound), "OPTIONS", headers)
    assert status == 404 and record["operation"] is None


def test_an_options_operation_takes_the_preflight_and_needs_its_key() -> None:
    status, _, record = _send(_gateway(CORS, options_operation=True), "OPTIONS", _preflight())
    assert status == 401 and record["operation"] == "chat-options"


def test_the_actual_request_still_needs_a_key() -> None:
    status, _, _ = _send(_gateway(CORS), "POST", [("Origin", ORIGIN)])
    assert status == 401


def test_a_failed_cors_expression_on_a_preflight_runs_on_error() -> None:
    cors = CORS.replace("<cors>", '<cors allow-credentials="@((bool)context.Variables[&quot;missing&quot;])">')
    status, _, record = _send(_gateway(cors), "OPTIONS", _preflight())
    assert status == 500 and json.loads(record["body"])["message"] == "Internal server error"
    assert any("was not present" in str(event[4]) for event in record["events"])  # the detail is in the trace
