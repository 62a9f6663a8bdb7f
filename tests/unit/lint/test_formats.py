"""Text, JSON and SARIF renderings of lint results."""

from __future__ import annotations

import json
from pathlib import Path

from toolkit.artifacts.model import ArtifactSet
from toolkit.lint import REGISTRY, LintResult, lint_tree, to_json, to_sarif, to_text
from toolkit.lint.core import Finding, Severity
from toolkit.lint.suppressions import Suppression

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


def test_json_lists_findings_with_five_fields() -> None:
    document = json.loads(to_json(result()))
    assert set(document) == {"findings", "suppressed", "unused_suppressions", "counts"}
    findings = document["findings"]
    assert isinstance(findings, list) and findings
    for entry in findings:
        assert set(entry) == {"code", "severity", "file", "line", "message"}
        assert entry["severity"] in {"error", "warning", "info"}
        assert isinstance(entry["line"], int) and entry["line"] >= 1
        assert entry["file"].startswith("apimartifacts/")
    assert {"code": "APIM026", "severity": "warning", "file": "apimartifacts/policy.xml", "line": 3} == {
        key: value for key, value in next(e for e in findings if e["code"] == "APIM026").items() if key != "message"
    }


def test_json_of_no_findings_has_empty_lists_and_zero_counts() -> None:
    assert json.loads(to_json(LintResult(()))) == {
        "findings": [], "suppressed": [], "unused_suppressions": [],
        "counts": {"error": 0, "warning": 0, "info": 0, "suppressed": 0, "unused_suppressions": 0}}


ACCEPT_CACHE = Suppression(("APIM026",), "a loose cache is wanted here", "toolkit.yaml:7", path="policy.xml")
UNUSED = Suppression(("APIM022",), "old", "toolkit.yaml:11", path="apis/*")


def accepted() -> LintResult:
    return lint_tree(TREE, root_label="apimartifacts", suppressions=[ACCEPT_CACHE, UNUSED])


def test_json_reports_suppressed_findings_with_their_reason_and_unused_suppressions() -> None:
    document = json.loads(to_json(accepted()))
    assert [f["code"] for f in document["findings"]] == ["APIM000"]
    (suppressed,) = document["suppressed"]
    assert suppressed["code"] == "APIM026" and suppressed["file"] == "apimartifacts/policy.xml"
    assert suppressed["reason"] == "a loose cache is wanted here" and suppressed["suppressed_by"] == "toolkit.yaml:7"
    assert document["unused_suppressions"] == [
        {"rules": ["APIM022"], "reason": "old", "source": "toolkit.yaml:11", "path": "apis/*"}]
    assert document["counts"] == {"error": 1, "warning": 0, "info": 0, "suppressed": 1, "unused_suppressions": 1}


def test_text_lists_suppressed_findings_and_unused_suppressions_then_counts_them() -> None:
    lines = to_text(accepted()).splitlines()
    assert lines[1].startswith("apimartifacts/policy.xml:3: APIM026 warning suppressed "
                               "(toolkit.yaml:7: a loose cache is wanted here): ")
    assert lines[2] == "toolkit.yaml:11: unused suppression of APIM022 at 'apis/*': it matches no finding (remove it)"
    assert lines[-1] == "1 error, 0 warnings in 3 files (1 suppressed, 1 unused suppression)"


def test_sarif_marks_suppressed_results_and_notes_unused_suppressions() -> None:
    (run,) = json.loads(to_sarif(accepted()))["runs"]
    suppressed = [r for r in run["results"] if "suppressions" in r]
    assert [r["ruleId"] for r in suppressed] == ["APIM026"]
    assert suppressed[0]["suppressions"] == [
        {"kind": "external", "justification": "toolkit.yaml:7: a loose cache is wanted here"}]
    assert [r["ruleId"] for r in run["results"] if "suppressions" not in r] == ["APIM000"]
    (notification,) = run["invocations"][0]["toolConfigurationNotifications"]
    assert notification["level"] == "warning" and "unused suppression of APIM022" in notification["message"]["text"]


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


def test_sarif_uris_are_relative_to_the_working_folder_or_absolute_file_uris(tmp_path, monkeypatch) -> None:
    """Found by an audit: lint given an absolute path wrote absolute paths without file:// (not a URI)."""
    from toolkit.lint.core import Finding, Severity
    from toolkit.lint.runner import LintResult as Result

    monkeypatch.chdir(tmp_path)
    inside, outside = tmp_path / "apimartifacts" / "apis" / "my api" / "policy.xml", Path("/elsewhere/policy.xml")
    findings = tuple(Finding("APIM021", Severity.WARNING, str(file), 3, "m") for file in (inside, outside))
    relative = Finding("APIM021", Severity.WARNING, "apimartifacts/apis/my api/policy.xml", 3, "m")
    (run,) = json.loads(to_sarif(Result((*findings, relative), files=3)))["runs"]
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]]
    assert sorted(uris) == sorted(["apimartifacts/apis/my%20api/policy.xml", "file:///elsewhere/policy.xml",
                                   "apimartifacts/apis/my%20api/policy.xml"])
