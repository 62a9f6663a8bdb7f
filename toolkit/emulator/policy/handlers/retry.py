"""``<retry>``: run the children, then again while the condition holds, up to ``count`` retries.

Per APIM's docs: the children run once, then the condition is evaluated before each retry
(total attempts ≤ count + 1). Waits: only ``interval`` → fixed; with ``delta`` → linear
``interval + (n-1)·delta``; with ``delta`` and ``max-interval`` → exponential
``interval + (2^(n-1) - 1)·random(0.8·delta, 1.2·delta)`` capped at ``max-interval`` (n = retry
number, so interval=delta=10, max=100 waits about 10, 20, 40, 80, 100 s). ``first-fast-retry``
(a constant or a bool expression, evaluated per request) makes the first retry immediate. Waits
use the services' sleep (emulator time).
Errors raised by the children (unreachable backend, exhausted pool, timeout) are not retried:
they go to on-error, as on APIM, where retry only re-evaluates its condition after children succeed.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from toolkit.artifacts.policy_xml import local_name

from toolkit.emulator.policy.document import Policy, run_block
from toolkit.emulator.policy.registry import POLICIES, SECTIONS, handler
from toolkit.emulator.policy.values import IntSetting, truth

MAX_RETRIES = 50


@handler(
    "retry",
    sections=SECTIONS,
    attributes=("condition", "count", "interval", "max-interval", "delta", "first-fast-retry"),
    required=("condition", "count", "interval"),
    children=POLICIES,
    notes="count 1-50 retries after the first run; condition evaluated before each retry; fixed, linear or "
    "exponential waits as documented; each attempt is traced. Errors from the children are not retried.",
)
class Retry(Policy):
    """Re-run child policies while a condition holds."""

    __slots__ = ("condition", "count", "interval", "max_interval", "delta", "first_fast_retry", "body")

    def __init__(
        self,
        condition: Any,
        count: IntSetting,
        interval: IntSetting,
        max_interval: IntSetting | None,
        delta: IntSetting | None,
        first_fast_retry: Any,
        body: tuple[Policy, ...],
    ) -> None:
        super().__init__()
        self.condition = condition
        self.count = count
        self.interval = interval
        self.max_interval = max_interval
        self.delta = delta
        self.first_fast_retry = first_fast_retry
        self.body = body

    @classmethod
    def compile(cls, element: Any, cc: Any) -> Retry:
        """Check count (1-50), the intervals (≥ 0) and the condition; compile the children."""
        for child in element.iterchildren(tag=etree.Element):
            if local_name(child) == "wait":  # retry-policy.md: "any other policies ... except for wait"
                raise cc.reject(child, "<retry> may contain any policy except <wait>")
        optional = {
            name: cc.integer(element, name, minimum=0, expressions=True) if element.get(name) is not None else None
            for name in ("max-interval", "delta")
        }
        return cls(
            cc.condition(element),
            cc.integer(element, "count", minimum=1, maximum=MAX_RETRIES, expressions=True),
            cc.integer(element, "interval", minimum=0, expressions=True),
            optional["max-interval"],
            optional["delta"],
            cc.flag(element, "first-fast-retry", False),
            cc.policies(element),
        )

    async def run(self, ctx: Any, services: Any) -> None:
        """Attempt 1, then retries while the condition holds."""
        count = self.count.get(ctx, "retry")
        await run_block(self.body, ctx, services)
        for retry in range(1, count + 1):
            if not truth(self.condition, ctx):
                ctx.note("retry", f"condition false after attempt {retry}", {"attempts": retry})
                return
            wait = self.wait_seconds(retry, ctx, services)
            ctx.note("retry", f"retry {retry} of {count}", {
                "retry": retry, "wait_seconds": wait, "status": ctx.response_status,
            })
            if wait > 0:
                await services.sleep(wait)
            await run_block(self.body, ctx, services)
        ctx.note("retry", f"retries exhausted after {count + 1} attempts", {"attempts": count + 1})

    def wait_seconds(self, retry: int, ctx: Any, services: Any) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        if retry == 1 and truth(self.first_fast_retry, ctx):
            return 0.0
        interval = float(self.interval.get(ctx, "retry"))
        if self.delta is None:
            wait = interval
        else:
            delta = float(self.delta.get(ctx, "retry"))
            if self.max_interval is None:
                wait = interval + (retry - 1) * delta
            else:
                wait = interval + (2 ** (retry - 1) - 1) * services.rng.uniform(0.8 * delta, 1.2 * delta)
        if self.max_interval is not None:
            wait = min(wait, float(self.max_interval.get(ctx, "retry")))
        return wait
