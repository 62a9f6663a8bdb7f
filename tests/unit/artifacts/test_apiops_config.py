"""APIOps configuration files: what differs between two trees, tokens replaced as the pipeline does, merge."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.artifacts.apiops_config import apply_configuration, load_configuration, overrides_between
from toolkit.artifacts.model import ArtifactSet
from toolkit.errors import ArtifactError

NV = "named values/n/namedValueInformation.json"
BACKEND = "backends/B/backendInformation.json"


def _tree(**files: str) -> ArtifactSet:
    return ArtifactSet({{"nv": NV, "backend": BACKEND}.get(k, k): v for k, v in files.items()})


def test_overrides_name_only_changed_properties_and_list_what_cannot_be_overridden() -> None:
    base = _tree(nv='{"properties": {"displayName": "n", "value": "a"}}',
                 backend='{"properties": {"url": "https://x", "protocol": "http"}}')
    target = _tree(nv='{"properties": {"displayName": "n", "value": "b"}}',
                   backend='{"properties": {"url": "https://x"}}')
    sections, inexpressible = overrides_between(base, target)
    assert sections == {"namedValues": [{"name": "n", "properties": {"value": "b"}}]}
    assert inexpressible == [BACKEND]  # a removed field cannot be expressed as a merge
    added = ArtifactSet({**{p: target.get(p) for p in target.paths()}, "apis/a/apiInformation.json": "{}"})
    assert overrides_between(target, added) == ({}, ["apis/a/apiInformation.json"])


def test_tokens_are_replaced_from_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "configuration.prod.yaml"
    path.write_text("# {#IN_A_COMMENT#} is not a token\nnamedValues:\n  - name: n\n    properties:\n"
                    "      value: 'https://{#HOST#}/{#HOST#}'\n", encoding="utf-8")
    configuration = load_configuration(path, {"HOST": "login.example"})
    assert configuration == {"namedValues": [{"name": "n", "properties": {"value": "https://login.example/login.example"}}]}
    with pytest.raises(ArtifactError, match=r"configuration.prod.yaml:5: \{#HOST#\} is not set"):
        load_configuration(path, {})
    path.write_text("namedValues: [\n", encoding="utf-8")
    with pytest.raises(ArtifactError, match="not valid YAML"):
        load_configuration(path, {})
    path.write_text("- a\n", encoding="utf-8")
    with pytest.raises(ArtifactError, match="mapping of sections"):
        load_configuration(path, {})


def test_apply_matches_names_case_insensitively_and_merges_properties() -> None:
    base = _tree(backend='{"properties": {"url": "https://x", "credentials": {"header": {"api-key": ["{{k}}"]}}}}')
    merged = apply_configuration(base, {"backends": [{"name": "b", "properties": {"url": "https://y"}}]})
    assert merged.json(BACKEND) == {"properties": {"url": "https://y", "credentials": {"header": {"api-key": ["{{k}}"]}}}}
    assert base.json(BACKEND)["properties"]["url"] == "https://x"
