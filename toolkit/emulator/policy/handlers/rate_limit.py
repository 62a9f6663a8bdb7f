"""``<rate-limit>``: see `toolkit.emulator.policy.limits`."""

from __future__ import annotations

from toolkit.emulator.policy.limits import RATE_ATTRIBUTES, CallLimit
from toolkit.emulator.policy.registry import handler


@handler("rate-limit", sections=("inbound",), attributes=RATE_ATTRIBUTES, required=("calls", "renewal-period"),
         scopes=("product", "api", "operation", "fragment"), once_per_section=True,
         notes="Per subscription (and policy), for calls made with a subscription key only: calls per renewal-period seconds (at most 300); over it 429 \"Rate limit is exceeded. Try again in N seconds.\" with Retry-After (or retry-after-header-name). remaining-calls and total-calls headers go on the response. Sliding windows: the calls of the last renewal-period seconds; Retry-After is when enough of the oldest will have left. Once per policy document; not at global scope.")
class RateLimit(CallLimit):
    """rate-limit."""

    __slots__ = ()
    quota = False
    by_key = False
