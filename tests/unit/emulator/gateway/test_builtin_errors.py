"""Errors of the gateway's built-in steps, as APIM raises them: a missing or invalid subscription key goes to
<on-error> with its predefined error ("Predefined errors for built-in steps", api-management-error-handling-policies.md)
and the gateway's own 500s answer APIM's generic body, the detail staying in the trace."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from toolkit.emulator.gateway.app import GatewayRuntime
from toolkit.emulator.management import ManagementPlane, ResourceKey, ResourceKind
from toolkit.emulator.policy.default_services import DefaultGatewayServices

KEY = "k-good"
TRACE_ID = "0123456789abcdef0123456789abcdef"
# Each scope's on-error tells it ran and what LastError held; <base/> runs the parent scope's.
DUMP = ('<set-header name="x-{scope}" exists-action="override"><value>@(context.LastError.Source + "|" + '
        'context.LastError.Reason + "|" + context.LastError.Message + "|" + context.Response.StatusCode)</value>'
        "</set-header>")
MISSING_MESSAGE = ("Access denied due to missing subscription key. "
                   "Make sure to include subscription key when making requests to this API.")
INVALID_MESSAGE = ("Access denied due to invalid subscription key. "
                   "Make sure to provide a valid key for an active subscription.")


class _Farm:
    def simulated_url(self, name: str, url: str) -> str:
        return url


def _policy(inbound: str = "", on_error: str = "", *, base: bool = True) -> str:
    first = "<base />" if base else ""
    return (f"<policies><inbound>{first}{inbound}</inbound><backend>{first or '<forward-request />'}</backend>"
            f"<outbound>{first}</outbound><on-error>{first}{on_error}</on-error></policies>")


def _gateway(*, api_on_error: str = "", api_inbound: str = "") -> GatewayRuntime:
    plane = ManagementPlane()
    put = plane.store.put
    put(ResourceKey(ResourceKind.API, "a"), {"displayName": "a", "path": "a", "protocols": ["https"]})
    put(ResourceKey(ResourceKind.OPERATION, "op", "a"), {"method": "GET", "urlTemplate": "/x"})
    put(ResourceKey(ResourceKind.SUBSCRIPTION, "s1"), {"displayName": "s1", "scope": "/apis", "state": "active",
                                                       "primaryKey": KEY, "secondaryKey": "k-second"})
    put(ResourceKey(ResourceKind.GLOBAL_POLICY), {"value": _policy(on_error=DUMP.format(scope="global"), base=False)})
    put(ResourceKey(ResourceKind.API_POLICY, "a"), {"value": _policy(api_inbound, api_on_error
                                                                     or DUMP.format(scope="api"))})
    put(ResourceKey(ResourceKind.OPERATION_POLICY, "op", "a"), {"value": _policy(on_error=DUMP.format(scope="op"))})
    runtime = GatewayRuntime(plane, DefaultGatewayServices(object()), _Farm())  # type: ignore[arg-type]
    runtime.rebuild()
    return runtime


def _send(gateway: GatewayRuntime, key: str | None = None) -> tuple[int, dict[str, str], Any, dict[str, Any]]:
    headers = [("host", "gw.test")] + ([("ocp-apim-subscription-key", key)] if key is not None else [])
    status, out, body, record = asyncio.run(gateway.handle("GET", "/a/x", "", headers, b"", "127.0.0.1", TRACE_ID))
    return status, dict(out), body, record


@pytest.mark.parametrize(("key", "reason", "message", "client_message"), [
    (None, "SubscriptionKeyNotFound", MISSING_MESSAGE,
     "Access denied due to missing subscription key. Make sure to include subscription key when making requests "
     "to an API."),
    ("wrong", "SubscriptionKeyInvalid", INVALID_MESSAGE, INVALID_MESSAGE),
])
def test_a_refused_key_runs_on_error_of_every_scope_then_answers_401(key: str | None, reason: str, message: str,
                                                                     client_message: str) -> None:
    status, headers, body, record = _send(_gateway(), key)
    seen = f"authorization|{reason}|{message}|401"
    assert (headers["x-global"], headers["x-api"], headers["x-op"]) == (seen, seen, seen)
    # on-error set no response: the client gets APIM's 401 as before.
    assert status == 401 and json.loads(body) == {"statusCode": 401, "message": client_message}
    assert headers["www-authenticate"] == ('AzureApiManagementKey realm="http://gw.test/a",'
                                          'name="Ocp-Apim-Subscription-Key",type="header"')
    assert headers["content-type"] == "application/json"
    assert (record["status"], record["operation"], record["subscription"]) == (401, "op", None)


def test_on_error_may_answer_a_refused_key_itself() -> None:
    answer = ('<choose><when condition="@(context.LastError.Reason == &quot;SubscriptionKeyNotFound&quot;)">'
              '<return-response><set-status code="403" reason="Forbidden" /></return-response></when></choose>')
    gateway = _gateway(api_on_error=answer)
    assert _send(gateway)[0] == 403
    assert _send(gateway, "wrong")[0] == 401  # SubscriptionKeyInvalid: not answered by the policy


def test_an_expression_failure_answers_apims_generic_500_with_the_request_id() -> None:
    failing = '<set-variable name="n" value="@(((string)null).Length)" />'
    status, headers, body, record = _send(_gateway(api_inbound=failing), KEY)
    assert status == 500
    assert json.loads(body) == {"statusCode": 500, "message": "Internal server error", "activityId": TRACE_ID}
    assert headers["x-api"].startswith("set-variable|ExpressionValueEvaluationFailure|")  # LastError keeps the detail
    assert any(event[3] == "error: ExpressionValueEvaluationFailure" for event in record["events"])


def test_a_policy_that_no_longer_compiles_answers_the_generic_500_and_traces_why() -> None:
    gateway = _gateway()
    gateway._broken[("api", "a", "")] = "named value 'gone' does not exist"
    status, _, body, record = _send(gateway, KEY)
    assert status == 500
    assert json.loads(body) == {"statusCode": 500, "message": "Internal server error", "activityId": TRACE_ID}
    assert record["events"][0][3] == "Policy of api/a no longer compiles: named value 'gone' does not exist"
