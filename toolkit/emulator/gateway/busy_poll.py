"""Keep the serving event loop polling, not sleeping, for a short window after the gateway starts to wait.

At concurrency 1 the gateway waits three times per request of the sample's whole policy: for the embeddings
call, for the chat call, and for the client's next request. When its event loop sleeps in epoll for those waits,
the core goes idle, and waking it costs time. Measured on this project's 2-core CI virtual machine (whose guest
halt-polling is off, ``haltpoll.guest_halt_poll_ns=0``) with benchmarks/gateway_phases.py, the full policy: the
embeddings call took ~360 µs and the chat call ~230 µs from sent to answered when the loop kept polling, against
~430 and ~300 µs when it slept, and the gateway's own steps ran 10-25% faster on caches that had not gone cold.

This does what Linux's cpuidle-haltpoll does for a guest (poll briefly before halting), inside the process: after
each backend call is sent and each answer is written, the loop polls (a callback that schedules itself, so the
loop's poll does not block) until ``window`` seconds have passed since the last of them, then sleeps as before.
The cost is CPU: up to one core while requests keep coming (at concurrency 1, benchmarks/policy_cpu.py: the
gateway's process used 1.29 ms of CPU per 1.23 ms request instead of 0.81 ms per 1.38 ms), nothing once they
stop. Each turn first yields the core (``sched_yield``) to whatever else is runnable on it, and the loop releases
the GIL at every turn (uvloop polls without it), so other processes and threads keep running. ``TOOLKIT_EMULATOR_BUSY_POLL_US=0`` turns it off.
"""

from __future__ import annotations

import asyncio
import os
import time

from toolkit.errors import InputError

ENVIRONMENT_VARIABLE = "TOOLKIT_EMULATOR_BUSY_POLL_US"
DEFAULT_WINDOW_US = 1000  # covers a loopback backend call and a client's turn-around; bounded waste when not


def window_from_environment(environ: dict[str, str] | None = None) -> float:
    """The polling window in seconds from ``TOOLKIT_EMULATOR_BUSY_POLL_US`` (microseconds; 0 turns it off)."""
    text = (os.environ if environ is None else environ).get(ENVIRONMENT_VARIABLE, "").strip()
    if not text:
        return DEFAULT_WINDOW_US / 1e6
    try:
        microseconds = int(text)
    except ValueError:
        raise InputError(f"{ENVIRONMENT_VARIABLE} must be a whole number of microseconds, not {text!r}") from None
    if not 0 <= microseconds <= 1_000_000:
        raise InputError(f"{ENVIRONMENT_VARIABLE} must be between 0 and 1000000 microseconds, not {microseconds}")
    return microseconds / 1e6


class BusyPoll:
    """Keeps the running event loop polling until ``window`` seconds after the last `keep_awake`."""

    def __init__(self, window: float) -> None:
        self.window = window
        self._until = 0.0
        self._polling = False

    def keep_awake(self) -> None:
        """The gateway is about to wait on the network: poll for the next ``window`` seconds (0: never)."""
        if self.window <= 0:
            return
        self._until = time.perf_counter() + self.window
        if not self._polling:
            self._polling = True
            asyncio.get_running_loop().call_soon(self._poll)

    def _poll(self) -> None:
        if time.perf_counter() < self._until:
            os.sched_yield()  # the core to any other runnable thread or process first: poll only with what is spare
            asyncio.get_running_loop().call_soon(self._poll)  # a ready callback: the loop's next poll won't block
        else:
            self._polling = False

    @property
    def polling(self) -> bool:
        """Whether the loop is being kept polling now."""
        return self._polling
