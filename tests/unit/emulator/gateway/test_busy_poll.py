"""The serving loop polls instead of sleeping for a window after the gateway starts to wait, then sleeps again."""

from __future__ import annotations

import asyncio
import time

import pytest

from toolkit.emulator.gateway.busy_poll import DEFAULT_WINDOW_US, BusyPoll, window_from_environment
from toolkit.errors import InputError


class _Counted(BusyPoll):
    def __init__(self, window: float) -> None:
        super().__init__(window)
        self.turns = 0

    def _poll(self) -> None:
        self.turns += 1
        super()._poll()


def test_the_loop_keeps_turning_through_the_window_then_stops() -> None:
    async def main() -> None:
        poll = _Counted(0.05)
        poll.keep_awake()
        assert poll.polling
        await asyncio.sleep(0.02)  # a timer wait: with nothing else ready the loop would sleep through it
        # It kept turning instead: a loop asleep would have turned once. Not many more: each turn yields the core,
        # which a loaded machine may keep for a few ms (16 turns in 20 ms in a CI run with both cores busy).
        assert poll.polling and poll.turns > 2
        await asyncio.sleep(0.1)
        turns = poll.turns
        assert poll.polling is False
        await asyncio.sleep(0.05)
        assert poll.turns == turns  # asleep again: no more turns

    asyncio.run(main())


def test_each_keep_awake_extends_the_window_without_a_second_poller() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        poll = _Counted(0.03)
        poll.keep_awake()
        started = time.perf_counter()
        while time.perf_counter() - started < 0.1:  # longer than one window: kept awake by the calls
            for _ in range(10):
                poll.keep_awake()
            await asyncio.sleep(0.005)
            assert poll.polling
        seen: list[int] = []

        def probe(left: int) -> None:  # runs once per turn of the loop, as the poller does
            seen.append(poll.turns)
            if left:
                loop.call_soon(probe, left - 1)

        loop.call_soon(probe, 5)
        await asyncio.sleep(0.005)
        assert {later - earlier for earlier, later in zip(seen, seen[1:])} == {1}  # one poll per turn: one poller

    asyncio.run(main())


def test_a_zero_window_never_polls() -> None:
    async def main() -> None:
        poll = _Counted(0.0)
        poll.keep_awake()
        await asyncio.sleep(0.01)
        assert not poll.polling and poll.turns == 0

    asyncio.run(main())


def test_the_window_comes_from_the_environment_in_microseconds() -> None:
    assert window_from_environment({}) == DEFAULT_WINDOW_US / 1e6
    assert window_from_environment({"TOOLKIT_EMULATOR_BUSY_POLL_US": " 250 "}) == 0.00025
    assert window_from_environment({"TOOLKIT_EMULATOR_BUSY_POLL_US": "0"}) == 0.0


@pytest.mark.parametrize("value", ["1.5", "fast", "-1", "1000001"])
def test_a_bad_window_is_refused_naming_the_variable(value: str) -> None:
    with pytest.raises(InputError, match="TOOLKIT_EMULATOR_BUSY_POLL_US"):
        window_from_environment({"TOOLKIT_EMULATOR_BUSY_POLL_US": value})


def test_every_turn_of_polling_first_yields_the_core(monkeypatch: pytest.MonkeyPatch) -> None:
    from toolkit.emulator.gateway import busy_poll

    yields: list[int] = []
    monkeypatch.setattr(busy_poll.os, "sched_yield", lambda: yields.append(1))

    async def main() -> None:
        poll = _Counted(0.02)
        poll.keep_awake()
        await asyncio.sleep(0.05)
        assert not poll.polling and poll.turns > 10
        assert len(yields) == poll.turns - 1  # every turn but the last one, which ends the polling

    asyncio.run(main())
