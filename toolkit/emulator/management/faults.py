"""Fault injection for publish tests: fail the Nth write (PUT/DELETE/mutating POST) from now."""

from __future__ import annotations

import itertools
import threading
from dataclasses import asdict, dataclass

from toolkit.emulator.management.arm import ArmError, default_error_code


@dataclass
class Fault:
    """A pending fault: fires on the ``remaining``-th matching write; ``kind``/``method`` narrow what matches."""

    id: int
    remaining: int
    status: int
    code: str
    message: str
    retry_after: float | None = None
    kind: str | None = None
    method: str | None = None

    def matches(self, kind: str, method: str) -> bool:
        """Whether a write of ``kind`` by ``method`` counts toward this fault."""
        return (self.kind is None or self.kind == kind) and (self.method is None or self.method == method)

    def error(self) -> ArmError:
        """The ARM error answer this fault produces."""
        headers = {}
        if self.retry_after is not None:
            headers["Retry-After"] = f"{self.retry_after:g}"
        return ArmError(self.status, self.code, self.message, headers=headers)


class ManagementFaults:
    """Queued write faults; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)

    def fail_nth_write(
        self,
        nth: int = 1,
        status: int = 500,
        *,
        code: str | None = None,
        message: str | None = None,
        retry_after: float | None = None,
        kind: str | None = None,
        method: str | None = None,
    ) -> Fault:
        """Make the ``nth`` matching write from now answer ``status`` with an ARM error body (no state change)."""
        if nth < 1:
            raise ValueError(f"nth must be at least 1, got {nth}")
        if not 400 <= status <= 599:
            raise ValueError(f"status must be an HTTP error status (400-599), got {status}")
        if retry_after is not None and retry_after < 0:
            raise ValueError(f"retry_after must not be negative, got {retry_after}")
        with self._lock:
            fault = Fault(
                id=next(self._ids),
                remaining=nth,
                status=status,
                code=code or default_error_code(status),
                message=message or f"Injected fault: HTTP {status} on write #{nth}.",
                retry_after=retry_after,
                kind=kind,
                method=method.upper() if method else None,
            )
            self._faults.append(fault)
            return fault

    def on_write(self, kind: str, method: str) -> ArmError | None:
        """Count one write; the error to answer instead when a fault fires."""
        fired: Fault | None = None
        with self._lock:
            for fault in list(self._faults):
                if fault.matches(kind, method):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                        fired = fired or fault
        return fired.error() if fired else None

    def pending(self) -> list[dict[str, object]]:
        """The faults still waiting, as JSON-ready dicts."""
        with self._lock:
            return [asdict(f) for f in self._faults]

    def clear(self) -> None:
        """Drop every pending fault."""
        with self._lock:
            self._faults.clear()
