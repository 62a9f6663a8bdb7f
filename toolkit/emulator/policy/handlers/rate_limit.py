"""``<rate-limit>``: see `toolkit.emulator.policy.limits`."""

from __future__ import annotations

from toolkit.emulator.policy.limits import RATE_ATTRIBUTES, CallLimit
from toolkit.emulator.policy.registry import handler


@handler("rate-limit", sections=("inbound",), attributes=RATE_ATTRIBUTES, required=("calls", "renewal-period"),
         notes="Per subscription (and policy): calls per renewal-period seconds; over it 429 \"Rate limit is exceeded. Try again in N seconds.\" with Retry-After (or retry-after-header-name). remaining-calls and total-calls headers go on the response. Fixed windows from the first call.")
class RateLimit(CallLimit):
    """rate-limit."""

    __slots__ = ()
    quota = False
    by_key = False
