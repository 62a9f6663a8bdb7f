"""``<rate-limit-by-key>``: see `toolkit.emulator.policy.limits`."""

from __future__ import annotations

from toolkit.emulator.policy.limits import KEY_ATTRIBUTES, RATE_ATTRIBUTES, CallLimit
from toolkit.emulator.policy.registry import handler


@handler("rate-limit-by-key", sections=("inbound",), attributes=(*RATE_ATTRIBUTES, *KEY_ATTRIBUTES), required=("calls", "renewal-period", "counter-key"),
         notes="One counter per counter-key value (shared by every policy using it, whatever their renewal-period, at most 300 s and an expression allowed); increment-condition is evaluated once the backend answered; increment-count adds more than one. Sliding windows, as rate-limit's. 429 with Retry-After over the limit.")
class RateLimitByKey(CallLimit):
    """rate-limit-by-key."""

    __slots__ = ()
    quota = False
    by_key = True
