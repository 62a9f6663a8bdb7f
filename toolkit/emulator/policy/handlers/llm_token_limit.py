"""``<llm-token-limit>``: cap tokens per minute and/or per quota period for a counter key.

Inbound: the key's budget is checked (with ``estimate-prompt-tokens`` the prompt estimate must fit
and is reserved). Refused → 429 with the retry-after header (tokens per minute) or 403 (quota),
through on-error. Once the backend answered, the actual usage (``usage.total_tokens``) replaces the
reservation; a 2xx answer without ``usage`` keeps the estimate, an error answer or no backend call
(cache hit, return-response, error) charges nothing. The remaining-tokens, remaining-quota and
tokens-consumed headers go on the backend's response.

A streamed answer (``stream: true``, relayed without buffering) is charged as the docs say for
streams: the prompt estimated (whatever ``estimate-prompt-tokens`` says) plus the completion
estimated from the relayed text, once the stream has ended (`streamed_usage`). Its headers leave
before the body, so the remaining budget they carry counts the prompt estimate only, and there is
no tokens-consumed header (its value is known only after the last event).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from toolkit.emulator.gateway.token_counter import QUOTA_PERIODS, Decision
from toolkit.emulator.policy.document import Policy
from toolkit.emulator.policy.errors import PolicyError
from toolkit.emulator.policy.registry import handler
from toolkit.emulator.policy.streamed_usage import CountedStream
from toolkit.emulator.policy.values import IntSetting, text_of
from toolkit.emulator.tokens import estimate_prompt_tokens, estimate_text_tokens

ATTRIBUTES = (
    "counter-key", "tokens-per-minute", "token-quota", "token-quota-period", "estimate-prompt-tokens",
    "retry-after-header-name", "retry-after-variable-name",
    "remaining-tokens-header-name", "remaining-tokens-variable-name",
    "remaining-quota-tokens-header-name", "remaining-quota-tokens-variable-name",
    "tokens-consumed-header-name", "tokens-consumed-variable-name",
)
REQUIRED = ("counter-key", "estimate-prompt-tokens")
NOTES = (
    "Fixed one-minute windows per counter key; 429 + Retry-After over tokens-per-minute, 403 over "
    "token-quota (Hourly/Daily/Weekly/Monthly/Yearly, UTC). Prompt estimate: ceil(chars/4) + 3 per "
    "message + 3; actual usage from the response's usage.total_tokens."
)
_NAMES = ("retry-after-header-name", "retry-after-variable-name", "remaining-tokens-header-name",
          "remaining-tokens-variable-name", "remaining-quota-tokens-header-name",
          "remaining-quota-tokens-variable-name", "tokens-consumed-header-name", "tokens-consumed-variable-name")


@handler("llm-token-limit", sections=("inbound",), attributes=ATTRIBUTES, required=REQUIRED, notes=NOTES)
class LlmTokenLimit(Policy):
    """Token budget per counter key."""

    __slots__ = ("counter_key", "tpm", "quota", "period", "estimate", "names")

    def __init__(self, counter_key: Any, tpm: IntSetting | None, quota: int | None, period: str | None,
                 estimate: bool, names: Mapping[str, str | None]) -> None:
        super().__init__()
        self.counter_key = counter_key
        self.tpm = tpm
        self.quota = quota
        self.period = period
        self.estimate = estimate
        self.names = dict(names)

    @classmethod
    def compile(cls, element: Any, cc: Any) -> LlmTokenLimit:
        """At least one of tokens-per-minute and token-quota (with its period)."""
        tag = cls.spec.name
        tpm = cc.integer(element, "tokens-per-minute", minimum=1, expressions=True) \
            if element.get("tokens-per-minute") is not None else None
        quota = cc.integer(element, "token-quota", minimum=1).constant if element.get("token-quota") is not None else None
        period = cc.choice(element, "token-quota-period", QUOTA_PERIODS)
        if tpm is None and quota is None:
            raise cc.reject(element, f"<{tag}> needs 'tokens-per-minute' or 'token-quota'")
        if (quota is None) != (period is None):
            raise cc.reject(element, f"<{tag}> needs 'token-quota' and 'token-quota-period' together")
        names = {}
        for name in _NAMES:
            value = cc.constant(element, name)
            if value is not None and not value.strip():
                raise cc.reject(element, f"<{tag}> attribute '{name}' is empty")
            names[name] = value
        if names["retry-after-header-name"] is None:
            names["retry-after-header-name"] = "Retry-After"
        return cls(cc.value(element, "counter-key", expect="string"), tpm, quota, period,
                   cc.boolean(element, "estimate-prompt-tokens", False), names)

    async def run(self, ctx: Any, services: Any) -> None:
        """Admit (reserving the estimate) or refuse the request."""
        key = text_of(self.counter_key, ctx)
        tpm = self.tpm.get(ctx, self.spec.name) if self.tpm is not None else None
        estimate = prompt_estimate(ctx.request_json()) if self.estimate else None
        decision = services.token_limiter.check(key, tpm, self.quota, self.period, estimate)
        names = self.names
        _set_var(ctx, names["remaining-tokens-variable-name"], decision.remaining_tokens)
        _set_var(ctx, names["remaining-quota-tokens-variable-name"], decision.remaining_quota)
        if ctx.trace is not None:
            ctx.note(self.spec.name, "allowed" if decision.allowed else f"refused {decision.status}", {
                "counter_key": key, "estimate": estimate, "remaining_tokens": decision.remaining_tokens,
                "remaining_quota": decision.remaining_quota, "retry_after": decision.retry_after,
            })
        if decision.allowed:
            ctx.add_hook(_Settlement(self, key, decision))
            return
        _set_var(ctx, names["retry-after-variable-name"], decision.retry_after)
        headers = [(names["retry-after-header-name"], str(decision.retry_after))]
        headers += _remaining_headers(names, decision.remaining_tokens, decision.remaining_quota)
        quota = decision.status == 403
        what = "quota" if quota else "limit"
        raise PolicyError(
            f"Token {what} is exceeded. Try again in {decision.retry_after} seconds.",
            source=self.spec.name, reason="TokenQuotaExceeded" if quota else "TokenLimitExceeded",
            status=decision.status, headers=headers,
        )


class _Settlement:
    """Replaces the reservation with the actual usage once the backend answered."""

    __slots__ = ("policy", "key", "decision")

    def __init__(self, policy: LlmTokenLimit, key: str, decision: Decision) -> None:
        self.policy = policy
        self.key = key
        self.decision = decision

    async def after_backend(self, ctx: Any, services: Any) -> None:
        """Charge the usage and add the configured headers and variables."""
        decision = self.decision
        reserved = decision.reservation.tokens if decision.reservation is not None else 0
        if ctx.response_stream is not None and ctx.response_status is not None and 200 <= ctx.response_status < 300:
            self._settle_stream(ctx, services, reserved)
            return
        tokens = usage_tokens(ctx, reserved)
        services.token_limiter.consume(self.key, tokens, reservation=decision.reservation, period=self.policy.period)
        names = self.policy.names
        remaining = _after(decision.remaining_tokens, reserved, tokens)
        remaining_quota = _after(decision.remaining_quota, reserved, tokens)
        _set_var(ctx, names["tokens-consumed-variable-name"], tokens)
        _set_var(ctx, names["remaining-tokens-variable-name"], remaining)
        _set_var(ctx, names["remaining-quota-tokens-variable-name"], remaining_quota)
        if ctx.response_status is not None:
            headers = _remaining_headers(names, remaining, remaining_quota)
            if names["tokens-consumed-header-name"]:
                headers.append((names["tokens-consumed-header-name"], str(tokens)))
            _set_headers(ctx, headers)
        ctx.note(self.policy.spec.name, f"consumed {tokens} tokens", {"counter_key": self.key, "tokens": tokens})

    def _settle_stream(self, ctx: Any, services: Any, reserved: int) -> None:
        decision, names = self.decision, self.policy.names
        prompt = prompt_estimate(ctx.request_json())
        _set_headers(ctx, _remaining_headers(names, _after(decision.remaining_tokens, reserved, prompt),
                                             _after(decision.remaining_quota, reserved, prompt)))

        def settle(completion_tokens: int) -> None:
            services.token_limiter.consume(self.key, prompt + completion_tokens, reservation=decision.reservation,
                                           period=self.policy.period)

        ctx.response_stream = CountedStream(ctx.response_stream, settle)
        ctx.note(self.policy.spec.name, "streamed: charged when the stream ends",
                 {"counter_key": self.key, "prompt_estimate": prompt})

    def abandon(self, ctx: Any, services: Any) -> None:
        """No backend answer: give the reservation back.

        When the request still has an answer (a semantic-cache hit, return-response) it carries this
        request's remaining budget, not whatever an earlier request left in a cached answer.
        """
        decision = self.decision
        reserved = decision.reservation.tokens if decision.reservation is not None else 0
        if decision.reservation is not None:
            services.token_limiter.consume(self.key, 0, reservation=decision.reservation)
        if ctx.response_status is not None and 200 <= ctx.response_status < 300:
            names = self.policy.names
            _set_headers(ctx, _remaining_headers(names, _after(decision.remaining_tokens, reserved, 0),
                                                 _after(decision.remaining_quota, reserved, 0)))


def prompt_estimate(body: Any) -> int:
    """Estimated prompt tokens of a chat (``messages``), completion (``prompt``) or embeddings (``input``) body."""
    if not isinstance(body, dict):
        return 0
    messages = body.get("messages")
    if isinstance(messages, list):
        return estimate_prompt_tokens(m for m in messages if isinstance(m, dict))
    for field in ("prompt", "input"):
        value = body.get(field)
        if isinstance(value, str):
            return estimate_text_tokens(value)
        if isinstance(value, list):
            return sum(estimate_text_tokens(v) for v in value if isinstance(v, str))
    return 0


def usage_tokens(ctx: Any, reserved: int) -> int:
    """Tokens the backend used: ``usage.total_tokens`` of a 2xx JSON answer; else the reservation (2xx) or 0."""
    status = ctx.response_status
    if status is None or not 200 <= status < 300:
        return 0
    body = ctx.response_json()
    usage = body.get("usage") if isinstance(body, dict) else None
    if isinstance(usage, dict):
        total = usage.get("total_tokens")
        if isinstance(total, int) and not isinstance(total, bool):
            return total
        parts = [usage.get("prompt_tokens"), usage.get("completion_tokens")]
        if all(isinstance(p, int) and not isinstance(p, bool) for p in parts):
            return sum(parts)  # type: ignore[arg-type]
    return reserved


def _after(remaining: int | None, reserved: int, used: int) -> int | None:
    return None if remaining is None else max(0, remaining + reserved - used)


def _set_headers(ctx: Any, headers: list[tuple[str, str]]) -> None:
    """Set this request's token headers (marked per-request: a cached copy must not replay them)."""
    for name, value in headers:
        ctx.response_headers.set(name, [value])
        ctx.per_request_headers.add(name)


def _set_var(ctx: Any, name: str | None, value: int | None) -> None:
    if name and value is not None:
        ctx.variables[name] = value


def _remaining_headers(names: Mapping[str, str | None], tokens: int | None, quota: int | None) -> list[tuple[str, str]]:
    headers = []
    if names["remaining-tokens-header-name"] and tokens is not None:
        headers.append((names["remaining-tokens-header-name"], str(tokens)))
    if names["remaining-quota-tokens-header-name"] and quota is not None:
        headers.append((names["remaining-quota-tokens-header-name"], str(quota)))
    return headers
