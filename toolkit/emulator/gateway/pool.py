"""Backend-pool routing: which member of a ``type: Pool`` backend serves the next request.

Rules (DESIGN.md "Emulator decisions"; APIM documents the outline only):

- Members are grouped by ``priority``; the lowest number is served first. The next group is used
  only when EVERY member of the group above is unavailable (its breaker open). Nothing available →
  ``None`` (the gateway answers 503).
- Inside a group the draw is weighted random over the available members. Members with weight 0 are
  standbys: used only when no available member of the group has a positive weight, and then in
  turn. A group whose weights are all 0 (a pool with no weights) is round-robin, as backends.md
  documents the default: a deterministic rotation over the members available at each request, in
  the pool's order, so that N requests to N healthy members reach each exactly once.
- A missing ``priority`` or ``weight`` (null or omitted) is read as 0, APIM leaving it undocumented:
  it is what an unset .NET ``int?`` defaults to, and .NET orders a null priority first as well. So
  a member without priority joins the top group (with explicit priority-0 members), and a pool with
  no weights at all is round-robin, which is APIM's documented default.

Cumulative weights are precomputed per group: a draw is one ``rng.random()``, one bisect and one
availability check while the drawn member is healthy.
"""

from __future__ import annotations

import itertools
import random
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from toolkit.emulator.gateway.arm_json import backend_name_from_id, backend_properties
from toolkit.errors import ArtifactError

MAX_MEMBERS = 30  # APIM's limit of backends per pool
DEFAULT_PRIORITY = 0  # a null/omitted priority
DEFAULT_WEIGHT = 0  # a null/omitted weight


@dataclass(frozen=True)
class PoolMember:
    """One pool member: a backend name with its (optional) priority and weight."""

    name: str
    priority: int | None = None
    weight: int | None = None

    @property
    def effective_priority(self) -> int:
        """The priority routing uses (null → ``DEFAULT_PRIORITY``)."""
        return DEFAULT_PRIORITY if self.priority is None else self.priority

    @property
    def effective_weight(self) -> int:
        """The weight routing uses (null → ``DEFAULT_WEIGHT``)."""
        return DEFAULT_WEIGHT if self.weight is None else self.weight


class _Group:
    """The members of one priority, with precomputed cumulative weights."""

    __slots__ = ("priority", "names", "weights", "cumulative", "total", "last_positive", "round_robin", "_turns")

    def __init__(self, priority: int, members: Sequence[PoolMember]) -> None:
        self.priority = priority
        self.names = tuple(m.name for m in members)
        weights = tuple(m.effective_weight for m in members)
        self.round_robin = not any(weights)  # no weights: the documented round-robin default
        if self.round_robin:
            weights = (1,) * len(weights)
        self.weights = weights
        self.cumulative = tuple(accumulate(weights))
        self.total = self.cumulative[-1]
        self.last_positive = max(i for i, w in enumerate(weights) if w > 0)
        self._turns = itertools.count()  # next() is atomic in CPython: safe from any thread

    def shares(self) -> dict[str, float]:
        """Each member's share of this group's traffic when all are healthy."""
        return {name: w / self.total for name, w in zip(self.names, self.weights)}

    def pick(self, rng: random.Random, is_available: Callable[[str], bool]) -> str | None:
        """A member drawn by weight among the available ones, or None when none is available."""
        names = self.names
        if len(names) == 1:
            return names[0] if is_available(names[0]) else None
        if self.round_robin:
            return self._in_turn(names, is_available)
        index = bisect_right(self.cumulative, rng.random() * self.total)
        if index > self.last_positive:  # r rounded up to total: belongs to the last positive weight
            index = self.last_positive
        if is_available(names[index]):
            return names[index]
        # Rare path: redraw among the others that are available. Together with the fast path this
        # gives exactly the weights conditioned on availability.
        skip = names[index]
        weighted: list[str] = []
        cumulative: list[int] = []
        standbys: list[str] = []
        total = 0
        for name, weight in zip(names, self.weights):
            if name is skip or not is_available(name):
                continue
            if weight:
                total += weight
                weighted.append(name)
                cumulative.append(total)
            else:
                standbys.append(name)
        if weighted:
            return weighted[min(bisect_right(cumulative, rng.random() * total), len(weighted) - 1)]
        return self._in_turn(standbys, is_available)

    def _in_turn(self, names: Sequence[str], is_available: Callable[[str], bool]) -> str | None:
        """The next of ``names`` in rotation among those available now (equal shares, deterministic)."""
        available = [name for name in names if is_available(name)]
        return available[next(self._turns) % len(available)] if available else None


def _groups(members: Sequence[PoolMember]) -> tuple[_Group, ...]:
    by_priority: dict[int, list[PoolMember]] = {}
    for member in members:
        by_priority.setdefault(member.effective_priority, []).append(member)
    return tuple(_Group(p, by_priority[p]) for p in sorted(by_priority))


def _check_members(members: Sequence[PoolMember]) -> None:
    if not members:
        raise ArtifactError("a backend pool needs at least one member")
    if len(members) > MAX_MEMBERS:
        raise ArtifactError(f"a backend pool holds at most {MAX_MEMBERS} members, got {len(members)}")
    seen: set[str] = set()
    for member in members:
        if member.name in seen:
            raise ArtifactError(f"backend {member.name!r} appears twice in the pool")
        seen.add(member.name)
        for field in ("priority", "weight"):
            value = getattr(member, field)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100):
                raise ArtifactError(f"pool member {member.name!r}: {field} must be an integer 0..100, got {value!r}")


class PoolRouter:
    """Chooses the member of one pool that serves the next request."""

    def __init__(self, members: Sequence[PoolMember], rng: random.Random) -> None:
        _check_members(members)
        self.members = tuple(members)
        self._rng = rng
        self._groups = _groups(self.members)

    def choose(self, is_available: Callable[[str], bool]) -> str | None:
        """The backend name to call, or None when every member is unavailable (→ 503)."""
        rng = self._rng
        for group in self._groups:
            picked = group.pick(rng, is_available)
            if picked is not None:
                return picked
        return None

    @classmethod
    def from_arm(
        cls,
        properties: Mapping[str, Any],
        resolve_name: Callable[[str], str] = backend_name_from_id,
        rng: random.Random | None = None,
    ) -> PoolRouter:
        """A router for a pool backend's JSON (``properties`` or the whole ``backendInformation.json``)."""
        return cls(members_from_arm(properties, resolve_name), rng if rng is not None else random.Random())


def members_from_arm(
    properties: Mapping[str, Any], resolve_name: Callable[[str], str] = backend_name_from_id
) -> list[PoolMember]:
    """The members of ``pool.services[]``; ``resolve_name`` maps a member id to a backend name."""
    props = backend_properties(properties)
    if props.get("type") != "Pool":
        raise ArtifactError(f"backend type is {props.get('type')!r}, not 'Pool'")
    pool = props.get("pool")
    services = pool.get("services") if isinstance(pool, Mapping) else None
    if not isinstance(services, list):
        raise ArtifactError("pool.services must be a list")
    members = []
    for i, service in enumerate(services):
        if not isinstance(service, Mapping) or "id" not in service:
            raise ArtifactError(f"pool.services[{i}] must be an object with an 'id'")
        members.append(PoolMember(resolve_name(service["id"]), service.get("priority"), service.get("weight")))
    _check_members(members)
    return members


def expected_shares(members: Sequence[PoolMember]) -> dict[str, float]:
    """Each member's share of traffic when all are healthy; members below the top priority get 0."""
    _check_members(members)
    groups = _groups(members)
    shares = {m.name: 0.0 for m in members}
    shares.update(groups[0].shares())
    return shares
