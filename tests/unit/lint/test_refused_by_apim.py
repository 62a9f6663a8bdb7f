"""Artifacts APIM (or publish) refuses are lint findings, so `plan`/`apply` stop before writing anything.

Each case edits a copy of the committed apimartifacts/ the way the defect report did; the real-world trees
and policy documents (which APIM accepts) must not get any of these findings.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from toolkit.artifacts.model import ArtifactSet
from toolkit.lint import lint_path, lint_tree, to_text
from toolkit.lint.core import Finding, Severity

REPO = Path(__file__).resolve().parents[3]
REALWORLD = REPO / "tests" / "fixtures" / "realworld"
NEW_CODES = ("APIM011", "APIM032")

CONVERTED = " (APIM converts it and stores the converted value, so every plan shows a change; write the right type)"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the committed apimartifacts/ (which lints without errors)."""
    copy = tmp_path / "art"
    shutil.copytree(REPO / "apimartifacts", copy)
    return copy


def findings(tree: Path, code: str) -> list[tuple[str, int, str]]:
    """(file inside the tree, line, message) of the ``code`` findings of ``tree``."""
    result = lint_path(tree)
    return [(f.file.removeprefix(f"{tree}/"), f.line, f.message) for f in result.findings if f.code == code]


@pytest.mark.parametrize("file", [
    "backends/openai-backend-pool/backendInformation.json",
    "apis/azure-openai/apiInformation.json",
    "named values/jwt-audience/namedValueInformation.json",
])
def test_properties_that_is_not_an_object_is_apim000(tree: Path, file: str) -> None:
    assert (tree / file).is_file()
    (tree / file).write_text('{\n  "properties": "x"\n}\n', encoding="utf-8")
    assert findings(tree, "APIM000") == [(file, 2, 'properties must be an object ({"properties": {...}}), got a string')]
    assert lint_path(tree).exit_code() == 1


def test_missing_properties_is_apim000_and_an_empty_object_is_not() -> None:
    result = lint_tree(ArtifactSet({
        "backends/a/backendInformation.json": '{"url": "https://a.example"}',
        "policy fragments/f/policyFragmentInformation.json": "{}",
        "policy fragments/f/policy.xml": "<fragment><set-variable name='a' value='1' /></fragment>",
    }))
    assert [(f.code, f.file, f.line, f.message) for f in result.findings] == [
        ("APIM000", "backends/a/backendInformation.json", 1, 'properties must be an object ({"properties": {...}}) (it is missing)'),
    ], to_text(result)


def test_wrong_typed_api_fields_are_errors_at_their_line(tree: Path) -> None:
    file = tree / "apis/azure-openai/apiInformation.json"
    document = json.loads(file.read_text(encoding="utf-8"))
    document["properties"].update(path=5, apiRevision=[1])
    file.write_text(json.dumps(document, indent=2), encoding="utf-8")
    lines = file.read_text(encoding="utf-8").splitlines()
    line = {key: next(n for n, text in enumerate(lines, 1) if f'"{key}"' in text) for key in ("path", "apiRevision")}
    assert sorted(findings(tree, "APIM011")) == sorted([
        ("apis/azure-openai/apiInformation.json", line["path"], "properties.path: expected a string, got a number" + CONVERTED),
        ("apis/azure-openai/apiInformation.json", line["apiRevision"], "properties.apiRevision: expected a string, got an array"),
    ])
    assert lint_path(tree).exit_code() == 1


def test_wrong_typed_backend_and_named_value_fields() -> None:
    result = lint_tree(ArtifactSet({
        "backends/a/backendInformation.json": '{"properties": {"url": 5, "protocol": "http", "tls": {"validateCertificateChain": "no"}}}',
        "backends/p/backendInformation.json": '{"properties": {"type": "Pool", "pool": {"services": [{"id": "/backends/a", "weight": "1"}]}}}',
        "named values/n/namedValueInformation.json": '{"properties": {"displayName": "n", "value": 3, "secret": 1, "tags": ["a", 2]}}',
    }))
    got = [(f.code, f.file, f.message) for f in result.findings if f.severity is Severity.ERROR]
    assert got == [
        ("APIM011", "backends/a/backendInformation.json", "properties.tls.validateCertificateChain: expected a boolean, got a string"),
        ("APIM011", "backends/a/backendInformation.json", "properties.url: expected a string, got a number" + CONVERTED),
        # a pool member's weight is APIM001's, reported once
        ("APIM001", "backends/p/backendInformation.json", 'pool \'p\' member 1 (\'a\'): weight must be an integer from 0 to 100, got "1"'),
        ("APIM011", "named values/n/namedValueInformation.json", "properties.secret: expected a boolean, got a number" + CONVERTED),
        ("APIM011", "named values/n/namedValueInformation.json", "properties.tags[1]: expected a string, got a number" + CONVERTED),
        ("APIM011", "named values/n/namedValueInformation.json", "properties.value: expected a string, got a number" + CONVERTED),
    ], to_text(result)


def test_unknown_policy_element_is_a_warning_with_the_closest_name(tree: Path) -> None:
    file = tree / "apis/azure-openai/policy.xml"
    text = file.read_text(encoding="utf-8")
    assert "<inbound>" in text
    file.write_text(text.replace("<inbound>", "<inbound><frobnicate/><set-heder name='a'/>", 1), encoding="utf-8")
    line = text[: text.index("<inbound>")].count("\n") + 1
    assert findings(tree, "APIM032") == [
        ("apis/azure-openai/policy.xml", line, "<frobnicate> is not a policy element APIM documents; APIM refuses unknown elements"),
        ("apis/azure-openai/policy.xml", line, "<set-heder> is not a policy element APIM documents (did you mean <set-header>?); "
                                                "APIM refuses unknown elements"),
    ]
    result = lint_path(tree)
    assert {f.severity for f in result.findings if f.code == "APIM032"} == {Severity.WARNING}
    assert result.exit_code() == 0 and result.exit_code("warning") == 1


def _is_new(finding: Finding) -> bool:
    return finding.code in NEW_CODES or finding.message.startswith("properties must be an object")


@pytest.mark.parametrize("tree", [REPO / "apimartifacts", *sorted(p for p in (REALWORLD / "trees").iterdir() if p.is_dir())],
                         ids=lambda p: p.name)
def test_real_trees_get_none_of_these_findings(tree: Path) -> None:
    result = lint_path(tree)
    assert [f for f in result.findings if _is_new(f)] == [], to_text(result)


def test_real_world_policy_documents_get_none_of_these_findings() -> None:
    documents = sorted((REALWORLD / "policies").rglob("*.xml"))
    assert len(documents) > 50
    for document in documents:
        text = document.read_text(encoding="utf-8")
        path = "policy fragments/f/policy.xml" if text.lstrip().startswith("<fragment") else "apis/a/policy.xml"
        result = lint_tree(ArtifactSet({path: text}))
        assert [f for f in result.findings if _is_new(f)] == [], f"{document}:\n{to_text(result)}"
