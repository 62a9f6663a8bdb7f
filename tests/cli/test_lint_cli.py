"""`toolkit lint`: formats, severities and exit codes on any APIOps tree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit.cli import root

POOL_WITH_URL = '{"properties": {"type": "Pool", "url": "https://x", "pool": {"services": [{"id": "/backends/a"}]}}}\n'


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for relpath, text in files.items():
        path = tmp_path / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def test_committed_tree_is_clean(repo_root: Path) -> None:
    result = CliRunner().invoke(root, ["lint", str(repo_root / "apimartifacts")])
    assert result.exit_code == 0, result.output


def test_json_findings_and_exit_1(tmp_path: Path) -> None:
    tree = _tree(tmp_path, {
        "backends/a/backendInformation.json": '{"properties": {"url": "https://a", "protocol": "http"}}\n',
        "backends/pool/backendInformation.json": POOL_WITH_URL,
    })
    result = CliRunner().invoke(root, ["lint", str(tree), "--format", "json"])
    assert result.exit_code == 1
    findings = json.loads(result.stdout)["findings"]
    assert findings and set(findings[0]) == {"code", "severity", "file", "line", "message"}
    assert any(f["code"] == "APIM005" and f["file"].endswith("backends/pool/backendInformation.json") for f in findings)


def test_fail_severity_warning(tmp_path: Path) -> None:
    tree = _tree(tmp_path, {
        "backends/emb/backendInformation.json": '{"properties": {"url": "https://e", "protocol": "http"}}\n',
        "apis/a/policy.xml": (
            "<policies><inbound><base />"
            '<azure-openai-semantic-cache-lookup score-threshold="0.8" embeddings-backend-id="emb" embeddings-backend-auth="system-assigned" />'
            "</inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>\n"
        ),
    })
    assert CliRunner().invoke(root, ["lint", str(tree)]).exit_code == 0
    result = CliRunner().invoke(root, ["lint", str(tree), "--fail-severity", "warning"])
    assert result.exit_code == 1
    assert "APIM026" in result.stdout and "distance" in result.stdout


def test_sarif_output(tmp_path: Path) -> None:
    tree = _tree(tmp_path, {"backends/pool/backendInformation.json": POOL_WITH_URL})
    result = CliRunner().invoke(root, ["lint", str(tree), "--format", "sarif"])
    document = json.loads(result.stdout)
    assert document["version"] == "2.1.0"
    assert document["runs"][0]["results"]


def test_not_a_folder_is_exit_3(tmp_path: Path) -> None:
    result = CliRunner().invoke(root, ["lint", str(tmp_path / "missing")])
    assert result.exit_code == 3
    assert "Traceback" not in result.output


RETRY_UNBUFFERED = ('<fragment>\n  <retry condition="@(context.Response.StatusCode == 429)" count="1" interval="0">\n'
                    '    <forward-request />\n  </retry>\n</fragment>\n')
KEY_LITERAL = ('<policies><inbound><base />\n'
               '<set-header name="api-key" exists-action="override"><value>0123456789abcdef0123456789abcdef</value></set-header>\n'
               '</inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>\n')


def _config(tmp_path: Path, lint: str) -> Path:
    config = tmp_path / "toolkit.yaml"
    config.write_text("environments:\n  local: {target: local}\n" + lint, encoding="utf-8")
    return config


def test_a_config_suppression_turns_an_error_into_a_reported_suppressed_finding(tmp_path: Path) -> None:
    tree = _tree(tmp_path / "tree", {"apis/a/policy.xml": KEY_LITERAL})
    assert CliRunner().invoke(root, ["lint", str(tree), "--config", str(_config(tmp_path, ""))]).exit_code == 1
    config = _config(tmp_path, 'lint:\n  ignore:\n    - {rule: APIM043, path: "apis/a/*", reason: "a test key"}\n')
    result = CliRunner().invoke(root, ["lint", str(tree), "--config", str(config), "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["findings"] == []
    (suppressed,) = document["suppressed"]
    assert suppressed["code"] == "APIM043" and suppressed["severity"] == "error"
    assert suppressed["reason"] == "a test key" and suppressed["suppressed_by"] == f"{config}:5"


def test_a_suppression_for_another_path_suppresses_nothing(tmp_path: Path) -> None:
    tree = _tree(tmp_path / "tree", {"apis/a/policy.xml": KEY_LITERAL})
    config = _config(tmp_path, 'lint:\n  ignore:\n    - {rule: APIM043, path: "apis/b/*", reason: "r"}\n')
    result = CliRunner().invoke(root, ["lint", str(tree), "--config", str(config)])
    assert result.exit_code == 1
    assert "APIM043 error:" in result.stdout
    assert f"{config}:5: unused suppression of APIM043 at 'apis/b/*'" in result.stdout


def test_an_unused_suppression_fails_only_at_warning_severity(tmp_path: Path) -> None:
    tree = _tree(tmp_path / "tree", {"backends/a/backendInformation.json": '{"properties": {"url": "https://a", "protocol": "http"}}\n'})
    config = _config(tmp_path, 'lint:\n  ignore:\n    - {rule: APIM022, path: "*", reason: "r"}\n')
    assert CliRunner().invoke(root, ["lint", str(tree), "--config", str(config)]).exit_code == 0
    strict = CliRunner().invoke(root, ["lint", str(tree), "--config", str(config), "--fail-severity", "warning"])
    assert strict.exit_code == 1
    assert "unused suppression of APIM022 at '*'" in strict.stdout and "(1 unused suppression)" in strict.stdout


def test_an_inline_comment_suppresses_the_element_after_it(tmp_path: Path) -> None:
    commented = RETRY_UNBUFFERED.replace("<fragment>\n", "<fragment>\n  <!-- toolkit: ignore APIM022 GET only, no body -->\n")
    tree = _tree(tmp_path / "tree", {"policy fragments/r/policy.xml": commented})
    result = CliRunner().invoke(root, ["lint", str(tree), "--config", str(_config(tmp_path, "")), "--fail-severity",
                                       "warning"])
    assert result.exit_code == 0, result.output
    assert "APIM022 warning suppressed (" in result.stdout and "policy.xml:2: GET only, no body)" in result.stdout


@pytest.mark.parametrize(("lint", "message"), [
    ('lint:\n  ignore:\n    - {rule: APIM022, path: "*"}\n', ":5: lint.ignore[0].reason: required field 'reason' is missing"),
    ('lint:\n  ignore:\n    - {rule: APIM022, path: "*", reason: "  "}\n', ":5: lint.ignore[0].reason: a suppression needs a reason"),
    ('lint:\n  ignore:\n    - {rule: APIM922, path: "*", reason: r}\n', ":5: lint.ignore[0].rule: unknown lint rule 'APIM922'"),
    ('lint:\n  ignore:\n    - {rule: APIM000, path: "*", reason: r}\n', ":5: lint.ignore[0].rule: APIM000 cannot be suppressed"),
    ('lint:\n  ignore:\n    - rule: APIM022\n      path: "/apis/*"\n      reason: r\n', ":6: lint.ignore[0].path: '/apis/*': write the path"),
    ('lint:\n  ignore:\n    - {rule: APIM022, paht: "*", reason: r}\n', ":5: lint.ignore[0].paht: unknown key 'paht' (did you mean 'path'?)"),
    ('lint:\n  ignroe: []\n', ":4: lint.ignroe: unknown key 'ignroe' (did you mean 'ignore'?)"),
])
def test_a_bad_suppression_in_the_config_is_exit_3_with_file_line_and_field(tmp_path: Path, lint: str, message: str) -> None:
    tree = _tree(tmp_path / "tree", {"apis/a/policy.xml": KEY_LITERAL})
    config = _config(tmp_path, lint)
    result = CliRunner().invoke(root, ["lint", str(tree), "--config", str(config)])
    assert result.exit_code == 3, result.output
    assert f"{config}{message}" in result.output, result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("comment", "message"), [
    ("<!-- toolkit: ignore APIM022 -->", "policy.xml:2: the suppression of APIM022 gives no reason"),
    ("<!-- toolkit: ignore -->", "policy.xml:2: 'toolkit: ignore' names no rule"),
    ("<!-- toolkit: ignore APIM922 why -->", "policy.xml:2: unknown lint rule 'APIM922'"),
])
def test_a_bad_suppression_comment_is_exit_3_with_file_and_line(tmp_path: Path, comment: str, message: str) -> None:
    tree = _tree(tmp_path / "tree", {"policy fragments/r/policy.xml": RETRY_UNBUFFERED.replace(
        "<fragment>\n", f"<fragment>\n  {comment}\n")})
    result = CliRunner().invoke(root, ["lint", str(tree), "--config", str(_config(tmp_path, ""))])
    assert result.exit_code == 3, result.output
    assert message in result.output and "Traceback" not in result.output


def test_an_explicit_config_that_does_not_exist_is_exit_3(tmp_path: Path) -> None:
    tree = _tree(tmp_path / "tree", {"apis/a/policy.xml": KEY_LITERAL})
    result = CliRunner().invoke(root, ["lint", str(tree), "--config", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 3 and "config file not found" in result.output


def test_without_a_config_in_the_folder_lint_runs_without_suppressions(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    tree = _tree(tmp_path / "tree", {"apis/a/policy.xml": KEY_LITERAL})
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(root, ["lint", str(tree)])
    assert result.exit_code == 1 and "APIM043 error:" in result.stdout and "suppressed" not in result.stdout
    _config(tmp_path, 'lint:\n  ignore:\n    - {rule: APIM043, path: "*", reason: "r"}\n')  # ./toolkit.yaml is read
    assert CliRunner().invoke(root, ["lint", str(tree)]).exit_code == 0
