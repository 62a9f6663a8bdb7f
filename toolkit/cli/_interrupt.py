"""Ctrl-C and SIGTERM during a long write: the first asks the work to stop cleanly, the second stops at once.

A cancelled CI job sends SIGTERM, a person presses Ctrl-C (SIGINT): both mean "stop, and undo what
you did". The first signal only sets a flag the work polls between steps (the step in flight
finishes, so its outcome is known); a second one raises KeyboardInterrupt where the work is.
"""

from __future__ import annotations

import functools
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequest:
    """Callable flag: ``stop()`` is True once a stop signal arrived; ``signal_name`` says which."""

    def __init__(self) -> None:
        self.signal_name: str | None = None

    def __call__(self) -> bool:
        return self.signal_name is not None


def _say(message: str) -> None:
    # Straight to fd 2: a handler may run while the main thread is inside a buffered stderr write,
    # and re-entering that writer raises RuntimeError.
    os.write(2, (message + "\n").encode("utf-8", "replace"))


@contextmanager
def graceful_stop(what: str, *, say: Callable[[str], None] = _say,
                  abandon: Callable[[], None] | None = None) -> Iterator[StopRequest]:
    """Within the block the first SIGINT/SIGTERM sets the returned flag; the next raises KeyboardInterrupt, after
    ``abandon()`` (which ends waits in other threads, so the process does not outlive them).

    Outside the main thread (where Python cannot install handlers) the flag simply never fires.
    """
    request = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield request
        return

    def handle(signum: int, frame: FrameType | None) -> None:
        if request.signal_name is not None:
            say(f"{signal.Signals(signum).name} again: stopping at once")
            if abandon is not None:
                abandon()
            raise KeyboardInterrupt
        request.signal_name = signal.Signals(signum).name
        say(f"{request.signal_name} received: stopping after the current write, then {what} "
            "(press Ctrl-C again to stop at once)")

    previous = {sig: signal.signal(sig, handle) for sig in STOP_SIGNALS}
    try:
        yield request
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (a CI job cancelled, `kill`) stops the work like Ctrl-C: a KeyboardInterrupt where it is (validate
    then writes its partial report; any verb exits 130 instead of dying silently with 143)."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread (e.g. a test runner's worker): leave SIGTERM alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def sigterm_stops(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` (a verb) run under `sigterm_as_interrupt`: a SIGTERM before or after its guarded writes is exit 130
    with a message, as Ctrl-C is, not a silent 143."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with sigterm_as_interrupt():
            return fn(*args, **kwargs)

    return wrapper


@contextmanager
def shielded(say: Callable[[str], None] = _say, what: str = "the partial report") -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM are only noted: short last work (writing the partial report after a
    first Ctrl-C, when the caller is stopping anyway) finishes whole instead of being cut off."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    def note(signum: int, frame: FrameType | None) -> None:
        say(f"{signal.Signals(signum).name} again: finishing {what} first")

    previous = {sig: signal.signal(sig, note) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
