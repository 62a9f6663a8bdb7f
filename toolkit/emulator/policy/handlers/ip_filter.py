"""``<ip-filter>``: allow or forbid callers by IP address or range."""

from __future__ import annotations

import ipaddress
from typing import Any

from toolkit.emulator.policy.document import Policy
from toolkit.emulator.policy.errors import PolicyError
from toolkit.emulator.policy.registry import handler


@handler("ip-filter", sections=("inbound",), attributes=("action",), required=("action",),
         children=("address", "address-range"),
         notes="action allow (only the listed callers pass) or forbid (the listed callers are refused); "
         "<address> and <address-range from to> (IPv4 or IPv6). Refused → 403 \"Caller IP address is not allowed.\"")
class IpFilter(Policy):
    """Filter by caller address."""

    __slots__ = ("allow", "ranges")

    def __init__(self, allow: bool, ranges: tuple[tuple[Any, Any], ...]) -> None:
        super().__init__()
        self.allow, self.ranges = allow, ranges

    @classmethod
    def compile(cls, element: Any, cc: Any) -> IpFilter:
        """Parse every address now (a bad one is refused with its line)."""
        ranges = []
        for child in cc.child_elements(element, ("address", "address-range")):
            try:
                if child.tag == "address":
                    cc.check_attributes(child, ())
                    cc.child_elements(child, (), text=True)
                    address = ipaddress.ip_address(cc.text(child))
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
        if not ranges:
            raise cc.reject(element, "<ip-filter> needs an <address> or <address-range>")
        return cls(cc.choice(element, "action", ("allow", "forbid")) == "allow", tuple(ranges))

    async def run(self, ctx: Any, services: Any) -> None:
        """Refuse with 403 when the caller is not allowed."""
        try:
            caller = ipaddress.ip_address((ctx.client_ip or "").strip())
        except ValueError:
            caller = None
        listed = caller is not None and any(
            low.version == caller.version and low <= caller <= high for low, high in self.ranges)
        if listed != self.allow:
            raise PolicyError("Caller IP address is not allowed.", source="ip-filter", reason="CallerIpNotAllowed",
                              status=403)
