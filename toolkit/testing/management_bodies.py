"""Test data for the management plane: ARM bodies of backends and pools, raw-body wrapping, SDK ``cls=`` callbacks."""

from __future__ import annotations

import io
import json
from typing import Any

RG = "rg-test"
SVC = "apim-test"
SUB = "00000000-0000-0000-0000-000000000001"


def raw(body: dict[str, Any]) -> io.BytesIO:
    """A JSON body the SDK sends as-is (its models refuse some invalid values client-side)."""
    return io.BytesIO(json.dumps(body).encode())


def status_of(response: Any, model: Any, headers: Any) -> int:
    """``cls=`` callback returning the HTTP status of an SDK call."""
    return int(response.http_response.status_code)


def with_etag(response: Any, model: Any, headers: dict[str, str]) -> tuple[Any, str]:
    """``cls=`` callback returning (model, ETag header)."""
    return model, headers["ETag"]


def single(url: str = "https://east.example.com/openai", **extra: Any) -> dict[str, Any]:
    """Body of a Single backend."""
    return {"properties": {"type": "Single", "url": url, "protocol": "http", **extra}}


def pool(*members: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """Body of a Pool backend."""
    return {"properties": {"type": "Pool", "pool": {"services": list(members)}, **extra}}


def breaker(**overrides: Any) -> dict[str, Any]:
    """A valid circuit breaker; ``overrides`` replace rule or failureCondition fields."""
    condition = {"count": 3, "interval": "PT1M", "statusCodeRanges": [{"min": 429, "max": 429}]}
    rule: dict[str, Any] = {"name": "breaker", "failureCondition": condition, "tripDuration": "PT1M",
                            "acceptRetryAfter": True}
    for key, value in overrides.items():
        (rule if key in rule else condition)[key] = value
    return {"rules": [rule]}

