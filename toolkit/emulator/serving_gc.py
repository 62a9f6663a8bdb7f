"""The garbage collector's settings while an emulator serves (process-wide; restored when the last one stops).

Measured at concurrency 32 through the gateway (benchmarks/gateway_overhead.py): a request's objects are freed
by reference counting, but with CPython's default threshold (a young collection every 700 net allocations) the
32 requests in flight alone keep triggering collections, which promote those live objects until a full
collection walks every object of the process (~100k: modules, servers, management plane) several times a
second; together ~40 % of the gateway's CPU per request. So while serving:

- young collections start at 10,000 net allocations (above the in-flight requests' working set): cycles are
  still collected, later;
- the objects alive once the emulator has started (imported modules, servers, plane) are frozen (`gc.freeze`):
  full collections no longer walk them; they are still freed by reference counting.

The last emulator of the process to stop restores the threshold and unfreezes (cycles among a stopped
emulator's objects are collected as before).
"""

from __future__ import annotations

import gc
import threading

SERVING_THRESHOLD = 10_000

_lock = threading.Lock()
_serving = 0
_saved_threshold: tuple[int, int, int] | None = None


def start_serving() -> None:
    """An emulator has started: raise the young-collection threshold, freeze what is alive now."""
    global _serving, _saved_threshold
    with _lock:
        if _serving == 0:
            _saved_threshold = gc.get_threshold()
            first, *older = _saved_threshold
            gc.set_threshold(max(first, SERVING_THRESHOLD), *older)
        _serving += 1
        gc.freeze()  # O(1); garbage frozen with the rest is collected after the unfreeze


def stop_serving() -> None:
    """An emulator has stopped: the last one restores the threshold and unfreezes."""
    global _serving, _saved_threshold
    with _lock:
        if _serving == 0:
            return
        _serving -= 1
        if _serving == 0:
            if _saved_threshold is not None and gc.get_threshold()[0] == max(_saved_threshold[0], SERVING_THRESHOLD):
                gc.set_threshold(*_saved_threshold)  # unless someone else changed it meanwhile
            _saved_threshold = None
            gc.unfreeze()
