"""An in-memory APIM target for apply's unit tests: the ApimClient surface apply uses, with ARM's rules.

What it keeps from the management API (as the emulator does): every write gets a new ETag; ``If-Match``
with another ETag (or on a missing resource) is 412; deleting a missing resource is not an error; a
secret named value's GET omits its value (``secret_value`` is listValue). Milliseconds per apply instead
of seconds through the SDK and TLS, so the mutation run of apply.py can afford every case.

Faults: ``fail_write(n, error, landed=...)`` makes the n-th write (1-based, rollback writes included)
raise ``error``, before or after it is stored (a 500 after the commit). ``before_write`` runs before
each write is decided (another writer stepping in); ``fail_get`` makes reads of a resource fail.
"""

from __future__ import annotations

import copy
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping

from toolkit.artifacts.layout import Kind
from toolkit.publish.errors import PreconditionFailed, RemoteHttpError
from toolkit.publish.order import delete_order, write_order
from toolkit.publish.plan import Change, Op, Plan
from toolkit.publish.resources import Body, LiveResource, ResourceRef, is_secret

NV, BACKEND, API_POLICY = Kind.NAMED_VALUE, Kind.BACKEND, Kind.API_POLICY


def server_error(message: str = "internal error") -> RemoteHttpError:
    return RemoteHttpError(f"HTTP 500: {message}", status=500)


class MemoryTarget:
    """Resources by ref: (body, ETag). Thread-safe (apply writes from several threads)."""

    def __init__(self, resources: Mapping[ResourceRef, Body] | None = None) -> None:
        self.resources: dict[ResourceRef, tuple[Body, str]] = {}
        self.calls: Counter[str] = Counter()
        self.log: list[tuple[str, ResourceRef, str | None]] = []  # (put/delete, ref, If-Match) as decided
        self.before_write: Callable[[int, str, ResourceRef], None] | None = None
        self._faults: dict[int, tuple[BaseException, bool]] = {}
        self._get_faults: dict[ResourceRef, list[BaseException]] = {}
        self._etags = 0
        self._lock = threading.RLock()
        for ref, body in (resources or {}).items():
            self.store(ref, body)

    # -- test controls -------------------------------------------------------------------------------

    def store(self, ref: ResourceRef, body: Body) -> str:
        """Put ``body`` behind the tool's back (another writer); returns the new ETag."""
        with self._lock:
            self._etags += 1
            etag = f'"{self._etags}"'
            self.resources[ref] = (copy.deepcopy(body), etag)
            return etag

    def remove(self, ref: ResourceRef) -> None:
        with self._lock:
            self.resources.pop(ref, None)

    def fail_write(self, nth: int, error: BaseException, *, landed: bool = False) -> None:
        self._faults[nth] = (error, landed)

    def fail_get(self, ref: ResourceRef, *errors: BaseException) -> None:
        """The next reads of ``ref`` raise ``errors`` in turn."""
        self._get_faults[ref] = list(errors)

    def state(self) -> dict[ResourceRef, Body]:
        return {ref: copy.deepcopy(body) for ref, (body, _) in self.resources.items()}

    def etag(self, ref: ResourceRef) -> str:
        return self.resources[ref][1]

    # -- the ApimClient surface ------------------------------------------------------------------------

    def get(self, ref: ResourceRef) -> LiveResource | None:
        with self._lock:
            self.calls["read"] += 1
            pending = self._get_faults.get(ref)
            if pending:
                raise pending.pop(0)
            if ref not in self.resources:
                return None
            body, etag = self.resources[ref]
        body = copy.deepcopy(body)
        if is_secret(body):
            body["properties"].pop("value", None)
        return LiveResource(ref, body, etag)

    def secret_value(self, name: str) -> str:
        with self._lock:
            self.calls["read"] += 1
            return str(self.resources[ResourceRef(NV, name)][0]["properties"].get("value", ""))

    def put(self, ref: ResourceRef, body: Body, if_match: str | None = None) -> str | None:
        return self._write("put", ref, if_match, body)

    def delete(self, ref: ResourceRef, if_match: str | None) -> None:
        self._write("delete", ref, if_match, None)

    def _write(self, method: str, ref: ResourceRef, if_match: str | None, body: Body | None) -> str | None:
        with self._lock:
            self.calls["write"] += 1
            nth = self.calls["write"]
        if self.before_write is not None:
            self.before_write(nth, method, ref)
        with self._lock:
            self.log.append((method, ref, if_match))
            error, landed = self._faults.pop(nth, (None, False))
            if error is not None and not landed:
                raise error
            current = self.resources.get(ref)
            if if_match not in (None, "*") and (current is None or current[1] != if_match):
                raise PreconditionFailed(f"HTTP 412: {ref.label} has another ETag", status=412)
            etag = None
            if body is not None:
                etag = self.store(ref, body)
            else:
                self.resources.pop(ref, None)
            if error is not None:
                raise error
            return etag


def plan_for(target: MemoryTarget, desired: Mapping[ResourceRef, Body], delete: Iterable[ResourceRef] = ()) -> Plan:
    """What ``toolkit plan`` would plan: create what is missing, update what differs (with the ETag read now),
    delete ``delete``; writes by dependency level, then deletes in reverse."""
    writes = []
    for ref, body in desired.items():
        live = target.resources.get(ref)
        if live is None:
            writes.append((Change(Op.CREATE, ref), body))
        elif live[0] != body:
            writes.append((Change(Op.UPDATE, ref, etag=live[1]), body))
    deletes = [(Change(Op.DELETE, ref, etag=target.etag(ref)), target.resources[ref][0]) for ref in delete]
    ordered = write_order(writes, lambda item: (item[0].ref, item[1])) + delete_order(deletes, lambda item: (item[0].ref, item[1]))
    return Plan([change for change, _ in ordered], env="test")
