"""ResourceStore: every published resource, keyed by (kind, name, parent), with ETags, listeners and persistence.

Thread-safe. Writers are serialised by one re-entrant lock held across a whole
:meth:`ResourceStore.transaction` (read-check-write sequences are atomic); readers take a
separate short lock, so a change listener may read the store from any thread. Listeners run
once per committed transaction, in commit order, with the list of changes.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from toolkit.artifacts.layout import Kind
from toolkit.emulator.management.frozen import freeze


class ResourceKind(str, Enum):
    """Kinds the management plane stores; values match :class:`toolkit.artifacts.layout.Kind` where one exists."""

    GLOBAL_POLICY = "global-policy"
    API = "api"
    API_POLICY = "api-policy"
    OPERATION = "operation"
    OPERATION_POLICY = "operation-policy"
    BACKEND = "backend"
    NAMED_VALUE = "named-value"
    FRAGMENT = "policy-fragment"
    SUBSCRIPTION = "subscription"
    VERSION_SET = "version-set"

    @property
    def artifact_kind(self) -> Kind | None:
        """The APIOps artifact kind, or None (subscriptions and operations are not artifacts of their own)."""
        try:
            return Kind(self.value)
        except ValueError:
            return None


@dataclass(frozen=True, order=True)
class ResourceKey:
    """Identity of a resource. Operations and operation policies: name = operation, parent = API;
    API policies: name = API."""

    kind: ResourceKind
    name: str = ""
    parent: str = ""


@dataclass(frozen=True)
class Resource:
    """A stored resource: its key, its properties (deep-frozen: read-only, shared by every reader), and its ETag."""

    key: ResourceKey
    properties: dict[str, Any]
    etag: str


@dataclass(frozen=True)
class ChangeEvent:
    """One committed change: ``action`` is "put" or "delete"; ``resource`` is the new (or deleted) state."""

    action: str
    resource: Resource

    @property
    def key(self) -> ResourceKey:
        """The changed resource's key."""
        return self.resource.key


Listener = Callable[[Sequence[ChangeEvent]], None]


def new_etag() -> str:
    """A fresh quoted ETag, unique across restarts."""
    return f'"{uuid.uuid4().hex}"'


class ResourceStore:
    """In-memory resources with optional JSON persistence (written atomically after each transaction)."""

    def __init__(self, state_file: str | Path | None = None) -> None:
        self._resources: dict[ResourceKey, Resource] = {}
        # The same resources by kind: listing one kind does not read every other (an apply lists named values
        # or backends at each write; the gateway lists subscriptions at each request).
        self._by_kind: dict[ResourceKind, dict[ResourceKey, Resource]] = {}
        self._read_lock = threading.Lock()
        self._write_lock = threading.RLock()
        self._depth = 0
        self._pending: list[ChangeEvent] = []
        self._undo: dict[ResourceKey, Resource | None] = {}  # state before the open transaction, per key
        self._listeners: list[Listener] = []
        self._state_file = Path(state_file) if state_file is not None else None
        if self._state_file is not None and self._state_file.exists():
            from toolkit.emulator.management.state_file import load_state

            for resource in load_state(self._state_file):
                self._set(Resource(resource.key, freeze(resource.properties), resource.etag))

    @property
    def state_file(self) -> Path | None:
        """Where the state is persisted, if anywhere."""
        return self._state_file

    # -- reads ---------------------------------------------------------------------------------
    # Reads share the stored resources without copying: they are immutable (frozen dataclass, frozen
    # properties), so no reader can change stored state; copy.deepcopy() one to get a mutable copy.

    def get(self, key: ResourceKey) -> Resource | None:
        """The resource at ``key`` (read-only), or None."""
        with self._read_lock:
            return self._resources.get(key)

    def list(self, kind: ResourceKind, parent: str | None = None) -> list[Resource]:
        """Resources of ``kind`` (under ``parent`` if given), sorted by parent then name."""
        with self._read_lock:
            of_kind = self._by_kind.get(kind, {})
            found = [r for k, r in of_kind.items() if parent is None or k.parent == parent]
        return sorted(found, key=lambda r: r.key)

    def all(self) -> list[Resource]:
        """Every resource, sorted by key."""
        with self._read_lock:
            found = list(self._resources.values())
        return sorted(found, key=lambda r: r.key)

    # -- writes --------------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[ResourceStore]:
        """Hold the write lock; changes are persisted and announced once, when the outermost block ends.

        All or nothing: when the block raises, or a listener fails on the changes (the gateway could not
        load them), every change of the transaction is undone, the listeners see the old state again,
        and the error propagates. A failed write never leaves anything behind.
        """
        with self._write_lock:
            self._depth += 1
            try:
                yield self
            except BaseException:
                if self._depth == 1:
                    self._rollback()
                raise
            finally:
                self._depth -= 1
            if self._depth == 0:
                events, before = self._pending, self._undo
                self._pending, self._undo = [], {}
                if events:
                    self._commit(events, before)

    def put(self, key: ResourceKey, properties: Mapping[str, Any]) -> Resource:
        """Store (a frozen copy of) ``properties`` at ``key`` under a new ETag; returns the stored resource."""
        resource = Resource(key, freeze(dict(properties)), new_etag())
        with self.transaction():
            with self._read_lock:
                self._undo.setdefault(key, self._resources.get(key))
                self._set(resource)
            self._pending.append(ChangeEvent("put", resource))
        return resource

    def delete(self, key: ResourceKey) -> Resource | None:
        """Remove the resource at ``key``; returns what was removed, or None."""
        with self.transaction():
            with self._read_lock:
                self._undo.setdefault(key, self._resources.get(key))
                resource = self._remove(key)
            if resource is not None:
                self._pending.append(ChangeEvent("delete", resource))
        return resource

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(changes)`` after every committed transaction; returns an unsubscribe function."""
        with self._write_lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._write_lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def _set(self, resource: Resource) -> None:
        """Store ``resource`` in both maps (the read lock is held)."""
        self._resources[resource.key] = resource
        self._by_kind.setdefault(resource.key.kind, {})[resource.key] = resource

    def _remove(self, key: ResourceKey) -> Resource | None:
        """Drop ``key`` from both maps (the read lock is held); what was there."""
        self._by_kind.get(key.kind, {}).pop(key, None)
        return self._resources.pop(key, None)

    def _rollback(self) -> None:
        """Put back what the open transaction changed (nothing was announced or persisted yet)."""
        with self._read_lock:
            for key, before in self._undo.items():
                if before is None:
                    self._remove(key)
                else:
                    self._set(before)
        self._pending, self._undo = [], {}

    def _commit(self, events: list[ChangeEvent], before: dict[ResourceKey, Resource | None]) -> None:
        self._save()
        try:
            self._announce(events)
        except Exception:
            # A listener could not take the change (the gateway could not load it): undo it, and let
            # every listener see the old state again, so that nothing half-applied stays behind.
            with self._read_lock:
                for key, resource in before.items():
                    if resource is None:
                        self._remove(key)
                    else:
                        self._set(resource)
            self._save()
            reverted = [ChangeEvent("put", resource) if resource is not None
                        else ChangeEvent("delete", Resource(key, {}, ""))
                        for key, resource in before.items()]
            try:
                self._announce(reverted)
            except Exception:  # noqa: BLE001 - the first error is the one to report
                pass
            raise

    def _save(self) -> None:
        if self._state_file is not None:
            from toolkit.emulator.management.state_file import save_state

            with self._read_lock:
                snapshot = sorted(self._resources.values(), key=lambda r: r.key)
            save_state(self._state_file, snapshot)

    def _announce(self, events: Sequence[ChangeEvent]) -> None:
        for listener in list(self._listeners):
            listener(tuple(events))
