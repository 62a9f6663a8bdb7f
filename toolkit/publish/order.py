"""Dependency order as data: what must exist before what (APIOps publisher order, decK's reconcile order).

Writes go level by level, top-down; deletes go bottom-up, after every write (so a pool drops a
member before the member backend is deleted, and a policy stops using a named value before it goes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from toolkit.artifacts.layout import Kind
from toolkit.publish.resources import ResourceRef

T = TypeVar("T")

# (level name, predicate on (ref, body)); a resource takes the first level whose predicate holds.
LEVELS: tuple[tuple[str, Callable[[ResourceRef, Mapping[str, Any] | None], bool]], ...] = (
    ("named values", lambda ref, body: ref.kind is Kind.NAMED_VALUE),
    ("single backends", lambda ref, body: ref.kind is Kind.BACKEND and not _is_pool(body)),
    ("pools", lambda ref, body: ref.kind is Kind.BACKEND),
    ("policy fragments", lambda ref, body: ref.kind is Kind.FRAGMENT),
    ("version sets", lambda ref, body: ref.kind is Kind.VERSION_SET),  # an API names its set: the set first
    ("APIs", lambda ref, body: ref.kind is Kind.API and not _is_revision(ref)),
    ("API revisions", lambda ref, body: ref.kind is Kind.API),  # `name;rev=N` needs `name` first
    ("policies", lambda ref, body: ref.kind in (Kind.GLOBAL_POLICY, Kind.API_POLICY, Kind.OPERATION_POLICY)),
)

# Levels whose members may depend on each other: written one at a time (a fragment may include another).
SERIAL_LEVELS = frozenset({"policy fragments"})


def _is_revision(ref: ResourceRef) -> bool:
    return ";rev=" in ref.name


def _is_pool(body: Mapping[str, Any] | None) -> bool:
    return str(((body or {}).get("properties") or {}).get("type", "")).lower() == "pool"


def level_of(ref: ResourceRef, body: Mapping[str, Any] | None) -> int:
    """The dependency level of a resource (0 first)."""
    for index, (_, holds) in enumerate(LEVELS):
        if holds(ref, body):
            return index
    raise ValueError(f"no dependency level for {ref.label}")


def write_order(items: Iterable[T], key: Callable[[T], tuple[ResourceRef, Mapping[str, Any] | None]]) -> list[T]:
    """``items`` sorted for creating/updating: by level, then by name (deterministic)."""
    return sorted(items, key=lambda item: (level_of(*key(item)), key(item)[0]))


def delete_order(items: Iterable[T], key: Callable[[T], tuple[ResourceRef, Mapping[str, Any] | None]]) -> list[T]:
    """``items`` sorted for deleting: the reverse of :func:`write_order`."""
    return list(reversed(write_order(items, key)))


def concurrent_batches(items: Sequence[T], group: Callable[[T], tuple[bool, int]]) -> list[list[T]]:
    """``items`` (already in apply order) cut into batches whose members may be written concurrently.

    ``group(item)`` is (is a delete, dependency level). A batch is a run of consecutive items of one
    group: nothing in it depends on anything else in it, and everything before it is done first.
    Items of a :data:`SERIAL_LEVELS` level get a batch each.
    """
    batches: list[list[T]] = []
    previous: tuple[bool, int] | None = None
    for item in items:
        current = group(item)
        if current != previous or LEVELS[current[1]][0] in SERIAL_LEVELS:
            batches.append([])
        batches[-1].append(item)
        previous = current
    return batches
