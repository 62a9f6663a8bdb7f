"""Semantic cache store on a plain Redis 7 server (no RediSearch), shared by many processes.

Layout under the namespace NS (P = first 32 hex digits of sha256(partition)):

- ``NS:e:<key>``  a hash per entry (partition, prompt, body, headers as JSON, status,
  stored_at, expires_at) with a real Redis TTL (PEXPIRE = ttl_seconds).
- ``NS:s:<P>``    a stream per partition, one message per stored entry: ``k`` the entry key,
  ``x`` expires_at, ``v`` the unit vector (float32 bytes). Its own TTL is stretched (PEXPIRE NX,
  then GT) to outlive its longest-lived entry, so an idle partition disappears by itself.
- ``NS:epoch``    a random token rewritten by clear().

Lookup keeps a local mirror of each partition's vectors (a VectorIndex) and brings it up to date
in one round-trip: MULTI{GET epoch, EXISTS stream, XRANGE stream (last-seen-id +} — stream ids
only grow, so the mirror pulls just what other processes (or this one) stored since its last
look. A changed epoch or a vanished stream resets the mirror. The search itself is one numpy
dot product over the mirror. The best candidate within the threshold is then confirmed with
HGETALL of its entry key: a key Redis has expired (or anything logically expired at `now`) is
never returned; its row is dropped from the mirror and its stream message XDEL'd, and the next
best candidate is tried. Rows logically expired at `now` are skipped, and compacted (and
XDEL'd) once they make up half the mirror. On a miss, best_distance comes from the mirror
without confirmation. Stores write the entry and its stream message in one MULTI.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import redis

from toolkit.errors import InputError

from toolkit.emulator.cache.base import (
    CacheBackendError,
    CacheEntry,
    LookupResult,
    check_threshold,
    
    is_hit,
)
from toolkit.emulator.cache.vector_index import UnitQuery, VectorIndex, unit_of

_PAGE = 2000  # stream messages per XRANGE when a mirror catches up
_SCAN_BATCH = 500
_VECTOR_DTYPE = np.dtype("<f4")

Row = tuple[str, bytes]  # (entry key, stream message id)


def redact_url(url: str) -> str:
    """`url` as messages show it: scheme, user, host, port and path, never a password (in the user-info or in
    the query, where redis-py reads ``?password=`` too); a URL that does not parse is not shown at all (a password
    with an unencoded ``/`` or ``#`` makes the rest of it look like a host or a fragment)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "(a URL that does not parse, not shown)"
    database = parts.path.strip("/")  # redis://host/<db number>; unix:// has the socket's path there
    if parts.fragment or "@" in parts.path or (parts.scheme != "unix" and database and not database.isdigit()):
        return "(a URL that does not parse, not shown)"
    host = parts.hostname or ""
    if port is not None:
        host = f"{host}:{port}"
    user = parts.username or ""
    if parts.password is not None:
        host = f"{user}:***@{host}"
    elif user:
        host = f"{user}@{host}"
    return f"{parts.scheme}://{host}{parts.path}" + ("?***" if parts.query else "")


def _glob_escape(text: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


@dataclass
class _Mirror:
    """This process's copy of one partition's vectors, as of `last_id` in the stream."""

    epoch: bytes | None
    last_id: bytes | None = None
    index: VectorIndex[Row] = field(default_factory=VectorIndex)


class RedisCacheStore:
    """A SemanticCacheStore kept in Redis; see the module docstring for the design."""

    def __init__(self, url: str, namespace: str = "toolkit:semcache") -> None:
        if not namespace:
            raise ValueError("namespace must not be empty")
        self._where = redact_url(url)
        self._ns = namespace
        self._mirrors: dict[str, _Mirror] = {}
        self._lock = threading.Lock()
        with self._translate("connect"):
            try:
                self._client = redis.Redis.from_url(
                    url, decode_responses=False, socket_timeout=10, socket_connect_timeout=5
                )
            except ValueError:  # its message may quote part of the password: not shown
                raise InputError(f"the semantic cache's Redis URL {self._where} does not parse",
                                 hint="percent-encode a password's '/', '#', '?' and '@' (urllib.parse.quote)") from None
            self._client.ping()

    @property
    def namespace(self) -> str:
        """Prefix of every Redis key this store uses."""
        return self._ns

    # -- SemanticCacheStore ------------------------------------------------------------------

    def lookup(
        self, partition: str, vector: np.ndarray, score_threshold: float, now: float
    ) -> LookupResult:
        """Best alive entry of `partition`, confirmed in Redis; a hit when distance <= threshold."""
        check_threshold(score_threshold)
        query = UnitQuery(vector)
        with self._lock, self._translate("lookup"):
            mirror = self._refresh(partition)
            self._forget(partition, mirror.index.compact_if_sparse(now))
            while True:
                match, considered = mirror.index.nearest(query.unit, now)
                if match is None or not is_hit(match.distance, score_threshold):
                    best = None if match is None else match.distance
                    return LookupResult(False, best, None, considered, query)
                entry = self._read_entry(match.item[0])
                if entry is not None and entry.expires_at > now:
                    return LookupResult(True, match.distance, entry, considered, query)
                mirror.index.discard(match.row)
                self._forget(partition, [match.item])

    def store(
        self,
        partition: str,
        vector: np.ndarray,
        prompt: str,
        body: bytes,
        headers: dict[str, str],
        status: int,
        ttl_seconds: float,
        now: float,
        query: UnitQuery | None = None,
    ) -> CacheEntry:
        """Write the entry (with a real TTL) and append its vector to the partition's stream; `query`: the
        lookup's ``LookupResult.query``."""
        entry = CacheEntry.new(partition, prompt, body, headers, status, ttl_seconds, now)
        row = unit_of(vector, query)
        ttl_ms = max(1, round(ttl_seconds * 1000))
        stream = self._stream_key(partition)
        with self._translate("store"), self._client.pipeline(transaction=True) as pipe:
            pipe.hset(self._entry_key(entry.key), mapping=_entry_fields(entry))
            pipe.pexpire(self._entry_key(entry.key), ttl_ms)
            pipe.xadd(stream, {"k": entry.key, "x": repr(entry.expires_at),
                               "v": row.astype(_VECTOR_DTYPE).tobytes()})
            pipe.pexpire(stream, ttl_ms, nx=True)
            pipe.pexpire(stream, ttl_ms, gt=True)
            pipe.execute()
        return entry

    def clear(self) -> None:
        """Delete every key of this namespace and tell every process's mirrors to reset."""
        epoch = self._epoch_key()
        with self._lock, self._translate("clear"):
            batch: list[bytes] = []
            for key in self._client.scan_iter(match=f"{_glob_escape(self._ns)}:*",
                                              count=_SCAN_BATCH):
                if key != epoch.encode():
                    batch.append(key)
                if len(batch) >= _SCAN_BATCH:
                    self._client.unlink(*batch)
                    batch.clear()
            if batch:
                self._client.unlink(*batch)
            self._client.set(epoch, uuid.uuid4().hex)
            self._mirrors.clear()

    def count(self, now: float) -> int:
        """Entries whose Redis key exists and that are alive at `now` (scans the namespace)."""
        alive = 0
        with self._translate("count"):
            keys = list(self._client.scan_iter(match=f"{_glob_escape(self._ns)}:e:*",
                                               count=_SCAN_BATCH))
            for start in range(0, len(keys), _SCAN_BATCH):
                with self._client.pipeline(transaction=False) as pipe:
                    for key in keys[start : start + _SCAN_BATCH]:
                        pipe.hget(key, "expires_at")
                    alive += sum(1 for x in pipe.execute() if x is not None and float(x) > now)
        return alive

    def close(self) -> None:
        """Close the connection pool and forget the mirrors."""
        with self._lock:
            self._mirrors.clear()
            self._client.close()

    # -- mirror --------------------------------------------------------------------------------

    def _refresh(self, partition: str) -> _Mirror:
        """Bring this partition's mirror up to date: one round-trip when little changed."""
        stream = self._stream_key(partition)
        mirror = self._mirrors.get(partition)
        start = b"-" if mirror is None or mirror.last_id is None else b"(" + mirror.last_id
        with self._client.pipeline(transaction=True) as pipe:
            pipe.get(self._epoch_key())
            pipe.exists(stream)
            pipe.xrange(stream, min=start, max=b"+", count=_PAGE)
            epoch, exists, messages = pipe.execute()
        if mirror is None or mirror.epoch != epoch or (not exists and len(mirror.index)):
            stale = mirror is not None and mirror.last_id is not None
            mirror = self._mirrors[partition] = _Mirror(epoch)
            if stale:  # what we pulled continued an outdated position; start over
                messages = self._client.xrange(stream, min=b"-", max=b"+", count=_PAGE)
        while True:
            for message_id, fields in messages:
                self._add_row(mirror, message_id, fields)
            if len(messages) < _PAGE:
                return mirror
            messages = self._client.xrange(stream, min=b"(" + mirror.last_id, max=b"+",
                                           count=_PAGE)

    @staticmethod
    def _add_row(mirror: _Mirror, message_id: bytes, fields: dict[bytes, bytes]) -> None:
        mirror.last_id = message_id
        vector = np.frombuffer(fields[b"v"], dtype=_VECTOR_DTYPE).astype(np.float32)
        item: Row = (fields[b"k"].decode(), message_id)
        mirror.index.add(vector, float(fields[b"x"]), item, bulk=True)

    def _forget(self, partition: str, rows: list[Row]) -> None:
        """XDEL the stream messages of entries that are gone, so no mirror loads them again."""
        if rows:
            self._client.xdel(self._stream_key(partition), *(message_id for _, message_id in rows))

    def _read_entry(self, key: str) -> CacheEntry | None:
        fields = self._client.hgetall(self._entry_key(key))
        return _entry_from_fields(key, fields) if fields else None

    # -- keys and errors -----------------------------------------------------------------------

    def _entry_key(self, key: str) -> str:
        return f"{self._ns}:e:{key}"

    def _stream_key(self, partition: str) -> str:
        return f"{self._ns}:s:{hashlib.sha256(partition.encode()).hexdigest()[:32]}"

    def _epoch_key(self) -> str:
        return f"{self._ns}:epoch"

    @contextmanager
    def _translate(self, operation: str) -> Iterator[None]:
        """Turn redis-py errors into CacheBackendError naming the (redacted) server."""
        try:
            yield
        except redis.RedisError as exc:
            raise CacheBackendError(
                f"semantic cache {operation} failed on Redis at {self._where}: "
                f"{type(exc).__name__}: {exc}",
                hint="check that the Redis server is running and reachable",
            ) from exc


def _entry_fields(entry: CacheEntry) -> dict[str, Any]:
    return {
        "partition": entry.partition,
        "prompt": entry.prompt,
        "body": entry.body,
        "headers": json.dumps(entry.headers),
        "status": entry.status,
        "stored_at": repr(entry.stored_at),
        "expires_at": repr(entry.expires_at),
    }


def _entry_from_fields(key: str, fields: dict[bytes, bytes]) -> CacheEntry:
    return CacheEntry(
        key=key,
        partition=fields[b"partition"].decode(),
        prompt=fields[b"prompt"].decode(),
        body=fields[b"body"],
        headers=json.loads(fields[b"headers"]),
        status=int(fields[b"status"]),
        stored_at=float(fields[b"stored_at"]),
        expires_at=float(fields[b"expires_at"]),
    )
