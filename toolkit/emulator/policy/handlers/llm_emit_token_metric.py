"""``<llm-emit-token-metric>``: record the prompt, completion and total tokens of each answered call."""

from __future__ import annotations

from typing import Any

from toolkit.emulator.policy.document import Policy
from toolkit.emulator.policy.metrics import compile_dimensions, dimension_values, record, usage_of
from toolkit.emulator.policy.registry import handler
from toolkit.emulator.policy.state import state_of

NOTES = ("Once the backend answered with usage (a 2xx JSON body with usage.prompt_tokens / completion_tokens / "
         "total_tokens, or the usage chunk of a stream), records three metrics, Prompt Tokens, Completion Tokens and Total Tokens, in namespace "
         "(default API Management) with the dimensions (at most 5; default dimensions take the request's "
         "values). Read them at the control API's GET /metrics and in the request's trace.")


@handler("llm-emit-token-metric", sections=("inbound",), attributes=("namespace",), children=("dimension",),
         notes=NOTES)
class LlmEmitTokenMetric(Policy):
    """Token usage metrics."""

    __slots__ = ("namespace", "dimensions")

    def __init__(self, namespace: str, dimensions: tuple[tuple[str, Any], ...]) -> None:
        super().__init__()
        self.namespace = namespace
        self.dimensions = dimensions

    @classmethod
    def compile(cls, element: Any, cc: Any) -> LlmEmitTokenMetric:
        """namespace (a constant) and the dimensions."""
        return cls((cc.constant(element, "namespace") or "API Management").strip(), compile_dimensions(element, cc))

    async def run(self, ctx: Any, services: Any) -> None:
        """Wait for the backend's answer."""
        ctx.add_hook(self)

    async def after_backend(self, ctx: Any, services: Any) -> None:
        """Record the usage of a successful answer."""
        usage = usage_of(ctx)
        if usage is None:
            ctx.note(self.spec.name, "no usage in the response: nothing recorded")
            return
        dimensions = dimension_values(self.dimensions, ctx)
        state = state_of(services)
        for metric, field in (("Prompt Tokens", "prompt_tokens"), ("Completion Tokens", "completion_tokens"),
                              ("Total Tokens", "total_tokens")):
            value = usage.get(field)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                record(state, ctx, source=self.spec.name, namespace=self.namespace, name=metric, value=value,
                       dimensions=dimensions)

    def abandon(self, ctx: Any, services: Any) -> None:
        """No backend answer: nothing to record."""
