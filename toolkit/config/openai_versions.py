"""The Azure OpenAI data-plane ``api-version`` values a client may send (GA and preview).

From the Azure OpenAI REST reference and its API version lifecycle page. An unknown value is
refused when the config is loaded, so a typo does not surface later as Azure OpenAI's 404.
"""

from __future__ import annotations

GA_VERSIONS = ("2022-12-01", "2023-05-15", "2024-02-01", "2024-06-01", "2024-10-21")
PREVIEW_VERSIONS = (
    "2023-06-01-preview", "2023-07-01-preview", "2023-08-01-preview", "2023-09-01-preview",
    "2023-10-01-preview", "2023-12-01-preview", "2024-02-15-preview", "2024-03-01-preview",
    "2024-04-01-preview", "2024-05-01-preview", "2024-07-01-preview", "2024-08-01-preview",
    "2024-09-01-preview", "2024-10-01-preview", "2024-12-01-preview", "2025-01-01-preview",
    "2025-02-01-preview", "2025-03-01-preview", "2025-04-01-preview",
)
KNOWN_VERSIONS = frozenset(GA_VERSIONS + PREVIEW_VERSIONS)
# `toolkit render --apiops` loads ${VAR} as an APIOps replace-tokens placeholder ({#VAR#}).
def _is_token(value: str) -> bool:
    return value.startswith("{#") and value.endswith("#}")


# What the loader leaves for a ${VAR} of an environment that is not selected (validated for shape only).
_UNSET_PREFIX = "unset-"


def check_api_version(value: str) -> str:
    """``value`` when it is a known api-version; ValueError naming the latest GA version otherwise."""
    if value in KNOWN_VERSIONS or value.startswith(_UNSET_PREFIX) or _is_token(value):
        return value
    raise ValueError(f"{value!r} is not an Azure OpenAI api-version (latest GA: {GA_VERSIONS[-1]}; "
                     f"previews end in -preview, e.g. {PREVIEW_VERSIONS[-1]})")
