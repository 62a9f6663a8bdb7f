"""``<log-to-eventhub>``: send a message to an Event Hubs logger (recorded by the emulator).

Per log-to-eventhub-policy.md: a message larger than 200 KB "will be automatically truncated to
200 KB before transfer to an event hub" (its UTF-8 bytes, cut at a character boundary here), and
partition-id takes no policy expression (partition-key does).
"""

from __future__ import annotations

from typing import Any

from toolkit.emulator.policy.document import Policy
from toolkit.emulator.policy.registry import SECTIONS, handler
from toolkit.emulator.policy.state import state_of
from toolkit.emulator.policy.values import text_of

MAX_MESSAGE_BYTES = 200 * 1024


@handler("log-to-eventhub", sections=SECTIONS, attributes=("logger-id", "partition-id", "partition-key"),
         required=("logger-id",), text=True,
         notes="The emulator has no Event Hubs: the message (text or expression), truncated to 200 KB as APIM does, "
         "is recorded as a 'log-to-eventhub' event with its logger-id and partition, readable at the control API's "
         "/events. partition-id is a constant.")
class LogToEventhub(Policy):
    """Record a log message."""

    __slots__ = ("logger", "partition_id", "partition_key", "message")

    def __init__(self, logger: str, partition_id: str | None, partition_key: Any, message: Any) -> None:
        super().__init__()
        self.logger, self.partition_id, self.partition_key, self.message = logger, partition_id, partition_key, message

    @classmethod
    def compile(cls, element: Any, cc: Any) -> LogToEventhub:
        """logger-id, at most one of partition-id and partition-key, the message."""
        if element.get("partition-id") is not None and element.get("partition-key") is not None:
            raise cc.reject(element, "<log-to-eventhub> takes 'partition-id' or 'partition-key', not both")
        return cls(cc.constant(element, "logger-id") or "", cc.constant(element, "partition-id"),
                   cc.value(element, "partition-key", expect="string"), cc.text_value(element))

    async def run(self, ctx: Any, services: Any) -> None:
        """Record the message."""
        message = _truncated(text_of(self.message, ctx))
        partition = {"partition_id": self.partition_id} if self.partition_id is not None else {}
        if self.partition_key is not None:
            partition["partition_key"] = text_of(self.partition_key, ctx)
        state_of(services).record_event("log-to-eventhub", logger=self.logger, message=message,
                                        trace_id=ctx.request_id, **partition)
        ctx.note("log-to-eventhub", f"logged to {self.logger}", {"bytes": len(message.encode())})


def _truncated(message: str) -> str:
    """``message`` cut to MAX_MESSAGE_BYTES of UTF-8, never inside a character."""
    data = message.encode("utf-8")
    if len(data) <= MAX_MESSAGE_BYTES:
        return message
    return data[:MAX_MESSAGE_BYTES].decode("utf-8", "ignore")  # "ignore" drops a character cut in half
