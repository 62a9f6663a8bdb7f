"""resources_from_artifacts: what an information file may look like."""

from __future__ import annotations

import pytest

from toolkit.artifacts.layout import ArtifactPath, Kind
from toolkit.artifacts.model import ArtifactSet
from toolkit.errors import ArtifactError
from toolkit.publish.resources import ResourceRef, resources_from_artifacts

FRAGMENT = "<fragment><set-header name=\"x\" exists-action=\"override\"><value>1</value></set-header></fragment>"


def _fragment_tree(information: str) -> ArtifactSet:
    artifacts = ArtifactSet()
    artifacts.put(ArtifactPath(Kind.FRAGMENT_POLICY, "headers"), FRAGMENT)
    artifacts.put(ArtifactPath(Kind.FRAGMENT, "headers"), information)
    return artifacts


def test_an_empty_information_file_sets_nothing() -> None:
    """`{}` (written by other extractors) is a fragment with no description, not a malformed file."""
    body = resources_from_artifacts(_fragment_tree("{}"))[ResourceRef(Kind.FRAGMENT, "headers")]
    assert body == {"properties": {"value": FRAGMENT, "format": "rawxml"}}


@pytest.mark.parametrize("information", ['{"description": "x"}', "[]", '{"properties": []}'])
def test_an_information_file_without_properties_is_refused(information: str) -> None:
    with pytest.raises(ArtifactError, match=r'policyFragmentInformation.json: expected \{"properties"'):
        resources_from_artifacts(_fragment_tree(information))
