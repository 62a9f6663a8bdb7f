"""Text, JSON and SARIF renderings of lint results."""

from __future__ import annotations

import json

from toolkit.artifacts.model import ArtifactSet
from toolkit.lint import REGISTRY, LintResult, lint_tree, to_json, to_sarif, to_text
from toolkit.lint.core import Finding, Severity

TREE = ArtifactSet(
    {
        "policy.xml": (
            "<policies>\n"
            "    <inbound>\n"
            '        <llm-semantic-cache-lookup score-threshold="0.8" embeddings-backend-id="bad" embeddings-backend-auth="system-assigned" />\n'
            "    </inbound>\n"
            "</policies>\n"
        ),
        "named values/key/namedValueInformation.json": '{"properties": {"displayName": "key", "value": "v"}}',
        "backends/bad/backendInformation.json": "{",
    }
)


def result() -> LintResult:
    return lint_tree(TREE, root_label="apimartifacts")


def test_json_is_a_list_of_findings_with_five_fields() -> None:
    findings = json.loads(to_json(result()))
    assert isinstance(findings, list) and findings
    for entry in findings:
        assert set(entry) == {"code", "severity", "file", "line", "message"}
        assert entry["severity"] in {"error", "warning", "info"}
        assert isinstance(entry["line"], int) and entry["line"] >= 1
        assert entry["file"].startswith("apimartifacts/")
    assert {"code": "APIM026", "severity": "warning", "file": "apimartifacts/policy.xml", "line": 3} == {
        key: value for key, value in next(e for e in findings if e["code"] == "APIM026").items() if key != "message"
    }


def test_json_of_no_findings_is_an_empty_list() -> None:
    assert json.loads(to_json(LintResult(()))) == []


def test_sarif_has_the_required_fields() -> None:
    lint = result()
    log = json.loads(to_sarif(lint))
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-2.1.0.json")
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"]
    rules = driver["rules"]
    assert [rule["id"] for rule in rules] == list(REGISTRY)
    for rule in rules:
        assert rule["name"] and rule["shortDescription"]["text"]
        assert "Anti-pattern" in rule["fullDescription"]["text"] and "Best practice" in rule["help"]["text"]
        assert rule["defaultConfiguration"]["level"] in {"error", "warning", "note"}
    assert len(run["results"]) == len(lint.findings)
    for sarif_result, finding in zip(run["results"], lint.findings):
        assert sarif_result["ruleId"] == finding.code
        assert rules[sarif_result["ruleIndex"]]["id"] == finding.code
        assert sarif_result["level"] == {"error": "error", "warning": "warning", "info": "note"}[finding.severity.value]
        assert sarif_result["message"]["text"] == finding.message
        location = sarif_result["locations"][0]["physicalLocation"]
        assert location["region"]["startLine"] == finding.line
        assert " " not in location["artifactLocation"]["uri"]


def test_sarif_uris_are_percent_encoded() -> None:
    finding = Finding("APIM031", Severity.WARNING, "named values/x/namedValueInformation.json", 1, "m")
    log = json.loads(to_sarif(LintResult((finding,), files=1)))
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "named%20values/x/namedValueInformation.json"


def test_text_lists_findings_then_a_summary() -> None:
    lint = result()
    lines = to_text(lint).splitlines()
    assert [f.code for f in lint.findings] == ["APIM000", "APIM026"]
    assert lines[0].startswith("apimartifacts/backends/bad/backendInformation.json:1: APIM000 error: invalid JSON")
    assert lines[1] == "apimartifacts/policy.xml:3: APIM026 warning: " + lint.findings[1].message
    assert lines[-1] == "1 error, 1 warning in 3 files"
    assert to_text(LintResult((), files=2)) == "no findings in 2 files\n"
