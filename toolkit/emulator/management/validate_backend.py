"""Backend and pool validation, as APIM does it at PUT (messages name the offending field)."""

from __future__ import annotations

from typing import Any

from toolkit.emulator.gateway.breaker import BreakerRule
from toolkit.emulator.gateway.pool import members_from_arm
from toolkit.emulator.management.arm import Problems, validation_error
from toolkit.emulator.policy.apim_reference import emulator_limit
from toolkit.emulator.management.fields import (
    absolute_url,
    duration,
    optional_bool,
    optional_int,
    optional_list,
    optional_object,
    optional_str,
    properties_of,
    required_str,
)
from toolkit.emulator.management.references import pool_member_name, pools_containing
from toolkit.emulator.management.store import ResourceKey, ResourceKind, ResourceStore
from toolkit.errors import ArtifactError
from toolkit.emulator.management.validate_credentials import validate_credentials

POOL_MAX_MEMBERS = 30
_TYPES = {"single": "Single", "pool": "Pool"}
_PROTOCOLS = ("http", "soap")
# BackendContract (2024-05-01): each of these is 1 to N characters.
_TEXT_LIMITS = {"url": 2000, "title": 300, "description": 2000, "resourceId": 2000}


def validate_backend(name: str, body: Any, store: ResourceStore) -> dict[str, Any]:
    """The properties to store for backend ``name``, or a 400 ValidationError listing every problem."""
    props = properties_of(body)
    raw_type = optional_str(props, "type", "properties.type") or "Single"
    backend_type = _TYPES.get(raw_type.lower())
    if backend_type is None:
        raise validation_error("properties.type", f"must be 'Single' or 'Pool', got {raw_type!r}")
    props["type"] = backend_type
    problems = Problems()
    if backend_type == "Pool":
        with problems.check():
            _validate_pool(name, props, store, problems)
    else:
        with problems.check():
            absolute_url(props, "url", "properties.url", required=True, max_length=_TEXT_LIMITS["url"])
        with problems.check():
            protocol = required_str(props, "protocol", "properties.protocol")
            if protocol not in _PROTOCOLS:
                raise validation_error("properties.protocol", f"must be 'http' or 'soap', got {protocol!r}")
        if props.get("pool") is not None:
            problems.found.append(validation_error("properties.pool", "is only allowed on a backend of type 'Pool'"))
    for field in ("title", "description", "resourceId"):
        with problems.check():
            optional_str(props, field, f"properties.{field}", min_length=1, max_length=_TEXT_LIMITS[field])
    with problems.check():
        _validate_circuit_breaker(props, problems)
    with problems.check():
        validate_credentials(props, store)
    problems.raise_any()
    _check_the_gateway_can_run_it(props)
    return props


def _check_the_gateway_can_run_it(props: dict[str, Any]) -> None:
    """Parse the stored document with the gateway's own readers, so what is stored is what runs."""
    try:
        if props["type"] == "Pool":
            members_from_arm(props, lambda member_id: pool_member_name(member_id) or member_id)
        elif (props.get("circuitBreaker") or {}).get("rules"):
            BreakerRule.from_arm(props)
    except ArtifactError as exc:
        field = "properties.pool" if props["type"] == "Pool" else "properties.circuitBreaker"
        raise validation_error(field, exc.message) from None


# Pool fields of api-version 2025-03-01-preview the gateway does not run: the answer when every member is out
# (failureResponse: the emulator answers 503) and session affinity (no session cookie).
_UNSUPPORTED_POOL_FIELDS = ("failureResponse", "sessionAffinity")


def _validate_pool(name: str, props: dict[str, Any], store: ResourceStore, problems: Problems) -> None:
    if props.get("url") is not None:
        raise validation_error("properties.url", "Url is not supported for backend pool.")
    if props.get("protocol") is not None:
        raise validation_error("properties.protocol", "Protocol is not supported for backend pool.")
    containing = pools_containing(store, name)
    if containing:
        raise validation_error("properties.type", f"backend '{name}' is a member of pool '{containing[0]}'; "
                                                  "a pool cannot be a member of another pool")
    pool = optional_object(props, "pool", "properties.pool")
    for unsupported in _UNSUPPORTED_POOL_FIELDS:  # stored but never run would be a quiet lie
        if (pool or {}).get(unsupported) is not None:
            raise validation_error(f"properties.pool.{unsupported}",
                                   emulator_limit(f"a pool's {unsupported} (api-version 2025-03-01-preview)"))
    services = optional_list(pool or {}, "services", "properties.pool.services")
    if not services:
        raise validation_error("properties.pool.services", "a pool needs at least one backend")
    if len(services) > POOL_MAX_MEMBERS:
        raise validation_error("properties.pool.services",
                               f"a pool can hold at most {POOL_MAX_MEMBERS} backends, got {len(services)}")
    for index, member in enumerate(services):
        with problems.check():
            _validate_member(name, member, f"properties.pool.services[{index}]", store)


def _validate_member(pool: str, member: Any, field: str, store: ResourceStore) -> None:
    if not isinstance(member, dict):
        raise validation_error(field, "must be an object with an 'id'")
    member_id = required_str(member, "id", f"{field}.id")
    backend = pool_member_name(member_id)
    if backend is None:
        raise validation_error(f"{field}.id", f"{member_id!r} is not a backend id "
                                              "(use '/backends/<name>' or the backend's full ARM id)")
    if backend == pool:
        raise validation_error(f"{field}.id", "a pool cannot contain itself")
    existing = store.get(ResourceKey(ResourceKind.BACKEND, backend))
    if existing is None:
        raise validation_error(f"{field}.id", f"backend '{backend}' does not exist; create it before the pool")
    if existing.properties.get("type") == "Pool":
        raise validation_error(f"{field}.id", f"backend '{backend}' is a pool; a pool can only contain "
                                              "single backends")
    optional_int(member, "priority", f"{field}.priority", low=0, high=100)
    optional_int(member, "weight", f"{field}.weight", low=0, high=100)


def _validate_circuit_breaker(props: dict[str, Any], problems: Problems) -> None:
    breaker = optional_object(props, "circuitBreaker", "properties.circuitBreaker")
    if breaker is None:
        return
    rules = optional_list(breaker, "rules", "properties.circuitBreaker.rules") or []
    if len(rules) > 1:
        raise validation_error("properties.circuitBreaker.rules",
                               f"only one circuit-breaker rule is supported, got {len(rules)}")
    for index, rule in enumerate(rules):
        field = f"properties.circuitBreaker.rules[{index}]"
        if not isinstance(rule, dict):
            raise validation_error(field, "must be an object")
        if rule.get("failureResponse") is not None:
            raise validation_error(f"{field}.failureResponse",
                                   emulator_limit("a breaker rule's failureResponse (api-version 2025-03-01-preview)"))
        with problems.check():
            required_str(rule, "name", f"{field}.name")
        with problems.check():
            duration(rule, "tripDuration", f"{field}.tripDuration", required=True)
        with problems.check():
            optional_bool(rule, "acceptRetryAfter", f"{field}.acceptRetryAfter")
        with problems.check():
            _validate_failure_condition(rule, f"{field}.failureCondition")


def _validate_failure_condition(rule: dict[str, Any], field: str) -> None:
    condition = optional_object(rule, "failureCondition", field)
    if condition is None:
        raise validation_error(field, "is required")
    count = optional_int(condition, "count", f"{field}.count", low=1)
    percentage = optional_int(condition, "percentage", f"{field}.percentage", low=1, high=100)
    if count is None and percentage is None:
        raise validation_error(field, "needs 'count' or 'percentage'")
    duration(condition, "interval", f"{field}.interval", required=True)
    ranges = optional_list(condition, "statusCodeRanges", f"{field}.statusCodeRanges", max_items=10) or []
    for index, status_range in enumerate(ranges):
        range_field = f"{field}.statusCodeRanges[{index}]"
        if not isinstance(status_range, dict):
            raise validation_error(range_field, "must be an object with 'min' and 'max'")
        low = optional_int(status_range, "min", f"{range_field}.min", low=200, high=599)
        high = optional_int(status_range, "max", f"{range_field}.max", low=200, high=599)
        if low is None or high is None:
            raise validation_error(range_field, "needs both 'min' and 'max'")
        if low > high:
            raise validation_error(range_field, f"min ({low}) is greater than max ({high})")
    reasons = optional_list(condition, "errorReasons", f"{field}.errorReasons", max_items=10) or []
    for index, reason in enumerate(reasons):
        if not isinstance(reason, str) or not reason or len(reason) > 200:
            raise validation_error(f"{field}.errorReasons[{index}]", "must be a string of 1 to 200 characters")
