"""API version sets through the real SDK: CRUD, ARM validation (details[]), APIs that belong to a set
(an unknown set, a version without a set, the shared path) and deleting a set still in use."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.apimanagement import models
from toolkit.testing.management_bodies import RG, SUB, SVC

from toolkit.emulator.management import ManagementPlane

SERVICE_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.ApiManagement/service/{SVC}"


def _set(client, name="petstore", scheme="Segment", **extra):
    return client.api_version_set.create_or_update(RG, SVC, name, models.ApiVersionSetContract(
        display_name=extra.pop("display_name", "Petstore"), versioning_scheme=scheme, **extra))


def _api(client, name, *, path="pets", version=None, version_set="/apiVersionSets/petstore"):
    return client.api.begin_create_or_update(RG, SVC, name, models.ApiCreateOrUpdateParameter(
        display_name=name, path=path, api_version=version, api_version_set_id=version_set,
        service_url="https://petstore.example.com"), polling_interval=0).result()


def test_put_get_list_delete(client) -> None:
    created = _set(client, scheme="Query", version_query_name="api-version", description="the pets")
    assert (created.name, created.versioning_scheme, created.version_query_name) == ("petstore", "Query", "api-version")
    assert created.id == f"{SERVICE_ID}/apiVersionSets/petstore"
    assert client.api_version_set.get(RG, SVC, "petstore").description == "the pets"
    assert [s.name for s in client.api_version_set.list_by_service(RG, SVC)] == ["petstore"]
    client.api_version_set.delete(RG, SVC, "petstore", if_match="*")
    with pytest.raises(ResourceNotFoundError):
        client.api_version_set.get(RG, SVC, "petstore")


def test_validation_reports_every_problem_with_apims_targets(http) -> None:
    answer = http.put("/apiVersionSets/bad", json={"properties": {"versioningScheme": "Query"}})
    assert answer.status_code == 400
    details = {d["target"]: d["message"] for d in answer.json()["error"]["details"]}
    assert set(details) == {"displayName", "versionQueryName"}
    answer = http.put("/apiVersionSets/bad", json={"properties": {"displayName": "x", "versioningScheme": "Path"}})
    assert answer.status_code == 400 and answer.json()["error"]["details"][0]["target"] == "versioningScheme"
    header = http.put("/apiVersionSets/bad", json={"properties": {"displayName": "x", "versioningScheme": "Header"}})
    assert header.status_code == 400 and header.json()["error"]["details"][0]["target"] == "versionHeaderName"
    assert http.put("/apiVersionSets/ok", json={"properties": {"displayName": "x", "versioningScheme": "Header",
                                                               "versionHeaderName": "Api-Version"}}).status_code == 201


def test_an_api_naming_an_unknown_set_is_apims_404_and_nothing_is_stored(client, plane: ManagementPlane) -> None:
    with pytest.raises(HttpResponseError) as raised:
        _api(client, "pets-v1", version="v1", version_set="/apiVersionSets/nowhere")
    assert raised.value.status_code == 404 and "ApiVersionSet not found." in str(raised.value)
    assert plane.view.apis() == {}


def test_a_version_without_a_set_is_refused_as_apim_does(http) -> None:
    answer = http.put("/apis/pets", json={"properties": {"displayName": "p", "path": "pets", "apiVersion": "v1"}})
    assert answer.status_code == 400
    assert answer.json()["error"]["details"][0]["target"] == "ApiVersion"


def test_apis_of_one_set_share_a_path_others_may_not(client) -> None:
    _set(client)
    _api(client, "pets", version_set="/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/x/providers/"
                                     "Microsoft.ApiManagement/service/other/apiVersionSets/petstore")
    v1 = _api(client, "pets-v1", version="v1")
    assert v1.api_version_set_id == f"{SERVICE_ID}/apiVersionSets/petstore"  # this service's id, as APIM answers
    assert client.api.get(RG, SVC, "pets").api_version_set_id == f"{SERVICE_ID}/apiVersionSets/petstore"
    with pytest.raises(HttpResponseError, match="unless it's a part of the same version set"):
        _api(client, "loose", version_set=None)


def test_a_set_in_use_cannot_be_deleted(client) -> None:
    _set(client)
    _api(client, "pets-v1", version="v1")
    with pytest.raises(HttpResponseError, match="used by API 'pets-v1'"):
        client.api_version_set.delete(RG, SVC, "petstore", if_match="*")
    client.api.begin_delete(RG, SVC, "pets-v1", if_match="*", polling_interval=0).result()
    client.api_version_set.delete(RG, SVC, "petstore", if_match="*")
    assert list(client.api_version_set.list_by_service(RG, SVC)) == []
