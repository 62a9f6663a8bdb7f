"""Config -> artifact set through the Jinja templates in policies/. Never writes to disk."""

from __future__ import annotations

from toolkit.render.features import FEATURES, owned_paths
from toolkit.render.pipeline import render_artifacts

__all__ = ["FEATURES", "owned_paths", "render_artifacts"]
