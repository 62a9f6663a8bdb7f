"""``<ip-filter>``: allow or forbid callers by IP address or range."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any, NoReturn

from toolkit.emulator.policy.document import Policy
from toolkit.emulator.policy.errors import ExpressionFailure, PolicyError
from toolkit.emulator.policy.registry import handler
from toolkit.emulator.policy.values import ChoiceSetting, text_of

# context.LastError for a refused caller (api-management-error-handling-policies, "Predefined errors for policies").
NOT_ALLOWED = ("CallerIpNotAllowed", "Caller IP address {} is not allowed. Access denied.")
BLOCKED = ("CallerIpBlocked", "Caller IP address is blocked. Access denied.")
UNPARSED = ("FailedToParseCallerIP", "Failed to establish IP address for the caller. Access denied.")


@handler("ip-filter", sections=("inbound",), attributes=("action",), required=("action",),
         children=("address", "address-range"),
         notes="action allow (only the listed callers pass) or forbid (the listed callers are refused); "
         "<address> and <address-range from to> (IPv4 or IPv6); action and <address> take expressions. Refused → "
         "403 with context.LastError CallerIpNotAllowed, CallerIpBlocked or FailedToParseCallerIP (a caller "
         "address that cannot be read is refused under either action).")
class IpFilter(Policy):
    """Filter by caller address."""

    __slots__ = ("action", "ranges", "dynamic")

    def __init__(self, action: ChoiceSetting, ranges: tuple[tuple[Any, Any], ...], dynamic: tuple[Any, ...]) -> None:
        super().__init__()
        self.action, self.ranges, self.dynamic = action, ranges, dynamic

    @classmethod
    def compile(cls, element: Any, cc: Any) -> IpFilter:
        """Parse every constant address now (a bad one is refused with its line); expressions on use."""
        ranges, dynamic = [], []
        for child in cc.child_elements(element, ("address", "address-range")):
            try:
                if child.tag == "address":
                    cc.check_attributes(child, ())
                    cc.child_elements(child, (), text=True)
                    value = cc.text_value(child, expect="string")
                    if value.is_expression:
                        dynamic.append(value)
                    else:
                        address = ipaddress.ip_address(value.source)
                        ranges.append((address, address))
                else:
                    cc.check_attributes(child, ("from", "to"), ("from", "to"))
                    cc.child_elements(child, ())
                    low, high = ipaddress.ip_address(cc.attr(child, "from").strip()), \
                        ipaddress.ip_address(cc.attr(child, "to").strip())
                    if low.version != high.version or low > high:
                        raise ValueError("'from' must not be above 'to'")
                    ranges.append((low, high))
            except ValueError as exc:
                raise cc.reject(child, f"<{child.tag}>: {exc}") from None
        if not ranges and not dynamic:
            raise cc.reject(element, "<ip-filter> needs an <address> or <address-range>")
        return cls(cc.choice_setting(element, "action", ("allow", "forbid")), tuple(ranges), tuple(dynamic))

    async def run(self, ctx: Any, services: Any) -> None:
        """Refuse with 403 when the caller is not allowed."""
        allow = self.action.get(ctx, "ip-filter") == "allow"
        try:
            caller = ipaddress.ip_address((ctx.client_ip or "").strip())
        except ValueError:
            _refuse(UNPARSED)
        listed = any(low.version == caller.version and low <= caller <= high for low, high in self._ranges(ctx))
        if allow and not listed:
            _refuse(NOT_ALLOWED, caller)
        if listed and not allow:
            _refuse(BLOCKED)

    def _ranges(self, ctx: Any) -> Iterator[tuple[Any, Any]]:
        yield from self.ranges
        for value in self.dynamic:
            text = text_of(value, ctx)
            try:
                address = ipaddress.ip_address(text.strip())
            except ValueError:
                raise ExpressionFailure(f"<address> evaluated to {text!r}, not an IP address.",
                                        source="ip-filter") from None
            yield address, address


def _refuse(error: tuple[str, str], caller: Any = None) -> NoReturn:
    reason, message = error
    raise PolicyError(message.format(caller), source="ip-filter", reason=reason, status=403)
