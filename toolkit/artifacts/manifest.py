"""The render manifest (``.toolkit-rendered``): what the last render wrote, so stale files can go.

Format (one file per line, as ``sha256sum`` prints it, so ``sha256sum -c`` can check it)::

    # comment lines and blank lines are ignored
    <sha256 of the rendered bytes, 64 hex digits>  <path relative to the output folder>

A manifest arrives by pull request like any other file, so it is trusted for nothing: a stale
path is deleted only when it is a path render itself writes (an APIOps artifact path, inside the
folder), it still holds exactly the bytes whose hash is listed, and it is a regular file whose
folders do not leave the output folder. Anything else refuses the whole render before anything is
written. A line without a hash (written by an older toolkit) can be re-recorded but never deleted.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from toolkit.artifacts.confined import ConfinedFolder, relpath_problem
from toolkit.artifacts.io import MAX_ARTIFACT_BYTES
from toolkit.artifacts.layout import ArtifactPath
from toolkit.artifacts.model import ArtifactSet
from toolkit.errors import ArtifactError

MANIFEST_NAME = ".toolkit-rendered"
HEADER = "# Written by `toolkit render`: sha256 and path of each file it wrote (a full render removes stale ones).\n"
_LINE = re.compile(r"([0-9a-f]{64})  (.+)")
# Files render writes besides APIOps artifacts: the APIOps publisher's per-environment overrides
# (``configuration.<env>.yaml`` at the top of the folder).
_OTHER_RENDERED = re.compile(r"configuration\.[A-Za-z0-9_-][A-Za-z0-9._-]*\.yaml")


def content_hash(text: str) -> str:
    """sha256 (hex) of a file's rendered UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def artifact_path_problem(relpath: str) -> str | None:
    """Why ``relpath`` is not a path render writes (None when it is one)."""
    problem = relpath_problem(relpath)
    if problem is not None:
        return problem
    if _OTHER_RENDERED.fullmatch(relpath):
        return None
    parsed = ArtifactPath.parse(relpath)
    if parsed is None or parsed.relpath != relpath:
        return "not an APIOps artifact path render writes (e.g. backends/<name>/backendInformation.json)"
    return None


@dataclass
class Manifest:
    """Paths (with the hash of what was written; None for a legacy line) and the line each came from."""

    entries: dict[str, str | None] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, artifacts: ArtifactSet) -> Manifest:
        """The manifest of a rendered set."""
        return cls({path: content_hash(artifacts.get(path) or "") for path in artifacts.paths()})

    @classmethod
    def parse(cls, text: str, file: str) -> Manifest:
        """Parse a manifest; every malformed line is listed in one ArtifactError ("file:line: ...")."""
        manifest, problems = cls(), []
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.rstrip("\r")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            match = _LINE.fullmatch(line)
            digest, path = (match.group(1), match.group(2)) if match else (None, line.strip())
            problem = artifact_path_problem(path)
            if problem is not None:
                problems.append(f"{file}:{number}: {path!r}: {problem}")
                continue
            manifest.entries[path] = digest
            manifest.lines[path] = number
        if problems:
            raise ArtifactError("\n  ".join(["render manifest refused:", *problems]),
                                hint=f"nothing was written; fix or delete {file} (render recreates it)")
        return manifest

    def dump(self) -> str:
        """The manifest text (sorted, byte-stable)."""
        return HEADER + "".join(f"{self.entries[p] or ''}  {p}\n" for p in sorted(self.entries))

    def paths(self) -> set[str]:
        """Every listed path."""
        return set(self.entries)


def read_manifest(folder: ConfinedFolder) -> Manifest:
    """The manifest in ``folder`` (empty when there is none); ArtifactError when it is unusable."""
    label = str(folder.root / MANIFEST_NAME)
    if folder.locate(MANIFEST_NAME).is_dir():
        raise ArtifactError(f"{label}: is a folder; the render manifest must be a file", hint="remove it")
    data = folder.read_bytes(MANIFEST_NAME)
    if data is None:
        return Manifest()
    if len(data) > MAX_ARTIFACT_BYTES:
        raise ArtifactError(f"{label}: {len(data)} bytes is over the {MAX_ARTIFACT_BYTES} byte limit")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ArtifactError(f"{label}: not UTF-8 text ({exc.reason} at byte {exc.start})",
                            hint="delete it: render recreates it") from None
    return Manifest.parse(text, label)


def removable_stale_files(folder: ConfinedFolder, manifest: Manifest, stale: set[str]) -> list[str]:
    """The stale paths to delete (those still on disk), or one ArtifactError naming every one that may not be.

    A path may be deleted only when it still holds exactly what render wrote (its listed hash).
    """
    removable, problems = [], []
    where = folder.root / MANIFEST_NAME
    for relpath in sorted(stale):
        line = f"{where}:{manifest.lines.get(relpath, '?')}"
        try:
            current = folder.read_bytes(relpath)
        except ArtifactError as exc:
            problems.append(f"{line}: {exc.message}")
            continue
        if current is None:
            if folder.locate(relpath).exists():
                problems.append(f"{line}: {relpath!r} is not a regular file")
            continue
        expected = manifest.entries.get(relpath)
        if expected is None:
            problems.append(f"{line}: {relpath!r} has no content hash (listed by an older toolkit), so whether it "
                            "still holds rendered content is unknown: delete it yourself if it is no longer needed")
        elif hashlib.sha256(current).hexdigest() != expected:
            problems.append(f"{line}: {relpath!r} changed since render wrote it: delete it yourself if it is no "
                            "longer needed")
        else:
            removable.append(relpath)
    if problems:
        raise ArtifactError(
            "\n  ".join(["refused to render: stale files listed in the manifest may not be deleted:", *problems]),
            hint="nothing was written; render deletes only files it wrote that still hold what it wrote",
        )
    return removable
