"""``<quota-by-key>``: see `toolkit.emulator.policy.limits`."""

from __future__ import annotations

from toolkit.emulator.policy.limits import QUOTA_ATTRIBUTES, CallLimit
from toolkit.emulator.policy.registry import handler


@handler("quota-by-key", sections=("inbound",), attributes=(*QUOTA_ATTRIBUTES, "counter-key", "increment-condition", "first-period-start"), required=("renewal-period", "counter-key"),
         notes="Like quota, one counter per counter-key value; increment-condition evaluated after the backend; first-period-start aligns the periods.")
class QuotaByKey(CallLimit):
    """quota-by-key."""

    __slots__ = ()
    quota = True
    by_key = True
