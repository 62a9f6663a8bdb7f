"""Gateway defects found by probing (issue 9), on the sample gateway over real HTTP."""

from __future__ import annotations

import httpx
from e2e_requests import API_VERSION, auth_headers, chat_body

from toolkit.emulator.access import bearer
from toolkit.local import LocalGateway

REMAINING = "x-apim-remaining-tokens"  # the sample's token limit header


def _chat_url(gateway: LocalGateway) -> str:
    return gateway.chat_url("openai", "gpt-4o-mini", API_VERSION)


def test_a_cache_hit_carries_this_requests_headers_not_the_stored_ones(
        gateway: LocalGateway, client: httpx.Client) -> None:
    headers = auth_headers(gateway)
    miss = client.post(_chat_url(gateway), json=chat_body("What is climate change?"), headers=headers)
    assert miss.status_code == 200 and "apim-request-id" in miss.headers
    assert "x-ratelimit-remaining-tokens" in miss.headers
    hit = client.post(_chat_url(gateway), json=chat_body("What is climate change?"), headers=headers)
    assert hit.json()["choices"] == miss.json()["choices"]  # served from the cache
    trace = client.get(f"{gateway.emulator.control_url}/traces/{hit.headers['x-emulator-trace-id']}",
                       headers=bearer(gateway.emulator.control_token)).json()
    assert not [e for e in trace["events"] if e["source"] == "forward-request"]
    # No backend served the hit: no backend request id, no backend quota state.
    assert "apim-request-id" not in hit.headers
    assert not [name for name in hit.headers if name.startswith("x-ratelimit-")]
    # The sample looks the cache up before its token limit: a hit never reaches the limit, so it
    # carries no remaining-tokens value at all (not the one stored with the first answer).
    assert REMAINING in miss.headers
    assert REMAINING not in hit.headers and "x-apim-consumed-tokens" not in hit.headers
