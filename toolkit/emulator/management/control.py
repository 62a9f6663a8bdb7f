"""Control routes for faults and counters, mounted by the emulator's control app (e.g. under ``/management``).

    POST   /faults    {"nth": 1, "status": 500, "code"?, "message"?, "retry_after"?, "kind"?, "method"?} -> 201 fault
    GET    /faults    -> {"pending": [...]}
    DELETE /faults    -> 204 (clears)
    GET    /counters  -> CallCounters.snapshot()
    DELETE /counters  -> 204 (resets)
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from toolkit.emulator.json_body import loads_body

if TYPE_CHECKING:
    from toolkit.emulator.management.plane import ManagementPlane

_FAULT_FIELDS = {"nth": int, "status": int, "code": str, "message": str, "retry_after": (int, float),
                 "kind": str, "method": str}


def management_control_routes(plane: ManagementPlane) -> list[Route]:
    """Starlette routes driving ``plane.faults`` and ``plane.counters`` over JSON."""

    async def faults(request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse({"pending": plane.faults.pending()})
        if request.method == "DELETE":
            plane.faults.clear()
            return Response(status_code=204)
        try:
            spec = _fault_spec(await request.body())
            fault = plane.faults.fail_nth_write(**spec)
        except ValueError as exc:
            return JSONResponse({"error": {"code": "BadRequest", "message": str(exc)}}, status_code=400)
        return JSONResponse(asdict(fault), status_code=201)

    async def counters(request: Request) -> Response:
        if request.method == "DELETE":
            plane.counters.reset()
            return Response(status_code=204)
        return JSONResponse(plane.counters.snapshot())

    return [
        Route("/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route("/counters", counters, methods=["GET", "DELETE"]),
    ]


def _fault_spec(raw: bytes) -> dict[str, Any]:
    spec = loads_body(raw, empty={})  # JsonBodyError is a ValueError
    if not isinstance(spec, dict):
        raise ValueError("body must be a JSON object")
    unknown = sorted(set(spec) - set(_FAULT_FIELDS))
    if unknown:
        raise ValueError(f"unknown field(s): {', '.join(unknown)}; allowed: {', '.join(_FAULT_FIELDS)}")
    for name, value in spec.items():
        expected = _FAULT_FIELDS[name]
        if value is not None and (isinstance(value, bool) or not isinstance(value, expected)):
            raise ValueError(f"{name} has the wrong type: {value!r}")
    return {k: v for k, v in spec.items() if v is not None}
