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
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from toolkit.errors import InputError

if TYPE_CHECKING:
    from toolkit.emulator.runtime import Emulator


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": "BadRequest" if status == 400 else "NotFound", "message": message}},
                        status_code=status)


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise InputError("body must be a JSON object")
    return body


def create_control_app(emulator: Emulator) -> Starlette:
    """The control API of a running emulator."""
    from toolkit.emulator.jwt_issuer import issuer_routes
    from toolkit.emulator.management.control import management_control_routes
    from toolkit.emulator.policy.state import recorded_output_routes

    def simulated(name: str) -> Any:
        backend = emulator.farm.backend(name) if emulator.farm else None
        if backend is None:
            raise LookupError(f"no simulated backend named {name!r}")
        return backend

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "gateway_url": emulator.gateway_url,
                             "management_url": emulator.management_url, "control_url": emulator.control_url,
                             "ca_bundle_path": emulator.ca_bundle_path, "subscription_id": emulator.subscription_id,
                             "resource_group": emulator.resource_group, "service": emulator.service})

    async def traces(request: Request) -> Response:
        limit = int(request.query_params.get("limit", "20"))
        return JSONResponse({"traces": emulator.gateway.traces.latest(max(1, min(limit, 1000)))})

    async def trace(request: Request) -> Response:
        record = emulator.gateway.traces.get(request.path_params["trace_id"])
        return JSONResponse(record) if record else _error(404, "no such trace (unknown, or dropped: the last 2000 are kept)")

    async def breakers(request: Request) -> Response:
        states = {name: breaker.state() for name, breaker in emulator.gateway.services.breakers().items()}
        return JSONResponse({"breakers": states})

    async def reset(request: Request) -> Response:
        emulator.reset()
        return Response(status_code=204)

    async def clock(request: Request) -> Response:
        if request.method == "POST":
            body = await _json_body(request)
            if "speed" in body:
                emulator.clock.set_speed(float(body["speed"]))
            if "advance" in body:
                emulator.clock.advance(float(body["advance"]))
        return JSONResponse({"now": emulator.clock(), "speed": emulator.clock.speed})

    async def subscriptions(request: Request) -> Response:
        if request.method == "POST":
            body = await _json_body(request)
            name = str(body.get("name") or "default")
            key = emulator.create_subscription(name, key=body.get("key"), api=body.get("api"))
            return JSONResponse({"name": name, "primaryKey": key}, status_code=201)
        return JSONResponse({"subscriptions": [s.name for s in emulator.plane.view.subscriptions()]})

    async def backends(request: Request) -> Response:
        farm = emulator.farm
        return JSONResponse({"backends": {name: {"url": farm.urls[name], **backend.snapshot()}
                                          for name, backend in farm.backends.items()}})

    async def behaviour(request: Request) -> Response:
        backend = simulated(request.path_params["name"])
        backend.update_behaviour(await _json_body(request))
        return JSONResponse(backend.snapshot())

    async def faults(request: Request) -> Response:
        backend = simulated(request.path_params["name"])
        body = await _json_body(request)
        count = int(body.get("count", 1))
        if body.get("timeout"):
            backend.inject_timeout(count, float(body.get("hang_seconds", 30)))
        else:
            if "status" not in body:
                raise InputError("give a status (e.g. 429) or timeout: true")
            backend.inject(int(body["status"]), count, body.get("retry_after"), body.get("body"))
        return JSONResponse(backend.snapshot(), status_code=201)

    async def down(request: Request) -> Response:
        name = request.path_params["name"]
        simulated(name)
        body = await _json_body(request)
        await emulator.farm.aset_down(name, bool(body.get("down", True)))
        return JSONResponse({"name": name, "down": bool(body.get("down", True))})

    async def reset_backend(request: Request) -> Response:
        name = request.path_params["name"]
        backend = simulated(name)
        backend.reset()
        if backend.down:
            await emulator.farm.aset_down(name, False)
        return Response(status_code=204)

    async def tokens(request: Request) -> Response:
        body = await _json_body(request)
        options = {k: body[k] for k in ("audience", "subject", "expires_in", "not_before", "kid") if k in body}
        return JSONResponse({"token": emulator.mint_token(body.get("claims"), **options)})

    async def bad_input(request: Request, exc: Exception) -> Response:
        return _error(400, str(exc))

    async def not_found(request: Request, exc: Exception) -> Response:
        return _error(404, str(exc.args[0]) if exc.args else "not found")

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
    return Starlette(routes=routes, exception_handlers={InputError: bad_input, ValueError: bad_input,
                                                        LookupError: not_found})
