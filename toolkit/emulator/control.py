"""The emulator's control API (JSON over loopback): traces, breakers, faults, clock, subscriptions, tokens.

    GET  /health                                  urls and status
    GET  /metrics?name=   GET /events?kind=       what emit-metric, *-emit-token-metric, trace, log-to-eventhub recorded
    GET  /traces?limit=N    GET /traces/{id}      what the gateway did for a request (id: x-emulator-trace-id)
    GET  /breakers                                every backend's breaker state
    POST /reset                                   breakers, token counters, cache, traces, simulated backends
    GET  /clock             POST /clock           {"speed": 60} and/or {"advance": 61} (seconds)
    GET  /subscriptions     POST /subscriptions   {"name", "key"?, "api"?} -> {"name", "primaryKey"}
    GET  /backends                                simulated backends (behaviour, pending faults, stats)
    PATCH /backends/{name}/behaviour              {"latency_base_ms": 50, "tokens_per_minute": 1000, ...}
    POST /backends/{name}/faults                  {"status": 429, "count": 3, "retry_after": 10}
                                                  or {"timeout": true, "count": 1, "hang_seconds": 30}
    POST /backends/{name}/down                    {"down": true}   (connection refused until false)
    POST /backends/{name}/reset
    POST /tokens                                  {"claims": {...}, "audience", "subject", "expires_in"} -> {"token"}
    GET  /issuer/.well-known/openid-configuration, /issuer/.well-known/jwks.json
    /management/faults, /management/counters      management-plane faults and HTTP call counters

Every request needs ``Authorization: Bearer <token>`` (the emulator's per-start token, see
:mod:`toolkit.emulator.access`) except the issuer's public documents; bodies are ``application/json``
objects whose fields are type-checked (a wrong field is a 400 naming it). Errors are
``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from toolkit.emulator import control_input as field
from toolkit.emulator.json_body import JsonBodyError, loads_body
from toolkit.emulator.request_guard import (
    CONTROL_MAX_BODY_BYTES,
    GuardRules,
    RequestGuard,
    arm_error_body,
    starlette_error_handlers,
)
from toolkit.errors import InputError

if TYPE_CHECKING:
    from toolkit.emulator.runtime import Emulator

# Bounds that keep every later computation finite: ten years of emulated time per advance, a day of hang.
MAX_ADVANCE_SECONDS = 10 * 365 * 86400.0
MAX_HANG_SECONDS = 86400.0
MAX_FAULT_COUNT = 1_000_000
_CODES = {400: "BadRequest", 404: "NotFound", 405: "MethodNotAllowed"}


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse(arm_error_body(status, _CODES.get(status, "Error"), message), status_code=status)


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = loads_body(await request.body(), empty={})
    except JsonBodyError as exc:
        raise InputError(str(exc)) from None
    if not isinstance(body, dict):
        raise InputError("body must be a JSON object")
    return body


def create_control_app(emulator: Emulator) -> RequestGuard:
    """The control API of a running emulator, behind its request guard (token, loopback, JSON only)."""
    from starlette.exceptions import HTTPException

    from toolkit.emulator.jwt_issuer import issuer_routes
    from toolkit.emulator.management.control import management_control_routes
    from toolkit.emulator.policy.state import recorded_output_routes

    def simulated(name: str) -> Any:
        backend = emulator.farm.backend(name) if emulator.farm else None
        if backend is None:
            raise LookupError(f"no simulated backend named {name!r}")
        return backend

    def described(name: str) -> dict[str, Any]:
        """A simulated backend as every route answers it: its URL, behaviour, pending faults and stats."""
        return {"url": emulator.farm.urls[name], **emulator.farm.backends[name].snapshot()}

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "gateway_url": emulator.gateway_url,
                             "management_url": emulator.management_url, "control_url": emulator.control_url,
                             "ca_bundle_path": emulator.ca_bundle_path, "subscription_id": emulator.subscription_id,
                             "resource_group": emulator.resource_group, "service": emulator.service})

    async def traces(request: Request) -> Response:
        raw = request.query_params.get("limit", "20")
        if not raw.isdigit():
            raise InputError(f"query parameter 'limit' must be a whole number, not {raw[:40]!r}")
        return JSONResponse({"traces": emulator.gateway.traces.latest(max(1, min(int(raw[:7]), 1000)))})

    async def trace(request: Request) -> Response:
        record = emulator.gateway.traces.get(request.path_params["trace_id"])
        return JSONResponse(record) if record else _error(404, "no such trace (unknown, or dropped: the last 2000 are kept)")

    async def breakers(request: Request) -> Response:
        states = {name: breaker.state() for name, breaker in emulator.gateway.services.breakers().items()}
        return JSONResponse({"breakers": states})

    async def reset(request: Request) -> Response:
        await emulator.areset()
        return Response(status_code=204)

    async def clock(request: Request) -> Response:
        if request.method == "POST":
            body = await _json_body(request)
            field.only(body, ("speed", "advance"))
            speed = field.number(body, "speed", minimum=0, maximum=10_000, exclusive_minimum=True, default=None)
            advance = field.number(body, "advance", minimum=0, maximum=MAX_ADVANCE_SECONDS, default=None)
            if speed is not None:
                emulator.clock.set_speed(float(speed))
            if advance is not None:
                emulator.clock.advance(float(advance))
        return JSONResponse({"now": emulator.clock(), "speed": emulator.clock.speed})

    async def subscriptions(request: Request) -> Response:
        if request.method == "POST":
            body = await _json_body(request)
            field.only(body, ("name", "key", "api"))
            name = field.text(body, "name", default="default", max_length=80)
            key = field.text(body, "key", default=None)
            api = field.text(body, "api", default=None, max_length=80)
            primary = emulator.create_subscription(name, key=key, api=api)
            return JSONResponse({"name": name, "primaryKey": primary}, status_code=201)
        return JSONResponse({"subscriptions": [s.name for s in emulator.plane.view.subscriptions()]})

    async def backends(request: Request) -> Response:
        farm = emulator.farm
        return JSONResponse({"backends": {name: described(name) for name in farm.backends}})

    async def behaviour(request: Request) -> Response:
        backend = simulated(request.path_params["name"])
        backend.update_behaviour(await _json_body(request))
        return JSONResponse(described(request.path_params["name"]))

    async def faults(request: Request) -> Response:
        backend = simulated(request.path_params["name"])
        body = await _json_body(request)
        field.only(body, ("status", "count", "retry_after", "body", "timeout", "hang_seconds"))
        count = field.integer(body, "count", minimum=1, maximum=MAX_FAULT_COUNT, default=1)
        if field.boolean(body, "timeout", default=False):
            hang = field.number(body, "hang_seconds", minimum=0, maximum=MAX_HANG_SECONDS, default=30.0)
            backend.inject_timeout(count, float(hang))
        else:
            if "status" not in body:
                raise InputError("give a status (e.g. 429) or timeout: true")
            status = field.integer(body, "status", minimum=100, maximum=599)
            retry_after = field.number(body, "retry_after", minimum=0, maximum=MAX_ADVANCE_SECONDS, default=None)
            backend.inject(status, count, retry_after, field.obj(body, "body"))
        return JSONResponse(described(request.path_params["name"]), status_code=201)

    async def down(request: Request) -> Response:
        name = request.path_params["name"]
        simulated(name)
        body = await _json_body(request)
        field.only(body, ("down",))
        is_down = field.boolean(body, "down", default=True)
        await emulator.farm.aset_down(name, is_down)
        return JSONResponse({"name": name, "down": is_down})

    async def reset_backend(request: Request) -> Response:
        name = request.path_params["name"]
        backend = simulated(name)
        backend.reset()
        if backend.down:
            await emulator.farm.aset_down(name, False)
        return Response(status_code=204)

    async def tokens(request: Request) -> Response:
        body = await _json_body(request)
        field.only(body, ("claims", "audience", "subject", "expires_in", "not_before", "kid"))
        options: dict[str, Any] = {}
        audience = field.audience(body, "audience")
        if audience is not field.MISSING:
            options["audience"] = audience
        if "subject" in body:
            options["subject"] = field.text(body, "subject", default=None)
        if "expires_in" in body:
            options["expires_in"] = field.number(body, "expires_in", minimum=-MAX_ADVANCE_SECONDS,
                                                 maximum=MAX_ADVANCE_SECONDS, default=None)
        if "not_before" in body:
            options["not_before"] = field.number(body, "not_before", minimum=0, maximum=1e11, default=None)
        if "kid" in body:
            options["kid"] = field.text(body, "kid", default=None)
        return JSONResponse({"token": emulator.mint_token(field.obj(body, "claims"), **options)})

    async def bad_input(request: Request, exc: Exception) -> Response:
        return _error(400, str(exc))

    async def not_found(request: Request, exc: Exception) -> Response:
        return _error(404, str(exc.args[0]) if exc.args else "not found")

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 404
        return _error(status, f"{request.method} {request.url.path}: "
                              f"{'no such control endpoint' if status == 404 else 'method not allowed here'}")

    routes = [
        Route("/health", health),
        Route("/traces", traces),
        Route("/traces/{trace_id}", trace),
        Route("/breakers", breakers),
        Route("/reset", reset, methods=["POST"]),
        Route("/clock", clock, methods=["GET", "POST"]),
        Route("/subscriptions", subscriptions, methods=["GET", "POST"]),
        Route("/backends", backends),
        Route("/backends/{name}/behaviour", behaviour, methods=["PATCH", "PUT"]),
        Route("/backends/{name}/faults", faults, methods=["POST"]),
        Route("/backends/{name}/down", down, methods=["POST"]),
        Route("/backends/{name}/reset", reset_backend, methods=["POST"]),
        Route("/tokens", tokens, methods=["POST"]),
        *recorded_output_routes(emulator.gateway.services),
        Mount("/issuer", routes=issuer_routes(emulator.issuer)),
        Mount("/management", routes=management_control_routes(emulator.plane)),
    ]
    handlers = {**starlette_error_handlers("control API", arm_error_body), HTTPException: http_error,
                InputError: bad_input, ValueError: bad_input, LookupError: not_found}
    app = Starlette(routes=routes, exception_handlers=handlers)
    rules = GuardRules("control API", arm_error_body, CONTROL_MAX_BODY_BYTES, token=emulator.control_token,
                       open_paths=("/issuer/",), json_only=True)
    return RequestGuard(app, rules)
