"""The one place that knows APIOps paths and file names, and reads/writes artifact trees."""

from __future__ import annotations

from toolkit.artifacts.layout import ArtifactPath, Kind
from toolkit.artifacts.model import ArtifactSet

__all__ = ["ArtifactPath", "ArtifactSet", "Kind"]
