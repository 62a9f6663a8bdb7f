"""The gateway data plane: route to an API, check the subscription key, run the policies, answer.

`GatewayRuntime` keeps compiled policies and backends in step with the management store (it listens to
every change), and is itself the ASGI app (raw ASGI: this is the hot path).
"""

from __future__ import annotations

import asyncio
import json
import logging
import tempfile
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from threading import Lock
from typing import Any
from urllib.parse import parse_qsl

from toolkit.emulator.gateway.http_client import StreamedBody
from toolkit.emulator.management.hooks import PolicyScope
from toolkit.emulator.management.plane import ManagementPlane
from toolkit.emulator.management.store import ResourceKind
from toolkit.emulator.policy import CompiledPolicy, RequestContext, Trace, compile_policy, run_pipeline
from toolkit.emulator.gateway.backend_credentials import resolve_named_values
from toolkit.emulator.gateway.operations import OperationTable, operation_not_found
from toolkit.emulator.policy.errors import PolicyRejected
from toolkit.emulator.policy.pipeline import run_on_error
from toolkit.emulator.request_guard import GATEWAY_MAX_BUFFERED_BYTES
from toolkit.emulator.simulator.farm import SimulatorFarm

log = logging.getLogger(__name__)

TRACE_HEADER = "x-emulator-trace-id"
FORWARDED_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})
DEFAULT_KEY_HEADER = "Ocp-Apim-Subscription-Key"
DEFAULT_KEY_QUERY = "subscription-key"
MISSING_KEY = ("Access denied due to missing subscription key. "
               "Make sure to include subscription key when making requests to an API.")
INVALID_KEY = ("Access denied due to invalid subscription key. "
               "Make sure to provide a valid key for an active subscription.")


@dataclass(frozen=True)
class PublishedApi:
    """An API as the router needs it."""

    name: str
    display_name: str
    path: str
    service_url: str | None
    subscription_required: bool
    key_header: str
    key_query: str


class TraceLog:
    """The last ``capacity`` request traces by trace id (bounded: old ones are dropped)."""

    def __init__(self, capacity: int = 2000) -> None:
        self._capacity = capacity
        self._traces: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = Lock()

    def add(self, trace_id: str, record: dict[str, Any]) -> None:
        """Keep a finished request's trace."""
        with self._lock:
            self._traces[trace_id] = record
            while len(self._traces) > self._capacity:
                self._traces.popitem(last=False)

    def get(self, trace_id: str) -> dict[str, Any] | None:
        """One trace, or None when unknown or dropped."""
        with self._lock:
            return self._traces.get(trace_id)

    def latest(self, limit: int) -> list[dict[str, Any]]:
        """The newest ``limit`` traces, newest first."""
        with self._lock:
            return list(reversed(list(self._traces.values())[-limit:]))

    def clear(self) -> None:
        """Forget every trace."""
        with self._lock:
            self._traces.clear()


class GatewayRuntime:
    """The published gateway: APIs, compiled policies and backends, rebuilt on every management change."""

    def __init__(
        self,
        plane: ManagementPlane,
        services: Any,
        farm: SimulatorFarm,
        *,
        traces: TraceLog | None = None,
        trace_clock: Callable[[], float] | None = None,
    ) -> None:
        self.plane = plane
        self.services = services
        self.farm = farm
        self.traces = traces or TraceLog()
        self._trace_clock = trace_clock
        self._apis: list[PublishedApi] = []
        self._operations: dict[str, OperationTable] = {}
        self._policies: dict[tuple[str, str, str], CompiledPolicy | None] = {}
        self._broken: dict[tuple[str, str, str], str] = {}
        self._backend_names: set[str] = set()
        # The first rebuild is the caller's, once the simulated backends can be served (after start).
        plane.store.subscribe(self._on_change)

    # -- keeping in step with the management plane ---------------------------------------------

    def _on_change(self, events: Any) -> None:
        self.rebuild()

    def rebuild(self, *, strict: bool = True) -> None:
        """Recompile everything from the store (cheap at gateway sizes; breaker state survives).

        ``strict``: a backend the gateway cannot load raises, so that the store undoes the write that
        brought it. Not strict (serving what a ``--state`` file restored): it is logged and left out,
        and requests that need it fail naming it; the rest of the gateway serves.
        """
        view = self.plane.view
        backends = view.backends()
        self._backend_names |= set(backends)  # so that a rebuild after an undone write removes what it set
        named_values = view.named_values()
        for name, properties in backends.items():
            document = dict(properties)
            if document.get("type", "Single") != "Pool" and document.get("url"):
                document["url"] = self.farm.simulated_url(name, str(document["url"]))
            if document.get("credentials"):
                document["credentials"] = resolve_named_values(document["credentials"], named_values)
            try:
                self.services.set_backend(name, document)
            except Exception:
                if strict:
                    raise
                log.exception("gateway: backend %r could not be loaded; requests that need it will fail", name)
                self.services.remove_backend(name)
        for name in self._backend_names - set(backends):
            self.services.remove_backend(name)
        self._backend_names = set(backends)

        fragments = self._compile_fragments(named_values)
        compiled: dict[tuple[str, str, str], CompiledPolicy | None] = {}
        broken: dict[tuple[str, str, str], str] = {}

        def compile_scope(key: tuple[str, str, str], xml: str | None, scope: str) -> None:
            if xml is None:
                return
            try:
                compiled[key] = compile_policy(xml, scope, named_values=named_values, fragments=fragments,
                                               backends=set(backends))
            except PolicyRejected as exc:
                # Published earlier, broken by a later change (a deleted named value, say): answer 500.
                broken[key] = str(exc)

        compile_scope(("global", "", ""), view.policy_xml(PolicyScope.GLOBAL), "global")
        apis: list[PublishedApi] = []
        operations: dict[str, OperationTable] = {}
        for name, properties in view.apis().items():
            apis.append(_published_api(name, properties))
            operations[name] = OperationTable(view.operations(name))
            compile_scope(("api", name, ""), view.policy_xml(PolicyScope.API, name), "api")
            for operation, xml in view.operation_policies(name).items():
                compile_scope(("operation", name, operation), xml, "operation")
        self._apis = sorted(apis, key=lambda api: len(api.path), reverse=True)
        self._policies, self._broken, self._operations = compiled, broken, operations

    def _compile_fragments(self, named_values: dict[str, str]) -> dict[str, Any]:
        fragments: dict[str, Any] = {}
        for resource in self.plane.store.list(ResourceKind.FRAGMENT):
            fragments[resource.key.name] = str(resource.properties.get("value", ""))
        for name, xml in list(fragments.items()):
            try:
                compiled = compile_policy(xml, "fragment", named_values=named_values, fragments=fragments)
            except PolicyRejected:
                continue
            fragments[name] = compiled
            self.services.set_fragment(name, compiled)
        return fragments

    # -- serving ---------------------------------------------------------------------------------

    def match(self, path: str) -> PublishedApi | None:
        """The API whose path is the longest prefix of ``path``."""
        for api in self._apis:
            prefix = "/" + api.path if api.path else ""
            if not prefix or path == prefix or path.startswith(prefix + "/"):
                return api
        return None

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http":
            return
        body = await read_request_body(receive)
        trace_id = uuid.uuid4().hex
        try:
            status, headers, payload, record = await self.handle(
                scope["method"], scope["path"], scope.get("query_string", b"").decode("latin-1"),
                [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]],
                body, (scope.get("client") or ("", 0))[0], trace_id,
            )
        finally:
            if isinstance(body, StreamedBody):
                body.close()
        self.traces.add(trace_id, record)
        raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        if isinstance(payload, bytes):
            raw_headers.append((b"content-length", str(len(payload)).encode()))
        raw_headers.append((TRACE_HEADER.encode(), trace_id.encode()))
        await send({"type": "http.response.start", "status": status, "headers": raw_headers})
        if isinstance(payload, bytes):
            await send({"type": "http.response.body", "body": payload})
            return
        # An event stream: each chunk goes out as it arrives (no buffering); stop when the client goes away.
        gone = asyncio.ensure_future(receive())  # the body was read: the next message is http.disconnect
        try:
            async for chunk in payload:
                if gone.done():
                    return
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            gone.cancel()
            payload.close()

    async def handle(
        self, method: str, path: str, query: str, headers: list[tuple[str, str]], body: bytes, client_ip: str,
        trace_id: str,
    ) -> tuple[int, list[tuple[str, str]], Any, dict[str, Any]]:
        """One request: (status, headers, body, trace record); the body is bytes, or an event stream to relay."""
        record: dict[str, Any] = {"trace_id": trace_id, "method": method, "path": path, "api": None,
                                  "operation": None, "subscription": None, "events": []}
        # An unknown method matches no operation (the emulator forwards the standard methods only).
        api = self.match(path) if method in FORWARDED_METHODS else None
        prefix = "/" + api.path if api is not None and api.path else ""
        found = self._operations[api.name].find(method, path[len(prefix):], query) if api is not None else None
        if found is None:  # APIM's OperationNotFound: only <on-error> runs (global, and the API's when it matched)
            chain_keys: tuple[tuple[str, str, str], ...] = (("global", "", ""),)
            if api is not None:
                chain_keys += (("api", api.name, ""),)
                record["api"] = api.name
            ctx = self._context(method, path, query, headers, body, client_ip, trace_id, api, None, None)
            await run_on_error([self._policies.get(key) for key in chain_keys], ctx, self.services,
                               operation_not_found())
            return self._answer(ctx, record)
        operation = found.name
        record.update(api=api.name, operation=operation)

        subscription = None
        if api.subscription_required:
            key = _subscription_key(api, headers, query)
            subscription = self.plane.view.subscription_for_key(key) if key else None
            if subscription is None or not subscription.active or not subscription.covers(api.name):
                return _finish(record, 401, {"statusCode": 401, "message": INVALID_KEY if key else MISSING_KEY},
                               [("WWW-Authenticate", key_challenge(api, headers))])
            record["subscription"] = subscription.name

        chain_keys = (("global", "", ""), ("api", api.name, ""), ("operation", api.name, operation))
        for key in chain_keys:
            if key in self._broken:
                return _finish(record, 500, {"statusCode": 500, "message": f"Policy of {'/'.join(filter(None, key))} "
                                                                             f"no longer compiles: {self._broken[key]}"})
        ctx = self._context(method, path, query, headers, body, client_ip, trace_id, api, operation, subscription)
        ctx.matched_parameters = dict(found.parameters)
        if subscription is not None:
            ctx.subscription_key = key
        await run_pipeline([self._policies.get(key) for key in chain_keys], ctx, self.services)
        return self._answer(ctx, record)

    def _context(
        self, method: str, path: str, query: str, headers: list[tuple[str, str]], body: bytes, client_ip: str,
        trace_id: str, api: PublishedApi | None, operation: str | None, subscription: Any,
    ) -> RequestContext:
        return RequestContext(
            method, path, query=query, headers=headers, body=body, api_path=api.path if api else "",
            api_id=api.name if api else None, api_name=api.display_name if api else None, operation_id=operation,
            subscription_id=subscription.name if subscription else None,
            subscription_name=subscription.display_name if subscription else None,
            client_ip=client_ip, request_id=trace_id, region="Local", backend_url=api.service_url if api else None,
            trace=Trace(self._trace_clock) if self._trace_clock else Trace(),
        )

    @staticmethod
    def _answer(ctx: RequestContext, record: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes, dict[str, Any]]:
        status = ctx.response_status or 200
        record.update(status=status, backend=ctx.selected_backend,
                      events=ctx.trace.to_list() if ctx.trace is not None else [])
        headers_out = [(k, v) for k, v in ctx.response_headers.items() if k.lower() not in _COMPUTED]
        if ctx.response_stream is not None:
            record["streamed"] = True
            return status, headers_out, ctx.response_stream, record
        return status, headers_out, ctx.response_body or b"", record


_COMPUTED = frozenset({"content-length", TRACE_HEADER})


def _finish(record: dict[str, Any], status: int, body: dict[str, Any],
            extra_headers: list[tuple[str, str]] | None = None) -> tuple[int, list[tuple[str, str]], bytes, dict[str, Any]]:
    record["status"] = status
    record["events"] = [{"ms": 0.0, "section": "inbound", "source": "gateway", "message": body["message"], "data": {}}]
    return status, [("content-type", "application/json"), *(extra_headers or [])], json.dumps(body).encode(), record


def key_challenge(api: PublishedApi, headers: list[tuple[str, str]]) -> str:
    """APIM's challenge on a subscription-key 401: the API's URL as realm and the key header's name.

    As APIM sends it (Microsoft's troubleshooting lab, "Scenario 3 - Receiving unauthorized errors (401)",
    blogs.msdn.microsoft.com/pratyay/2018/07/29): ``AzureApiManagementKey realm="https://<host>/<api
    path>",name="Ocp-Apim-Subscription-Key",type="header"``; a renamed header is named instead.
    """
    host = next((value for name, value in headers if name.lower() == "host"), "localhost")
    realm = f"http://{host}/{api.path}".rstrip("/")
    return f'AzureApiManagementKey realm="{realm}",name="{api.key_header}",type="header"'


def _subscription_key(api: PublishedApi, headers: list[tuple[str, str]], query: str) -> str | None:
    # Only the API's key header: a renamed header (subscriptionKeyParameterNames) replaces the default.
    wanted = api.key_header.lower()
    for name, value in headers:
        if name.lower() == wanted and value:
            return value.strip()
    if query:
        for name, value in parse_qsl(query, keep_blank_values=True):
            if name == api.key_query and value:
                return value
    return None


def _published_api(name: str, properties: dict[str, Any]) -> PublishedApi:
    names = properties.get("subscriptionKeyParameterNames") or {}
    return PublishedApi(
        name=name,
        display_name=str(properties.get("displayName") or name),
        path=str(properties.get("path") or "").strip("/"),
        service_url=properties.get("serviceUrl"),
        subscription_required=bool(properties.get("subscriptionRequired", True)),
        key_header=str(names.get("header") or DEFAULT_KEY_HEADER),
        key_query=str(names.get("query") or DEFAULT_KEY_QUERY),
    )


async def read_request_body(receive: Callable[..., Any], buffer_limit: int = GATEWAY_MAX_BUFFERED_BYTES) -> bytes:
    """The request body: in memory up to ``buffer_limit`` (APIM's maximum buffered payload size), else spooled
    to a temporary file as a StreamedBody that the backend client streams (memory stays flat)."""
    chunks: list[bytes] = []
    size = 0
    spool: Any = None
    try:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if spool is None and size > buffer_limit:
                spool = tempfile.TemporaryFile(prefix="toolkit-gateway-body-")  # noqa: SIM115 - StreamedBody closes it
                spool.writelines(chunks)
                chunks.clear()
            if spool is not None:
                spool.write(chunk)
            else:
                chunks.append(chunk)
            if not message.get("more_body"):
                break
    except BaseException:
        if spool is not None:
            spool.close()  # over the request limit, or the client went away
        raise
    return StreamedBody(spool, size) if spool is not None else b"".join(chunks)


__all__ = ["TRACE_HEADER", "GatewayRuntime", "PublishedApi", "TraceLog"]
