"""`toolkit render`: writes the APIOps tree, rewrites only owned files, --check, atomicity, lint gate."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit.cli import root


@pytest.fixture
def project(repo_root: Path, tmp_path: Path) -> Path:
    """A copy of the sample project (config + templates) without its rendered tree."""
    shutil.copy(repo_root / "toolkit.yaml", tmp_path / "toolkit.yaml")
    shutil.copytree(repo_root / "policies", tmp_path / "policies")
    return tmp_path


def _run(project: Path, *args: str) -> object:
    return CliRunner().invoke(root, [*args, "--config", str(project / "toolkit.yaml")])


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_render_matches_the_committed_tree(project: Path, repo_root: Path) -> None:
    """The committed tree is the APIOps base plus configuration.<env>.yaml (`toolkit render --apiops`)."""
    result = _run(project, "render", "--apiops")
    assert result.exit_code == 0, result.output
    assert _tree(project / "apimartifacts") == _tree(repo_root / "apimartifacts")
    assert _run(project, "render", "--apiops", "--check").exit_code == 0


def test_rerender_is_byte_identical_and_writes_nothing(project: Path) -> None:
    assert _run(project, "render").exit_code == 0
    before = {p: (project / "apimartifacts" / p).stat().st_mtime_ns for p in _tree(project / "apimartifacts")}
    second = _run(project, "render")
    assert second.exit_code == 0
    assert "wrote" not in second.output
    after = {p: (project / "apimartifacts" / p).stat().st_mtime_ns for p in _tree(project / "apimartifacts")}
    assert before == after


def test_feature_rewrites_only_its_files(project: Path) -> None:
    assert _run(project, "render").exit_code == 0
    policy = project / "apimartifacts/apis/azure-openai/policy.xml"
    pool = project / "apimartifacts/backends/openai-backend-pool/backendInformation.json"
    east = project / "apimartifacts/backends/openai-eastus/backendInformation.json"
    for path in (policy, pool, east):
        path.write_text("hand edit\n", encoding="utf-8")
    result = _run(project, "render", "circuit-breaker")
    assert result.exit_code == 0, result.output
    assert east.read_text(encoding="utf-8") != "hand edit\n"  # owned by circuit-breaker: restored
    assert policy.read_text(encoding="utf-8") == "hand edit\n"  # not owned: untouched
    assert pool.read_text(encoding="utf-8") == "hand edit\n"


def test_check_lists_drift_and_exits_1(project: Path) -> None:
    assert _run(project, "render").exit_code == 0
    assert _run(project, "render", "--check").exit_code == 0
    policy = project / "apimartifacts/apis/azure-openai/policy.xml"
    policy.write_text(policy.read_text(encoding="utf-8").replace('count="2"', 'count="1"'), encoding="utf-8")
    (project / "apimartifacts/backends/openai-westus/backendInformation.json").unlink()
    result = _run(project, "render", "--check")
    assert result.exit_code == 1
    assert "apis/azure-openai/policy.xml" in result.output
    assert "backends/openai-westus/backendInformation.json" in result.output
    assert "backends/openai-eastus" not in result.output
    assert 'count="1"' in policy.read_text(encoding="utf-8")  # --check writes nothing


def test_removed_resource_is_removed_but_hand_written_files_stay(project: Path) -> None:
    assert _run(project, "render").exit_code == 0
    extra = project / "apimartifacts/backends/hand-made/backendInformation.json"
    extra.parent.mkdir(parents=True)
    extra.write_text('{"properties": {"url": "https://x.example.com", "protocol": "http"}}\n', encoding="utf-8")
    config = project / "toolkit.yaml"
    text = config.read_text(encoding="utf-8")
    # Drop the embeddings backend and the cache that uses it.
    start = text.index("    semantic_cache:")
    end = text.index("    token_limit:")
    text = text[:start] + text[end:]
    start = text.index("  - name: embeddings")
    end = text.index("pools:")
    config.write_text(text[:start] + "\n" + text[end:], encoding="utf-8")
    assert _run(project, "render", "--check").exit_code == 1
    result = _run(project, "render")
    assert result.exit_code == 0, result.output
    assert not (project / "apimartifacts/backends/embeddings").exists()
    assert extra.is_file()


def test_lint_errors_block_the_write(project: Path) -> None:
    template = project / "policies/api-policy.xml.j2"
    template.write_text(
        template.read_text(encoding="utf-8").replace('<set-backend-service backend-id="{{ api.backend }}" />',
                                                      '<set-backend-service backend-id="no-such-backend" />'),
        encoding="utf-8",
    )
    result = _run(project, "render")
    assert result.exit_code == 1
    assert "APIM025" in result.output
    assert not (project / "apimartifacts").exists()


def test_template_error_is_exit_3_without_traceback(project: Path) -> None:
    (project / "policies/token-limit.xml.j2").write_text("{{ api.token_limit.nope }}", encoding="utf-8")
    result = _run(project, "render")
    assert result.exit_code == 3
    assert "token-limit.xml.j2:1" in result.output
    assert "Traceback" not in result.output


def test_atomic_write_keeps_the_old_file_when_the_write_fails(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _run(project, "render").exit_code == 0
    policy = project / "apimartifacts/apis/azure-openai/policy.xml"
    original = policy.read_bytes()
    policy.write_text("old content\n", encoding="utf-8")

    def failing_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    result = _run(project, "render")
    assert result.exit_code != 0
    assert policy.read_text(encoding="utf-8") == "old content\n"
    leftovers = [p for p in policy.parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []
    monkeypatch.undo()
    assert _run(project, "render").exit_code == 0
    assert policy.read_bytes() == original


def test_out_option_and_unknown_feature(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "elsewhere"
    assert _run(project, "render", "jwt", "--out", str(out)).exit_code == 0
    assert (out / "apis/azure-openai/policy.xml").is_file()
    assert not (out / "backends").exists()
    assert _run(project, "render", "load-balancing").exit_code == 2


def test_unknown_environment_is_exit_3(project: Path) -> None:
    result = _run(project, "render", "--env", "prod")
    assert result.exit_code == 3
    assert "unknown environment 'prod'" in result.output


def test_apiops_renders_the_whole_tree_only(project: Path) -> None:
    result = _run(project, "render", "--apiops", "retry")
    assert result.exit_code == 3 and "--apiops renders the whole tree" in result.output
    assert not (project / "apimartifacts").exists()
