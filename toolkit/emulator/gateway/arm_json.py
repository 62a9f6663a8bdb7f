"""Small readers shared by the gateway modules that build themselves from a backend's ARM JSON."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from toolkit.errors import ArtifactError

_BACKENDS_SEGMENT = "/backends/"


def backend_properties(document: Mapping[str, Any]) -> Mapping[str, Any]:
    """The ``properties`` object of a backend, given it or the whole ``backendInformation.json``."""
    if not isinstance(document, Mapping):
        raise ArtifactError(f"backend JSON must be an object, got {type(document).__name__}")
    properties = document.get("properties", document)
    if not isinstance(properties, Mapping):
        raise ArtifactError("backend JSON: 'properties' must be an object")
    return properties


def backend_name_from_id(backend_id: str) -> str:
    """The backend name in a pool member id: a full ARM id or the short ``/backends/<name>`` form."""
    if not isinstance(backend_id, str):
        raise ArtifactError(f"pool member id must be a string, got {backend_id!r}")
    trimmed = backend_id.rstrip("/")
    # ARM ids are case-insensitive in their fixed segments ("/Backends/" is seen in the wild).
    at = trimmed.lower().rfind(_BACKENDS_SEGMENT)
    name = trimmed[at + len(_BACKENDS_SEGMENT) :] if at >= 0 else ""
    if not name or "/" in name:
        raise ArtifactError(
            f"pool member id {backend_id!r} does not name a backend",
            hint="use '/backends/<name>' or the backend's full ARM id",
        )
    return name
