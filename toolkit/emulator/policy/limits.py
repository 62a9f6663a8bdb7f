"""Call-rate and quota limits shared by rate-limit, rate-limit-by-key, quota and quota-by-key.

A counter counts calls (and, for quotas, kilobytes) in a window of ``renewal-period`` seconds
(emulator clock). A rate limit's window slides (the docs: "the length in seconds of the sliding window"): it
holds the calls of the last ``renewal-period`` seconds, and Retry-After is when enough of its oldest calls
will have left it for one more. Quota windows are fixed: they start with the first counted call, and
quota-by-key periods are aligned to ``first-period-start`` (APIM's default 0001-01-01T00:00:00Z: a 600 s
period renews at every tenth minute of the clock). A call is refused when the window is already full: 429
for rate limits, 403 for quotas, each with APIM's JSON message and Retry-After. Without
``increment-condition`` every call that passes is counted at once; with one, the condition is
evaluated once the backend answered and the call counts only when it is true.

Counters of rate-limit and quota are per subscription and policy, and they apply only to calls made
with a subscription key (APIM: "This policy is only applied when an API is accessed using a
subscription key"). The by-key variants share one counter per key value across every policy that
uses it, whatever their periods; quota-by-key counts a key once per request even when several
policies name it ("If multiple policies would increment the same key value, it is incremented only
once per request").
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

from toolkit.emulator.policy.document import Policy
from toolkit.emulator.policy.errors import PolicyError
from toolkit.emulator.policy.state import CallLog, PolicyState, state_of
from toolkit.emulator.policy.values import IntSetting, text_of, truth

RATE_NAMES = ("retry-after-header-name", "retry-after-variable-name", "remaining-calls-header-name",
              "remaining-calls-variable-name", "total-calls-header-name")
RATE_ATTRIBUTES = ("calls", "renewal-period", *RATE_NAMES)
KEY_ATTRIBUTES = ("counter-key", "increment-condition", "increment-count")
QUOTA_ATTRIBUTES = ("calls", "bandwidth", "renewal-period")
RETRY_AFTER = "Retry-After"
MAX_RATE_PERIOD = 300  # rate-limit(-by-key) renewal-period: "Maximum allowed value: 300 seconds"
MIN_QUOTA_KEY_PERIOD = 300  # quota-by-key renewal-period: "Minimum period: 300 seconds" (0: never renews)
NEVER_RENEWS = 10 ** 12  # seconds: a quota whose renewal-period is 0
# quota-by-key's default first-period-start, 0001-01-01T00:00:00Z, in seconds since the Unix epoch.
FIRST_PERIOD_START = (datetime(1, 1, 1, tzinfo=timezone.utc) - datetime(1970, 1, 1, tzinfo=timezone.utc)).total_seconds()


class CallLimit(Policy):
    """Base of the four limit policies; subclasses set ``quota`` and ``by_key``."""

    __slots__ = ("calls", "bandwidth", "period", "key", "condition", "increment", "names", "first_start")
    quota = False
    by_key = False

    def __init__(self, calls: IntSetting, bandwidth: int | None, period: IntSetting, key: Any, condition: Any,
                 increment: IntSetting, names: dict[str, str | None], first_start: float | None) -> None:
        super().__init__()
        self.calls, self.bandwidth, self.period, self.key = calls, bandwidth, period, key
        self.condition, self.increment, self.names, self.first_start = condition, increment, names, first_start

    @classmethod
    def compile(cls, element: Any, cc: Any) -> CallLimit:
        """calls (and bandwidth for quotas), the period, the key and the optional names."""
        # A rate limit's calls is required (the registry refuses its absence); a quota needs calls or bandwidth.
        if cls.quota and element.get("calls") is None and element.get("bandwidth") is None:
            raise cc.reject(element, f"<{cls.spec.name}> needs 'calls' or 'bandwidth'")
        # Each policy's own attributes only reach here (the registry refuses the others): one absent is None, or
        # increment-count's default of 1.
        calls = cc.integer(element, "calls", minimum=0, expressions=cls.by_key)
        bandwidth = cc.integer(element, "bandwidth", minimum=0).constant
        key = cc.value(element, "counter-key", expect="string")
        condition = cc.condition(element, "increment-condition") \
            if element.get("increment-condition") is not None else None
        increment = cc.integer(element, "increment-count", default=1, minimum=1, expressions=True)
        names = {name: cc.constant(element, name) for name in RATE_NAMES}
        first = _first_period_start(element, cc) if cls.quota and cls.by_key else None
        return cls(calls, bandwidth, _period(cls, element, cc), key, condition, increment, names, first)

    def counter(self, ctx: Any) -> str:
        """The counter this call counts against."""
        if self.key is not None:
            return f"{self.spec.name.split('-by-')[0]}|key|{text_of(self.key, ctx)}"
        return f"{self.spec.name}|{id(self)}|{ctx.subscription_id}"

    async def run(self, ctx: Any, services: Any) -> None:
        """Refuse a call over the limit; count it (now, or once the backend answered)."""
        if self.key is None and ctx.subscription_id is None:
            ctx.note(self.spec.name, "not applied: the call was made without a subscription key")
            return
        state = state_of(services)
        counter = self.counter(ctx)
        period = self.period.get(ctx, self.spec.name)
        limit = self.calls.get(ctx, self.spec.name)  # None: a quota of bandwidth only
        window: _Counted = _QuotaWindow(self, state, counter, period, ctx) if self.quota else \
            _RateWindow(state.rate(counter), period, state.clock)
        calls = window.calls()
        over_calls = limit is not None and calls - window.earlier >= limit
        over_bandwidth = self.bandwidth is not None and window.bandwidth() >= self.bandwidth * 1024  # quotas only
        if over_calls or over_bandwidth:
            wait = window.wait(limit)
            ctx.note(self.spec.name, "refused", {"calls": calls, "limit": limit, "retry_after": wait})
            raise self.refusal(ctx, wait)
        if self.condition is None:
            self.count(ctx, state, counter)
        calls = window.calls()
        remaining = None if limit is None else max(0, limit - calls)
        if self.names.get("remaining-calls-variable-name") and remaining is not None:
            ctx.variables[self.names["remaining-calls-variable-name"]] = remaining
        ctx.note(self.spec.name, "allowed", {"calls": calls, "limit": limit})
        ctx.add_hook(_Settle(self, state, counter, window, limit))

    def count(self, ctx: Any, state: PolicyState, counter: str) -> None:
        """Count this request against ``counter``: increment-count calls, once per request for quota-by-key."""
        if self.quota and self.by_key:
            if ctx.counted_keys is None:
                ctx.counted_keys = {}
            elif counter in ctx.counted_keys:
                return
            ctx.counted_keys[counter] = calls = self.increment.get(ctx, self.spec.name)
        else:
            calls = self.increment.get(ctx, self.spec.name)
        state.count(counter, calls=calls)

    def counted_earlier(self, ctx: Any, counter: str) -> int:
        """The calls this request already counted against a quota-by-key ``counter`` (0 for the other limits)."""
        return ctx.counted_keys.get(counter, 0) if self.quota and self.by_key and ctx.counted_keys else 0

    def refusal(self, ctx: Any, wait: int) -> PolicyError:
        if self.quota and self.period.constant == NEVER_RENEWS:  # a lifetime quota: nothing to wait for
            return PolicyError("Out of call volume quota.", source=self.spec.name, reason="QuotaExceeded", status=403)
        if self.quota:
            clock = f"{wait // 3600:02}:{wait % 3600 // 60:02}:{wait % 60:02}"
            return PolicyError(f"Out of call volume quota. Quota will be replenished in {clock}.",
                               source=self.spec.name, reason="QuotaExceeded", status=403,
                               headers=[(RETRY_AFTER, str(wait))])
        header = self.names.get("retry-after-header-name") or RETRY_AFTER
        if self.names.get("retry-after-variable-name"):
            ctx.variables[self.names["retry-after-variable-name"]] = wait
        return PolicyError(f"Rate limit is exceeded. Try again in {wait} seconds.", source=self.spec.name,
                           reason="RateLimitExceeded", status=429, headers=[(header, str(wait))])


def _period(cls: type[CallLimit], element: Any, cc: Any) -> IntSetting:
    """renewal-period as APIM bounds it: at most 300 s for rate limits (an expression allowed by key), 0 (never
    renews) or at least 300 s for quota-by-key, any count of seconds for quota (0: never renews)."""
    name = "renewal-period"
    if not cls.quota:
        return cc.integer(element, name, minimum=1, maximum=MAX_RATE_PERIOD, expressions=cls.by_key)
    period = cc.integer(element, name, minimum=0).constant
    if cls.by_key and 0 < period < MIN_QUOTA_KEY_PERIOD:
        raise cc.reject(element, f"<{cls.spec.name}> attribute '{name}': {period} is below the minimum period of "
                                 f"{MIN_QUOTA_KEY_PERIOD} seconds (0: a quota that never renews)")
    return IntSetting(period or NEVER_RENEWS)


def _first_period_start(element: Any, cc: Any) -> float:
    """quota-by-key's first-period-start in seconds since the Unix epoch (default 0001-01-01T00:00:00Z)."""
    text = cc.constant(element, "first-period-start")
    if text is None:
        return FIRST_PERIOD_START
    try:
        start = datetime.fromisoformat(text.strip())
    except ValueError:
        raise cc.reject(element, f"<quota-by-key> attribute 'first-period-start': {text!r} is not a date") from None
    # The docs' format is yyyy-MM-ddTHH:mm:ssZ: a date written without the Z (or an offset) is read as UTC too, never in
    # the machine's zone (which .timestamp() would assume for it).
    return (start if start.tzinfo is not None else start.replace(tzinfo=timezone.utc)).timestamp()


class _RateWindow:
    """A rate limit's view of its counter: the sliding window of ``period`` seconds that ends now (calls only: no
    bandwidth, so a refusal always has a limit of calls)."""

    __slots__ = ("log", "period", "clock")
    earlier = 0  # only quota-by-key knows calls the request counted through another policy

    def __init__(self, log: CallLog, period: float, clock: Any) -> None:
        self.log, self.period, self.clock = log, period, clock

    def calls(self) -> int:
        return self.log.calls(self.period, self.clock())

    def wait(self, limit: int) -> int:
        """Seconds until a call fits: until enough of the window's oldest calls have left it."""
        return self.log.seconds_until_below(limit, self.period, self.clock())


class _QuotaWindow:
    """A quota's view of its counter: the fixed window holding now (renewed once its period has passed)."""

    __slots__ = ("window", "earlier", "clock")

    def __init__(self, policy: CallLimit, state: PolicyState, counter: str, period: float, ctx: Any) -> None:
        self.earlier = policy.counted_earlier(ctx, counter)  # this request's own count, through another policy
        self.window = state.window(counter, period, policy.first_start, counted=self.earlier)
        self.clock = state.clock

    def calls(self) -> int:
        return self.window.calls

    def bandwidth(self) -> int:
        return self.window.bandwidth

    def wait(self, limit: int | None) -> int:
        """Seconds until the window renews (whatever the limit: calls or bytes)."""
        return max(1, math.ceil(self.window.start + self.window.period - self.clock()))


_Counted = _RateWindow | _QuotaWindow


class _Settle:
    """After the backend: the conditional increment, bandwidth, and the remaining/total headers."""

    __slots__ = ("policy", "state", "counter", "window", "limit")

    def __init__(self, policy: CallLimit, state: PolicyState, counter: str, window: Any, limit: int | None) -> None:
        self.policy, self.state, self.counter, self.window, self.limit = policy, state, counter, window, limit

    async def after_backend(self, ctx: Any, services: Any) -> None:
        policy = self.policy
        if policy.condition is not None and truth(policy.condition, ctx):
            policy.count(ctx, self.state, self.counter)
        if policy.bandwidth is not None:
            self.state.count(self.counter, bandwidth=len(ctx.request_body or b"") + len(ctx.response_body or b""))
        names = policy.names
        if self.limit is not None and ctx.response_status is not None:
            if names.get("remaining-calls-header-name"):
                ctx.response_headers.set(names["remaining-calls-header-name"],
                                         [str(max(0, self.limit - self.window.calls()))])
            if names.get("total-calls-header-name"):
                ctx.response_headers.set(names["total-calls-header-name"], [str(self.limit)])

    def abandon(self, ctx: Any, services: Any) -> None:
        """No backend answer: nothing more to count."""
