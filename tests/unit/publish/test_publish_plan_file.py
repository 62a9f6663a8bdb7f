"""Saved plans: a plan survives the file (features, kept, absent sides, ETags); anything else is exit 3 with the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from toolkit.artifacts.layout import Kind
from toolkit.artifacts.model import dump_json
from toolkit.errors import InputError
from toolkit.publish import plan_file
from toolkit.publish.diff import compute_plan
from toolkit.publish.plan import MISSING, Op
from toolkit.publish.plan_file import read_plan_file
from toolkit.publish.resources import LiveResource, ResourceRef

B1 = ResourceRef(Kind.BACKEND, "b1")
B2 = ResourceRef(Kind.BACKEND, "b2")
STRAY = ResourceRef(Kind.BACKEND, "stray")
OP_POLICY = ResourceRef(Kind.OPERATION_POLICY, "create", "chat")


def _saved(tmp_path: Path, document: object, *, prefix: bytes = b"") -> Path:
    path = tmp_path / "plan.json"
    path.write_bytes(prefix + dump_json(document).encode("utf-8"))
    return path


def test_a_saved_plan_reads_back_whole(tmp_path: Path) -> None:
    desired = {B1: {"properties": {"url": "https://b1", "description": "new"}},
               B2: {"properties": {"url": "https://b2"}},
               OP_POLICY: {"properties": {"value": "<policies/>", "format": "rawxml"}}}
    live = {B1: LiveResource(B1, {"properties": {"url": "https://old", "title": "gone"}}, '"e1"'),
            STRAY: LiveResource(STRAY, {}, None)}
    plan = compute_plan(desired, live, env="dev", target="t", features=("retry", "circuit-breaker"))
    again = read_plan_file(_saved(tmp_path, plan.to_json()))
    assert again.changes == plan.changes and again.kept == plan.kept == [STRAY]
    assert again.features == ("retry", "circuit-breaker") and again.env == "dev" and again.target == "t"
    update = again.find(B1)
    assert update is not None and update.op is Op.UPDATE and update.etag == '"e1"'
    by_path = {f.path: f for f in update.fields}
    assert by_path["properties.description"].before is MISSING and by_path["properties.title"].after is MISSING
    assert again.find(OP_POLICY) is not None and again.find(OP_POLICY).ref.parent == "chat"  # type: ignore[union-attr]


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    plan = compute_plan({B1: {"properties": {"url": "u"}}}, {})
    assert read_plan_file(_saved(tmp_path, plan.to_json(), prefix=b"\xef\xbb\xbf")).changes == plan.changes


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _saved(tmp_path, compute_plan({B1: {"properties": {"url": "u"}}}, {}).to_json())
    monkeypatch.setattr(plan_file, "MAX_PLAN_BYTES", path.stat().st_size - 1)
    with pytest.raises(InputError, match="larger than"):
        read_plan_file(path)
    monkeypatch.setattr(plan_file, "MAX_PLAN_BYTES", path.stat().st_size)
    assert read_plan_file(path).changes


@pytest.mark.parametrize("depth,ok", [(plan_file.MAX_DEPTH, True), (plan_file.MAX_DEPTH + 1, False)])
def test_nesting_is_bounded_exactly(tmp_path: Path, depth: int, ok: bool) -> None:
    document = compute_plan({}, {}).to_json()
    document["summary"] = {}
    inner: dict = document["summary"]
    for _ in range(depth - 1):  # summary is level 1
        inner["x"] = {}
        inner = inner["x"]
    path = _saved(tmp_path, document)
    if ok:
        read_plan_file(path)
    else:
        with pytest.raises(InputError, match="nested more than"):
            read_plan_file(path)


@pytest.mark.parametrize("document,field", [
    ({"format": True, "changes": []}, "format"),
    ({"format": 3, "changes": []}, "format"),
    ({"format": 1, "changes": [], "prune": 1}, "prune"),
    ({"format": 1, "changes": [{"op": "update", "kind": "backend", "name": "b", "fields": [{"path": 3}]}]},
     "changes[0].fields[0].path"),
    ({"format": 1, "changes": [{"op": "update", "kind": "backend", "name": "b", "etag": True}]}, "changes[0].etag"),
    ({"format": 1, "changes": [], "kept": [{"kind": "operation-policy", "name": "op"}]}, "kept[0].parent"),
])
def test_wrong_types_name_the_field(tmp_path: Path, document: object, field: str) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_plan_file(path)
    assert caught.value.exit_code == 3 and caught.value.message.startswith(f"{path}: {field}: ")


def test_a_missing_file_is_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read the plan"):
        read_plan_file(tmp_path / "nope.json")


def test_a_version_set_change_survives_the_file_and_is_ordered_before_its_apis(tmp_path: Path) -> None:
    version_set, api = ResourceRef(Kind.VERSION_SET, "pets"), ResourceRef(Kind.API, "pets-v1")
    desired = {api: {"properties": {"path": "p", "apiVersionSetId": "/apiVersionSets/pets", "apiVersion": "v1"}},
               version_set: {"properties": {"displayName": "Pets", "versioningScheme": "Segment"}}}
    plan = compute_plan(desired, {})
    assert [c.ref for c in plan.changes] == [version_set, api]
    again = read_plan_file(_saved(tmp_path, plan.to_json()))
    assert again.changes == plan.changes
