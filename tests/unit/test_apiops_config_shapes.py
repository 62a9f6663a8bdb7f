"""Bad shapes of an APIOps ``configuration.<env>.yaml`` are exit 3 naming file:line: field, never a crash or a
silently dropped override; a valid file still applies."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.artifacts.apiops_config import apply_configuration, load_configuration
from toolkit.artifacts.model import ArtifactSet
from toolkit.errors import EXIT_BAD_INPUT, ArtifactError

TREE = ArtifactSet({
    "named values/jwt-issuer/namedValueInformation.json": '{"properties": {"displayName": "jwt-issuer", "value": "a"}}',
    "backends/orders/backendInformation.json": '{"properties": {"url": "https://orders"}}',
})
ITEM = "- name: jwt-issuer\n  properties: {value: x}\n"


def _apply(tmp_path: Path, text: str) -> ArtifactSet:
    path = tmp_path / "configuration.local.yaml"
    path.write_text(text, encoding="utf-8")
    return apply_configuration(TREE, load_configuration(path, {}))


@pytest.mark.parametrize(("text", "expected"), [
    ("namedValues:\n- properties: {value: x}\n", ":2: namedValues[0].name: missing"),
    ("namedValues: 5\n", ":1: namedValues: must be a list of {name, properties} items, got 5"),
    ("namedValues: abc\n", ":1: namedValues: must be a list of {name, properties} items, got 'abc'"),
    ("namedValues:\n- abc\n", ":2: namedValues[0]: must be a mapping with name and properties, got 'abc'"),
    ("namedValues:\n- name: 5\n  properties: {value: x}\n", ":2: namedValues[0].name: must be text, got 5"),
    ("namedValues:\n- name: jwt-issuerx\n  properties: {value: x}\n",
     ":2: namedValues[0].name: no named value 'jwt-issuerx' in the tree"),
    ("backends:\n- name: jwt-issuer\n  properties: {url: x}\n",
     ":2: backends[0].name: no backend 'jwt-issuer' in the tree"),
    ("namedValues:\n- name: jwt-issuer\n  value: x\n", ":3: namedValues[0].value: unknown key"),
    ("namedValues:\n- name: jwt-issuer\n", ":2: namedValues[0].properties: missing"),
    ("namedValues:\n- name: jwt-issuer\n  properties:\n",
     ":3: namedValues[0].properties: must be a mapping of the fields to override, got None"),
    ("frobs: []\n", ":1: frobs: unknown section (known: namedValues, backends, versionSets, apimServiceName)"),
    (f"namedValues:\n{ITEM}namedValues:\n{ITEM}", ":4: namedValues: duplicate key 'namedValues'"),
    (f"namedValues:\n{ITEM}{ITEM.replace('jwt', 'JWT')}",
     ":4: namedValues[1].name: 'JWT-issuer' is already overridden (line 2)"),
    ("namedValues:\n- name: jwt-issuer\n  properties:\n    value: x\n  - bad\n",
     ":5: not valid YAML: expected <block end>, but found '-'"),
])
def test_a_bad_shape_is_bad_input_naming_file_line_and_field(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ArtifactError) as raised:
        _apply(tmp_path, text)
    assert raised.value.exit_code == EXIT_BAD_INPUT
    assert str(raised.value).startswith(f"{tmp_path / 'configuration.local.yaml'}{expected}")
    assert "\n" not in str(raised.value)


def test_a_near_miss_name_hints_at_the_resource_it_may_mean(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError) as raised:
        _apply(tmp_path, "namedValues:\n- name: jwt-issuerx\n  properties: {value: x}\n")
    assert raised.value.hint == "did you mean 'jwt-issuer'?"


def test_a_folder_at_the_configuration_path_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "configuration.local.yaml").mkdir()
    with pytest.raises(ArtifactError, match=r"configuration\.local\.yaml: is a folder, not a configuration file"):
        load_configuration(tmp_path / "configuration.local.yaml", {})


def test_a_valid_file_still_applies_its_overrides(tmp_path: Path) -> None:
    merged = _apply(tmp_path, "apimServiceName: apim-prod\nversionSets:\nnamedValues:\n"
                              "- name: JWT-Issuer\n  properties:\n    value: '{#NOT_A_TOKEN}'\n    secret: true\n"
                              "backends:\n- name: orders\n  properties: {url: 'https://orders.prod'}\n")
    assert merged.json("named values/jwt-issuer/namedValueInformation.json") == {
        "properties": {"displayName": "jwt-issuer", "value": "{#NOT_A_TOKEN}", "secret": True}}
    assert merged.json("backends/orders/backendInformation.json") == {"properties": {"url": "https://orders.prod"}}
    assert _apply(tmp_path, "") == TREE
