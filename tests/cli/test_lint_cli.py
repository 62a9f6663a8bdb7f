"""`toolkit lint`: formats, severities and exit codes on any APIOps tree."""

from __future__ import annotations

import json
from pathlib import Path

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
    findings = json.loads(result.stdout)
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
