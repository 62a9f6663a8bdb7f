"""check_version_set_references: an API's version set must be in the tree or on the target (looked up once)."""

from __future__ import annotations

from typing import Any

import pytest

from toolkit.artifacts.layout import Kind
from toolkit.errors import ArtifactError
from toolkit.publish.resources import LiveResource, ResourceRef
from toolkit.publish.version_sets import check_version_set_references

SET = ResourceRef(Kind.VERSION_SET, "pets")


class _Target:
    """The one read the check makes: ``get`` of a version set (the names it has)."""

    def __init__(self, *names: str) -> None:
        self.names, self.reads = set(names), []

    def get(self, ref: ResourceRef) -> Any:
        self.reads.append(ref)
        return LiveResource(ref, {"properties": {}}, '"e"') if ref.name in self.names else None


def _api(set_id: Any) -> dict[str, Any]:
    return {"properties": {"path": "p", "apiVersionSetId": set_id}}


def test_a_set_in_the_tree_or_read_while_planning_needs_no_lookup() -> None:
    target = _Target()
    check_version_set_references({ResourceRef(Kind.API, "a"): _api("/apiVersionSets/pets"), SET: {}}, {}, target)
    check_version_set_references({ResourceRef(Kind.API, "a"): _api("/apiVersionSets/pets")},
                                 {SET: LiveResource(SET, {}, None)}, target)
    assert target.reads == []


def test_a_set_only_on_the_target_is_looked_up_once() -> None:
    target = _Target("pets")
    desired = {ResourceRef(Kind.API, name): _api("/apiVersionSets/pets") for name in ("a", "b")}
    check_version_set_references(desired, {}, target)
    assert target.reads == [SET]


def test_a_set_on_neither_side_names_the_file_and_the_field() -> None:
    with pytest.raises(ArtifactError, match=r"^apis/b/apiInformation.json: properties.apiVersionSetId names "
                                            r"version set 'cats', which is neither in the tree") as raised:
        check_version_set_references({ResourceRef(Kind.API, "a"): _api("/apiVersionSets/pets"),
                                      ResourceRef(Kind.API, "b"): _api("/apiVersionSets/cats")}, {}, _Target("pets"))
    assert raised.value.exit_code == 3


@pytest.mark.parametrize("value", ["pets", 7, "/backends/pets"])
def test_a_value_that_is_no_version_set_id_is_refused(value: Any) -> None:
    with pytest.raises(ArtifactError, match="properties.apiVersionSetId: .* is not a version set id"):
        check_version_set_references({ResourceRef(Kind.API, "a"): _api(value)}, {}, _Target())


def test_apis_without_a_set_and_other_kinds_are_not_checked() -> None:
    target = _Target()
    check_version_set_references({ResourceRef(Kind.API, "a"): {"properties": {"path": "p"}},
                                  ResourceRef(Kind.BACKEND, "b"): _api("nonsense")}, {}, target)
    assert target.reads == []


def test_with_prune_a_set_only_on_the_target_would_be_deleted_under_its_api() -> None:
    desired = {ResourceRef(Kind.API, "a"): _api("/apiVersionSets/pets")}
    live = {SET: LiveResource(SET, {"properties": {}}, '"e"')}
    check_version_set_references(desired, live, _Target())
    with pytest.raises(ArtifactError, match="--prune would delete it while this API still belongs to it"):
        check_version_set_references(desired, live, _Target(), prune=True)
    check_version_set_references({**desired, SET: {}}, live, _Target(), prune=True)
