"""Files of an APIOps tree that toolkit does not publish, grouped by kind, so nothing is dropped silently.

The APIOps extractor also writes products, tags, loggers, diagnostics, groups, gateways,
subscriptions, workspaces, API releases/tags/diagnostics and non-OpenAPI specifications;
toolkit reads and publishes only the kinds in :mod:`toolkit.artifacts.layout`. `plan`/`apply
--artifacts` report the rest as "not published by toolkit: <kind> (<n> files)".
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from toolkit.artifacts.apiops_config import CONFIGURATION_FILE
from toolkit.artifacts.layout import APIS_DIR, ArtifactPath

# Files that are bookkeeping, not artifacts.
_IGNORED = {".toolkit-rendered"}


def unpublished_kind(relpath: str) -> str | None:
    """The kind a person would call a file toolkit does not publish (None for files it publishes or ignores)."""
    if ArtifactPath.parse(relpath) is not None or relpath in _IGNORED:
        return None
    parts = relpath.split("/")
    if any(part.startswith(".") for part in parts):
        return None
    if len(parts) == 1:
        return "APIOps configuration overrides" if CONFIGURATION_FILE.match(parts[0]) else f"file {parts[0]}"
    if parts[0] == APIS_DIR and len(parts) >= 3:
        if parts[2].startswith("specification."):
            return f"API specifications ({parts[2].split('.', 1)[1]})"
        return f"API {parts[2]}" if len(parts) > 3 else f"API file {parts[2]}"
    return parts[0]


def unpublished_files(root: str | os.PathLike[str]) -> dict[str, int]:
    """``{kind: number of files}`` for every file under ``root`` that toolkit does not publish."""
    base = Path(root)
    counts: Counter[str] = Counter()
    for path in base.rglob("*"):
        if path.is_file():
            kind = unpublished_kind(path.relative_to(base).as_posix())
            if kind is not None:
                counts[kind] += 1
    return dict(sorted(counts.items()))


def describe(counts: dict[str, int]) -> list[str]:
    """``not published by toolkit: <kind> (<n> files)`` lines."""
    return [f"not published by toolkit: {kind} ({n} file{'s' if n != 1 else ''})" for kind, n in counts.items()]
