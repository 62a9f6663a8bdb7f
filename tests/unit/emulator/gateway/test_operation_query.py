"""The gateway gives policies the query part of the matched operation's URL template (rewrite-uri needs it)."""

from __future__ import annotations

import asyncio

from toolkit.emulator.gateway.app import GatewayRuntime
from toolkit.emulator.management import ManagementPlane, ResourceKey, ResourceKind
from toolkit.emulator.policy.default_services import DefaultGatewayServices


class _Farm:
    def simulated_url(self, name: str, url: str) -> str:
        return url


def test_rewrite_uri_leaves_out_the_operation_templates_query_parameters() -> None:
    # the rewrite-uri docs' example: /get?a=b&c=d, operation /get?a={b}, template /put → /put?c=d
    plane = ManagementPlane()
    plane.store.put(ResourceKey(ResourceKind.API, "a1", ""), {"displayName": "a1", "path": "a1", "protocols": ["https"],
                                                               "subscriptionRequired": False})
    plane.store.put(ResourceKey(ResourceKind.OPERATION, "get", "a1"), {"method": "GET", "urlTemplate": "/get?a={b}"})
    plane.store.put(ResourceKey(ResourceKind.API_POLICY, "a1", ""), {"value": (
        '<policies><inbound><base /><rewrite-uri template="/put" /><return-response><set-body>'
        "@(context.Request.Url.QueryString)</set-body></return-response></inbound>"
        "<backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>")})
    gateway = GatewayRuntime(plane, DefaultGatewayServices(object()), _Farm())  # type: ignore[arg-type]
    gateway.rebuild()
    status, _, body, _ = asyncio.run(gateway.handle("GET", "/a1/get", "a=b&c=d", [], b"", "10.0.0.1", "t1"))
    assert (status, body) == (200, b"?c=d")
