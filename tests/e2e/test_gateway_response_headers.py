"""Gateway responses carry one Date header: the backend's when it sent one (APIM passes backend headers through),
else the gateway's own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from emulator_helpers import CHAT_PATH, publish_chat_api
from toolkit.emulator.hosting import AppHost
from toolkit.emulator.runtime import Emulator

BACKEND_DATE = "Mon, 01 Jan 2024 00:00:00 GMT"
POLICY = """<policies><inbound><base /><set-backend-service backend-id="dated" /></inbound>
<backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>"""


async def _dated_backend(scope: dict[str, Any], receive: Any, send: Any) -> None:
    while (await receive()).get("more_body"):
        pass
    body = b'{"choices": []}'
    await send({"type": "http.response.start", "status": 200, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"date", BACKEND_DATE.encode())]})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture(scope="module")
def gateway() -> Iterator[tuple[Emulator, str]]:
    backend = AppHost()
    backend.add("dated", _dated_backend, date_header=False)  # its own Date only
    backend.start()
    try:
        with Emulator() as emulator:
            publish_chat_api(emulator, POLICY, {"dated": backend.url("dated")})
            yield emulator, emulator.create_subscription("s")
    finally:
        backend.stop()


def test_a_forwarded_response_has_the_backends_date_only(gateway: tuple[Emulator, str]) -> None:
    emulator, key = gateway
    response = httpx.post(f"{emulator.gateway_url}/openai{CHAT_PATH}", headers={"Ocp-Apim-Subscription-Key": key},
                          json={"messages": []}, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers.get_list("date") == [BACKEND_DATE]


def test_the_gateways_own_answer_has_one_date(gateway: tuple[Emulator, str]) -> None:
    emulator, _ = gateway
    response = httpx.post(f"{emulator.gateway_url}/openai{CHAT_PATH}", json={"messages": []}, timeout=30)
    assert response.status_code == 401
    dates = response.headers.get_list("date")
    assert len(dates) == 1 and dates[0] != BACKEND_DATE and dates[0].endswith(" GMT")


def test_the_guards_own_answer_has_one_date(gateway: tuple[Emulator, str]) -> None:
    emulator, key = gateway
    response = httpx.post(f"{emulator.gateway_url}/openai{CHAT_PATH}", json={"messages": []}, timeout=30,
                          headers={"Host": "evil.example", "Ocp-Apim-Subscription-Key": key})
    assert response.status_code == 403  # refused by the request guard before the gateway runs
    dates = response.headers.get_list("date")
    assert len(dates) == 1 and dates[0].endswith(" GMT")
