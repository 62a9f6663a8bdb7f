"""Small checks for request-body fields; each raises a 400 ValidationError naming the field."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from toolkit.emulator.management.arm import validation_error
from toolkit.emulator.policy.apim_reference import emulator_limit
from toolkit.json_kinds import json_kind


def properties_of(body: Any) -> dict[str, Any]:
    """The ``properties`` object of a PUT body."""
    if not isinstance(body, dict):
        raise validation_error("", "the request body must be a JSON object")
    properties = body.get("properties")
    if not isinstance(properties, dict):
        raise validation_error("properties", "is required and must be an object")
    return properties


def optional_str(props: dict[str, Any], name: str, field: str, *, max_length: int | None = None,
                 min_length: int = 0) -> str | None:
    """``props[name]`` as a string (of ``min_length`` to ``max_length`` characters), or None when absent/null."""
    value = props.get(name)
    if value is None:
        return None
    if isinstance(value, (bool, int, float)):  # APIM's parser (Json.NET) converts it into text and accepts it
        raise validation_error(field, emulator_limit(f"{json_kind(value)} where text is expected") +
                               ": write it as a string")
    if not isinstance(value, str):
        raise validation_error(field, f"must be a string, got {json_kind(value)}")
    if max_length is not None and len(value) > max_length:
        raise validation_error(field, f"must be at most {max_length} characters, got {len(value)}")
    if len(value) < min_length:
        raise validation_error(field, f"must be at least {min_length} characters, got {len(value)}")
    return value


def required_str(props: dict[str, Any], name: str, field: str, *, max_length: int | None = None) -> str:
    """``props[name]`` as a non-blank string."""
    value = optional_str(props, name, field, max_length=max_length)
    if value is None or not value.strip():
        raise validation_error(field, "is required")
    return value


def optional_bool(props: dict[str, Any], name: str, field: str) -> bool | None:
    """``props[name]`` as a bool, or None when absent/null."""
    value = props.get(name)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.lower() in ("true", "false")):
        raise validation_error(field, emulator_limit(f"{value!r} where true or false is expected") +
                               ": write true or false")  # APIM's parser converts it, as it converts text fields
    raise validation_error(field, f"must be true or false, got {value!r}")



def optional_int(props: dict[str, Any], name: str, field: str, *, low: int, high: int | None = None) -> int | None:
    """``props[name]`` as an int within [low, high], or None when absent/null."""
    value = props.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise validation_error(field, f"must be an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise validation_error(field, f"must be {bounds}, got {value}")
    return value


def optional_list(props: dict[str, Any], name: str, field: str, *, max_items: int | None = None) -> list[Any] | None:
    """``props[name]`` as a list (at most ``max_items``), or None when absent/null."""
    value = props.get(name)
    if value is None:
        return None
    if not isinstance(value, list):
        raise validation_error(field, "must be an array")
    if max_items is not None and len(value) > max_items:
        raise validation_error(field, f"must have at most {max_items} items, got {len(value)}")
    return value


def optional_object(props: dict[str, Any], name: str, field: str) -> dict[str, Any] | None:
    """``props[name]`` as an object, or None when absent/null."""
    value = props.get(name)
    if value is None or isinstance(value, dict):
        return value
    raise validation_error(field, "must be an object")


def duration(props: dict[str, Any], name: str, field: str, *, required: bool) -> timedelta | None:
    """``props[name]`` as a positive ISO 8601 duration without years/months (``PT1M``, ``P1DT2H``)."""
    import isodate

    text = optional_str(props, name, field)
    if text is None:
        if required:
            raise validation_error(field, "is required (an ISO 8601 duration such as PT1M)")
        return None
    try:
        value = isodate.parse_duration(text)
    except (isodate.ISO8601Error, ValueError):
        raise validation_error(field, f"{text!r} is not a valid ISO 8601 duration (e.g. PT1M, PT30S)") from None
    if not isinstance(value, timedelta):
        raise validation_error(field, f"{text!r}: years and months are not allowed in a duration")
    if value <= timedelta(0):
        raise validation_error(field, f"{text!r} must be a positive duration")
    return value


def absolute_url(props: dict[str, Any], name: str, field: str, *, required: bool, max_length: int | None = None,
                 schemes: tuple[str, ...] = ("http",)) -> str | None:
    """``props[name]`` as an absolute URL of one of ``schemes``, each with its TLS twin (``http``: http or https)."""
    text = (required_str if required else optional_str)(props, name, field, max_length=max_length)
    if text is None:
        return None
    parts = urlsplit(text)
    if parts.scheme not in {s for scheme in schemes for s in (scheme, f"{scheme}s")} or not parts.netloc:
        words = " or ".join(f"{scheme}(s)" for scheme in schemes)
        raise validation_error(field, f"must be an absolute {words} URL, got {text!r}")
    return text
