"""Resource names in the URL: the length and pattern the 2024-05-01 contract gives each path parameter.

Taken from the URL serializers of azure-mgmt-apimanagement 5.0.0 (generated from that contract; the SDK's
client-side validation is off, so the service is what enforces them). A name that breaks its rule is a
400 ValidationError whose target is the parameter, as APIM names it (e.g. ``versionSetId``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from toolkit.emulator.management.arm import validation_error

# Most APIM ids: none of * # & + : < > ? (an API id may carry ';rev=N').
_NOT_RESERVED = re.compile(r"^[^*#&+:<>?]+$")


@dataclass(frozen=True)
class NameRule:
    """The rule of one URL parameter naming a resource."""

    parameter: str
    max_length: int
    min_length: int = 1
    pattern: re.Pattern[str] | None = None
    allowed: str = ""  # the pattern in words, for the message

    def check(self, name: str) -> None:
        """400 ValidationError (target: the parameter) unless ``name`` keeps this rule."""
        if not self.min_length <= len(name) <= self.max_length:
            raise validation_error(self.parameter, f"{name!r} must be {self.min_length} to {self.max_length} "
                                                   f"characters long, got {len(name)}")
        if self.pattern is not None and not self.pattern.fullmatch(name):
            raise validation_error(self.parameter, f"{name!r} does not match the pattern '{self.pattern.pattern}' "
                                                   f"({self.allowed})")


_NOT_RESERVED_WORDS = "none of * # & + : < > ?"

API_ID = NameRule("apiId", 256, pattern=_NOT_RESERVED, allowed=_NOT_RESERVED_WORDS)
BACKEND_ID = NameRule("backendId", 80)
FRAGMENT_ID = NameRule("id", 80, pattern=re.compile(r"(^[\w]+$)|(^[\w][\w\-]+[\w]$)"),
                       allowed="letters, digits, '_' and '-', not '-' first or last")
NAMED_VALUE_ID = NameRule("namedValueId", 256, pattern=_NOT_RESERVED, allowed=_NOT_RESERVED_WORDS)
OPERATION_ID = NameRule("operationId", 80)
SUBSCRIPTION_ID = NameRule("sid", 256, pattern=_NOT_RESERVED, allowed=_NOT_RESERVED_WORDS)
VERSION_SET_ID = NameRule("versionSetId", 80, pattern=_NOT_RESERVED, allowed=_NOT_RESERVED_WORDS)
