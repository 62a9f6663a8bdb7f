"""The gateway data plane: route to an API, check the subscription key, run the policies, answer.

A request that fails a built-in step (no operation matches, a missing or invalid subscription key) runs only the
``<on-error>`` sections of its chain, with APIM's predefined error in ``context.LastError``.

`GatewayRuntime` keeps compiled policies and backends in step with the management store (it listens to
every change), and is itself the ASGI app (raw ASGI: this is the hot path).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import tempfile
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from threading import Lock
from typing import Any
from urllib.parse import parse_qsl

from toolkit.emulator.gateway.after_answer import AfterAnswerWork
from toolkit.emulator.gateway.api_routes import RouteTable, scheme_of
from toolkit.emulator.gateway.busy_poll import BusyPoll
from toolkit.emulator.gateway.http_client import StreamedBody
from toolkit.emulator.management.hooks import PolicyScope
from toolkit.emulator.management.plane import ManagementPlane
from toolkit.emulator.management.store import ChangeEvent, ResourceKey, ResourceKind
from toolkit.emulator.management.validate_api import version_set_of
from toolkit.emulator.policy import CompiledPolicy, RequestContext, Trace, compile_policy, run_after_answer, run_pipeline
from toolkit.emulator.policy.context import events_to_list
from toolkit.emulator.gateway.backend_credentials import resolve_named_values
from toolkit.emulator.gateway.operations import MatchedOperation, OperationTable, operation_not_found
from toolkit.emulator.policy.errors import PolicyError, PolicyRejected, internal_error_body, json_error_body
from toolkit.emulator.policy.pipeline import resolve_chain, run_on_error
from toolkit.emulator.policy.preflight import inbound_cors, run_preflight
from toolkit.emulator.hosting import http_date
from toolkit.emulator.request_guard import GATEWAY_MAX_BUFFERED_BYTES
from toolkit.emulator.simulator.farm import SimulatorFarm

log = logging.getLogger(__name__)

TRACE_HEADER = "x-emulator-trace-id"
FORWARDED_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})
DEFAULT_KEY_HEADER = "Ocp-Apim-Subscription-Key"
DEFAULT_KEY_QUERY = "subscription-key"
MISSING_KEY = ("Access denied due to missing subscription key. "
               "Make sure to include subscription key when making requests to an API.")
# context.LastError.Message of a missing key, as the docs list it (clients get MISSING_KEY)
MISSING_KEY_ERROR = ("Access denied due to missing subscription key. "
                     "Make sure to include subscription key when making requests to this API.")
INVALID_KEY = ("Access denied due to invalid subscription key. "
               "Make sure to provide a valid key for an active subscription.")

SUBSCRIPTION_CACHE_SIZE = 1024
_UNKNOWN: Any = object()

PolicyKey = tuple[str, str, str]  # (scope, api, operation): ("global", "", ""), ("api", name, ""), ...
Answer = tuple[int, list[tuple[str, str]], Any, dict[str, Any]]  # status, headers, body or stream, trace record
GLOBAL_POLICY_KEY: PolicyKey = ("global", "", "")


def _mentions(text: str, names: set[str]) -> bool:
    """Whether ``text`` mentions any of ``names`` (case-insensitive: a superset of real references)."""
    lowered = text.lower()
    return any(name.lower() in lowered for name in names)


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
    version: str = ""  # apiVersion, when the API belongs to a version set
    scheme: str = ""  # its version set's versioningScheme ("" when not in one)
    version_name: str = ""  # the query parameter or header holding the version (Query/Header)


def _readable(record: dict[str, Any]) -> dict[str, Any]:
    """A kept trace as readers get it: its events (kept as recorded, converted only when read) as dicts."""
    return {**record, "events": events_to_list(record["events"])}


class TraceLog:
    """The last ``capacity`` request traces by trace id (bounded: old ones are dropped).

    A record's ``events`` are `Trace` events as recorded (tuples): most traces are never read, so they are
    converted to their JSON-ready form when they are.
    """

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
            record = self._traces.get(trace_id)
        return _readable(record) if record is not None else None

    def latest(self, limit: int) -> list[dict[str, Any]]:
        """The newest ``limit`` traces, newest first."""
        with self._lock:
            records = list(reversed(list(self._traces.values())[-limit:]))
        return [_readable(record) for record in records]

    def clear(self) -> None:
        """Forget every trace."""
        with self._lock:
            self._traces.clear()


class GatewayRuntime:
    """The published gateway: APIs, compiled policies and backends, kept in step with every management change."""

    def __init__(
        self,
        plane: ManagementPlane,
        services: Any,
        farm: SimulatorFarm,
        *,
        traces: TraceLog | None = None,
        trace_clock: Callable[[], float] | None = None,
        busy_poll_window: float = 0.0,
    ) -> None:
        self.plane = plane
        self.services = services
        self.farm = farm
        self.traces = traces or TraceLog()
        self._trace_clock = trace_clock
        self._routes = RouteTable(())
        self._version_sets: dict[str, dict[str, Any]] = {}
        self._operations: dict[str, OperationTable] = {}
        self._policies: dict[PolicyKey, CompiledPolicy | None] = {}
        self._broken: dict[PolicyKey, str] = {}
        self._backend_names: set[str] = set()
        self._api_properties: dict[str, dict[str, Any]] = {}
        self._policy_sources: dict[PolicyKey, str] = {}  # the XML each compiled (or broken) policy came from
        self._named_values: dict[str, str] = {}
        self._named_value_display: dict[str, str] = {}  # named value resource name -> its display name
        self._backend_credentials: dict[str, str] = {}  # backend -> its credentials as JSON (they may mention {{nv}})
        self._fragment_sources: dict[str, str] = {}
        self._fragments: dict[str, CompiledPolicy | str] = {}
        self._built = False
        # Subscription by key, as the store had it since the last change (every commit starts a new dict).
        self._subscriptions: dict[str, Any] = {}
        self.after_answer = AfterAnswerWork()  # started by `backend_call_sending`
        self.busy_poll = BusyPoll(busy_poll_window)  # polls through short waits (gateway/busy_poll.py)
        # The first rebuild is the caller's, once the simulated backends can be served (after start).
        plane.store.subscribe(self._on_change)

    # -- keeping in step with the management plane ---------------------------------------------
    # A write reloads only what it reaches (an apply of N resources makes N writes: a whole rebuild per
    # write would make it quadratic). A policy is recompiled when it is written, or when a named value,
    # fragment or backend (created or deleted) whose name its XML mentions changes: a text match, so
    # it may recompile a policy that does not need it, never miss one that does.

    def _on_change(self, events: Sequence[ChangeEvent]) -> None:
        self._subscriptions = {}  # a new dict: a lookup racing this change fills the old one, never this
        if self._built:
            self.update({event.key for event in events})
        else:
            self.rebuild()

    def rebuild(self, *, strict: bool = True) -> None:
        """Recompile everything from the store (breaker state survives).

        ``strict``: a backend the gateway cannot load raises, so that the store undoes the write that
        brought it. Not strict (serving what a ``--state`` file restored): it is logged and left out,
        and requests that need it fail naming it; the rest of the gateway serves.
        """
        view = self.plane.view
        self._named_values = view.named_values()
        self._named_value_display = {r.key.name: str(r.properties["displayName"])
                                     for r in self.plane.store.list(ResourceKind.NAMED_VALUE)}
        backends = view.backends()
        self._load_backends(backends, set(backends) | self._backend_names, strict=strict)
        sources = {r.key.name: str(r.properties.get("value", "")) for r in self.plane.store.list(ResourceKind.FRAGMENT)}
        for name in self._fragment_sources.keys() - sources.keys():
            self.services.remove_fragment(name)
        self._fragment_sources = sources
        self._fragments = {}
        self._compile_fragments(set(self._fragment_sources))
        self._version_sets = self._read_version_sets()
        apis = view.apis()
        keys = [GLOBAL_POLICY_KEY, *(key for name in apis for key in self._policy_keys_of(name))]
        self._swap_in(apis, {name: OperationTable(view.operations(name)) for name in apis}, keys, fresh=True)
        self._built = True

    def update(self, keys: set[ResourceKey]) -> None:
        """Bring the gateway in step with one committed transaction that changed ``keys``."""
        view = self.plane.view
        # Only what the write touched is read: a read of every named value or backend per write would make
        # an apply of N resources quadratic.
        changed_values = self._take_named_values({key.name for key in keys if key.kind is ResourceKind.NAMED_VALUE})
        backend_names = {key.name for key in keys if key.kind is ResourceKind.BACKEND}
        if backend_names or changed_values:
            if changed_values:  # credentials resolve {{named values}}
                backend_names |= {name for name, text in self._backend_credentials.items()
                                  if _mentions(text, changed_values)}
            known_before = set(self._backend_names)
            self._load_backends({name: view.backend(name) for name in backend_names}, backend_names, strict=True)
            changed_backends = known_before ^ self._backend_names  # created or deleted: policies name them
        else:
            changed_backends = set()
        changed_fragments = self._update_fragments({key.name for key in keys if key.kind is ResourceKind.FRAGMENT},
                                                   changed_values)
        mentioned = changed_values | changed_fragments | changed_backends

        if any(key.kind is ResourceKind.VERSION_SET for key in keys):  # a scheme changes how its APIs route
            self._version_sets = self._read_version_sets()
        apis = dict(self._api_properties)
        operations = dict(self._operations)
        recompile = {key for key, text in self._policy_sources.items() if mentioned and _mentions(text, mentioned)}
        for key in keys:
            if key.kind is ResourceKind.API:
                properties = view.served_api(key.name)
                if properties is None:
                    apis.pop(key.name, None)
                    operations.pop(key.name, None)
                else:
                    if key.name not in apis:  # (re)created: its policies start to apply
                        recompile.update(self._policy_keys_of(key.name))
                    apis[key.name] = properties
                    operations[key.name] = OperationTable(view.operations(key.name))
            elif key.kind is ResourceKind.OPERATION and key.parent in apis:
                operations[key.parent] = OperationTable(view.operations(key.parent))
            elif key.kind is ResourceKind.GLOBAL_POLICY:
                recompile.add(GLOBAL_POLICY_KEY)
            elif key.kind is ResourceKind.API_POLICY:
                recompile.add(("api", key.name, ""))
            elif key.kind is ResourceKind.OPERATION_POLICY:
                recompile.add(("operation", key.parent, key.name))
        self._swap_in(apis, operations, recompile, fresh=False)

    def _take_named_values(self, names: set[str]) -> set[str]:
        """Take named values ``names`` as the store now has them into the display name -> value map; returns
        the display names whose value changed (created, deleted, renamed or a new value)."""
        if not names:
            return set()
        before = self._named_values
        values = dict(before)  # a new map: policies compiled earlier keep theirs
        touched: set[str] = set()
        for name in names:  # every old display name out first: one transaction may swap two of them
            old_display = self._named_value_display.pop(name, None)
            if old_display is not None:
                values.pop(old_display, None)
                touched.add(old_display)
        for name in names:
            resource = self.plane.store.get(ResourceKey(ResourceKind.NAMED_VALUE, name))
            if resource is not None:
                display = str(resource.properties["displayName"])
                values[display] = str(resource.properties["value"])
                self._named_value_display[name] = display
                touched.add(display)
        self._named_values = values  # now: a failure below is undone by an announcement of the old state
        return {display for display in touched if values.get(display) != before.get(display)}

    def _swap_in(self, apis: dict[str, dict[str, Any]], operations: dict[str, OperationTable],
                 recompile: Iterable[PolicyKey], *, fresh: bool) -> None:
        """Compile ``recompile`` over the current (or, ``fresh``, no) policies; swap in the new tables at once."""
        policies = {} if fresh else dict(self._policies)
        broken = {} if fresh else dict(self._broken)
        sources = {} if fresh else dict(self._policy_sources)
        for key in recompile:
            policies.pop(key, None)
            broken.pop(key, None)
            sources.pop(key, None)
            xml = self._policy_xml(key) if key[0] == "global" or key[1] in apis else None
            if xml is None:
                continue
            sources[key] = xml
            try:
                policies[key] = compile_policy(xml, key[0], named_values=self._named_values,
                                               fragments=self._fragments, backends=self._backend_names)
            except PolicyRejected as exc:
                # Published earlier, broken by a later change (a deleted named value, say): answer 500.
                broken[key] = str(exc)
        for key in [key for key in sources if key[0] != "global" and key[1] not in apis]:  # its API was deleted
            policies.pop(key, None)
            broken.pop(key, None)
            sources.pop(key, None)
        self._api_properties = apis
        self._policy_sources = sources
        self._routes = RouteTable(_published_api(name, props, self._version_sets) for name, props in apis.items())
        self._policies, self._broken, self._operations = policies, broken, operations

    def _read_version_sets(self) -> dict[str, dict[str, Any]]:
        return {r.key.name: r.properties for r in self.plane.store.list(ResourceKind.VERSION_SET)}

    def _policy_keys_of(self, api: str) -> list[PolicyKey]:
        operations = self.plane.store.list(ResourceKind.OPERATION_POLICY, api)
        return [("api", api, ""), *(("operation", api, r.key.name) for r in operations)]

    def _policy_xml(self, key: PolicyKey) -> str | None:
        scope, api, operation = key
        if scope == "global":
            return self.plane.view.policy_xml(PolicyScope.GLOBAL)
        if scope == "api":
            return self.plane.view.policy_xml(PolicyScope.API, api)
        return self.plane.view.policy_xml(PolicyScope.OPERATION, api, operation)

    def _load_backends(self, backends: dict[str, Any], names: set[str], *, strict: bool) -> None:
        """(Re)load backends ``names`` as the store has them (``backends``); those gone are removed."""
        for name in sorted(names):
            properties = backends.get(name)
            if properties is None:
                self.services.remove_backend(name)
                self._backend_names.discard(name)
                self._backend_credentials.pop(name, None)
                continue
            self._backend_names.add(name)  # so that the announcement undoing a failed write removes it
            if properties.get("credentials"):
                self._backend_credentials[name] = json.dumps(properties["credentials"])
            else:
                self._backend_credentials.pop(name, None)
            document = dict(properties)
            if document.get("type", "Single") != "Pool" and document.get("url"):
                document["url"] = self.farm.simulated_url(name, str(document["url"]))
            if document.get("credentials"):
                document["credentials"] = resolve_named_values(document["credentials"], self._named_values)
            try:
                self.services.set_backend(name, document)
            except Exception:
                if strict:
                    raise
                log.exception("gateway: backend %r could not be loaded; requests that need it will fail", name)
                self.services.remove_backend(name)

    def _update_fragments(self, written: set[str], changed_values: set[str]) -> set[str]:
        """Recompile the fragments a change reaches (written, or mentioning what changed); their names."""
        if not written and not changed_values:
            return set()
        for name in written:
            resource = self.plane.store.get(ResourceKey(ResourceKind.FRAGMENT, name))
            if resource is None:
                self._fragment_sources.pop(name, None)
                self._fragments.pop(name, None)
                self.services.remove_fragment(name)
            else:
                self._fragment_sources[name] = str(resource.properties.get("value", ""))
        # Fragments include no fragments (the compiler refuses it): only these are stale.
        stale = set(written) | {name for name, xml in self._fragment_sources.items() if _mentions(xml, changed_values)}
        self._compile_fragments(stale & set(self._fragment_sources))
        return stale

    def _compile_fragments(self, names: set[str]) -> None:
        """Compile fragments ``names`` (the others keep their compiled form); one that fails stays XML (a policy
        including it is refused with the fragment's error)."""
        for name in sorted(names):
            source = self._fragment_sources[name]
            try:
                compiled = compile_policy(source, "fragment", named_values=self._named_values)
            except PolicyRejected:
                self._fragments[name] = source
                continue
            self._fragments[name] = compiled
            self.services.set_fragment(name, compiled)

    # -- serving ---------------------------------------------------------------------------------

    def match(self, path: str, query: str = "", headers: Sequence[tuple[str, str]] = ()) -> PublishedApi | None:
        """The API a request calls: the longest API path prefixing ``path``, and the version it asks for
        (see :mod:`toolkit.emulator.gateway.api_routes`)."""
        found = self._routes.match(path, query, headers)
        return found[0] if found is not None else None  # type: ignore[return-value]

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http":
            return
        body = await read_request_body(receive)
        trace_id = new_trace_id()
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
        raw_headers = []
        dated = sized = False
        for name, value in headers:  # lower-case names (`_answer`, `_finish`)
            if name == "date":
                dated = True
            elif name == "content-length":  # only a HEAD's answer keeps one (`_answer`)
                sized = True
            raw_headers.append((name.encode("latin-1"), value.encode("latin-1")))
        if not dated:  # a proxy passes the backend's Date on and adds one only when it has none (RFC 9110, 6.6.1)
            raw_headers.append((b"date", http_date()))
        if status in _NO_CONTENT:  # no body, nor a Content-Length that would promise one (RFC 9110, 8.6, 15.3.5)
            if not isinstance(payload, bytes):
                payload.close()
            payload = b""
        elif isinstance(payload, bytes) and not sized:
            raw_headers.append((b"content-length", str(len(payload)).encode()))
        raw_headers.append((TRACE_HEADER.encode(), trace_id.encode()))
        await send({"type": "http.response.start", "status": status, "headers": raw_headers})
        if isinstance(payload, bytes):
            await send({"type": "http.response.body", "body": payload})
            self.busy_poll.keep_awake()  # a keep-alive client's next request may be a moment away
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
        route = self._routes.match(path, query, headers) if method in FORWARDED_METHODS else None
        api, prefix = route if route is not None else (None, "")
        found = self._operations[api.name].find(method, path[len(prefix):], query) if api is not None else None
        if found is None and method == "OPTIONS" and api is not None:  # maybe a CORS preflight: only then any cost
            answered = await self._preflight(api, prefix, path, query, headers, body, client_ip, trace_id, record)
            if answered is not None:
                return answered
        if found is None:  # APIM's OperationNotFound: only <on-error> runs (global, and the API's when it matched)
            chain_keys: tuple[tuple[str, str, str], ...] = (("global", "", ""),)
            if api is not None:
                chain_keys += (("api", api.name, ""),)
                record["api"] = api.name
            ctx = self._context(method, path, query, headers, body, client_ip, trace_id, api, None, None)
            return await self._on_error_only(chain_keys, ctx, operation_not_found(), record)
        operation = found.name
        record.update(api=api.name, operation=operation)
        chain_keys = (("global", "", ""), ("api", api.name, ""), ("operation", api.name, operation))
        broken = self._broken_answer(chain_keys, record)
        if broken is not None:
            return broken

        subscription = None
        if api.subscription_required:
            key = _subscription_key(api, headers, query)
            subscription = self._subscription_for_key(key) if key else None
            if subscription is None or not subscription.active or not subscription.covers(api.name):
                ctx = self._operation_context(method, path, query, headers, body, client_ip, trace_id, api, prefix,
                                              found, None)
                return await self._on_error_only(chain_keys, ctx, subscription_key_refused(api, headers, key), record)
            record["subscription"] = subscription.name

        ctx = self._operation_context(method, path, query, headers, body, client_ip, trace_id, api, prefix, found,
                                      subscription)
        if subscription is not None:
            ctx.subscription_key = key
        try:
            await run_pipeline([self._policies.get(key) for key in chain_keys], ctx, self.services)
        finally:  # even when the pipeline failed unexpectedly: a reserved cache store must finish
            if ctx.after_answer:
                self._after_answer(ctx, record)
        return self._answer(ctx, record)

    def _broken_answer(self, chain_keys: Sequence[PolicyKey], record: dict[str, Any]) -> Answer | None:
        """The 500 for a request whose chain holds a policy that no longer compiles, else None. The client gets
        APIM's generic 500 body; why is in the trace."""
        for key in chain_keys:
            if key in self._broken:
                record.update(status=500, events=((0.0, "inbound", "gateway", f"Policy of {'/'.join(filter(None, key))}"
                                                   f" no longer compiles: {self._broken[key]}", None),))
                return 500, [("content-type", "application/json")], internal_error_body(record["trace_id"]), record
        return None

    async def _on_error_only(self, chain_keys: Sequence[PolicyKey], ctx: RequestContext, error: PolicyError,
                             record: dict[str, Any]) -> Answer:
        """A built-in step failed before any policy ran: only ``<on-error>`` of the chain runs (`run_on_error`)."""
        await run_on_error([self._policies.get(key) for key in chain_keys], ctx, self.services, error)
        return self._answer(ctx, record)

    def _operation_context(
        self, method: str, path: str, query: str, headers: list[tuple[str, str]], body: bytes, client_ip: str,
        trace_id: str, api: PublishedApi, prefix: str, found: MatchedOperation, subscription: Any,
    ) -> RequestContext:
        """The context of a request to operation ``found`` of ``api``."""
        ctx = self._context(method, path, query, headers, body, client_ip, trace_id, api, found.name, subscription)
        if api.version:
            ctx.api_version = api.version
            if api.scheme == "Segment":  # the version segment is not part of the backend path
                ctx.path_suffix = path[len(prefix):]
        ctx.matched_parameters = dict(found.parameters)
        ctx.operation_query = found.operation.template.query
        return ctx

    async def _preflight(
        self, api: PublishedApi, prefix: str, path: str, query: str, headers: list[tuple[str, str]], body: bytes,
        client_ip: str, trace_id: str, record: dict[str, Any],
    ) -> Answer | None:
        """A CORS preflight (OPTIONS with Origin and Access-Control-Request-Method) that no OPTIONS operation
        matched, answered by the cors policies in scope of the operation its Access-Control-Request-Method
        names; None (OperationNotFound) when it is not a preflight or no such operation or cors policy exists.

        As the cors docs' usage notes say, "Only the cors policy is evaluated on the OPTIONS request during
        preflight": the other policies do not run, and an unmatched preflight that no cors policy ends gets an
        empty 200. No subscription key is asked for: browsers never send one on a preflight, and the docs' "Common
        configuration issues" say a product-scope cors fails when the key is in a header, i.e. APIM answers
        preflights from the global and API scopes without a subscription.
        """
        requested = preflight_method(headers)
        found = self._operations[api.name].find(requested, path[len(prefix):], query) if requested else None
        if found is None:
            return None
        chain_keys = (("global", "", ""), ("api", api.name, ""), ("operation", api.name, found.name))
        broken = self._broken_answer(chain_keys, record)
        if broken is not None:
            return broken
        chain = resolve_chain([self._policies.get(key) for key in chain_keys])
        policies = inbound_cors(chain, self.services)
        if not policies:
            return None
        record.update(api=api.name, operation=found.name)
        ctx = self._operation_context("OPTIONS", path, query, headers, body, client_ip, trace_id, api, prefix, found,
                                      None)
        await run_preflight(policies, chain, ctx, self.services)
        return self._answer(ctx, record)

    def _after_answer(self, ctx: RequestContext, record: dict[str, Any]) -> None:
        """Run the policies' work for after the answer (`run_after_answer`) once ``__call__`` has written the
        answer, when the gateway next waits on a backend (`AfterAnswerWork`). Its trace events join the record."""

        async def after() -> None:
            await run_after_answer(ctx)
            if ctx.trace is not None:
                record["events"] = tuple(ctx.trace.events)

        self.after_answer.add(after)

    def backend_call_sending(self) -> None:
        """The backend client's ``on_send`` hook (EmulatorRuntime sets it): the gateway is about to wait on the
        network, the time for the work held for after the answers."""
        self.after_answer.start()
        self.busy_poll.keep_awake()

    def _subscription_for_key(self, key: str) -> Any:
        """The subscription holding ``key`` (or None), remembered until the next management change."""
        known = self._subscriptions
        found = known.get(key, _UNKNOWN)
        if found is _UNKNOWN:
            found = self.plane.view.subscription_for_key(key)
            if len(known) >= SUBSCRIPTION_CACHE_SIZE:
                known.clear()  # a flood of wrong keys: start over rather than grow
            known[key] = found
        return found

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
        record.update(status=status, backend=ctx.selected_backend, events=tuple(ctx.trace.events) if ctx.trace is not None else ())
        # names lower-case; a HEAD's answer keeps the Content-Length it announces (of the body a GET would get)
        computed = _COMPUTED if ctx.request_method != "HEAD" else _COMPUTED_FOR_HEAD
        headers_out = [(k, v) for k, v in ctx.response_headers.items() if k not in computed]
        if ctx.response_stream is not None:
            record["streamed"] = True
            return status, headers_out, ctx.response_stream, record
        return status, headers_out, ctx.response_body or b"", record


_COMPUTED = frozenset({"content-length", TRACE_HEADER})
# Answers that have no content: a policy's body for them (return-response with 204, say) is dropped, as a server must.
_NO_CONTENT = frozenset({204, 304})
_COMPUTED_FOR_HEAD = frozenset({TRACE_HEADER})


# Trace ids need to be unique, not secret (traces are read through the token-protected control API): drawn
# from a generator seeded from the OS once, rather than a getrandom system call per request.
_trace_bits = random.Random(os.urandom(32)).getrandbits
_UUID4_CLEAR = ~((0xF << 76) | (0x3 << 62))
_UUID4_SET = (0x4 << 76) | (0x2 << 62)  # version 4, RFC 4122 variant


def new_trace_id() -> str:
    """A random version-4 UUID as 32 hex digits (the form of ``uuid.uuid4().hex``)."""
    return "%032x" % (_trace_bits(128) & _UUID4_CLEAR | _UUID4_SET)


def preflight_method(headers: list[tuple[str, str]]) -> str | None:
    """The method a CORS preflight asks for (Access-Control-Request-Method), or None when it is no preflight."""
    method = origin = None
    for name, value in headers:
        lowered = name.lower()
        if lowered == "access-control-request-method":
            method = value.strip().upper()
        elif lowered == "origin":
            origin = value
    return method if method and origin is not None else None


def key_challenge(api: PublishedApi, headers: list[tuple[str, str]]) -> str:
    """APIM's challenge on a subscription-key 401: the API's URL as realm and the key header's name.

    As APIM sends it (Microsoft's troubleshooting lab, "Scenario 3 - Receiving unauthorized errors (401)",
    blogs.msdn.microsoft.com/pratyay/2018/07/29): ``AzureApiManagementKey realm="https://<host>/<api
    path>",name="Ocp-Apim-Subscription-Key",type="header"``; a renamed header is named instead.
    """
    host = next((value for name, value in headers if name.lower() == "host"), "localhost")
    realm = f"http://{host}/{api.path}".rstrip("/")
    return f'AzureApiManagementKey realm="{realm}",name="{api.key_header}",type="header"'


def subscription_key_refused(api: PublishedApi, headers: list[tuple[str, str]], key: str | None) -> PolicyError:
    """APIM's built-in subscription check failed: its predefined error (source ``authorization``, reason
    SubscriptionKeyNotFound or SubscriptionKeyInvalid, the docs' message; "Predefined errors for built-in steps" in
    api-management-error-handling-policies.md) goes to ``<on-error>``. Its default response is the 401 clients get
    from APIM: the body's wording for a missing key differs from LastError.Message ("an API", not "this API")."""
    if key:
        reason, message, client_message = "SubscriptionKeyInvalid", INVALID_KEY, INVALID_KEY
    else:
        reason, message, client_message = "SubscriptionKeyNotFound", MISSING_KEY_ERROR, MISSING_KEY
    return PolicyError(message, source="authorization", reason=reason, status=401,
                       headers=(("content-type", "application/json"), ("www-authenticate", key_challenge(api, headers))),
                       body=json_error_body(401, client_message))


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


def _published_api(name: str, properties: dict[str, Any], version_sets: dict[str, dict[str, Any]]) -> PublishedApi:
    names = properties.get("subscriptionKeyParameterNames") or {}
    version_set = version_set_of(properties)
    versioning = scheme_of(version_sets.get(version_set) if version_set else None)
    return PublishedApi(
        name=name,
        display_name=str(properties.get("displayName") or name),
        path=str(properties.get("path") or "").strip("/"),
        service_url=properties.get("serviceUrl"),
        subscription_required=bool(properties.get("subscriptionRequired", True)),
        key_header=str(names.get("header") or DEFAULT_KEY_HEADER),
        key_query=str(names.get("query") or DEFAULT_KEY_QUERY),
        version=str(properties.get("apiVersion") or "") if versioning.scheme else "",
        scheme=versioning.scheme,
        version_name=versioning.version_name,
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
