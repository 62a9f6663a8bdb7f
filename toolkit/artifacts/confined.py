"""Writes and deletes confined to one output folder, whatever the paths or symlinks inside it say.

Every path is checked before anything is touched: it must be a plain relative path (no ``..``,
no absolute path, no backslash, no control character) and must resolve, through any symlinked
folder inside the output folder, to a place inside it. A symlinked folder that leaves the output
folder is refused and named; the file itself must never be a symlink (rendered files are regular
files, and a link would make a write or delete act on whatever it points at).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path, PurePosixPath

from toolkit.errors import ArtifactError

_HINT = "writes and deletes stay inside the output folder: replace the symlink by a real folder, or use --out"


def relpath_problem(relpath: str) -> str | None:
    """Why ``relpath`` is not a plain relative path inside a folder (None when it is)."""
    if not relpath:
        return "empty path"
    if any(ord(char) < 32 or ord(char) == 127 for char in relpath):
        return "control character in path"
    if "\\" in relpath:
        return "backslash in path (paths use '/')"
    if relpath.startswith("/") or PurePosixPath(relpath).is_absolute() or (len(relpath) > 1 and relpath[1] == ":"):
        return "absolute path"
    if any(part in ("", ".", "..") for part in relpath.split("/")):
        return "'.', '..' or empty path segment"
    return None


class ConfinedFolder:
    """One output folder; :meth:`locate` is the only way from a relative path to a file on disk."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self._real_root = Path(os.path.realpath(self.root))

    def locate(self, relpath: str) -> Path:
        """Where ``relpath`` really is on disk (folders resolved), or ArtifactError saying why it is refused."""
        problem = relpath_problem(relpath)
        if problem is not None:
            raise ArtifactError(f"{self.root}: refused {relpath!r}: {problem}")
        real_parent = Path(os.path.realpath((self.root / relpath).parent))
        if not _inside(real_parent, self._real_root):
            link = self.root / self._leaving_link(relpath)
            what = f"symlink to {os.readlink(link)!r}" if link.is_symlink() else f"resolves to {str(real_parent)!r}"
            raise ArtifactError(f"{link}: {what}, outside {self.root}; refused", hint=_HINT)
        target = real_parent / PurePosixPath(relpath).name
        if target.is_symlink():
            raise ArtifactError(
                f"{self.root / relpath}: symlink to {os.readlink(target)!r}; a rendered file must be a regular file",
                hint="remove the symlink (render writes a regular file there)",
            )
        return target

    def _leaving_link(self, relpath: str) -> str:
        """The first folder of ``relpath`` that is a symlink resolving outside the folder."""
        parts = PurePosixPath(relpath).parts[:-1]
        for depth in range(1, len(parts) + 1):
            prefix = "/".join(parts[:depth])
            candidate = self.root / prefix
            if candidate.is_symlink() and not _inside(Path(os.path.realpath(candidate)), self._real_root):
                return prefix
        return "/".join(parts)  # an inside link pointing at an outside link: name the whole folder

    def check(self, relpaths: list[str] | set[str]) -> None:
        """Refuse (one ArtifactError listing every problem) unless every path can be located and is
        not a folder: called before a batch of writes so that a refusal writes nothing."""
        problems: dict[str, None] = {}  # ordered and without repeats (one symlink refuses many paths)
        for relpath in sorted(relpaths):
            try:
                target = self.locate(relpath)
                if target.is_dir():
                    problems[f"{self.root / relpath}: is a folder; a file belongs there"] = None
                target.parent.stat()
            except FileNotFoundError:
                pass  # created on write
            except OSError as exc:  # e.g. a symlink loop
                problems[f"{self.root / relpath}: cannot be reached ({exc.strerror})"] = None
            except ArtifactError as exc:
                problems[exc.message] = None
        if problems:
            raise ArtifactError("\n  ".join([f"nothing was written in {self.root}:", *problems]), hint=_HINT)

    def read_bytes(self, relpath: str) -> bytes | None:
        """The content of a regular file, or None when there is none."""
        path = self.locate(relpath)
        if not path.is_file():
            return None
        try:
            return path.read_bytes()
        except OSError as exc:
            raise ArtifactError(f"{self.root / relpath}: cannot read ({exc.strerror})") from None

    def write(self, relpath: str, text: str) -> None:
        """Write atomically (temporary file in the same folder, then rename)."""
        path = self.locate(relpath)
        try:
            write_atomic(path, text)
        except OSError as exc:
            raise ArtifactError(f"{self.root / relpath}: cannot write ({exc.strerror})") from None

    def remove(self, relpath: str) -> bool:
        """Delete a regular file and the folders it leaves empty (never the output folder itself)."""
        path = self.locate(relpath)
        if not path.is_file():
            return False
        try:
            path.unlink()
            folder = path.parent
            while folder != self._real_root and _inside(folder, self._real_root) and not folder.is_symlink():
                if any(folder.iterdir()):
                    break
                folder.rmdir()
                folder = folder.parent
        except OSError as exc:
            raise ArtifactError(f"{self.root / relpath}: cannot delete ({exc.strerror})") from None
        return True


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


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
