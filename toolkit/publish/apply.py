"""Run a plan: check every ETag first, snapshot what will change, write in order, roll back on failure.

1. Pre-check: read every resource the plan touches. One that changed since the plan (another ETag,
   created or deleted meanwhile) aborts the run before anything is written (StalePlanError). What
   was read is the snapshot.
2. Write in plan order (dependency levels, deletes last in reverse), each update and delete with
   ``If-Match: <etag from the plan>``; 429 and 409 are retried with backoff by the client.
3. If a write fails, restore the snapshot in reverse order (delete what was created, put back what
   was updated or deleted) and raise ApplyFailed with what failed and what was restored.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field

from toolkit.artifacts.layout import ArtifactPath, Kind
from toolkit.errors import ApplyError, InputError, RemoteError, StalePlanError
from toolkit.publish.client import ApimClient
from toolkit.publish.errors import PreconditionFailed, redact
from toolkit.publish.normalize import strip_server_fields
from toolkit.publish.plan import Change, Op, Plan
from toolkit.publish.plan_text import change_line
from toolkit.publish.resources import Body, LiveResource, ResourceRef, is_secret

Event = Callable[[str, str], None]


@dataclass
class ApplyOutcome:
    """What an apply did: the changes written, and on failure the error and the rollback's result."""

    done: list[Change] = field(default_factory=list)
    failed: Change | None = None
    error: str | None = None
    restored: list[str] = field(default_factory=list)
    unrestored: list[tuple[str, str]] = field(default_factory=list)
    writes: int = 0


class ApplyFailed(ApplyError):
    """A write failed; the snapshot was restored (as far as possible). ``outcome`` has the details."""

    def __init__(self, message: str, outcome: ApplyOutcome, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.outcome = outcome


def apply_plan(
    client: ApimClient,
    plan: Plan,
    desired: Mapping[ResourceRef, Body],
    *,
    secret_values: Collection[str] = (),
    on_event: Event | None = None,
) -> ApplyOutcome:
    """Execute ``plan.actions`` against ``client`` with the bodies in ``desired``; see the module docstring."""
    notify = on_event or (lambda kind, text: None)
    actions = plan.actions
    _check_bodies(actions, desired)
    writes_before = client.calls["write"]
    snapshot = _precheck(client, actions)
    secrets = {*secret_values, *_secret_values(desired.values()), *_secret_values(r.body for r in snapshot.values())}
    outcome = ApplyOutcome()
    written: list[tuple[Change, str | None]] = []
    for change in actions:
        try:
            etag = _write(client, change, _body_for(change, desired, snapshot))
        except RemoteError as exc:
            outcome.failed, outcome.error = change, redact(with_artifact_file(change.ref, exc.message), secrets)
            notify("failed", f"{change_line(change)}: {outcome.error}")
            _rollback(client, written, change, snapshot, outcome, notify)
            outcome.writes = client.calls["write"] - writes_before
            raise ApplyFailed(_failure_message(outcome), outcome,
                              hint="run `toolkit plan` to see the target's state now") from None
        written.append((change, etag))
        outcome.done.append(change)
        notify("done", change_line(change))
    outcome.writes = client.calls["write"] - writes_before
    return outcome


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
    return ref.kind is Kind.NAMED_VALUE and is_secret(body) and "value" not in body["properties"]


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


def _precheck(client: ApimClient, actions: list[Change]) -> dict[ResourceRef, LiveResource]:
    """Read every touched resource; StalePlanError (nothing written) when any changed since the plan."""
    snapshot: dict[ResourceRef, LiveResource] = {}
    stale: list[str] = []
    for change in actions:
        live = client.get(change.ref)
        if change.op is Op.CREATE and live is not None:
            stale.append(f"{change.ref.label} was created on the target")
        elif change.op is not Op.CREATE and live is None:
            stale.append(f"{change.ref.label} was deleted on the target")
        elif live is not None and change.op is not Op.CREATE and live.etag != change.etag:
            stale.append(f"{change.ref.label} was changed on the target (ETag {live.etag}, the plan read {change.etag})")
        if live is not None:
            if is_secret(live.body):
                live.body["properties"]["value"] = client.secret_value(change.ref.name)
            snapshot[change.ref] = live
    if stale:
        raise StalePlanError(f"the target changed since the plan; nothing was written: {'; '.join(stale)}",
                             hint="run `toolkit plan` again and review the changes")
    return snapshot


def _write(client: ApimClient, change: Change, body: Body | None) -> str | None:
    try:
        if body is None:
            client.delete(change.ref, change.etag)
            return None
        return client.put(change.ref, body, change.etag if change.op is Op.UPDATE else None)
    except PreconditionFailed as exc:
        exc.message = f"{change.ref.label} was changed on the target during apply (HTTP 412, ETag mismatch)"
        raise


def _restore_body(live: LiveResource) -> Body:
    return strip_server_fields(live.ref.kind, live.body)


def _rollback(client: ApimClient, written: list[tuple[Change, str | None]], failed: Change,
              snapshot: Mapping[ResourceRef, LiveResource], outcome: ApplyOutcome, notify: Event) -> None:
    """Undo ``written`` in reverse order, after undoing whatever the failed write may have done."""
    steps: list[tuple[str, Callable[[], object]]] = []
    before = snapshot.get(failed.ref)
    try:  # a failed write may still have changed the resource (a 500 after the commit): check
        current = client.get(failed.ref)
    except RemoteError:
        pass
    else:
        if current is not None and (before is None or current.etag != before.etag):
            steps.append(_undo(client, failed, current.etag, before))
        elif current is None and before is not None:
            steps.append(_undo(client, Change(Op.DELETE, failed.ref), None, before))
    steps.extend(_undo(client, change, etag, snapshot.get(change.ref)) for change, etag in reversed(written))
    for label, step in steps:
        try:
            step()
        except RemoteError as exc:
            outcome.unrestored.append((label, exc.message))
            notify("unrestored", f"{label}: {exc.message}")
        else:
            outcome.restored.append(label)
            notify("restored", label)


def _undo(client: ApimClient, change: Change, etag: str | None,
          before: LiveResource | None) -> tuple[str, Callable[[], object]]:
    """(what, action) that returns ``change.ref`` to ``before`` (None: it did not exist)."""
    ref = change.ref
    if before is None:
        return f"deleted {ref.label} (created by this apply)", lambda: client.delete(ref, etag)
    body = _restore_body(before)
    if change.op is Op.DELETE:
        return f"re-created {ref.label}", lambda: client.put(ref, body, None)
    return f"restored {ref.label}", lambda: client.put(ref, body, etag)


def _failure_message(outcome: ApplyOutcome) -> str:
    assert outcome.failed is not None
    text = f"{change_line(outcome.failed)} failed: {outcome.error}"
    if outcome.unrestored:
        return f"{text}; rollback incomplete: {len(outcome.unrestored)} resource(s) could not be restored"
    return f"{text}; rolled back {len(outcome.restored)} change(s): the target is as before the apply"
