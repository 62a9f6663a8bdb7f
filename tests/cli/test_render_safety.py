"""`toolkit render` never writes or deletes outside its output folder, and deletes only what it wrote."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit.cli import root

POLICY = "apis/azure-openai/policy.xml"
EMBEDDINGS = "backends/embeddings/backendInformation.json"


@pytest.fixture
def project(repo_root: Path, tmp_path: Path) -> Path:
    """The sample project in tmp_path/project, rendered once, with a victim folder beside it."""
    folder = tmp_path / "project"
    folder.mkdir()
    shutil.copy(repo_root / "toolkit.yaml", folder / "toolkit.yaml")
    shutil.copytree(repo_root / "policies", folder / "policies")
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "notes.txt").write_text("precious\n", encoding="utf-8")
    assert _run(folder, "render").exit_code == 0
    return folder


def _run(project: Path, *args: str) -> object:
    return CliRunner().invoke(root, [*args, "--config", str(project / "toolkit.yaml")])


def _out(project: Path) -> Path:
    return project / "apimartifacts"


def _manifest(project: Path) -> Path:
    return _out(project) / ".toolkit-rendered"


def _hand_edit_policy(project: Path) -> Path:
    """Change a rendered file by hand: a render that writes anything restores it."""
    policy = _out(project) / POLICY
    policy.write_text("hand edit\n", encoding="utf-8")
    return policy


def _drop_embeddings(project: Path) -> None:
    """Remove the embeddings backend (and the cache that uses it) from the config."""
    config = project / "toolkit.yaml"
    text = config.read_text(encoding="utf-8")
    start, end = text.index("    semantic_cache:"), text.index("    token_limit:")
    text = text[:start] + text[end:]
    start, end = text.index("  - name: embeddings"), text.index("pools:")
    config.write_text(text[:start] + "\n" + text[end:], encoding="utf-8")


@pytest.mark.parametrize(
    "line",
    [
        "../victim/notes.txt",
        "{victim}/notes.txt",
        "apis/../../victim/notes.txt",
        "backends/x/../../../victim/notes.txt",
        "apis/..\\..\\..\\victim\\notes.txt",
        "notes.txt",
        "0" * 64 + "  ../victim/notes.txt",
    ],
)
def test_manifest_line_outside_the_artifact_layout_is_refused_and_nothing_written(project: Path, line: str) -> None:
    victim = project.parent / "victim"
    with _manifest(project).open("a", encoding="utf-8") as handle:
        handle.write(line.format(victim=victim) + "\n")
    policy = _hand_edit_policy(project)
    result = _run(project, "render")
    assert result.exit_code == 3, result.output
    assert ".toolkit-rendered:" in result.output and "Traceback" not in result.output
    assert (victim / "notes.txt").read_text(encoding="utf-8") == "precious\n"
    assert policy.read_text(encoding="utf-8") == "hand edit\n"  # nothing written
    assert _run(project, "render", "--check").exit_code == 3


def test_stale_file_still_as_rendered_is_removed_and_reported_as_removed(project: Path) -> None:
    _drop_embeddings(project)
    result = _run(project, "render")
    assert result.exit_code == 0, result.output
    assert not (_out(project) / "backends/embeddings").exists()
    wrote, _, removed = result.output.partition("removed 1 file(s)")
    assert EMBEDDINGS in removed and EMBEDDINGS not in wrote
    assert EMBEDDINGS not in _manifest(project).read_text(encoding="utf-8")


def test_stale_file_edited_since_render_is_refused_and_nothing_written(project: Path) -> None:
    stale = _out(project) / EMBEDDINGS
    stale.write_text('{"properties": {"url": "https://mine.example.com"}}\n', encoding="utf-8")
    _drop_embeddings(project)
    policy = _hand_edit_policy(project)
    result = _run(project, "render")
    assert result.exit_code == 3, result.output
    assert "changed since render wrote it" in result.output and EMBEDDINGS in result.output
    assert stale.is_file() and policy.read_text(encoding="utf-8") == "hand edit\n"


def test_legacy_manifest_is_upgraded_but_its_stale_files_are_never_deleted(project: Path) -> None:
    manifest = _manifest(project)
    paths = [line.split("  ", 1)[1] for line in manifest.read_text(encoding="utf-8").splitlines() if "  " in line]
    manifest.write_text("".join(f"{p}\n" for p in paths), encoding="utf-8")  # the pre-hash format
    assert _run(project, "render").exit_code == 0
    assert manifest.read_text(encoding="utf-8").splitlines()[1].startswith(tuple("0123456789abcdef"))
    manifest.write_text("".join(f"{p}\n" for p in paths), encoding="utf-8")
    _drop_embeddings(project)
    result = _run(project, "render")
    assert result.exit_code == 3
    assert "no content hash" in result.output
    assert (_out(project) / EMBEDDINGS).is_file()


def test_symlinked_folder_leaving_the_output_is_refused_and_named(project: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.rmtree(_out(project) / "apis")
    (_out(project) / "apis").symlink_to(outside)
    backend = _out(project) / "backends/openai-eastus/backendInformation.json"
    backend.write_text("hand edit\n", encoding="utf-8")
    result = _run(project, "render")
    assert result.exit_code == 3, result.output
    assert "apimartifacts/apis: symlink to" in result.output
    assert list(outside.iterdir()) == []
    assert backend.read_text(encoding="utf-8") == "hand edit\n"  # refused before anything was written


def test_stale_removal_through_a_symlink_leaving_the_output_is_refused_not_crashed(project: Path, tmp_path: Path) -> None:
    # The stale file's folder is a symlink to a folder outside that holds a file with the rendered bytes.
    outside = tmp_path / "outside"
    shutil.copytree(_out(project) / "backends/embeddings", outside)
    shutil.rmtree(_out(project) / "backends/embeddings")
    (_out(project) / "backends/embeddings").symlink_to(outside)
    _drop_embeddings(project)
    result = _run(project, "render")
    assert result.exit_code == 3, result.output
    assert "backends/embeddings: symlink to" in result.output
    assert (outside / "backendInformation.json").is_file()


def test_rendered_file_that_is_a_symlink_is_refused(project: Path, tmp_path: Path) -> None:
    target = tmp_path / "victim" / "notes.txt"
    policy = _out(project) / POLICY
    policy.unlink()
    policy.symlink_to(target)
    result = _run(project, "render")
    assert result.exit_code == 3, result.output
    assert "a rendered file must be a regular file" in result.output
    assert target.read_text(encoding="utf-8") == "precious\n"


def test_symlinked_folder_inside_the_output_is_followed(project: Path) -> None:
    out = _out(project)
    (out / "backends").rename(out / "real-backends")
    (out / "backends").symlink_to("real-backends")
    backend = out / "real-backends/openai-eastus/backendInformation.json"
    rendered = backend.read_bytes()
    backend.write_text("hand edit\n", encoding="utf-8")
    result = _run(project, "render")
    assert result.exit_code == 0, result.output
    assert backend.read_bytes() == rendered


@pytest.mark.parametrize("kind", ["folder", "not-utf8", "symlink-out"])
def test_unusable_manifest_is_exit_3(project: Path, tmp_path: Path, kind: str) -> None:
    manifest = _manifest(project)
    manifest.unlink()
    if kind == "folder":
        manifest.mkdir()
    elif kind == "not-utf8":
        manifest.write_bytes(b"\xff\xfeapis\n")
    else:
        manifest.symlink_to(tmp_path / "victim" / "notes.txt")
    result = _run(project, "render")
    assert result.exit_code == 3, result.output
    assert ".toolkit-rendered" in result.output and "internal error" not in result.output
    assert (tmp_path / "victim" / "notes.txt").read_text(encoding="utf-8") == "precious\n"
