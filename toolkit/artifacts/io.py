"""Read and write APIOps trees on disk: deterministic, atomic, and nothing else touched."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.artifacts.confined import ConfinedFolder
from toolkit.artifacts.confined import write_atomic as write_atomic  # re-exported: callers import it from here
from toolkit.artifacts.layout import ArtifactPath
from toolkit.artifacts.model import ArtifactSet
from toolkit.errors import ArtifactError

MAX_ARTIFACT_BYTES = 5 * 1024 * 1024


def read_tree(root: str | os.PathLike[str]) -> ArtifactSet:
    """Every artifact the toolkit understands under ``root`` (other files are ignored)."""
    base = Path(root)
    if not base.is_dir():
        raise ArtifactError(f"{base}: not a folder", hint="pass the APIOps artifact folder, e.g. apimartifacts")
    files: dict[str, str] = {}
    for path in sorted(base.rglob("*")):
        relpath = path.relative_to(base).as_posix()
        if ArtifactPath.parse(relpath) is None:
            continue
        files[relpath] = read_text(path)  # a folder named like an artifact file is an error, not a missing file
    return ArtifactSet(files)


def read_text(path: Path) -> str:
    """A UTF-8 artifact file, refusing oversized or undecodable ones (and folders) with a clear message."""
    if not path.is_file():
        raise ArtifactError(f"{path}: not a file (a folder named like an artifact file?)")
    try:
        size = path.stat().st_size
        if size > MAX_ARTIFACT_BYTES:
            raise ArtifactError(f"{path}: {size} bytes is over the {MAX_ARTIFACT_BYTES} byte limit")
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ArtifactError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ArtifactError(f"{path}: cannot read ({exc.strerror})") from None


@dataclass
class TreeDiff:
    """How a folder differs from an artifact set, limited to the paths compared."""

    missing: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    @property
    def paths(self) -> list[str]:
        """Every differing path, sorted."""
        return sorted(self.missing + self.changed + self.extra)

    def __bool__(self) -> bool:
        return bool(self.missing or self.changed or self.extra)


def diff_tree(root: str | os.PathLike[str], expected: ArtifactSet, stale: set[str] | None = None) -> TreeDiff:
    """Compare ``expected`` with what is on disk; ``stale`` are paths that should no longer exist."""
    folder = ConfinedFolder(root)
    folder.check(set(expected.paths()) | set(stale or ()))
    result = TreeDiff()
    for relpath in expected.paths():
        current = folder.read_bytes(relpath)
        if current is None:
            result.missing.append(relpath)
        elif current != (expected.get(relpath) or "").encode("utf-8"):
            result.changed.append(relpath)
    result.extra = sorted(p for p in (stale or set()) if folder.read_bytes(p) is not None)
    return result


@dataclass
class TreeChanges:
    """What a write did: files written (new or changed) and files removed."""

    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def sync_tree(root: str | os.PathLike[str], artifacts: ArtifactSet, remove: set[str] | None = None) -> TreeChanges:
    """Write every file of ``artifacts`` that differs (atomically) and remove ``remove``.

    Every path is checked first (see :mod:`toolkit.artifacts.confined`): when one would leave the
    folder, nothing at all is written.
    """
    folder = ConfinedFolder(root)
    folder.check(set(artifacts.paths()) | set(remove or ()))
    changes = TreeChanges()
    for relpath in artifacts.paths():
        text = artifacts.get(relpath) or ""
        if folder.read_bytes(relpath) == text.encode("utf-8"):
            continue
        folder.write(relpath, text)
        changes.written.append(relpath)
    for relpath in sorted(remove or set()):
        if folder.remove(relpath):
            changes.removed.append(relpath)
    return changes


def write_tree(root: str | os.PathLike[str], artifacts: ArtifactSet, remove: set[str] | None = None) -> list[str]:
    """:func:`sync_tree`, returning every path written or removed."""
    changes = sync_tree(root, artifacts, remove)
    return changes.written + changes.removed
