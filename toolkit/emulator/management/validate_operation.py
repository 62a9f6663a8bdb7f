"""Operation validation: the fields APIM requires and the template-parameter rule.

APIM refuses an operation whose URL template names a parameter that ``templateParameters`` does not
define, or the other way round; the emulator does the same (400 ValidationError naming the field).
"""

from __future__ import annotations

import re
from typing import Any

from toolkit.emulator.management.arm import validation_error
from toolkit.emulator.management.fields import optional_list, optional_object, optional_str, properties_of, required_str
from toolkit.emulator.management.store import ResourceKey, ResourceKind, ResourceStore
from toolkit.emulator.url_template import TemplateError, parse_template

METHOD = re.compile(r"[A-Za-z]+")


def validate_operation(api: str, name: str, body: Any, store: ResourceStore) -> dict[str, Any]:
    """The properties to store for operation ``name`` of API ``api``, or a 400 ValidationError (the id itself is
    checked by the route: :data:`~toolkit.emulator.management.names.OPERATION_ID`)."""
    props = properties_of(body)
    required_str(props, "displayName", "properties.displayName", max_length=300)
    method = required_str(props, "method", "properties.method")
    if not METHOD.fullmatch(method):
        raise validation_error("properties.method", f"{method!r} is not an HTTP method")
    props["method"] = method.upper()
    template_text = required_str(props, "urlTemplate", "properties.urlTemplate", max_length=1000)
    optional_str(props, "description", "properties.description", max_length=1000)
    request = optional_object(props, "request", "properties.request")
    _check_representations(request or {}, "properties.request")
    for index, response in enumerate(optional_list(props, "responses", "properties.responses") or []):
        _check_response(response, f"properties.responses[{index}]")
    props["templateParameters"] = check_template_parameters(template_text, props.get("templateParameters"))
    _check_unique(api, name, props["method"], template_text, store)
    return props


def _check_response(response: Any, field: str) -> None:
    """ResponseContract (2024-05-01): ``statusCode`` is required."""
    if not isinstance(response, dict):
        raise validation_error(field, "must be an object")
    status = response.get("statusCode")
    if isinstance(status, bool) or not isinstance(status, int):
        raise validation_error(f"{field}.statusCode", "is required (an integer)")
    _check_representations(response, field)


def _check_representations(container: dict[str, Any], field: str) -> None:
    """RepresentationContract (2024-05-01): each representation needs its ``contentType``."""
    for index, representation in enumerate(optional_list(container, "representations", f"{field}.representations")
                                            or []):
        where = f"{field}.representations[{index}]"
        if not isinstance(representation, dict):
            raise validation_error(where, "must be an object")
        required_str(representation, "contentType", f"{where}.contentType")


def check_template_parameters(template_text: str, declared: Any, field: str = "properties") -> list[dict[str, Any]]:
    """The template parameters, after checking they are exactly the ones ``template_text`` names."""
    try:
        template = parse_template(template_text)
    except TemplateError as exc:
        raise validation_error(f"{field}.urlTemplate", str(exc)) from None
    if declared is None:
        declared = []
    if not isinstance(declared, list):
        raise validation_error(f"{field}.templateParameters", "must be an array")
    names = []
    for index, parameter in enumerate(declared):
        where = f"{field}.templateParameters[{index}]"
        if not isinstance(parameter, dict):
            raise validation_error(where, "must be an object")
        names.append(required_str(parameter, "name", f"{where}.name"))
        required_str(parameter, "type", f"{where}.type")
    if sorted(names) != sorted(template.parameters):
        raise validation_error(
            f"{field}.templateParameters",
            f"all template parameters used in the URL template {template_text!r} must be defined in the "
            f"operation, and vice versa (template: {sorted(template.parameters)}, defined: {sorted(names)})")
    return declared


def _check_unique(api: str, name: str, method: str, template_text: str, store: ResourceStore) -> None:
    for other in store.list(ResourceKind.OPERATION, parent=api):
        if other.key.name == name:
            continue
        same = (other.properties.get("method") == method
                and str(other.properties.get("urlTemplate", "")).lower() == template_text.lower())
        if same:
            raise validation_error("properties.urlTemplate", f"operation '{other.key.name}' of API '{api}' already "
                                                             f"has method {method} and URL template {template_text!r}")


def operation_key(api: str, name: str) -> ResourceKey:
    """The store key of operation ``name`` of API ``api``."""
    return ResourceKey(ResourceKind.OPERATION, name, api)
