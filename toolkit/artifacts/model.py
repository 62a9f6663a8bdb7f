"""ArtifactSet: an in-memory APIOps tree (relative path -> text). Pure: no I/O."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from toolkit.artifacts.layout import ArtifactPath, Kind


def dump_json(document: Any) -> str:
    """The one JSON formatting of artifacts: 2-space indent, UTF-8, trailing newline (byte-stable)."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


class ArtifactSet:
    """Files of an APIOps tree keyed by their relative path; iteration is sorted (deterministic)."""

    def __init__(self, files: dict[str, str] | None = None) -> None:
        self._files: dict[str, str] = dict(files or {})

    def put(self, path: ArtifactPath | str, text: str) -> None:
        """Add or replace a file."""
        self._files[str(path)] = text

    def put_json(self, path: ArtifactPath, document: Any) -> None:
        """Add a JSON artifact in the canonical formatting."""
        self.put(path, dump_json(document))

    def get(self, path: ArtifactPath | str) -> str | None:
        """The text of a file, or None."""
        return self._files.get(str(path))

    def json(self, path: ArtifactPath | str) -> Any:
        """A JSON artifact, parsed (raises ValueError on bad JSON)."""
        text = self.get(path)
        if text is None:
            raise KeyError(str(path))
        return json.loads(text)

    def paths(self) -> list[str]:
        """All relative paths, sorted."""
        return sorted(self._files)

    def artifacts(self, kind: Kind | None = None) -> Iterator[tuple[ArtifactPath, str]]:
        """Managed artifacts (optionally of one kind) with their text, sorted by path."""
        for relpath in self.paths():
            parsed = ArtifactPath.parse(relpath)
            if parsed is not None and (kind is None or parsed.kind is kind):
                yield parsed, self._files[relpath]

    def subset(self, relpaths: set[str]) -> ArtifactSet:
        """A new set with only the given paths."""
        return ArtifactSet({p: t for p, t in self._files.items() if p in relpaths})

    def __contains__(self, path: object) -> bool:
        return str(path) in self._files

    def __len__(self) -> int:
        return len(self._files)

    def __iter__(self) -> Iterator[str]:
        return iter(self.paths())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ArtifactSet) and self._files == other._files

    def __repr__(self) -> str:
        return f"ArtifactSet({len(self._files)} files)"
