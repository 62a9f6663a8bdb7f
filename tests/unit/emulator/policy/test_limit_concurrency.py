"""<limit-concurrency>: at most max-count requests per key inside the children at a time."""

from __future__ import annotations

import asyncio

import pytest
from .policy_helpers import FakeServices, api, assert_sections, document, make_ctx, rejected, run

from toolkit.emulator.policy import run_pipeline
from toolkit.emulator.policy.registry import SECTIONS
from toolkit.emulator.policy.state import state_of

URL = {"backend_url": "http://backend.test"}
LIMIT = '<limit-concurrency key="@(context.Subscription.Id)" max-count="1"><forward-request/></limit-concurrency>'


def test_sections() -> None:
    assert_sections('<limit-concurrency key="k" max-count="1"><set-variable name="a" value="1"/></limit-concurrency>',
                    SECTIONS)


@pytest.mark.parametrize(("xml", "message"), [
    ('<limit-concurrency key="k"/>', "missing the required attribute 'max-count'"),
    ('<limit-concurrency key="k" max-count="0"/>', "outside the allowed range"),
    # max-count: "Policy expressions aren't allowed."
    ('<limit-concurrency key="k" max-count="@(2)"/>', "policy expressions are not allowed"),
])
def test_refusals(xml: str, message: str) -> None:
    assert message in str(rejected(document(inbound=xml)))


class SlowServices(FakeServices):
    """A backend that answers only when released."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def forward(self, ctx, url, timeout, **options):  # noqa: ANN001, ANN201
        await self.release.wait()
        return await super().forward(ctx, url, timeout, **options)


def test_a_second_request_with_the_same_key_is_refused_while_the_first_runs() -> None:
    policy = api(inbound="<base/>", backend=LIMIT)

    async def scenario() -> list[int | None]:
        services = SlowServices()
        first, second, other = make_ctx(**URL), make_ctx(**URL), make_ctx(subscription_id="sub-2", **URL)
        running = asyncio.ensure_future(run_pipeline([None, policy], first, services))
        await asyncio.sleep(0.01)
        await run_pipeline([None, policy], second, services)
        third = asyncio.ensure_future(run_pipeline([None, policy], other, services))
        await asyncio.sleep(0.01)
        services.release.set()
        await asyncio.gather(running, third)
        assert state_of(services).concurrency["limit-concurrency|sub-1"] == 0
        return [first.response_status, second.response_status, other.response_status]

    assert run(scenario()) == [200, 429, 200]
