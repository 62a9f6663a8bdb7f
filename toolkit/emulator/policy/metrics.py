"""Custom metrics (emit-metric, llm-/azure-openai-emit-token-metric): dimensions and recording.

Recorded metrics go to the gateway's `PolicyState` (read at the control API's ``GET /metrics``)
and to the request's trace. A dimension without ``value`` takes the request's value for the
default dimensions APIM documents (API ID, Operation ID, Product ID, User ID, Subscription ID,
Location, Gateway ID, Backend ID); any other name without a value ("Client IP" included) is
refused at publish, as APIM does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from toolkit.emulator.policy.values import text_of

DEFAULT_DIMENSIONS: dict[str, Callable[[Any], Any]] = {
    "api id": lambda ctx: ctx.api_id,
    "operation id": lambda ctx: ctx.operation_id,
    "product id": lambda ctx: getattr(ctx, "product_id", None),
    "user id": lambda ctx: getattr(ctx, "user_id", None),
    "subscription id": lambda ctx: ctx.subscription_id,
    "location": lambda ctx: ctx.region,
    "gateway id": lambda ctx: "managed",
    "backend id": lambda ctx: ctx.selected_backend or ctx.backend_id,
}
MAX_DIMENSIONS = 5  # per policy, as the emit-metric docs allow


def compile_dimensions(element: Any, cc: Any) -> tuple[tuple[str, Any], ...]:
    """The ``<dimension name value>`` children: (name, compiled value or a default reader)."""
    dimensions = []
    for child in cc.child_elements(element, ("dimension",)):
        cc.check_attributes(child, ("name", "value"), ("name",))
        cc.child_elements(child, ())
        name = (cc.constant(child, "name") or "").strip()
        if not name:
            raise cc.reject(child, "<dimension> attribute 'name' is empty")
        value = cc.value(child, "value", expect="string")
        if value is None and name.lower() not in DEFAULT_DIMENSIONS:
            raise cc.reject(child, f"<dimension name=\"{name}\"> needs a value: it is not one of the default "
                                   f"dimensions ({', '.join(sorted(DEFAULT_DIMENSIONS))})")
        dimensions.append((name, value if value is not None else DEFAULT_DIMENSIONS[name.lower()]))
    if len(dimensions) > MAX_DIMENSIONS:
        raise cc.reject(element, f"<{element.tag}> has {len(dimensions)} dimensions; at most {MAX_DIMENSIONS}")
    return tuple(dimensions)


def dimension_values(dimensions: tuple[tuple[str, Any], ...], ctx: Any) -> dict[str, str]:
    """The dimensions' values for this request (null → "")."""
    out = {}
    for name, value in dimensions:
        raw = value(ctx) if callable(value) and not hasattr(value, "evaluate") else text_of(value, ctx)
        out[name] = "" if raw is None else str(raw)
    return out


def record(state: Any, ctx: Any, *, source: str, namespace: str, name: str, value: float,
           dimensions: dict[str, str]) -> None:
    """Keep one metric value (control API /metrics) and note it in the trace."""
    state.record_metric(source=source, namespace=namespace, name=name, value=value, dimensions=dimensions,
                        trace_id=ctx.request_id)
    ctx.note(source, f"{namespace}/{name} = {value:g}", {"dimensions": dimensions})


def usage_of(ctx: Any) -> dict[str, Any] | None:
    """The ``usage`` of a successful answer: from its JSON body, or the last SSE chunk that has one (a stream
    with ``stream_options.include_usage``); None when the answer has none."""
    import json

    if ctx.response_status is None or not 200 <= ctx.response_status < 300:
        return None
    body = ctx.response_json()
    if isinstance(body, dict):
        return body.get("usage") if isinstance(body.get("usage"), dict) else None
    usage = None
    for line in (ctx.response_body or b"").decode("utf-8", "replace").splitlines():
        if not line.startswith("data:") or line[5:].strip() == "[DONE]":
            continue
        try:
            chunk = json.loads(line[5:])
        except ValueError:
            continue
        if isinstance(chunk, dict) and isinstance(chunk.get("usage"), dict):
            usage = chunk["usage"]
    return usage
