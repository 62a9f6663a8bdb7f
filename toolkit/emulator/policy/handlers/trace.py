"""``<trace>``: add a message (and metadata) to the request's trace."""

from __future__ import annotations

from typing import Any

from toolkit.emulator.policy.document import Policy
from toolkit.emulator.policy.registry import SECTIONS, handler
from toolkit.emulator.policy.state import state_of
from toolkit.emulator.policy.values import text_of

SEVERITIES = ("verbose", "information", "error")


@handler("trace", sections=SECTIONS, attributes=("source", "severity"), required=("source",),
         children=("message", "metadata"),
         notes="Adds the message (an expression allowed) and metadata to the request's trace (control API "
         "/traces/{id}) and records a 'trace' event (control API /events). severity verbose (default), "
         "information or error.")
class TracePolicy(Policy):
    """A trace message."""

    __slots__ = ("source", "severity", "message", "metadata")

    def __init__(self, source: str, severity: str, message: Any, metadata: tuple[tuple[str, Any], ...]) -> None:
        super().__init__()
        self.source, self.severity, self.message, self.metadata = source, severity, message, metadata

    @classmethod
    def compile(cls, element: Any, cc: Any) -> TracePolicy:
        """One <message>, any number of <metadata name value>."""
        message = None
        metadata = []
        for child in cc.child_elements(element, ("message", "metadata")):
            if child.tag == "message":
                if message is not None:
                    raise cc.reject(child, "<trace> takes one <message>")
                cc.check_attributes(child, ())
                cc.child_elements(child, (), text=True)
                message = cc.text_value(child)
            else:
                cc.check_attributes(child, ("name", "value"), ("name", "value"))
                cc.child_elements(child, ())
                metadata.append((cc.constant(child, "name") or "", cc.value(child, "value")))
        if message is None:
            raise cc.reject(element, "<trace> needs a <message>")
        severity = cc.choice(element, "severity", SEVERITIES, "verbose")  # trace-policy.md: default verbose
        return cls(cc.constant(element, "source") or "", severity, message, tuple(metadata))

    async def run(self, ctx: Any, services: Any) -> None:
        """Write the trace entry."""
        message = text_of(self.message, ctx)
        metadata = {name: text_of(value, ctx) for name, value in self.metadata}
        ctx.note("trace", message, {"source": self.source, "severity": self.severity, "metadata": metadata})
        state_of(services).record_event("trace", source=self.source, severity=self.severity, message=message,
                                        metadata=metadata, trace_id=ctx.request_id)
