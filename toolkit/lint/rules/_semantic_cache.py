"""Shared by the semantic-cache rules: which elements are lookups."""

from __future__ import annotations

LOOKUP_ELEMENTS = ("azure-openai-semantic-cache-lookup", "llm-semantic-cache-lookup")
