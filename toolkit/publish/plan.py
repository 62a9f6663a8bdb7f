"""The plan: what apply would create, update (which fields) or delete, with the ETags it was based on.

A plan is data. It round-trips through JSON (the ``--out`` plan file) without any secret in it:
a secret named value's value is never stored, only the fact that it changes, and bodies are not
stored at all (apply renders them again and checks they still match ``desired_digest``). What a
secret's value was when planning is kept only as a salted, slow hash (``secret_digests``), so a saved plan
can be refused when the value to publish changed since.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from toolkit.publish.errors import SECRET_MASK
from toolkit.publish.resources import ResourceRef

PLAN_FORMAT = 2  # 2: adds "secret_values" (salted hashes of the secret values the plan was made with)
READABLE_FORMATS = (1, 2)  # a format-1 file still reads; apply refuses it when the artifacts have secret values


class Op(str, Enum):
    """What apply does to one resource."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    UNCHANGED = "unchanged"


class _Missing:
    """Marks a field that is absent on one side."""

    def __repr__(self) -> str:
        return "(absent)"


MISSING: Any = _Missing()


def shown_value(value: Any) -> Any:
    """A field's value as plans show and store it: credentials inside text masked (a JWT or a key in a policy's
    XML, a ``?code=`` in a backend URL), as the plan never needs them (apply renders the bodies again)."""
    from toolkit.report.redact import mask_credentials, masked

    return masked(value, mask_credentials)


@dataclass(frozen=True)
class FieldChange:
    """One changed leaf: its dotted path and the normalised values before and after (secrets flagged)."""

    path: str
    before: Any = MISSING
    after: Any = MISSING
    secret: bool = False

    def to_json(self) -> dict[str, Any]:
        """JSON form; a secret's values are replaced by the mask, absent values are left out."""
        data: dict[str, Any] = {"path": self.path}
        for side in ("before", "after"):
            value = getattr(self, side)
            if value is not MISSING:
                data[side] = SECRET_MASK if self.secret else shown_value(value)
        if self.secret:
            data["secret"] = True
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FieldChange:
        """Inverse of :meth:`to_json` (a secret's values stay masked)."""
        return cls(str(data["path"]), data.get("before", MISSING), data.get("after", MISSING), bool(data.get("secret")))


@dataclass(frozen=True)
class Change:
    """One resource in the plan: the operation, the changed fields and the ETag read when planning."""

    op: Op
    ref: ResourceRef
    fields: tuple[FieldChange, ...] = ()
    etag: str | None = None
    secret: bool = False

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        data: dict[str, Any] = {"op": self.op.value, **self.ref.to_json()}
        if self.etag:
            data["etag"] = self.etag
        if self.secret:
            data["secret"] = True
        if self.fields:
            data["fields"] = [f.to_json() for f in self.fields]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Change:
        """Inverse of :meth:`to_json`."""
        fields = tuple(FieldChange.from_json(f) for f in data.get("fields", ()))
        return cls(Op(data["op"]), ResourceRef.from_json(data), fields, data.get("etag"), bool(data.get("secret")))


@dataclass
class Plan:
    """Changes in apply order (writes by dependency level, then deletes in reverse), plus unchanged ones."""

    changes: list[Change]
    env: str = ""
    target: str = ""
    features: tuple[str, ...] = ("all",)
    prune: bool = False
    kept: list[ResourceRef] = field(default_factory=list)
    desired_digest: str = ""
    secret_salt: str = ""  # hex; the salt of ``secret_digests``
    secret_digests: dict[str, str] = field(default_factory=dict)  # named value -> salted hash of its value
    file_format: int = PLAN_FORMAT  # the format of the file it was read from (PLAN_FORMAT when made here)

    @property
    def actions(self) -> list[Change]:
        """The changes that write (everything but unchanged)."""
        return [c for c in self.changes if c.op is not Op.UNCHANGED]

    @property
    def has_changes(self) -> bool:
        """Whether apply would write anything."""
        return bool(self.actions)

    def counts(self) -> dict[str, int]:
        """How many resources per operation."""
        return {op.value: sum(1 for c in self.changes if c.op is op) for op in Op}

    def find(self, ref: ResourceRef) -> Change | None:
        """The change for ``ref``, if the plan has one."""
        return next((c for c in self.changes if c.ref == ref), None)

    def to_json(self) -> dict[str, Any]:
        """The plan file document."""
        return {
            "format": PLAN_FORMAT,
            "env": self.env,
            "target": self.target,
            "features": list(self.features),
            "prune": self.prune,
            "desired_digest": self.desired_digest,
            "secret_values": {"salt": self.secret_salt, "digests": dict(sorted(self.secret_digests.items()))},
            "summary": self.counts(),
            "changes": [c.to_json() for c in self.changes],
            "kept": [r.to_json() for r in self.kept],
        }

    @classmethod
    def from_json(cls, data: Any, source: str = "plan") -> Plan:
        """Read a plan file document; InputError naming ``source`` and the field when it is not one."""
        from toolkit.publish.plan_file import plan_from_document

        return plan_from_document(data, source)

    @classmethod
    def from_checked_json(cls, data: dict[str, Any]) -> Plan:
        """A document ``plan_file`` has checked -> Plan."""
        return cls(
            changes=[Change.from_json(c) for c in data["changes"]],
            env=data.get("env") or "",
            target=data.get("target") or "",
            features=tuple(data.get("features") or ("all",)),
            prune=bool(data.get("prune")),
            kept=[ResourceRef.from_json(r) for r in data.get("kept", ())],
            desired_digest=data.get("desired_digest") or "",
            secret_salt=(data.get("secret_values") or {}).get("salt") or "",
            secret_digests=dict((data.get("secret_values") or {}).get("digests") or {}),
            file_format=int(data.get("format", PLAN_FORMAT)),
        )


def summary_line(plan: Plan) -> str:
    """``Plan: 1 to create, 2 to update, 0 to delete, 7 unchanged.``"""
    counts = plan.counts()
    return (f"Plan: {counts['create']} to create, {counts['update']} to update, {counts['delete']} to delete, "
            f"{counts['unchanged']} unchanged.")

