"""Resources a tree names but does not hold (a pool member created by Bicep, say): does the target have them?

Lint reports such a reference offline (``Finding.on_target``); `plan`/`apply --artifacts` read the target
once per referenced resource and accept the finding when the resource is there and usable as referenced.
Read-only.
"""

from __future__ import annotations

from collections.abc import Iterable

from toolkit.artifacts.layout import Kind
from toolkit.lint.core import Finding
from toolkit.publish.client import ApimClient
from toolkit.publish.resources import ResourceRef

Verdict = tuple[Finding, str]
# Findings about a pool member: the backend it names must be a single backend (a policy's backend-id may name a pool).
POOL_MEMBER_CODES = frozenset({"APIM003"})


def resolve_on_target(client: ApimClient, findings: Iterable[Finding]) -> tuple[list[Verdict], list[Verdict]]:
    """(accepted, refused): each finding with what the target says about the resource it names."""
    accepted: list[Verdict] = []
    refused: list[Verdict] = []
    seen: dict[tuple[Kind, str, bool], tuple[bool, str]] = {}
    for finding in findings:
        assert finding.on_target is not None
        kind, name = finding.on_target
        member = finding.code in POOL_MEMBER_CODES
        key = (kind, name.lower(), member)  # APIM names are case-insensitive
        if key not in seen:
            seen[key] = _check(client, kind, name, pool_member=member)
        ok, note = seen[key]
        (accepted if ok else refused).append((finding, note))
    return accepted, refused


def _check(client: ApimClient, kind: Kind, name: str, *, pool_member: bool) -> tuple[bool, str]:
    live = client.get(ResourceRef(kind, name))
    label = f"{kind.value} '{name}'"
    if live is None:
        return False, f"{label} is not on the target either: create it there first (or add it to the tree)"
    if pool_member and kind is Kind.BACKEND and (live.body.get("properties") or {}).get("type") == "Pool":
        return False, f"{label} is a pool on the target, and a pool can only contain single backends"
    return True, f"{label} is not in the tree but exists"
