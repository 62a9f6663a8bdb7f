"""``<wait>``: run the child policies concurrently and wait for all (or any) of them.

Sections inbound, outbound and backend, as wait-policy.md lists them (not on-error); ``for`` may be
an expression, checked when evaluated.
"""

from __future__ import annotations

import asyncio
from typing import Any

from toolkit.emulator.policy.document import Policy, run_block
from toolkit.emulator.policy.registry import handler
from toolkit.emulator.policy.values import ChoiceSetting

CHILDREN = ("send-request", "cache-lookup-value", "choose")


@handler("wait", sections=("inbound", "outbound", "backend"), attributes=("for",), children=CHILDREN,
         notes="Children send-request, cache-lookup-value and choose run concurrently; for=all (default) waits "
         "for every one, for=any for the first to finish (the others are cancelled); for may be an expression. "
         "A child's error fails the request like it would outside wait.")
class Wait(Policy):
    """Concurrent children."""

    __slots__ = ("body", "until")

    def __init__(self, body: tuple[Policy, ...], until: ChoiceSetting) -> None:
        super().__init__()
        self.body, self.until = body, until

    @classmethod
    def compile(cls, element: Any, cc: Any) -> Wait:
        """The children as policies of the same section."""
        return cls(cc.policies(element), cc.choice_setting(element, "for", ("all", "any"), "all"))

    async def run(self, ctx: Any, services: Any) -> None:
        """Run and wait."""
        wait_for = self.until.get(ctx, "wait")
        tasks = [asyncio.ensure_future(run_block((policy,), ctx, services)) for policy in self.body]
        if not tasks:
            return
        if wait_for == "all":
            await asyncio.gather(*tasks)
            return
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        for task in done:
            task.result()
