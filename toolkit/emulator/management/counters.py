"""Counters of management HTTP calls by method and resource kind (reads vs writes), resettable."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class CallCounters:
    """Thread-safe call counts; a *write* is PUT, PATCH, DELETE or a mutating POST, everything else a read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: Counter[tuple[str, str, bool]] = Counter()

    def record(self, method: str, kind: str, *, write: bool) -> None:
        """Count one call."""
        with self._lock:
            self._calls[(method.upper(), kind, write)] += 1

    @property
    def reads(self) -> int:
        """Read calls since the last reset."""
        with self._lock:
            return sum(n for (_, _, write), n in self._calls.items() if not write)

    @property
    def writes(self) -> int:
        """Write calls since the last reset."""
        with self._lock:
            return sum(n for (_, _, write), n in self._calls.items() if write)

    def snapshot(self) -> dict[str, Any]:
        """``{"total", "reads", "writes", "by_method": {GET: n}, "by_kind": {kind: {"reads", "writes", GET: n}}}``."""
        with self._lock:
            calls = dict(self._calls)
        by_method: Counter[str] = Counter()
        by_kind: dict[str, Counter[str]] = {}
        for (method, kind, write), n in calls.items():
            by_method[method] += n
            per_kind = by_kind.setdefault(kind, Counter())
            per_kind[method] += n
            per_kind["writes" if write else "reads"] += n
        writes = sum(n for (_, _, w), n in calls.items() if w)
        total = sum(calls.values())
        return {
            "total": total,
            "reads": total - writes,
            "writes": writes,
            "by_method": dict(sorted(by_method.items())),
            "by_kind": {kind: {"reads": c["reads"], "writes": c["writes"],
                               **{m: n for m, n in sorted(c.items()) if m not in ("reads", "writes")}}
                        for kind, c in sorted(by_kind.items())},
        }

    def reset(self) -> None:
        """Set every count back to zero."""
        with self._lock:
            self._calls.clear()
