"""APIM051's severity: a path shared across version sets (or with an API outside one) is an error, two
APIs of one set with the same version only a warning (APIM accepts the pair)."""

from __future__ import annotations

import json

from toolkit.artifacts.model import ArtifactSet
from toolkit.lint import lint_tree
from toolkit.lint.core import Severity


def _api(path: str, version_set: str | None = None, version: str | None = None) -> str:
    properties = {"path": path, "apiVersionSetId": version_set, "apiVersion": version}
    return json.dumps({"properties": {k: v for k, v in properties.items() if v is not None}})


def _severities(files: dict[str, str]) -> set[Severity]:
    return {f.severity for f in lint_tree(ArtifactSet(files)).findings if f.code == "APIM051"}


def test_one_set_same_version_warns_and_the_tree_publishes() -> None:
    files = {"apis/a/apiInformation.json": _api("x", "/apiVersionSets/s"),
             "apis/b/apiInformation.json": _api("x", "/apiVersionSets/s")}
    assert _severities(files) == {Severity.WARNING}
    assert not [f for f in lint_tree(ArtifactSet(files)).errors if f.code == "APIM051"]


def test_different_sets_or_no_set_on_one_path_are_errors() -> None:
    assert _severities({"apis/a/apiInformation.json": _api("x", "/apiVersionSets/s", "v1"),
                        "apis/b/apiInformation.json": _api("x", "/apiVersionSets/t", "v2")}) == {Severity.ERROR}
    assert _severities({"apis/a/apiInformation.json": _api("x", "/apiVersionSets/s"),
                        "apis/b/apiInformation.json": _api("X/")}) == {Severity.ERROR}


def test_versions_of_one_set_do_not_collide() -> None:
    assert _severities({"apis/a/apiInformation.json": _api("x", "/apiVersionSets/s", "v1"),
                        "apis/b/apiInformation.json": _api("x", "/apiVersionSets/s", "v2"),
                        "apis/c/apiInformation.json": _api("x", "/apiVersionSets/s")}) == set()
