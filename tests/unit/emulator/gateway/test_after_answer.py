"""Work held for after the answers: started by the next backend call, or at the latest after a delay."""

from __future__ import annotations

import asyncio
import gc
import weakref

from toolkit.emulator.gateway.after_answer import LATEST_START_SECONDS, AfterAnswerWork


def _job(log: list[str], name: str):  # noqa: ANN202 - a coroutine function
    async def job() -> None:
        log.append(name)

    return job


def test_held_jobs_wait_for_start_then_each_runs_once_in_order() -> None:
    async def main() -> None:
        work, log = AfterAnswerWork(latest=60.0), []
        work.add(_job(log, "a"))
        work.add(_job(log, "b"))
        for _ in range(5):
            await asyncio.sleep(0)
        assert log == []  # held: nothing started them
        work.start()
        assert log == []  # started as tasks: their first steps run at the loop's next turn
        await asyncio.sleep(0.01)
        assert log == ["a", "b"]
        work.start()  # nothing held: nothing runs again
        await asyncio.sleep(0.01)
        assert log == ["a", "b"]

    asyncio.run(main())


def test_without_a_start_held_jobs_run_after_the_latest_delay() -> None:
    async def main() -> None:
        work, log = AfterAnswerWork(latest=0.05), []
        work.add(_job(log, "a"))
        await asyncio.sleep(0.02)
        assert log == []
        await asyncio.sleep(0.1)
        assert log == ["a"]
        work.add(_job(log, "b"))  # a new hold arms a new delay
        await asyncio.sleep(0.1)
        assert log == ["a", "b"]

    asyncio.run(main())


def test_a_start_cancels_the_delay_so_a_job_never_runs_twice() -> None:
    async def main() -> None:
        work, log = AfterAnswerWork(latest=0.03), []
        work.add(_job(log, "a"))
        work.start()
        await asyncio.sleep(0.1)  # past the delay armed for "a"
        assert log == ["a"]
        work.add(_job(log, "b"))
        await asyncio.sleep(0.01)
        assert log == ["a"]  # "b" waits for its own delay, not the cancelled one

    asyncio.run(main())


def test_by_default_held_jobs_start_a_millisecond_later() -> None:
    async def main() -> None:
        work, log = AfterAnswerWork(), []
        work.add(_job(log, "a"))
        assert log == []
        await asyncio.sleep(LATEST_START_SECONDS * 20)
        assert log == ["a"]

    asyncio.run(main())


def test_a_started_job_is_held_until_it_ends_and_its_end_is_quiet() -> None:
    """A task that only the loop knows of weakly may be collected mid-way: the work holds its tasks."""
    problems: list[dict] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda _, context: problems.append(context))
        work, log = AfterAnswerWork(latest=60.0), []

        async def waits_on_what_only_it_holds() -> None:
            woken = loop.create_future()
            ref = weakref.ref(woken)
            loop.call_later(0.05, lambda: ref() is not None and ref().set_result(None))
            await woken
            log.append("done")

        work.add(waits_on_what_only_it_holds)
        work.start()
        await asyncio.sleep(0.01)
        gc.collect()
        await asyncio.sleep(0.1)
        assert log == ["done"]

    asyncio.run(main())
    assert problems == []


def test_held_jobs_wait_out_the_delay_when_the_loops_timer_fires_early() -> None:
    """uvloop's timers (libuv's) are due on a clock truncated to the millisecond: on a loop kept turning (the
    gateway's busy polling, gateway/busy_poll.py) a 1 ms timer fires at the next millisecond boundary, anywhere from
    a few µs to 1 ms after it was armed. Held work must still wait for its delay: the client's next request comes
    ~0.1-0.2 ms after an answer and would find the gateway busy with it."""
    import time

    import uvloop

    from toolkit.emulator.gateway.busy_poll import BusyPoll

    async def main() -> list[float]:
        loop = asyncio.get_running_loop()
        polling, waits = BusyPoll(0.01), []
        for attempt in range(40):
            polling.keep_awake()
            await asyncio.sleep(attempt * 25e-6)  # armed at 40 points of a millisecond
            started = loop.create_future()
            work = AfterAnswerWork()
            added = time.perf_counter()

            async def job(started: asyncio.Future[float] = started) -> None:
                started.set_result(time.perf_counter())

            work.add(job)
            waits.append(await started - added)
        return waits

    waits = uvloop.run(main())
    assert min(waits) >= LATEST_START_SECONDS, sorted(round(w * 1e6) for w in waits)


def test_a_timer_that_fires_early_is_armed_again_for_the_rest(monkeypatch) -> None:
    from toolkit.emulator.gateway import after_answer

    readings = iter([10.0, 10.0004, 10.0011])  # at add; the timer's first firing (0.4 ms in: early); its second
    read: list[float] = []
    monkeypatch.setattr(after_answer, "_now", lambda: read.append(next(readings)) or read[-1])

    async def main() -> None:
        work, log = AfterAnswerWork(latest=0.001), []
        work.add(_job(log, "a"))
        await asyncio.sleep(0.02)
        assert log == ["a"] and read == [10.0, 10.0004, 10.0011]  # started once the clock said it was due

    asyncio.run(main())


def test_held_work_starts_when_the_clock_reaches_its_delay_exactly(monkeypatch) -> None:
    from toolkit.emulator.gateway import after_answer

    latest = 2.0 ** -8  # seconds, exact in binary: 1.0 + latest is due to the last bit
    readings = iter([1.0, 1.0 + latest])
    monkeypatch.setattr(after_answer, "_now", lambda: next(readings))

    async def main() -> None:
        work, log = AfterAnswerWork(latest=latest), []
        work.add(_job(log, "a"))
        await asyncio.sleep(0.05)
        assert log == ["a"]  # due, not early: started without reading the clock again

    asyncio.run(main())
