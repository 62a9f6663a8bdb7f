"""``<emit-metric>``: record one custom metric value."""

from __future__ import annotations

from typing import Any

from toolkit.emulator.policy.document import Policy
from toolkit.emulator.policy.errors import PolicyError
from toolkit.emulator.policy.metrics import compile_dimensions, dimension_values, record
from toolkit.emulator.policy.registry import SECTIONS, handler
from toolkit.emulator.policy.state import state_of


@handler("emit-metric", sections=SECTIONS, attributes=("name", "namespace", "value"), required=("name",),
         children=("dimension",),
         notes="Records name = value (default 1; expressions allowed) in namespace (default API Management) with "
         "the dimensions; read at the control API's GET /metrics and in the trace.")
class EmitMetric(Policy):
    """A custom metric."""

    __slots__ = ("name", "namespace", "value", "dimensions")

    def __init__(self, name: str, namespace: str, value: Any, dimensions: tuple[tuple[str, Any], ...]) -> None:
        super().__init__()
        self.name, self.namespace, self.value, self.dimensions = name, namespace, value, dimensions

    @classmethod
    def compile(cls, element: Any, cc: Any) -> EmitMetric:
        """name and namespace constants, value constant or expression."""
        name = (cc.constant(element, "name") or "").strip()
        if not name:
            raise cc.reject(element, "<emit-metric> attribute 'name' is empty")
        value = cc.value(element, "value")
        if value is not None and not value.is_expression:
            try:
                float(value.source)
            except ValueError:
                raise cc.reject(element, f"<emit-metric> attribute 'value': {value.source!r} is not a number") from None
        return cls(name, (cc.constant(element, "namespace") or "API Management").strip(), value,
                   compile_dimensions(element, cc))

    async def run(self, ctx: Any, services: Any) -> None:
        """Record the value."""
        raw = 1.0 if self.value is None else self.value.evaluate(ctx)
        try:
            value = float(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise PolicyError(f"emit-metric: value {raw!r} is not a number.", source="emit-metric",
                              reason="InvalidMetricValue") from None
        record(state_of(services), ctx, source="emit-metric", namespace=self.namespace, name=self.name,
               value=value, dimensions=dimension_values(self.dimensions, ctx))
