"""Backend ``credentials`` validation (header / query / authorization; certificates are the emulator's limit)."""

from __future__ import annotations

from typing import Any

from toolkit.emulator.management.arm import ArmError, validation_error
from toolkit.emulator.management.fields import optional_object, required_str
from toolkit.emulator.management.references import named_value_names
from toolkit.emulator.management.store import ResourceKind, ResourceStore


def validate_credentials(props: dict[str, Any], store: ResourceStore) -> None:
    """400 when ``properties.credentials`` is malformed or names a named value that does not exist."""
    credentials = optional_object(props, "credentials", "properties.credentials")
    if not credentials:
        return
    for field in ("certificate", "certificateIds"):
        if credentials.get(field):
            raise ArmError(400, "ValidationError", f"properties.credentials.{field}: the local emulator does not "
                                                   "support client certificates (APIM does)",
                           target=f"properties.credentials.{field}")
    texts: list[tuple[str, str]] = []
    for part in ("header", "query"):
        entries = optional_object(credentials, part, f"properties.credentials.{part}") or {}
        for name, values in entries.items():
            where = f"properties.credentials.{part}.{name}"
            if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
                raise validation_error(where, "must be a non-empty array of strings")
            texts += [(where, v) for v in values]
    authorization = optional_object(credentials, "authorization", "properties.credentials.authorization")
    if authorization is not None:
        # BackendAuthorizationHeaderCredentials (2024-05-01): scheme 1-100 and parameter 1-300, both required.
        field = "properties.credentials.authorization"
        required_str(authorization, "scheme", f"{field}.scheme", max_length=100)
        texts.append((f"{field}.parameter", required_str(authorization, "parameter", f"{field}.parameter",
                                                         max_length=300)))
    known = {str(nv.properties.get("displayName", nv.key.name)).lower() for nv in store.list(ResourceKind.NAMED_VALUE)}
    for where, text in texts:
        for reference in named_value_names(text):
            if reference.lower() not in known:
                raise validation_error(where, f"refers to named value '{{{{{reference}}}}}', which does not exist")
