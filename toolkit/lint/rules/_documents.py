"""Small helpers shared by rules that read JSON information files straight from the tree."""

from __future__ import annotations

import json
from typing import Any


def json_object(text: str) -> dict[str, Any] | None:
    """The JSON object in ``text``, or None when it is not one (APIM000 reports malformed files)."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None
