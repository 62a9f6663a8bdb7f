"""Run a plan: check every ETag first, snapshot what will change, write in order, roll back on failure.

1. Pre-check: read every resource the plan touches. One that changed since the plan (another ETag,
   created or deleted meanwhile) aborts the run before anything is written (StalePlanError). What
   was read is the snapshot.
2. Write in plan order (dependency levels, deletes last in reverse), each update and delete with
   ``If-Match: <etag from the plan>``; 429 and 409 are retried with backoff by the client.
3. If a write fails (a refusal, or an exception that is a bug: handled the same way, then reported as one,
   exit 70), or ``stop()`` asks for it (the first Ctrl-C or SIGTERM, checked between writes),
   undo in reverse order what this apply wrote: delete what it created, put back what it updated or
   deleted. A resource is only undone while it is still as this apply left it (its ETag is the one our
   write returned, or it is still absent after our delete); one another writer changed meanwhile is
   left as they made it and reported, never overwritten. A KeyboardInterrupt (the second Ctrl-C)
   stops at once, listing exactly what is left changed.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Collection, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import Enum
from typing import Union

from toolkit.artifacts.layout import ArtifactPath, Kind
from toolkit.errors import (
    BUG_HINT,
    EXIT_BUG,
    EXIT_INTERRUPTED,
    EXIT_REMOTE,
    ApplyError,
    InputError,
    RemoteError,
    StalePlanError,
    internal_error,
)
from toolkit.publish.client import ApimClient
from toolkit.publish.diff import field_changes
from toolkit.publish.errors import NoAnswer, PreconditionFailed, redact
from toolkit.publish.normalize import strip_server_fields
from toolkit.publish.order import concurrent_batches, level_of
from toolkit.publish.plan import Change, Op, Plan
from toolkit.publish.plan_text import change_line
from toolkit.publish.resources import Body, LiveResource, ResourceRef, is_secret

Event = Callable[[str, str], None]
CHANGED_BY_OTHERS = "changed by another writer during the apply: left as they made it, not restored"


@dataclass
class ApplyOutcome:
    """What an apply did: the changes written, and on failure or interruption what the rollback did.

    ``restored``: what the rollback undid. ``changed_by_others``: resources another writer changed
    during the apply (left alone). ``unrestored``: (resource, why) for what this apply left changed.
    """

    done: list[Change] = field(default_factory=list)
    failed: Change | None = None
    error: str | None = None
    restored: list[str] = field(default_factory=list)
    unrestored: list[tuple[str, str]] = field(default_factory=list)
    changed_by_others: list[str] = field(default_factory=list)
    interrupted: bool = False
    writes: int = 0

    @property
    def target_as_before(self) -> bool:
        """Whether the rollback left the target exactly as before the apply."""
        return not self.unrestored and not self.changed_by_others


class ApplyFailed(ApplyError):
    """A write failed; the snapshot was restored (as far as possible). ``outcome`` has the details."""

    def __init__(self, message: str, outcome: ApplyOutcome, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.outcome = outcome


class ApplyInterrupted(ApplyFailed):
    """The apply was stopped (Ctrl-C, SIGTERM). Exit 130 when the target is as before; else 4 (partial apply)."""

    def __init__(self, message: str, outcome: ApplyOutcome, *, hint: str | None = None) -> None:
        super().__init__(message, outcome, hint=hint)
        # 130 (128 + SIGINT, the shell's "stopped by the user") only when nothing is left changed, so a
        # script can tell a clean cancel from a partial apply, which stays 4 like every partial apply.
        self.exit_code = EXIT_INTERRUPTED if outcome.target_as_before else EXIT_REMOTE


class InternalWriteError(RemoteError):
    """A write raised something other than a RemoteError: a bug in toolkit or a library it uses. The write is
    handled as a failed one (read back, and what the apply wrote rolled back), then reported as a bug (exit 70);
    ``cause`` is the original exception, chained to the ApplyFailed for ``--debug``'s traceback."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(failure_reason(cause))
        self.cause = cause


def failure_reason(exc: Exception) -> str:
    """What went wrong, for a message: a RemoteError's own message, else the exception named as a bug."""
    return exc.message if isinstance(exc, RemoteError) else internal_error(exc)


@dataclass(frozen=True)
class _Written:
    """A write this apply made: the change and the ETag the target answered (None after a delete)."""

    change: Change
    etag: str | None


class _ChangedByOthers(Exception):
    """The resource is no longer as this apply left it: another writer changed it."""


def apply_plan(
    client: ApimClient,
    plan: Plan,
    desired: Mapping[ResourceRef, Body],
    *,
    secret_values: Collection[str] = (),
    on_event: Event | None = None,
    stop: Callable[[], bool] | None = None,
    parallel: int = 1,
) -> ApplyOutcome:
    """Execute ``plan.actions`` against ``client`` with the bodies in ``desired``; see the module docstring.

    ``stop`` is asked before each write and after the last one: True rolls back what was written and
    raises ApplyInterrupted. ``parallel`` > 1 writes up to that many resources of one dependency level
    at once (see :func:`toolkit.publish.order.concurrent_batches`); events, ``outcome.done`` and the
    rollback keep plan order whatever order the writes finish in.
    """
    notify = on_event or (lambda kind, text: None)
    stop_requested = stop or (lambda: False)
    actions = plan.actions
    _check_bodies(actions, desired)
    writes_before = client.calls["write"]
    snapshot = _precheck(client, actions, parallel)
    secrets = {*secret_values, *_secret_values(desired.values()), *_secret_values(r.body for r in snapshot.values())}
    outcome = ApplyOutcome()
    written: list[_Written] = []

    def finish(error: type[ApplyFailed], message: str, hint: str) -> ApplyFailed:
        outcome.writes = client.calls["write"] - writes_before
        return error(message, outcome, hint=hint)

    def write(change: Change) -> str | None:
        return _write(client, change, _body_for(change, desired, snapshot))

    if parallel > 1:
        batches = concurrent_batches(actions, lambda change: _group(change, desired, snapshot))
    else:
        batches = [[change] for change in actions]
    with _Writer(write, stop_requested, parallel) as writer:
        for batch in [*batches, None]:  # None: after the last write, a last look at stop()
            if stop_requested():
                outcome.interrupted = True
                notify("interrupted", f"stopping after {len(written)} of {len(actions)} write(s); rolling back")
                _rollback_or_stop(client, written, [], snapshot, outcome, notify, secrets)
                raise finish(ApplyInterrupted, _interrupted_message(outcome, len(actions)), _HINT)
            if batch is None:
                break
            results = writer.run(batch)
            if any(result is _INTERRUPTED for result in results):  # the second Ctrl-C during a write: stop at once
                _record_batch(batch, results, written, outcome, notify, secrets)
                _stopped_at_once([c for c, r in zip(batch, results) if r is _INTERRUPTED], written, outcome)
                raise finish(ApplyInterrupted, _interrupted_message(outcome, len(actions)), _HINT) from None
            failures = _record_batch(batch, results, written, outcome, notify, secrets)
            if failures:
                failed: list[_Written] = []
                try:
                    for change, exc in failures:
                        failed += _failed_write_step(client, change, exc, desired.get(change.ref),
                                                     snapshot.get(change.ref), outcome)
                except KeyboardInterrupt:
                    _stopped_at_once([change], [*written, *failed], outcome)
                    raise finish(ApplyInterrupted, _interrupted_message(outcome, len(actions)), _HINT) from None
                _rollback_or_stop(client, written, failed, snapshot, outcome, notify, secrets)
                error = ApplyInterrupted if outcome.interrupted else ApplyFailed
                bug = next((exc for _, exc in failures if isinstance(exc, InternalWriteError)), None)
                failure = finish(error, _failure_message(outcome), _HINT if bug is None else _BUG_HINT)
                if bug is not None:
                    failure.exit_code = EXIT_BUG
                raise failure from (bug.cause if bug is not None else None)
            if any(result is _NOT_STARTED for result in results):  # stop() said so in the middle of the batch
                outcome.interrupted = True
                notify("interrupted", f"stopping after {len(written)} of {len(actions)} write(s); rolling back")
                _rollback_or_stop(client, written, [], snapshot, outcome, notify, secrets)
                raise finish(ApplyInterrupted, _interrupted_message(outcome, len(actions)), _HINT)
    outcome.writes = client.calls["write"] - writes_before
    return outcome


class _Unwritten(Enum):
    """A write of a batch that gave no result."""

    NOT_STARTED = "not started"  # stop() was asked first, or the batch was interrupted: not written
    INTERRUPTED = "interrupted"  # a KeyboardInterrupt while it was being written: state unknown


_NOT_STARTED, _INTERRUPTED = _Unwritten.NOT_STARTED, _Unwritten.INTERRUPTED
WriteResult = Union[str, None, RemoteError, _Unwritten]


class _Writer:
    """Writes one batch: a batch of one in the calling thread, a larger one on a pool of ``parallel`` threads (which
    start with the first such batch); results in batch order."""

    def __init__(self, write: Callable[[Change], str | None], stop: Callable[[], bool], parallel: int) -> None:
        self._write, self._stop = write, stop
        self._pool = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="apply")
        self._abort = threading.Event()

    def __enter__(self) -> _Writer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        # After an exception, writes still in flight finish on their own (nothing waits for them) and queued ones
        # never start.
        self._pool.shutdown(wait=exc_type is None, cancel_futures=True)

    def run(self, batch: list[Change]) -> list[WriteResult]:
        if len(batch) == 1:
            return [self._one(change, check_stop=False) for change in batch]  # stop() was asked just before
        futures = [self._pool.submit(self._one, change, check_stop=True) for change in batch]
        try:
            return [future.result() for future in futures]
        except KeyboardInterrupt:  # the second Ctrl-C while waiting: what had not started never will
            self._abort.set()
            return [future.result() if future.done() and not future.cancelled() else
                    _NOT_STARTED if future.cancel() else _INTERRUPTED for future in futures]

    def _one(self, change: Change, *, check_stop: bool) -> WriteResult:
        if self._abort.is_set() or (check_stop and self._stop()):
            return _NOT_STARTED
        try:
            return self._write(change)
        except RemoteError as exc:
            return exc
        except Exception as exc:  # noqa: BLE001 - a bug: still a failed write, so what was written is rolled back
            return InternalWriteError(exc)
        except KeyboardInterrupt:
            self._abort.set()
            return _INTERRUPTED


def _group(change: Change, desired: Mapping[ResourceRef, Body], snapshot: Mapping[ResourceRef, LiveResource]) \
        -> tuple[bool, int]:
    """(is a delete, dependency level): what may be written together (a pool's level needs its body)."""
    live = snapshot.get(change.ref)
    body = live.body if change.op is Op.DELETE and live is not None else desired.get(change.ref)
    return change.op is Op.DELETE, level_of(change.ref, body)


def _record_batch(batch: list[Change], results: list[WriteResult], written: list[_Written], outcome: ApplyOutcome,
                  notify: Event, secrets: Collection[str]) -> list[tuple[Change, RemoteError]]:
    """Record a batch's writes in plan order; the failures (the first one is the apply's ``failed``)."""
    failures: list[tuple[Change, RemoteError]] = []
    for change, result in zip(batch, results):
        if isinstance(result, RemoteError):
            error = redact(with_artifact_file(change.ref, result.message), secrets)
            if outcome.failed is None:
                outcome.failed, outcome.error = change, error
            notify("failed", f"{change_line(change)}: {error}")
            failures.append((change, result))
        elif not isinstance(result, _Unwritten):
            written.append(_Written(change, result))
            outcome.done.append(change)
            notify("done", change_line(change))
    return failures


_HINT = "run `toolkit plan` to see the target's state now"
_BUG_HINT = f"{BUG_HINT}; {_HINT}"


def with_artifact_file(ref: ResourceRef, message: str) -> str:
    """``message`` naming the artifact file: a policy's "line N: " becomes "<file>:N: " (else the file is appended)."""
    file = ArtifactPath.fragment_policy(ref.name).relpath if ref.kind is Kind.FRAGMENT else ref.relpath
    located, count = re.subn(r"\bline (\d+): ", lambda m: f"{file}:{m.group(1)}: ", message, count=1)
    return located if count and (ref.kind.is_policy or ref.kind is Kind.FRAGMENT) else f"{message} ({file})"


def _secret_values(bodies: Iterable[Body]) -> set[str]:
    return {str(b["properties"].get("value")) for b in bodies if is_secret(b) and b["properties"].get("value")}


def _check_bodies(actions: list[Change], desired: Mapping[ResourceRef, Body]) -> None:
    for change in actions:
        if change.op is Op.DELETE:
            continue
        body = desired.get(change.ref)
        if body is None:
            raise StalePlanError(f"the plan writes {change.ref.label}, which the artifacts no longer contain",
                                 hint="run `toolkit plan` again")
        if change.op is Op.CREATE and _secret_without_value(change.ref, body):
            raise InputError(f"named value '{change.ref.name}' is secret and has no value to publish",
                             hint="set its value in toolkit.yaml, e.g. value: ${MY_SECRET} with MY_SECRET exported")


def _secret_without_value(ref: ResourceRef, body: Body) -> bool:
    properties = body["properties"]
    return ref.kind is Kind.NAMED_VALUE and is_secret(body) and "value" not in properties and "keyVault" not in properties


def _body_for(change: Change, desired: Mapping[ResourceRef, Body],
              snapshot: Mapping[ResourceRef, LiveResource]) -> Body | None:
    """What to send: the desired body; a secret whose value the artifacts do not know keeps the live value."""
    if change.op is Op.DELETE:
        return None
    body = desired[change.ref]
    live = snapshot.get(change.ref)
    if _secret_without_value(change.ref, body) and live is not None and "value" in live.body["properties"]:
        return {"properties": {**body["properties"], "value": live.body["properties"]["value"]}}
    return body


def _precheck(client: ApimClient, actions: list[Change], parallel: int) -> dict[ResourceRef, LiveResource]:
    """Read every touched resource (``parallel`` at a time); StalePlanError (nothing written) when any changed
    since the plan."""
    snapshot: dict[ResourceRef, LiveResource] = {}
    stale: list[str] = []
    if parallel > 1 and len(actions) > 1:
        with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="apply-read") as pool:
            reads = list(pool.map(lambda change: read_with_secret_value(client, change.ref), actions))
    else:
        reads = [read_with_secret_value(client, change.ref) for change in actions]
    for change, live in zip(actions, reads):
        if change.op is Op.CREATE and live is not None:
            stale.append(f"{change.ref.label} was created on the target")
        elif change.op is not Op.CREATE and live is None:
            stale.append(f"{change.ref.label} was deleted on the target")
        elif live is not None and change.op is not Op.CREATE and live.etag != change.etag:
            stale.append(f"{change.ref.label} was changed on the target (ETag {live.etag}, the plan read {change.etag})")
        if live is not None:
            snapshot[change.ref] = live
    if stale:
        raise StalePlanError(f"the target changed since the plan; nothing was written: {'; '.join(stale)}",
                             hint="run `toolkit plan` again and review the changes")
    return snapshot


def _write(client: ApimClient, change: Change, body: Body | None) -> str | None:
    try:
        if body is None:
            return _sent_safely(client, change.ref, None, change.etag, lambda: client.delete(change.ref, change.etag))
        etag = change.etag if change.op is Op.UPDATE else None
        return _sent_safely(client, change.ref, body, etag, lambda: client.put(change.ref, body, etag))
    except PreconditionFailed as exc:
        exc.message = f"{change.ref.label} was changed on the target during apply (HTTP 412, ETag mismatch)"
        raise


def _sent_safely(client: ApimClient, ref: ResourceRef, body: Body | None, etag: str | None,
                 send: Callable[[], str | None]) -> str | None:
    """``send()`` (a PUT of ``body``, or a delete when None, with ``If-Match: etag``), also when its answer is lost.

    The client sends a conditional write once (``client._ONCE_SENT``): azure-core would resend it after a read
    error, and when the first one had landed the resend meets our own new ETag, gets a 412 and our write would
    pass for another writer's (and be left changed by a rollback). Not resending keeps "a 412 is another
    writer's" true (another writer may have written our very body: that is still theirs). Instead, on a lost
    answer (NoAnswer) the resource is read back: our body there (or, for a delete, nothing) means the write
    landed, and its current ETag is ours; still the version of ``etag`` means it did not, and it is sent once
    more; anything else is another writer's change (412). Unconditional writes are resent by azure-core itself
    (a create or a forced write repeats harmlessly). Returns the new ETag (None after a delete).
    """
    if etag is None:
        return send()
    try:
        return send()
    except NoAnswer:
        pass
    live = _read_back(client, ref, body)
    if _holds(ref, body, live):
        return None if live is None else live.etag
    if live is None or live.etag != etag:
        raise PreconditionFailed(f"{ref.label}: HTTP 412: changed by another writer while our write got no answer")
    try:
        return send()
    except PreconditionFailed:  # the first request may have landed after the read above: ours if it holds our body
        live = _read_back(client, ref, body)
        if _holds(ref, body, live):
            return None if live is None else live.etag
        raise


def read_with_secret_value(client: ApimClient, ref: ResourceRef) -> LiveResource | None:
    """The live resource, with a secret named value's value (which a GET never returns) read too; not for a Key Vault
    reference, whose value lives in the vault (its body, the reference, is what restores it)."""
    live = client.get(ref)
    if live is not None and is_secret(live.body) and not live.body["properties"].get("keyVault"):
        live.body["properties"]["value"] = client.secret_value(ref.name)
    return live


def _read_back(client: ApimClient, ref: ResourceRef, body: Body | None) -> LiveResource | None:
    """The live resource, with a secret's value read when ``body`` has one to compare."""
    live = client.get(ref)
    if live is not None and body is not None and is_secret(live.body) and "value" in body["properties"]:
        live.body["properties"]["value"] = client.secret_value(ref.name)
    return live


def _holds(ref: ResourceRef, body: Body | None, live: LiveResource | None) -> bool:
    """Whether the target holds what a write of ``body`` (None: a delete) leaves, compared as the plan compares."""
    if body is None:
        return live is None
    return live is not None and not field_changes(ref.kind, body, live.body)


def _failed_write_step(client: ApimClient, change: Change, error: RemoteError, desired: Body | None,
                       before: LiveResource | None, outcome: ApplyOutcome) -> list[_Written]:
    """What to undo for the write that failed: it may still have landed (a 500 after the commit).

    Undone only when the target holds exactly what we sent (or our delete happened); a 412, or any
    other content, means another writer: left alone and reported.
    """
    try:
        current = client.get(change.ref)
    except Exception as exc:  # noqa: BLE001 - a bug too leaves the state unknown; the rollback goes on
        outcome.unrestored.append((change.ref.label, f"state unknown after the failed write: {failure_reason(exc)}"))
        return []
    if _same_version(current, before):
        return []
    ours = not isinstance(error, PreconditionFailed) and (
        current is None if change.op is Op.DELETE
        else current is not None and desired is not None and not field_changes(change.ref.kind, desired, current.body))
    if not ours:
        outcome.changed_by_others.append(change.ref.label)
        return []
    return [_Written(change, None if current is None else current.etag)]


def _same_version(current: LiveResource | None, before: LiveResource | None) -> bool:
    if current is None or before is None:
        return current is None and before is None
    return current.etag == before.etag


def _rollback_or_stop(client: ApimClient, written: list[_Written], failed: list[_Written],
                      snapshot: Mapping[ResourceRef, LiveResource], outcome: ApplyOutcome, notify: Event,
                      secrets: Collection[str]) -> None:
    """Undo ``failed`` then ``written`` in reverse order; a KeyboardInterrupt stops at once (what is left is listed)."""
    steps = [*failed, *reversed(written)]
    for index, step in enumerate(steps):
        label = step.change.ref.label
        try:
            restored = _undo(client, step, snapshot.get(step.change.ref))
        except _ChangedByOthers:
            outcome.changed_by_others.append(label)
            notify("not restored", f"{label}: {CHANGED_BY_OTHERS}")
        except Exception as exc:  # noqa: BLE001 - a refusal or a bug: this one is left changed, the rest go on
            reason = f"{step.change.op.value} not undone: {redact(failure_reason(exc), secrets)}"
            outcome.unrestored.append((label, reason))
            notify("not restored", f"{label}: {reason}")
        except KeyboardInterrupt:
            outcome.interrupted = True
            outcome.unrestored.append((label, f"state unknown: interrupted while undoing its {step.change.op.value}"))
            _left_changed(steps[index + 1:], outcome)
            return
        else:
            outcome.restored.append(restored)
            notify("restored", restored)


def _stopped_at_once(in_flight: list[Change], written: list[_Written], outcome: ApplyOutcome) -> None:
    """A KeyboardInterrupt during the ``in_flight`` writes: nothing is undone; list what is left changed."""
    outcome.interrupted = True
    for change in in_flight:
        outcome.unrestored.append((change.ref.label, f"state unknown: interrupted while writing ({change.op.value})"))
    _left_changed(reversed(written), outcome)


def _left_changed(steps: Iterable[_Written], outcome: ApplyOutcome) -> None:
    """Record every write in ``steps`` (in undo order) as left changed: the rollback was stopped."""
    for step in steps:
        outcome.unrestored.append((step.change.ref.label, f"{step.change.op.value} not undone: stopped"))


def _undo(client: ApimClient, step: _Written, before: LiveResource | None) -> str:
    """Return the resource to ``before`` (None: it did not exist) if it is still as this apply left it."""
    ref = step.change.ref
    current = client.get(ref)
    if step.change.op is Op.DELETE:
        if current is not None or before is None:  # re-created by someone since our delete
            raise _ChangedByOthers
        client.put(ref, _restore_body(before))  # unconditional: there is nothing to match
        return f"re-created {ref.label}"
    if current is None and before is None:  # created here, deleted by someone since: as before anyway
        return f"{ref.label} (created by this apply) was already deleted"
    if current is None or step.etag is None or current.etag != step.etag:
        raise _ChangedByOthers
    if before is None:
        _sent_safely(client, ref, None, step.etag, lambda: client.delete(ref, step.etag))
        return f"deleted {ref.label} (created by this apply)"
    body = _restore_body(before)
    _sent_safely(client, ref, body, step.etag, lambda: client.put(ref, body, step.etag))
    return f"restored {ref.label}"


def _restore_body(live: LiveResource) -> Body:
    return strip_server_fields(live.ref.kind, live.body)


def _rollback_summary(outcome: ApplyOutcome) -> str:
    if outcome.target_as_before:
        return f"rolled back {len(outcome.restored)} change(s): the target is as before the apply"
    parts = [f"rolled back {len(outcome.restored)} change(s)"]
    if outcome.changed_by_others:
        parts.append(f"{len(outcome.changed_by_others)} resource(s) changed by another writer, not restored")
    if outcome.unrestored:
        parts.append(f"{len(outcome.unrestored)} resource(s) left changed by this apply")
    return "rollback incomplete: " + ", ".join(parts)


def _failure_message(outcome: ApplyOutcome) -> str:
    assert outcome.failed is not None
    return f"{change_line(outcome.failed)} failed: {outcome.error}; {_rollback_summary(outcome)}"


def _interrupted_message(outcome: ApplyOutcome, planned: int) -> str:
    return f"interrupted after {len(outcome.done)} of {planned} write(s); {_rollback_summary(outcome)}"
