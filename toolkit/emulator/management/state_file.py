"""The ``--state FILE`` format: every resource as JSON, replaced atomically on each write.

The file holds secrets (secret named values, subscription keys) exactly as the emulator serves
them, so it is created with mode 0600.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import orjson

from toolkit.emulator.json_body import JsonBodyError, loads_body
from toolkit.emulator.management.store import Resource, ResourceKey, ResourceKind
from toolkit.errors import InputError

FORMAT_VERSION = 1


def save_state(path: Path, resources: Iterable[Resource]) -> None:
    """Write ``resources`` to ``path`` atomically (temp file in the same folder, then rename)."""
    document = {
        "version": FORMAT_VERSION,
        "resources": [
            {"kind": r.key.kind.value, "name": r.key.name, "parent": r.key.parent, "etag": r.etag,
             "properties": r.properties}
            for r in resources
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(_dumps(document))
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _dumps(document: dict[str, object]) -> bytes:
    """The state as indented, key-sorted JSON. Every write rewrites the whole file, so an apply of N resources
    serialises N files of up to N resources: orjson keeps that ~10x cheaper than json (300 resources: 1.3 s of
    CPU with json). json takes what orjson refuses (integers beyond 64 bits)."""
    try:
        return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        return json.dumps(document, indent=1, sort_keys=True).encode("utf-8")


def load_state(path: Path) -> list[Resource]:
    """Resources saved by :func:`save_state`; InputError naming the file when it is not one."""
    try:
        document = loads_body(path.read_bytes(), what="the file")
    except OSError as exc:
        raise InputError(f"{path}: cannot read emulator state: {exc.strerror or exc}") from None
    except JsonBodyError as exc:
        raise InputError(f"{path}: cannot read emulator state: {exc}") from None
    if not isinstance(document, dict) or document.get("version") != FORMAT_VERSION:
        raise InputError(f"{path}: not an emulator state file (version {FORMAT_VERSION} expected)")
    resources = []
    for index, entry in enumerate(document.get("resources") or []):
        try:
            key = ResourceKey(ResourceKind(entry["kind"]), str(entry["name"]), str(entry["parent"]))
            if not isinstance(entry["properties"], dict) or not isinstance(entry["etag"], str):
                raise TypeError("properties must be an object and etag a string")
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{path}: resources[{index}] is malformed: {exc}") from None
        resources.append(Resource(key, entry["properties"], entry["etag"]))
    return resources
