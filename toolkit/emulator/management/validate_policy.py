"""Policy and policy-fragment PUT bodies: format, the injected validator, and references that must resolve."""

from __future__ import annotations

from typing import Any

from toolkit.emulator.management.arm import validation_error
from toolkit.emulator.management.fields import optional_str, properties_of, required_str
from toolkit.emulator.management.hooks import PolicyRejected, PolicyScope, PolicyValidator
from toolkit.emulator.management.policy_format import FORMATS, to_raw
from toolkit.emulator.management.references import policy_references
from toolkit.emulator.management.store import ResourceKey, ResourceKind, ResourceStore

_FIELD = "properties.value"


def validate_policy(
    body: Any,
    *,
    scope: PolicyScope,
    store: ResourceStore,
    validator: PolicyValidator,
    fragment_name: str | None = None,
) -> dict[str, Any]:
    """The properties to store (``value`` in rawxml, ``format: rawxml``), or a 400 ValidationError."""
    props = properties_of(body)
    value = required_str(props, "value", _FIELD)
    fmt = optional_str(props, "format", "properties.format") or "xml"
    if fmt.endswith("-link"):
        raise validation_error("properties.format", f"'{fmt}' (a policy at a URL) is not supported by the "
                                                    "emulator; send the document itself with format 'rawxml'")
    if fmt not in FORMATS:
        raise validation_error("properties.format", f"must be one of {', '.join(FORMATS)}, got {fmt!r}")
    raw = to_raw(value, fmt)
    try:
        validator(raw, scope)
    except PolicyRejected as exc:
        where = f"line {exc.line}: " if exc.line is not None else ""
        raise validation_error(_FIELD, f"{where}{exc.reason}") from None
    _check_references(raw, store, fragment_name)
    stored: dict[str, Any] = {"value": raw, "format": "rawxml"}
    if scope is PolicyScope.FRAGMENT:
        description = optional_str(props, "description", "properties.description", max_length=1000)
        if description is not None:
            stored["description"] = description
    return stored


def _check_references(raw: str, store: ResourceStore, fragment_name: str | None) -> None:
    display_names = {str(nv.properties.get("displayName", "")).lower() for nv in store.list(ResourceKind.NAMED_VALUE)}
    for ref in policy_references(raw):
        where = f"line {ref.line}: "
        if ref.kind is ResourceKind.NAMED_VALUE:
            if ref.target.lower() not in display_names:
                raise validation_error(_FIELD, f"{where}named value '{{{{{ref.target}}}}}' does not exist "
                                               "(create the named value first)")
        elif ref.kind is ResourceKind.FRAGMENT and ref.target == fragment_name:
            raise validation_error(_FIELD, f"{where}Error in element '{ref.element}': a fragment cannot include itself")
        elif store.get(ResourceKey(ref.kind, ref.target)) is None:
            what = "Backend" if ref.kind is ResourceKind.BACKEND else "Policy fragment"
            raise validation_error(_FIELD, f"{where}Error in element '{ref.element}': "
                                           f"{what} with id '{ref.target}' could not be found.")
