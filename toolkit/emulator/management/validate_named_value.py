"""Named value validation: display name rules, value limits, and references that a rename would break."""

from __future__ import annotations

import re
from typing import Any

from toolkit.emulator.management.arm import validation_error
from toolkit.emulator.management.fields import optional_bool, optional_list, properties_of, required_str
from toolkit.emulator.management.references import referrers
from toolkit.emulator.management.store import Resource, ResourceKind, ResourceStore

_DISPLAY_NAME = re.compile(r"^[A-Za-z0-9._-]+$")


def validate_named_value(name: str, body: Any, store: ResourceStore, existing: Resource | None) -> dict[str, Any]:
    """The properties to store for named value ``name``, or a 400 ValidationError."""
    props = properties_of(body)
    display = required_str(props, "displayName", "properties.displayName", max_length=256)
    if not _DISPLAY_NAME.match(display):
        raise validation_error("properties.displayName",
                               f"{display!r} may contain only letters, digits, '.', '-' and '_'")
    for other in store.list(ResourceKind.NAMED_VALUE):
        if other.key.name != name and str(other.properties.get("displayName", "")).lower() == display.lower():
            raise validation_error("properties.displayName", f"{display!r} is already used by named value "
                                                             f"'{other.key.name}'")
    if props.get("keyVault") is not None:
        raise validation_error("properties.keyVault", "the local emulator does not support Key Vault named "
                                                      "values (APIM does): send the value with secret: true")
    required_str(props, "value", "properties.value", max_length=4096)
    props["secret"] = bool(optional_bool(props, "secret", "properties.secret"))
    tags = optional_list(props, "tags", "properties.tags", max_items=32) or []
    if any(not isinstance(tag, str) for tag in tags):
        raise validation_error("properties.tags", "must be a list of strings")
    if existing is not None:
        old = str(existing.properties.get("displayName", ""))
        users = referrers(store, ResourceKind.NAMED_VALUE, old) if old.lower() != display.lower() else []
        if users:
            raise validation_error("properties.displayName", f"renaming {{{{{old}}}}} would break {users[0]}")
    return props
