"""send-request, the internal value cache and rate-limit-by-key through the real gateway (real SDK, loopback)."""

from __future__ import annotations

import httpx
from azure.mgmt.apimanagement.models import NamedValueCreateContract

from emulator_helpers import CHAT_PATH, publish_chat_api

from toolkit.emulator.runtime import RESOURCE_GROUP as RG
from toolkit.emulator.runtime import SERVICE_NAME as SVC
from toolkit.emulator.runtime import Emulator
from toolkit.testing.emulator_servers import management_client

POLICY = """<policies>
  <inbound>
    <base />
    <rate-limit-by-key calls="3" renewal-period="60" counter-key="@(context.Request.IpAddress)" />
    <cache-lookup-value key="side-model" variable-name="model" />
    <choose>
      <when condition="@(!context.Variables.ContainsKey(&quot;model&quot;))">
        <send-request mode="new" response-variable-name="side" timeout="10">
          <set-url>{{side-url}}</set-url>
          <set-method>POST</set-method>
          <set-header name="Content-Type" exists-action="override"><value>application/json</value></set-header>
          <set-header name="api-key" exists-action="override"><value>{{side-key}}</value></set-header>
          <set-body>@(new JObject(new JProperty("messages", new JArray(new JObject(
              new JProperty("role", "user"), new JProperty("content", "ping"))))).ToString())</set-body>
        </send-request>
        <set-variable name="model" value="@(((IResponse)context.Variables[&quot;side&quot;]).Body.As&lt;JObject&gt;()[&quot;model&quot;].ToString())" />
        <cache-store-value key="side-model" value="@((string)context.Variables[&quot;model&quot;])" duration="60" />
      </when>
    </choose>
    <set-backend-service backend-id="aoai" />
  </inbound>
  <backend><base /></backend>
  <outbound><base /><set-header name="x-side-model" exists-action="override"><value>@((string)context.Variables["model"])</value></set-header></outbound>
  <on-error><base /></on-error>
</policies>"""


def test_a_side_call_is_cached_and_calls_are_limited_per_key() -> None:
    with Emulator(seed=4) as emulator:
        client = management_client(emulator.management_url, emulator.ca_bundle_path, token=emulator.control_token)
        side_url = emulator.farm.url_for("side") + "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"
        client.named_value.begin_create_or_update(RG, SVC, "side-url", NamedValueCreateContract(
            display_name="side-url", value=side_url)).result()
        client.named_value.begin_create_or_update(RG, SVC, "side-key", NamedValueCreateContract(  # Azure OpenAI's key
            display_name="side-key", value=emulator.farm.api_key("side"), secret=True)).result()
        client.close()
        client = publish_chat_api(emulator, POLICY, {name: f"https://{name}.openai.azure.com/openai"
                                                     for name in ("aoai", "side")}, subscription_required=False)
        url = emulator.gateway_url + CHAT_PATH
        with httpx.Client(timeout=30.0) as http:
            answers = [http.post(url, json={"messages": [{"role": "user", "content": "hi"}]}) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert {a.headers["x-side-model"] for a in answers[:3]} == {answers[0].headers["x-side-model"]}
        assert answers[0].headers["x-side-model"]  # the side backend's model name
        assert answers[3].headers["retry-after"] == "60"
        assert emulator.farm.backend("side").stats.requests == 1  # later calls found the cached value

        # The window slides (the emulator's clock moved through its control API): one call at t, two at t+30, and at
        # t+61 the 60 s window still holds t+30's two, so one call fits (a fixed window renewed at t+60 would take 3).
        def advance(seconds: int) -> None:
            http.post(f"{emulator.control_url}/clock", json={"advance": seconds},
                      headers={"Authorization": f"Bearer {emulator.control_token}"}).raise_for_status()

        with httpx.Client(timeout=30.0) as http:
            advance(61)
            statuses = [http.post(url, json={"messages": [{"role": "user", "content": "hi"}]}).status_code]
            advance(30)
            statuses += [http.post(url, json={"messages": [{"role": "user", "content": "hi"}]}).status_code
                         for _ in range(2)]
            advance(31)
            later = [http.post(url, json={"messages": [{"role": "user", "content": "hi"}]}) for _ in range(2)]
        assert statuses + [a.status_code for a in later] == [200, 200, 200, 200, 429]
        assert later[1].headers["retry-after"] in ("29", "30")  # t+30's calls leave at t+90; milliseconds apart
        client.close()
