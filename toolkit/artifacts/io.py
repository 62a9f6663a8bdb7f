"""Read and write APIOps trees on disk: deterministic, atomic, and nothing else touched."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

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
        if not path.is_file():
            continue
        relpath = path.relative_to(base).as_posix()
        if ArtifactPath.parse(relpath) is None:
            continue
        files[relpath] = read_text(path)
    return ArtifactSet(files)


def read_text(path: Path) -> str:
    """A UTF-8 artifact file, refusing oversized or undecodable ones with a clear message."""
    try:
        size = path.stat().st_size
        if size > MAX_ARTIFACT_BYTES:
            raise ArtifactError(f"{path}: {size} bytes is over the {MAX_ARTIFACT_BYTES} byte limit")
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ArtifactError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ArtifactError(f"{path}: cannot read ({exc.strerror})") from None


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file in the same folder and rename: readers see old or new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
    base = Path(root)
    result = TreeDiff()
    for relpath in expected.paths():
        path = base / relpath
        if not path.is_file():
            result.missing.append(relpath)
        elif path.read_bytes() != expected.get(relpath).encode("utf-8"):  # type: ignore[union-attr]
            result.changed.append(relpath)
    result.extra = sorted(p for p in (stale or set()) if (base / p).is_file())
    return result


def write_tree(root: str | os.PathLike[str], artifacts: ArtifactSet, remove: set[str] | None = None) -> list[str]:
    """Write every file of ``artifacts`` that differs (atomically) and remove ``remove``; returns what changed."""
    base = Path(root)
    changed: list[str] = []
    for relpath in artifacts.paths():
        path = base / relpath
        text = artifacts.get(relpath) or ""
        if path.is_file() and path.read_bytes() == text.encode("utf-8"):
            continue
        write_atomic(path, text)
        changed.append(relpath)
    for relpath in sorted(remove or set()):
        path = base / relpath
        if path.is_file():
            path.unlink()
            changed.append(relpath)
            _prune_empty_parents(path.parent, base)
    return changed


def _prune_empty_parents(folder: Path, base: Path) -> None:
    while folder != base and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent
