"""resolve_on_target: what the target says about resources a tree names but lacks (one GET each)."""

from __future__ import annotations

from typing import Any

from toolkit.artifacts.layout import Kind
from toolkit.artifacts.model import ArtifactSet
from toolkit.lint import lint_tree
from toolkit.lint.core import Finding, Severity
from toolkit.publish.resources import LiveResource, ResourceRef
from toolkit.publish.target_references import resolve_on_target


class FakeClient:
    def __init__(self, live: dict[str, dict[str, Any]]) -> None:
        self.live = live
        self.reads: list[ResourceRef] = []

    def get(self, ref: ResourceRef) -> LiveResource | None:
        self.reads.append(ref)
        body = self.live.get(ref.name.lower())
        return None if body is None else LiveResource(ref, body, '"1"')


def member(name: str, line: int = 1) -> Finding:
    return Finding("APIM003", Severity.ERROR, "backends/pool/backendInformation.json", line, "m", (Kind.BACKEND, name))


def test_apim003_names_the_missing_member_for_the_target_check() -> None:
    pool = '{"properties": {"type": "Pool", "pool": {"services": [{"id": "/backends/by-bicep"}]}}}'
    (finding,) = lint_tree(ArtifactSet({"backends/pool/backendInformation.json": pool})).errors
    assert finding.code == "APIM003" and finding.on_target == (Kind.BACKEND, "by-bicep")


def test_a_member_the_target_has_is_accepted_and_one_it_lacks_is_refused() -> None:
    client = FakeClient({"there": {"properties": {"url": "https://x"}}})
    accepted, refused = resolve_on_target(client, [member("there"), member("gone", 2)])  # type: ignore[arg-type]
    assert [(f.line, note) for f, note in accepted] == [(1, "backend 'there' is not in the tree but exists")]
    assert [(f.line, note) for f, note in refused] == [
        (2, "backend 'gone' is not on the target either: create it there first (or add it to the tree)")]


def test_a_pool_on_the_target_cannot_be_a_member() -> None:
    client = FakeClient({"p": {"properties": {"type": "Pool"}}, "s": {"properties": {"type": "Single"}}})
    accepted, refused = resolve_on_target(client, [member("p"), member("s")])  # type: ignore[arg-type]
    assert [f.on_target for f, _ in refused] == [(Kind.BACKEND, "p")]
    assert [f.on_target for f, _ in accepted] == [(Kind.BACKEND, "s")]


def test_each_resource_is_read_once_whatever_its_case() -> None:
    client = FakeClient({"there": {"properties": {}}})
    accepted, refused = resolve_on_target(client, [member("There"), member("there", 2), member("THERE", 3)])  # type: ignore[arg-type]
    assert len(accepted) == 3 and refused == [] and len(client.reads) == 1
