"""Metrics and events recorded by policies are readable through the control API (real SDK, real gateway)."""

from __future__ import annotations

import httpx
from emulator_helpers import CHAT_PATH, publish_chat_api
from toolkit.emulator.runtime import Emulator
from toolkit.testing.emulator_servers import control_client

POLICY = """<policies>
  <inbound>
    <base />
    <set-backend-service backend-id="aoai" />
    <llm-emit-token-metric namespace="usage"><dimension name="Subscription ID" /></llm-emit-token-metric>
    <trace source="corpus" severity="information"><message>@("caller " + context.Subscription.Id)</message></trace>
  </inbound>
  <backend><base /></backend>
  <outbound><base /><log-to-eventhub logger-id="audit">@(context.Response.StatusCode.ToString())</log-to-eventhub></outbound>
  <on-error><base /></on-error>
</policies>"""


def test_metrics_and_events_reach_the_control_api_and_reset_clears_them() -> None:
    with Emulator(seed=1) as emulator:
        client = publish_chat_api(emulator, POLICY, {"aoai": "https://aoai.openai.azure.com/openai"},
                                  subscription_key_parameter_names={"header": "api-key", "query": "subscription-key"})
        key = emulator.create_subscription("team-a", key="k-team-a")
        with httpx.Client(timeout=30.0) as http, control_client(emulator) as control:
            answer = http.post(emulator.gateway_url + CHAT_PATH, headers={"api-key": key},
                               json={"messages": [{"role": "user", "content": "Hello"}]})
            assert answer.status_code == 200
            usage = answer.json()["usage"]
            metrics = control.get("/metrics", params={"name": "Total Tokens"}).json()["metrics"]
            assert [(m["namespace"], m["value"], m["dimensions"]) for m in metrics] == [
                ("usage", usage["total_tokens"], {"Subscription ID": "team-a"})]
            events = control.get("/events").json()["events"]
            assert [(e["kind"], e["message"]) for e in events] == [("trace", "caller team-a"),
                                                                  ("log-to-eventhub", "200")]
            traces = control.get("/events", params={"kind": "trace"}).json()["events"]
            assert [e["trace_id"] for e in traces] == [answer.headers["x-emulator-trace-id"]]
            logged = control.get("/events", params={"kind": "log-to-eventhub"}).json()["events"]
            assert [(e["logger"], e["message"]) for e in logged] == [("audit", "200")]
            assert control.post("/reset").status_code == 204
            assert control.get("/metrics").json() == {"metrics": []}
        client.close()
