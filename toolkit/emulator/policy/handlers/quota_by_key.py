"""``<quota-by-key>``: see `toolkit.emulator.policy.limits`."""

from __future__ import annotations

from toolkit.emulator.policy.limits import QUOTA_ATTRIBUTES, CallLimit
from toolkit.emulator.policy.registry import handler


@handler("quota-by-key", sections=("inbound",), attributes=(*QUOTA_ATTRIBUTES, "counter-key", "increment-condition", "increment-count", "first-period-start"), required=("renewal-period", "counter-key"),
         notes="Like quota, one counter per counter-key value (counted once per request however many policies name it); renewal-period 0 or at least 300; increment-condition evaluated after the backend; periods aligned to first-period-start (default 0001-01-01T00:00:00Z, so a 3600 s period renews on the hour).")
class QuotaByKey(CallLimit):
    """quota-by-key."""

    __slots__ = ()
    quota = True
    by_key = True
