"""Version set artifacts: the APIOps path (and the older extractors' file name), and the ids that name a set."""

from __future__ import annotations

import pytest

from toolkit.artifacts.arm_ids import version_set_id, version_set_name
from toolkit.artifacts.foreign import unpublished_kind
from toolkit.artifacts.layout import ArtifactPath, Kind
from toolkit.artifacts.model import ArtifactSet
from toolkit.errors import ArtifactError
from toolkit.publish.resources import ResourceRef, artifacts_from_resources, resources_from_artifacts

SET = '{"properties": {"displayName": "Pets", "versioningScheme": "Segment"}}'


def test_both_file_names_denote_the_one_version_set() -> None:
    current = ArtifactPath.parse("version sets/pets/versionSetInformation.json")
    legacy = ArtifactPath.parse("version sets/pets/apiVersionSetInformation.json")
    assert current == ArtifactPath.version_set("pets") and current.relpath == "version sets/pets/versionSetInformation.json"
    assert legacy is not None and legacy.relpath == "version sets/pets/apiVersionSetInformation.json"
    assert legacy.resource == current and current.resource == current
    assert ArtifactPath.parse("version sets/pets/other.json") is None
    assert unpublished_kind("version sets/pets/apiVersionSetInformation.json") is None  # published now


def test_a_legacy_file_becomes_the_resource_and_is_written_back_under_the_current_name() -> None:
    resources = resources_from_artifacts(ArtifactSet({"version sets/pets/apiVersionSetInformation.json": SET}))
    assert list(resources) == [ResourceRef(Kind.VERSION_SET, "pets")]
    assert artifacts_from_resources(resources.items()).paths() == ["version sets/pets/versionSetInformation.json"]
    with pytest.raises(ArtifactError, match="describes the same version set"):
        resources_from_artifacts(ArtifactSet({"version sets/pets/apiVersionSetInformation.json": SET,
                                              "version sets/pets/versionSetInformation.json": SET}))


@pytest.mark.parametrize(("value", "name"), [
    ("/apiVersionSets/pets", "pets"),
    ("/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/rg/providers/Microsoft.ApiManagement/service/apim/apiVersionSets/pets",
     "pets"),
    ("/subscriptions/1/resourceGroups/rg/providers/microsoft.apimanagement/service/apim/apiversionsets/Pets/", "Pets"),
    ("pets", None),
    ("/backends/pets", None),
    ("/apiVersionSets/a/b", None),
])
def test_version_set_names_in_ids(value: str, name: str | None) -> None:
    assert version_set_name(value) == name


def test_version_set_id_of_a_service() -> None:
    assert version_set_id("/subscriptions/s/resourceGroups/g/providers/Microsoft.ApiManagement/service/x/",
                          "pets") == "/subscriptions/s/resourceGroups/g/providers/Microsoft.ApiManagement/service/x/apiVersionSets/pets"


def test_an_apiops_configuration_overrides_a_version_set_under_either_file_name() -> None:
    from toolkit.artifacts.apiops_config import apply_configuration

    tree = ArtifactSet({"version sets/pets/apiVersionSetInformation.json": SET,
                        "version sets/cats/versionSetInformation.json": SET})
    merged = apply_configuration(tree, {"versionSets": [
        {"name": "Pets", "properties": {"description": "prod pets"}},
        {"name": "cats", "properties": {"versioningScheme": "Header", "versionHeaderName": "V"}}]})
    assert merged.paths() == tree.paths()
    assert merged.json("version sets/pets/apiVersionSetInformation.json")["properties"]["description"] == "prod pets"
    assert merged.json("version sets/cats/versionSetInformation.json")["properties"]["versioningScheme"] == "Header"
