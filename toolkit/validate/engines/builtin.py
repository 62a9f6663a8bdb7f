"""The built-in engine: this process sends; a batch one request at a time, a soak on ``users`` threads."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Sequence

import httpx

from toolkit.validate.engines import SoakPlan
from toolkit.validate.traffic import Outgoing, Reply, nonce, post, with_prompt


class BuiltinEngine:
    name = "builtin"

    def __init__(self, http: httpx.Client | None = None) -> None:
        self._own = http is None
        self.http = http or httpx.Client(timeout=60.0)

    def send_all(self, outgoing: Sequence[Outgoing], wanted: Sequence[str] = ()) -> list[Reply]:
        return [self.send(item) for item in outgoing]

    def send(self, outgoing: Outgoing) -> Reply:
        return post(self.http, outgoing)

    def soak(self, plan: SoakPlan) -> list[Reply]:
        replies: list[Reply] = []
        lock = threading.Lock()
        deadline = time.monotonic() + plan.seconds
        limits = httpx.Limits(max_connections=plan.users, max_keepalive_connections=plan.users)
        with httpx.Client(timeout=60.0, limits=limits) as client:
            sender = BuiltinEngine(client)

            def user(seed: int) -> None:
                rng = random.Random(seed)
                while time.monotonic() < deadline:
                    reply = sender.send(unique(plan, rng))
                    with lock:
                        replies.append(Reply(reply.started, reply.latency_ms, reply.status,
                                             {h: v for h, v in reply.headers.items() if h in plan.wanted}, b"",
                                             reply.error))

            threads = [threading.Thread(target=user, args=(random.SystemRandom().randrange(2**31),), daemon=True)
                       for _ in range(plan.users)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        return replies

    def close(self) -> None:
        if self._own:
            self.http.close()


def unique(plan: SoakPlan, rng: random.Random) -> Outgoing:
    """The plan's request with a random prompt and a nonce that keeps the semantic cache from answering."""
    text = f"{rng.choice(plan.prompts)} {nonce(rng, plan.nonce_words)}"
    return Outgoing(plan.outgoing.url, plan.outgoing.headers, with_prompt(plan.outgoing.body, text))
