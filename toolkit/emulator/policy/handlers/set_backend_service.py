"""``<set-backend-service>``: which backend (single, pool) or base URL the request goes to."""

from __future__ import annotations

from typing import Any

from toolkit.emulator.policy.document import Policy
from toolkit.emulator.policy.errors import PolicyError
from toolkit.emulator.policy.registry import handler
from toolkit.emulator.policy.routing import url_without_query
from toolkit.emulator.policy.values import text_of


@handler(
    "set-backend-service",
    sections=("inbound", "backend"),
    attributes=("backend-id", "base-url"),
    notes="Exactly one of backend-id (a single backend or a pool; a pool member is drawn at each forward) "
    "and base-url. Service Fabric attributes (sf-*) are not supported.",
)
class SetBackendService(Policy):
    """Route the request to a backend entity or a URL."""

    __slots__ = ("backend_id", "base_url")

    def __init__(self, backend_id: Any, base_url: Any) -> None:
        super().__init__()
        self.backend_id = backend_id
        self.base_url = base_url

    @classmethod
    def compile(cls, element: Any, cc: Any) -> SetBackendService:
        """Exactly one target; a constant backend-id must exist, a constant URL must be http(s)."""
        backend_id = cc.value(element, "backend-id", expect="string")
        base_url = cc.value(element, "base-url", expect="string")
        if (backend_id is None) == (base_url is None):
            raise cc.reject(element, "<set-backend-service> needs exactly one of 'backend-id' and 'base-url'")
        if backend_id is not None and not backend_id.is_expression:
            if not backend_id.source.strip():
                raise cc.reject(element, "<set-backend-service> attribute 'backend-id' is empty")
            cc.backend_reference(element, "backend-id", backend_id.source)
        if base_url is not None and not base_url.is_expression and not _is_http_url(base_url.source):
            raise cc.reject(element, f"<set-backend-service> attribute 'base-url': {base_url.source!r} is not an http(s) URL")
        return cls(backend_id, base_url)

    async def run(self, ctx: Any, services: Any) -> None:
        """Set ``ctx.backend_id`` (clearing the URL) or ``ctx.backend_url`` (clearing the id)."""
        if self.backend_id is not None:
            backend_id = text_of(self.backend_id, ctx)
            if not backend_id:
                raise PolicyError("set-backend-service: backend-id evaluated to an empty string.",
                                  source="set-backend-service", reason="BackendNotFound")
            ctx.backend_id, ctx.backend_url = backend_id, None
            if ctx.trace is not None:  # the message is built only when tracing
                ctx.note("set-backend-service", f"backend-id {backend_id}")
            return
        url = text_of(self.base_url, ctx)
        if not _is_http_url(url):
            raise PolicyError(f"set-backend-service: base-url {url_without_query(url)!r} is not an http(s) URL.",
                              source="set-backend-service", reason="InvalidBackendUrl")
        ctx.backend_id, ctx.backend_url = None, url
        if ctx.trace is not None:
            ctx.note("set-backend-service", f"base-url {url_without_query(url)}")  # a query may hold a key


def _is_http_url(text: str) -> bool:
    lowered = text.strip().lower()
    return lowered.startswith(("http://", "https://")) and len(lowered) > len("https://")
