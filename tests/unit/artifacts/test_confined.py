"""ConfinedFolder: plain relative paths only, symlinks never lead out, deletes prune no higher than the root."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.artifacts.confined import ConfinedFolder, relpath_problem
from toolkit.artifacts.manifest import Manifest, artifact_path_problem, removable_stale_files
from toolkit.artifacts.model import ArtifactSet
from toolkit.errors import ArtifactError


@pytest.mark.parametrize(
    "relpath",
    ["", "/etc/passwd", "C:/x", "a/../b", "./a", "a//b", "a\\b", "a/\x00b", "a/b/", ".."],
)
def test_relpath_problem_refuses_anything_but_plain_relative_paths(relpath: str) -> None:
    assert relpath_problem(relpath) is not None


@pytest.mark.parametrize("relpath", ["policy.xml", "named values/x/namedValueInformation.json", "a/b.c"])
def test_relpath_problem_accepts_plain_relative_paths(relpath: str) -> None:
    assert relpath_problem(relpath) is None


@pytest.mark.parametrize(
    ("relpath", "ok"),
    [
        ("backends/b/backendInformation.json", True),
        ("apis/a/operations/o/policy.xml", True),
        ("apis/../policy.xml", False),
        ("backends/b/other.json", False),
        ("Backends/b/backendInformation.json", False),
        ("configuration.prod.yaml", True),
        ("configuration.yaml", False),
        ("apis/configuration.prod.yaml", False),
    ],
)
def test_manifest_paths_must_be_artifact_paths(relpath: str, ok: bool) -> None:
    assert (artifact_path_problem(relpath) is None) is ok


def test_manifest_round_trips_and_names_every_bad_line() -> None:
    manifest = Manifest.of(ArtifactSet({"policy.xml": "<policies />\n"}))
    assert Manifest.parse(manifest.dump(), "m").entries == manifest.entries
    with pytest.raises(ArtifactError) as caught:
        Manifest.parse("policy.xml\n../x\n# comment\n/abs\n", "m")
    assert "m:2:" in caught.value.message and "m:4:" in caught.value.message and "m:1:" not in caught.value.message


def test_remove_prunes_emptied_folders_but_never_the_root(tmp_path: Path) -> None:
    root = tmp_path / "out"
    folder = ConfinedFolder(root)
    folder.write("a/b/c.txt", "x")
    assert folder.remove("a/b/c.txt") is True
    assert root.is_dir() and not (root / "a").exists()
    assert folder.remove("a/b/c.txt") is False


def test_remove_keeps_folders_that_still_hold_files(tmp_path: Path) -> None:
    folder = ConfinedFolder(tmp_path)
    folder.write("a/b/c.txt", "x")
    folder.write("a/keep.txt", "y")
    folder.remove("a/b/c.txt")
    assert (tmp_path / "a/keep.txt").is_file() and not (tmp_path / "a/b").exists()


def test_symlink_inside_is_followed_and_one_leaving_is_refused(tmp_path: Path) -> None:
    root, outside = tmp_path / "out", tmp_path / "outside"
    (root / "real").mkdir(parents=True)
    outside.mkdir()
    (root / "inner").symlink_to("real")
    (root / "outer").symlink_to(outside)
    folder = ConfinedFolder(root)
    folder.write("inner/f.txt", "x")
    assert (root / "real/f.txt").read_text() == "x"
    with pytest.raises(ArtifactError, match="outer: symlink to"):
        folder.write("outer/f.txt", "x")
    with pytest.raises(ArtifactError, match="outer: symlink to"):
        folder.check({"outer/deep/f.txt", "inner/f.txt"})
    assert list(outside.iterdir()) == []


def test_only_stale_files_still_holding_what_render_wrote_are_removable(tmp_path: Path) -> None:
    folder = ConfinedFolder(tmp_path)
    rendered = ArtifactSet({f"backends/{n}/backendInformation.json": f"{n}\n" for n in ("same", "edited", "gone")})
    manifest = Manifest.of(rendered)
    folder.write("backends/same/backendInformation.json", "same\n")
    folder.write("backends/edited/backendInformation.json", "mine\n")
    stale = set(rendered.paths())
    with pytest.raises(ArtifactError) as caught:
        removable_stale_files(folder, manifest, stale)
    assert "'backends/edited/backendInformation.json' changed since render wrote it" in caught.value.message
    assert "same" not in caught.value.message and "gone" not in caught.value.message
    assert removable_stale_files(folder, manifest, stale - {"backends/edited/backendInformation.json"}) == [
        "backends/same/backendInformation.json"
    ]


def test_stale_folder_or_legacy_entry_is_never_removable(tmp_path: Path) -> None:
    folder = ConfinedFolder(tmp_path)
    (tmp_path / "backends/dir/backendInformation.json").mkdir(parents=True)
    folder.write("backends/old/backendInformation.json", "x\n")
    manifest = Manifest.parse("backends/old/backendInformation.json\n" + "0" * 64 + "  backends/dir/backendInformation.json\n",
                              "m")
    with pytest.raises(ArtifactError) as caught:
        removable_stale_files(folder, manifest, manifest.paths())
    assert "is not a regular file" in caught.value.message and "no content hash" in caught.value.message
    assert (tmp_path / "backends/old/backendInformation.json").is_file()


def test_symlink_loop_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    (tmp_path / "apis").symlink_to("apis")
    folder = ConfinedFolder(tmp_path)
    with pytest.raises(ArtifactError, match="cannot be reached"):
        folder.check({"apis/a/policy.xml", "backends/b/backendInformation.json"})
    assert not (tmp_path / "backends").exists()
