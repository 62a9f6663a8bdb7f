"""``<quota>``: see `toolkit.emulator.policy.limits`."""

from __future__ import annotations

from toolkit.emulator.policy.limits import QUOTA_ATTRIBUTES, CallLimit
from toolkit.emulator.policy.registry import handler


@handler("quota", sections=("inbound",), attributes=QUOTA_ATTRIBUTES, required=("renewal-period",),
         scopes=("product", "fragment"), once_per_section=True,
         notes="Product scope only, once per policy document. Per subscription (and policy), for calls made with a subscription key only: calls and/or bandwidth (KB of request and response bodies) per renewal-period seconds (0: never renews), windows from the first call; over it 403 \"Out of call volume quota. Quota will be replenished in hh:mm:ss.\" with Retry-After.")
class Quota(CallLimit):
    """quota."""

    __slots__ = ()
    quota = True
    by_key = False
