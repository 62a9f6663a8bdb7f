"""``<log-to-eventhub>``: send a message to an Event Hubs logger (recorded by the emulator)."""

from __future__ import annotations

from typing import Any

from toolkit.emulator.policy.document import Policy
from toolkit.emulator.policy.registry import SECTIONS, handler
from toolkit.emulator.policy.state import state_of
from toolkit.emulator.policy.values import text_of


@handler("log-to-eventhub", sections=SECTIONS, attributes=("logger-id", "partition-id", "partition-key"),
         required=("logger-id",), text=True,
         notes="The emulator has no Event Hubs: the message (text or expression) is recorded as a "
         "'log-to-eventhub' event with its logger-id and partition, readable at the control API's /events.")
class LogToEventhub(Policy):
    """Record a log message."""

    __slots__ = ("logger", "partition_id", "partition_key", "message")

    def __init__(self, logger: str, partition_id: Any, partition_key: Any, message: Any) -> None:
        super().__init__()
        self.logger, self.partition_id, self.partition_key, self.message = logger, partition_id, partition_key, message

    @classmethod
    def compile(cls, element: Any, cc: Any) -> LogToEventhub:
        """logger-id, at most one of partition-id and partition-key, the message."""
        if element.get("partition-id") is not None and element.get("partition-key") is not None:
            raise cc.reject(element, "<log-to-eventhub> takes 'partition-id' or 'partition-key', not both")
        return cls(cc.constant(element, "logger-id") or "", cc.value(element, "partition-id", expect="string"),
                   cc.value(element, "partition-key", expect="string"), cc.text_value(element))

    async def run(self, ctx: Any, services: Any) -> None:
        """Record the message."""
        message = text_of(self.message, ctx)
        partition = {k: text_of(v, ctx) for k, v in (("partition_id", self.partition_id),
                                                      ("partition_key", self.partition_key)) if v is not None}
        state_of(services).record_event("log-to-eventhub", logger=self.logger, message=message,
                                        trace_id=ctx.request_id, **partition)
        ctx.note("log-to-eventhub", f"logged to {self.logger}", {"bytes": len(message.encode())})
