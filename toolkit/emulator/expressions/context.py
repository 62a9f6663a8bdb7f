"""What an expression may read: the protocol the engine's request context implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


@runtime_checkable
class ExpressionContext(Protocol):
    """The request state expressions read. Absent things are None (read as C# null)."""

    response_status: int | None
    response_reason: str | None
    request_method: str | None
    request_path: str | None
    client_ip: str | None
    subscription_id: str | None
    subscription_name: str | None
    api_name: str | None
    api_id: str | None
    operation_id: str | None
    request_id: str | None
    region: str | None
    last_error_reason: str | None
    last_error_message: str | None
    last_error_source: str | None
    product_id: str | None
    user_id: str | None
    variables: dict[str, object]

    def request_header(self, name: str) -> str | None:
        """Request header value (case-insensitive name; repeated headers comma-joined), or None."""
        ...

    def response_header(self, name: str) -> str | None:
        """Response header value (case-insensitive name), or None (also when there is no response)."""
        ...


def _lookup(headers: dict[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


@dataclass
class SimpleExpressionContext:
    """A plain ExpressionContext for tests and tools."""

    response_status: int | None = None
    response_reason: str | None = None
    request_headers: dict[str, str] = field(default_factory=dict)
    response_headers: dict[str, str] = field(default_factory=dict)
    request_method: str | None = "GET"
    request_path: str | None = "/"
    client_ip: str | None = "127.0.0.1"
    subscription_id: str | None = None
    subscription_name: str | None = None
    api_name: str | None = None
    api_id: str | None = None
    operation_id: str | None = None
    request_id: str | None = None
    region: str | None = None
    last_error_reason: str | None = None
    last_error_message: str | None = None
    last_error_source: str | None = None
    product_id: str | None = None
    user_id: str | None = None
    variables: dict[str, object] = field(default_factory=dict)

    def request_header(self, name: str) -> str | None:
        """Request header value by case-insensitive name."""
        return _lookup(self.request_headers, name)

    def response_header(self, name: str) -> str | None:
        """Response header value by case-insensitive name."""
        return _lookup(self.response_headers, name)
