"""API version set validation (``apiVersionSets/{name}``), as the 2024-05-01 contract states it.

``displayName`` (1-100 characters) and ``versioningScheme`` (``Segment``, ``Query`` or ``Header``) are
required; ``versionQueryName`` is required with ``Query`` and ``versionHeaderName`` with ``Header``
(1-100 characters each). Every problem is reported at once (ARM ``details[]``).
"""

from __future__ import annotations

from typing import Any

from toolkit.emulator.management.arm import Problems, validation_error
from toolkit.emulator.management.fields import optional_str, properties_of, required_str

SCHEMES = ("Segment", "Query", "Header")
# versioningScheme -> the field naming where the version is read (none for Segment: the path).
SCHEME_FIELDS = {"Query": "versionQueryName", "Header": "versionHeaderName"}
_NAME_LIMIT = 100


def validate_version_set(body: Any) -> dict[str, Any]:
    """The properties to store for a version set, or a 400 ValidationError listing every problem."""
    props = dict(properties_of(body))
    problems = Problems()
    with problems.check():
        required_str(props, "displayName", "properties.displayName", max_length=_NAME_LIMIT)
    with problems.check():
        optional_str(props, "description", "properties.description")
    scheme = None
    with problems.check():
        scheme = required_str(props, "versioningScheme", "properties.versioningScheme")
        if scheme not in SCHEMES:
            raise validation_error("properties.versioningScheme",
                                   f"must be one of {', '.join(SCHEMES)}, got {scheme!r}")
    for wanted, field in SCHEME_FIELDS.items():
        with problems.check():
            if scheme == wanted:
                required_str(props, field, f"properties.{field}", max_length=_NAME_LIMIT)
            else:
                optional_str(props, field, f"properties.{field}", max_length=_NAME_LIMIT)
    problems.raise_any()
    return props
