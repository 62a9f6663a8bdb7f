"""Call-rate and quota limits shared by rate-limit, rate-limit-by-key, quota and quota-by-key.

A counter counts calls (and, for quotas, kilobytes) in a window of ``renewal-period`` seconds
(emulator clock) that starts with the first counted call (quota windows align to
``first-period-start`` when given). A call is refused when the window is already full: 429 with
Retry-After for rate limits, 403 for quotas, each with APIM's JSON message. Without
``increment-condition`` every call that passes is counted at once; with one, the condition is
evaluated once the backend answered and the call counts only when it is true. Counters of
rate-limit and quota are per subscription and policy; the by-key variants share one counter per
key value across every policy that uses it, as APIM documents.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from toolkit.emulator.policy.document import Policy
from toolkit.emulator.policy.errors import PolicyError
from toolkit.emulator.policy.state import PolicyState, state_of
from toolkit.emulator.policy.values import IntSetting, text_of, truth

RATE_NAMES = ("retry-after-header-name", "retry-after-variable-name", "remaining-calls-header-name",
              "remaining-calls-variable-name", "total-calls-header-name")
RATE_ATTRIBUTES = ("calls", "renewal-period", *RATE_NAMES)
KEY_ATTRIBUTES = ("counter-key", "increment-condition", "increment-count")
QUOTA_ATTRIBUTES = ("calls", "bandwidth", "renewal-period")


class CallLimit(Policy):
    """Base of the four limit policies; subclasses set ``quota`` and ``by_key``."""

    __slots__ = ("calls", "bandwidth", "period", "key", "condition", "increment", "names", "first_start")
    quota = False
    by_key = False

    def __init__(self, calls: IntSetting, bandwidth: int | None, period: int, key: Any, condition: Any,
                 increment: IntSetting, names: dict[str, str | None], first_start: float | None) -> None:
        super().__init__()
        self.calls, self.bandwidth, self.period, self.key = calls, bandwidth, period, key
        self.condition, self.increment, self.names, self.first_start = condition, increment, names, first_start

    @classmethod
    def compile(cls, element: Any, cc: Any) -> CallLimit:
        """calls (and bandwidth for quotas), the period, the key and the optional names."""
        tag = cls.spec.name
        if cls.quota:
            if element.get("calls") is None and element.get("bandwidth") is None:
                raise cc.reject(element, f"<{tag}> needs 'calls' or 'bandwidth'")
        elif element.get("calls") is None:
            raise cc.reject(element, f"<{tag}> is missing the required attribute 'calls'")
        calls = cc.integer(element, "calls", minimum=0, expressions=cls.by_key)
        bandwidth = cc.integer(element, "bandwidth", minimum=0).constant if cls.quota else None
        period = cc.integer(element, "renewal-period", minimum=0 if cls.quota else 1,
                            expressions=False).constant
        if cls.quota and period == 0:
            period = 10 ** 12  # 0: a quota that never renews
        key = cc.value(element, "counter-key", expect="string") if cls.by_key else None
        condition = cc.condition(element, "increment-condition") \
            if cls.by_key and element.get("increment-condition") is not None else None
        increment = cc.integer(element, "increment-count", default=1, minimum=1, expressions=True) \
            if cls.by_key and not cls.quota else IntSetting(1)
        names = {name: cc.constant(element, name) for name in RATE_NAMES} if not cls.quota else {}
        first = None
        if cls.quota and cls.by_key and element.get("first-period-start") is not None:
            text = cc.constant(element, "first-period-start") or ""
            try:
                first = datetime.fromisoformat(text.strip().replace("Z", "+00:00")).timestamp()
            except ValueError:
                raise cc.reject(element, f"<{tag}> attribute 'first-period-start': {text!r} is not a date") from None
        return cls(calls, bandwidth, period, key, condition, increment, names, first)

    def counter(self, ctx: Any) -> str:
        """The counter this call counts against."""
        if self.key is not None:
            return f"{self.spec.name.split('-by-')[0]}|key|{text_of(self.key, ctx)}"
        return f"{self.spec.name}|{id(self)}|{ctx.subscription_id or 'anonymous'}"

    async def run(self, ctx: Any, services: Any) -> None:
        """Refuse a call over the limit; count it (now, or once the backend answered)."""
        state = state_of(services)
        window = state.window(self.counter(ctx), self.period, self.first_start)
        limit = self.calls.get(ctx, self.spec.name) if self.calls.constant is not None or self.calls.expression else None
        over_calls = limit is not None and window.calls >= limit
        over_bandwidth = self.bandwidth is not None and window.bandwidth >= self.bandwidth * 1024
        wait = max(1, math.ceil(window.start + window.period - state.clock()))
        if over_calls or over_bandwidth:
            ctx.note(self.spec.name, "refused", {"calls": window.calls, "limit": limit, "retry_after": wait})
            raise self.refusal(ctx, wait)
        if self.condition is None:
            window.calls += self.increment.get(ctx, self.spec.name)
        remaining = None if limit is None else max(0, limit - window.calls)
        if self.names.get("remaining-calls-variable-name") and remaining is not None:
            ctx.variables[self.names["remaining-calls-variable-name"]] = remaining
        ctx.note(self.spec.name, "allowed", {"calls": window.calls, "limit": limit})
        ctx.add_hook(_Settle(self, state, window, limit))

    def refusal(self, ctx: Any, wait: int) -> PolicyError:
        if self.quota:
            clock = f"{wait // 3600:02}:{wait % 3600 // 60:02}:{wait % 60:02}"
            return PolicyError(f"Out of call volume quota. Quota will be replenished in {clock}.",
                               source=self.spec.name, reason="QuotaExceeded", status=403)
        header = self.names.get("retry-after-header-name") or "Retry-After"
        if self.names.get("retry-after-variable-name"):
            ctx.variables[self.names["retry-after-variable-name"]] = wait
        return PolicyError(f"Rate limit is exceeded. Try again in {wait} seconds.", source=self.spec.name,
                           reason="RateLimitExceeded", status=429, headers=[(header, str(wait))])


class _Settle:
    """After the backend: the conditional increment, bandwidth, and the remaining/total headers."""

    __slots__ = ("policy", "state", "window", "limit")

    def __init__(self, policy: CallLimit, state: PolicyState, window: Any, limit: int | None) -> None:
        self.policy, self.state, self.window, self.limit = policy, state, window, limit

    async def after_backend(self, ctx: Any, services: Any) -> None:
        policy = self.policy
        if policy.condition is not None and truth(policy.condition, ctx):
            self.window.calls += policy.increment.get(ctx, policy.spec.name)
        if policy.bandwidth is not None:
            self.window.bandwidth += len(ctx.request_body or b"") + len(ctx.response_body or b"")
        names = policy.names
        if self.limit is not None and ctx.response_status is not None:
            if names.get("remaining-calls-header-name"):
                ctx.response_headers.set(names["remaining-calls-header-name"],
                                         [str(max(0, self.limit - self.window.calls))])
            if names.get("total-calls-header-name"):
                ctx.response_headers.set(names["total-calls-header-name"], [str(self.limit)])

    def abandon(self, ctx: Any, services: Any) -> None:
        """No backend answer: nothing more to count."""
