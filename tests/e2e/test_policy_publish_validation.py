"""Publishing a policy the engine cannot run is refused by the emulator's management API (real SDK), with
the element, attribute or expression and its line: nothing is silently ignored."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.apimanagement.models import ApiCreateOrUpdateParameter, BackendContract, PolicyContract

from toolkit.emulator.runtime import Emulator
from toolkit.testing.emulator_servers import management_client

RG, SVC = "rg", "svc"


@pytest.fixture(scope="module")
def sdk() -> Iterator[object]:
    with Emulator() as emulator:
        client = management_client(emulator.management_url, emulator.ca_bundle_path, token=emulator.control_token)
        client.backend.create_or_update(RG, SVC, "aoai", BackendContract(url="https://aoai.openai.azure.com",
                                                                        protocol="http"))
        client.api.begin_create_or_update(
            RG, SVC, "chat", ApiCreateOrUpdateParameter(path="chat", display_name="chat", protocols=["https"])
        ).result()
        yield client
        client.close()


def _put(client: object, xml: str) -> None:
    client.api_policy.create_or_update(RG, SVC, "chat", "policy", PolicyContract(value=xml, format="rawxml"))  # type: ignore[attr-defined]


GOOD = """<policies>
    <inbound><base /><set-backend-service backend-id="aoai" /></inbound>
    <backend><retry condition="@(context.Response.StatusCode == 429)" count="1" interval="0">
        <forward-request buffer-request-body="true" /></retry></backend>
    <outbound><base /></outbound>
    <on-error><base /></on-error>
</policies>"""


@pytest.mark.parametrize(
    ("broken", "expected", "line"),
    [
        ('<set-backend-service backend-id="aoai" />', "the local emulator does not support <publish-to-dapr> (APIM does)",
         2),  # an APIM element the emulator does not run
        ('<set-backend-service backend-id="aoai" colour="blue" />', "colour", 2),  # unknown attribute
        ('<set-backend-service backend-id="aoai" /><set-variable name="x" value="@(System.IO.File.Exists(&quot;x&quot;))" />',
         "System.IO", 2),  # unsupported expression
        ('<set-backend-service backend-id="nowhere" />', "nowhere", 2),  # backend that does not exist
    ],
)
def test_unsupported_policy_is_refused_with_its_line(sdk: object, broken: str, expected: str, line: int) -> None:
    xml = GOOD.replace('<set-backend-service backend-id="aoai" />', broken)
    if "publish-to-dapr" in expected:
        xml = xml.replace("<base /><set-backend", '<base /><publish-to-dapr topic="t">x</publish-to-dapr><set-backend')
    with pytest.raises(HttpResponseError) as caught:
        _put(sdk, xml)
    assert caught.value.status_code == 400
    message = str(caught.value)  # the problem is in details[] (under APIM's generic top line), which str() shows
    assert expected in message
    assert f"line {line}" in message or f":{line}" in message


def test_forward_request_outside_backend_is_refused(sdk: object) -> None:
    xml = GOOD.replace("<outbound><base /></outbound>", "<outbound><base /><forward-request /></outbound>")
    with pytest.raises(HttpResponseError) as caught:
        _put(sdk, xml)
    assert caught.value.status_code == 400 and "forward-request" in str(caught.value)


def test_the_good_policy_is_accepted(sdk: object) -> None:
    _put(sdk, GOOD)
    stored = sdk.api_policy.get(RG, SVC, "chat", "policy", format="rawxml")  # type: ignore[attr-defined]
    assert "forward-request" in stored.value
