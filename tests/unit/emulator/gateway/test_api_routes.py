"""Routing a request to an API by path and version: APIM's Segment, Query and Header schemes, the
original version, unknown versions (no API: APIM's 404) and two APIs with the same version."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from toolkit.emulator.gateway.api_routes import RouteTable, route_prefix, scheme_of


@dataclass(frozen=True)
class Api:
    name: str
    path: str
    version: str = ""
    scheme: str = ""
    version_name: str = ""


def _routed(table: RouteTable, path: str, query: str = "", headers: tuple[tuple[str, str], ...] = ()) -> str | None:
    found = table.match(path, query, list(headers))
    return f"{found[0].name} {found[1]}" if found is not None else None


SEGMENT = RouteTable([Api("pets", "pets", "", "Segment"), Api("pets-v1", "pets", "v1", "Segment"),
                      Api("pets-v2", "pets", "v2", "Segment"), Api("other", "pets/v1x")])


@pytest.mark.parametrize(("path", "expected"), [
    ("/pets/v1/items", "pets-v1 /pets/v1"),
    ("/pets/v2", "pets-v2 /pets/v2"),
    ("/pets/items", "pets /pets"),  # the original answers without a version
    ("/pets/v3/items", "pets /pets"),  # no v3: the original's operations decide (/v3/items matches none: 404)
    ("/PETS/V1/items", "pets-v1 /PETS/V1"),  # API paths ignore case
    ("/pets/v1x/items", "other /pets/v1x"),
    ("/elsewhere", None),
])
def test_segment_versions_are_routed_as_their_own_path(path: str, expected: str | None) -> None:
    assert _routed(SEGMENT, path) == expected


def test_a_segment_set_without_an_original_answers_only_with_a_version() -> None:
    table = RouteTable([Api("v1", "pets", "v1", "Segment")])
    assert _routed(table, "/pets/v1/x") == "v1 /pets/v1"
    assert _routed(table, "/pets/x") is None


QUERY = RouteTable([Api("q", "pets", "", "Query", "api-version"), Api("q1", "pets", "2024-01", "Query", "api-version"),
                    Api("q2", "pets", "2024-02", "Query", "api-version")])


@pytest.mark.parametrize(("query", "expected"), [
    ("api-version=2024-01", "q1 /pets"),
    ("a=b&api-version=2024-02", "q2 /pets"),
    ("", "q /pets"),  # no version: the original
    ("api-version=2099-01", None),  # a version the set does not have: APIM's 404
    ("API-VERSION=2024-01", "q /pets"),  # query parameter names are exact: this one names no version
])
def test_query_versions(query: str, expected: str | None) -> None:
    assert _routed(QUERY, "/pets/items", query) == expected


def test_header_versions_and_a_set_without_an_original() -> None:
    table = RouteTable([Api("h1", "pets", "v1", "Header", "Api-Version"), Api("h2", "pets", "v2", "Header", "Api-Version")])
    assert _routed(table, "/pets/items", headers=(("api-version", "v2"),)) == "h2 /pets"
    assert _routed(table, "/pets/items", headers=(("Api-Version", "v1"),)) == "h1 /pets"
    assert _routed(table, "/pets/items") is None  # no version and no original
    assert _routed(table, "/pets/items", headers=(("Api-Version", "v9"),)) is None


def test_two_apis_of_one_set_with_the_same_version_serve_the_first_id_whatever_the_order() -> None:
    apis = [Api("swagger-petstore", "", "", "Segment"), Api("apim-be-dev", "", "", "Segment"),
            Api("swagger-petstore-v2", "", "v2", "Segment")]
    for ordered in (apis, list(reversed(apis))):
        table = RouteTable(ordered)
        assert _routed(table, "/pet/1") == "apim-be-dev "
        assert _routed(table, "/v2/pet/1") == "swagger-petstore-v2 /v2"


def test_prefixes_and_schemes() -> None:
    assert route_prefix(Api("a", "", "v1", "Segment")) == "/v1"
    assert route_prefix(Api("a", "x/y", "v1", "Query")) == "/x/y"
    assert route_prefix(Api("a", "")) == ""
    assert scheme_of({"versioningScheme": "Header", "versionHeaderName": "V"}).version_name == "V"
    assert scheme_of({"versioningScheme": "Query", "versionQueryName": "v"}).version_name == "v"
    assert scheme_of({"versioningScheme": "Segment", "versionQueryName": "v"}).version_name == ""
    assert scheme_of(None).scheme == "" and scheme_of({"versioningScheme": "Path"}).scheme == ""
