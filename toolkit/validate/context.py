"""What a scenario gets: the target, the expectations, its settings, a caller, and the run's options."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from toolkit.validate.expectations import Expectations
from toolkit.validate.observations import Observation, ObservationLog
from toolkit.validate.target import Target
from toolkit.validate.traffic import Caller, RequestShape

# On Azure, waiting out a token-limit window is bounded (a minute is what tokens-per-minute can ask).
MAX_WAIT_S = 65.0


@dataclass
class Context:
    """One scenario's run."""

    scenario: str
    target: Target
    expect: Expectations
    settings: Any
    caller: Caller
    log: ObservationLog
    rng: random.Random
    max_requests: int | None = None
    allow_quota_burn: bool = False
    embed: Callable[[list[str]], Any] | None = None
    sleep: Callable[[float], None] = time.sleep
    _relief_key: str | None = None
    _relief_count: int = 0
    engine: Any = None          # a concurrent engine (engines.Engine) for sample traffic; None: one by one here
    _remaining: int | None = field(default=None, init=False)   # tokens left in the window after the last batch

    @property
    def shape(self) -> RequestShape:
        request = self.settings.request
        return RequestShape(max_tokens=request.max_tokens, system=request.system)

    @property
    def budget(self) -> int:
        """The scenario's request budget: its file's max_requests, capped by --max-requests."""
        cap = self.settings.max_requests
        return min(cap, self.max_requests) if self.max_requests else cap

    @property
    def sent(self) -> int:
        return len(self.log.for_scenario(self.scenario))

    def prompt(self) -> tuple[str, str]:
        """A random prompt of the scenario made unique with a nonce, and its id."""
        prompts = self.settings.prompts
        index = self.rng.randrange(len(prompts))
        return f"{prompts[index]} {self.caller.nonce()}", f"p{index + 1}"

    def ask(self, prompt_id: str, prompt: str, *, phase: str = "", **options: Any) -> Observation:
        return self.caller.ask(self.scenario, prompt_id, prompt, self.shape, phase=phase, **options)

    def ask_unique(self, phase: str, **options: Any) -> Observation:
        """A routing request: unique prompt; a token-limit refusal is not read as a routing result (the request
        is sent again under a fresh counter), and a nearly spent counter is replaced before it refuses."""
        prompt, prompt_id = self.prompt()
        if self._relief_key is None and self.target.control is not None:
            self._relieve_token_limit(None)  # a subscription of this run's own: its own counter and cache partition
        if self._relief_key and "key" not in options:
            options["key"] = self._relief_key
        observation = self.ask(prompt_id, prompt, phase=phase, **options)
        if self._token_limited(observation):
            self._relieve_token_limit(observation.retry_after)
            options["key"] = self._relief_key or options.get("key")
            observation = self.ask(prompt_id, prompt, phase=phase, **options)
        elif self._nearly_out_of_tokens(observation):
            self._relieve_token_limit(None)
        return observation

    def ask_unique_many(self, phase: str, count: int) -> Iterator[Observation]:
        """``count`` routing requests, as ask_unique would send them. One by one unless the run has a
        concurrent engine: then in batches small enough for the token window; a batch's token-limit 429s are
        sent again once under a fresh counter (the 429s stay in the log, as with ask_unique)."""
        if self.engine is None:
            for _ in range(count):
                yield self.ask_unique(phase)
            return
        if self._relief_key is None and self.target.control is not None:
            self._relieve_token_limit(None)
        left = count
        while left > 0:
            pending = [self.prompt() for _ in range(min(left, self._window_room()))]
            rows = self._send_batch(pending, phase)
            limited = [prompt for prompt, row in zip(pending, rows) if self._token_limited(row)]
            if limited or any(self._nearly_out_of_tokens(row) for row in rows):
                waits = [row.retry_after for row in rows if self._token_limited(row) and row.retry_after]
                self._relieve_token_limit(max(waits) if waits else None)
                self._remaining = None
            yield from (row for row in rows if not self._token_limited(row))
            yield from self._send_batch(limited, phase) if limited else []
            left -= len(pending)

    def _send_batch(self, pending: list[tuple[str, str]], phase: str) -> list[Observation]:
        outgoing = [self.caller.prepare(prompt, self.shape, key=self._relief_key) for prompt, _ in pending]
        replies = self.engine.send_all(outgoing, self.caller.wanted_headers())
        rows = [self.caller.record(self.scenario, prompt_id, reply, phase=phase)
                for (_, prompt_id), reply in zip(pending, replies)]
        known = [row.remaining_tokens for row in rows if row.remaining_tokens is not None]
        self._remaining = min(known) if known else None
        return rows

    def _window_room(self) -> int:
        """How many requests fit in what is left of the token window (with the margin ask_unique keeps)."""
        rule = self.expect.tokens
        if rule is None:
            return 10**9
        per_request = self.settings.request.max_tokens + 200
        left = self._remaining if self._remaining is not None else (rule.tokens_per_minute or per_request * 8)
        return max(1, left // per_request - 4)

    def _relieve_token_limit(self, retry_after: float | None) -> None:
        """On the emulator: continue under a fresh subscription (a new counter; the clock is left alone, so
        breaker timings are not disturbed). On Azure: wait for the next window."""
        if self.target.control is not None:
            self._relief_count += 1
            self._relief_key = self.target.fresh_key(f"toolkit-validate-{self.scenario}-{self._relief_count}")
        else:
            self.wait(retry_after if retry_after is not None else 60.0)

    def wait(self, seconds: float) -> None:
        """Let ``seconds`` (plus one) pass: the emulator's clock is advanced, on Azure time really passes."""
        if self.target.control is not None:
            self.target.control.advance(seconds + 1)
        else:
            self.sleep(min(seconds + 1, MAX_WAIT_S))

    def _token_limited(self, observation: Observation) -> bool:
        return observation.status == 429 and self.expect.tokens is not None and observation.retry_after is not None

    def _nearly_out_of_tokens(self, observation: Observation) -> bool:
        rule = self.expect.tokens
        if rule is None or observation.remaining_tokens is None:
            return False
        return observation.remaining_tokens < 4 * (self.settings.request.max_tokens + 200)

