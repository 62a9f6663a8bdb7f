"""``<wait>``: run the child policies concurrently and wait for all (or any) of them."""

from __future__ import annotations

import asyncio
from typing import Any

from toolkit.emulator.policy.document import Policy, run_block
from toolkit.emulator.policy.registry import SECTIONS, handler

CHILDREN = ("send-request", "cache-lookup-value", "choose")


@handler("wait", sections=SECTIONS, attributes=("for",), children=CHILDREN,
         notes="Children send-request, cache-lookup-value and choose run concurrently; for=all (default) waits "
         "for every one, for=any for the first to finish (the others are cancelled). A child's error fails the "
         "request like it would outside wait.")
class Wait(Policy):
    """Concurrent children."""

    __slots__ = ("body", "any")

    def __init__(self, body: tuple[Policy, ...], any_: bool) -> None:
        super().__init__()
        self.body, self.any = body, any_

    @classmethod
    def compile(cls, element: Any, cc: Any) -> Wait:
        """The children as policies of the same section."""
        return cls(cc.policies(element), cc.choice(element, "for", ("all", "any"), "all") == "any")

    async def run(self, ctx: Any, services: Any) -> None:
        """Run and wait."""
        tasks = [asyncio.ensure_future(run_block((policy,), ctx, services)) for policy in self.body]
        if not tasks:
            return
        if not self.any:
            await asyncio.gather(*tasks)
            return
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        for task in done:
            task.result()
