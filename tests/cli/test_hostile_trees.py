"""The hostile tree corpus (tests/fixtures/hostile/trees): render and lint exit cleanly, in bounded time,
and never touch anything outside their folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "hostile" / "trees"
TIME_LIMIT_S = 90  # generous for a shared 2-core machine; a quadratic scan or a hang takes far longer


def _cases(name: str) -> list[Any]:
    cases = yaml.safe_load((CORPUS / name).read_text(encoding="utf-8"))
    return [pytest.param(case, id=case["name"]) for case in cases]


def _sentinel(root: Path) -> Path:
    """A folder beside the target holding files an escape would change or delete."""
    sentinel = root / "sentinel"
    (sentinel / "gone").mkdir(parents=True)
    (sentinel / "notes.txt").write_text("precious\n", encoding="utf-8")
    (sentinel / "gone/backendInformation.json").write_text('{"properties": {"url": "https://x.example.com"}}\n',
                                                            encoding="utf-8")
    return sentinel


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file and link under ``folder`` (not followed): content (or link target) and mtime."""
    state = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            stat = path.lstat()
            if path.is_symlink():
                state[str(path)] = (os.readlink(path).encode(), stat.st_mtime_ns)
            elif path.is_file():
                state[str(path)] = (path.read_bytes(), stat.st_mtime_ns)
            else:
                state[str(path) + "/"] = (b"", 0)
    return state


def _build(case: dict[str, Any], folder: Path, sentinel: Path) -> None:
    """Create the case's folders, files and symlinks under ``folder``."""
    def sub(text: str) -> str:
        return text.replace("{sentinel}", str(sentinel))

    for relpath in case.get("dirs", []):
        (folder / relpath).mkdir(parents=True, exist_ok=True)
    for relpath, text in case.get("files", {}).items():
        (folder / relpath).parent.mkdir(parents=True, exist_ok=True)
        (folder / relpath).write_bytes(sub(text).encode("utf-8", "surrogatepass"))
    for relpath, hexbytes in case.get("hex", {}).items():
        (folder / relpath).parent.mkdir(parents=True, exist_ok=True)
        (folder / relpath).write_bytes(bytes.fromhex(hexbytes))
    for relpath, spec in case.get("generate", {}).items():
        (folder / relpath).parent.mkdir(parents=True, exist_ok=True)
        body = "".join(spec["unit"].replace("{i}", str(i)) for i in range(spec["times"]))
        (folder / relpath).write_text(spec["head"] + body + spec["tail"], encoding="utf-8")
    for relpath, target in case.get("symlinks", {}).items():
        link = folder / relpath
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_dir() and not link.is_symlink():
            shutil.rmtree(link)
        elif link.exists() or link.is_symlink():
            link.unlink()
        link.symlink_to(sub(target))


def _toolkit(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.run([sys.executable, "-m", "toolkit", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=TIME_LIMIT_S, check=False)


def _assert_clean_exit(case: dict[str, Any], result: subprocess.CompletedProcess[str]) -> None:
    output = result.stdout + result.stderr
    assert result.returncode in case["exit"], f"exit {result.returncode}, expected {case['exit']}:\n{output[-3000:]}"
    assert "Traceback" not in output and "internal error" not in output, output[-3000:]


@pytest.mark.parametrize("case", _cases("render.yaml"))
def test_render_survives_hostile_output_folder(case: dict[str, Any], repo_root: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(repo_root / "toolkit.yaml", project / "toolkit.yaml")
    shutil.copytree(repo_root / "policies", project / "policies")
    out = project / "apimartifacts"
    sentinel = _sentinel(tmp_path)
    if case.get("prerender"):
        assert _toolkit("render", cwd=project).returncode == 0
    out.mkdir(exist_ok=True)
    _build(case, out, sentinel)
    if "manifest" in case:
        manifest = out / ".toolkit-rendered"
        text = case["manifest"].replace("{sentinel}", str(sentinel))
        previous = manifest.read_text(encoding="utf-8") if case.get("manifest_mode") == "append" else ""
        manifest.write_text(previous + text, encoding="utf-8")
    before = {**_snapshot(sentinel), **{k: v for k, v in _snapshot(project).items() if not k.startswith(str(out))}}

    result = _toolkit("render", *case.get("args", []), cwd=project)

    _assert_clean_exit(case, result)
    after = {**_snapshot(sentinel), **{k: v for k, v in _snapshot(project).items() if not k.startswith(str(out))}}
    assert after == before, "render touched something outside its output folder"


@pytest.mark.parametrize("case", _cases("lint.yaml"))
def test_lint_survives_hostile_tree(case: dict[str, Any], tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    sentinel = _sentinel(tmp_path)
    _build(case, tree, sentinel)
    before = {**_snapshot(sentinel), **_snapshot(tree)}

    result = _toolkit("lint", str(tree), cwd=tmp_path)

    _assert_clean_exit(case, result)
    assert {**_snapshot(sentinel), **_snapshot(tree)} == before, "lint changed files"
    if result.returncode == 1:
        assert "APIM" in result.stdout
