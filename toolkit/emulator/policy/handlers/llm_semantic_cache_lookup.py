"""``<llm-semantic-cache-lookup>``: answer from the semantic cache when a similar prompt was answered.

The prompt's text (every message's content joined by newlines; system messages dropped with
``ignore-system-messages``) is embedded by calling the embeddings backend through the services
(the simulated Azure OpenAI embeddings deployment). Hit when ``1 − cosine ≤ score-threshold`` in
the partition named by the ``<vary-by>`` values: the cached response is returned at once and the
backend and outbound are skipped (emulator decision; APIM documents no hit header, the trace shows
it). A miss leaves the prompt's vector for the store policy. Requests that are not chat/completion
JSON, or have more messages than ``max-message-count``, bypass the cache; so does a failing
embeddings backend or cache store (recorded in the trace), as APIM keeps serving when the cache is down.
A streamed request (``stream: true``) bypasses it too: a cached answer is one JSON document, not the
event stream the client asked for (the store policy keeps no streamed answers either).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from toolkit.emulator.cache.base import CacheBackendError
from toolkit.emulator.policy import cache_calls
from toolkit.emulator.policy.headers import HeaderMap
from toolkit.emulator.policy.document import Policy
from toolkit.emulator.policy.errors import EndRequest
from toolkit.emulator.policy.registry import handler
from toolkit.emulator.policy.services import EmbeddingsFailure
from toolkit.emulator.policy.values import text_of
from toolkit.emulator.tokens import message_text

ATTRIBUTES = ("score-threshold", "embeddings-backend-id", "embeddings-backend-auth", "ignore-system-messages",
              "max-message-count")
REQUIRED = ("score-threshold", "embeddings-backend-id", "embeddings-backend-auth")
NOTES = (
    "score-threshold is a cosine distance 0-1 (lower is stricter); embeds the messages' text via the "
    "embeddings backend; <vary-by> values partition the cache; a hit returns the stored response and "
    "skips backend and outbound. Once per section."
)
_SEPARATOR = "\x1f"


@dataclass(frozen=True, slots=True)
class CacheMiss:
    """What the store policy needs after a miss."""

    partition: str
    vector: Any
    prompt: str
    query: Any = None  # the lookup's LookupResult.query: the store reuses its normalised vector


@handler("llm-semantic-cache-lookup", sections=("inbound",), attributes=ATTRIBUTES, required=REQUIRED,
         children=("vary-by",), once_per_section=True, notes=NOTES)
class LlmSemanticCacheLookup(Policy):
    """Semantic cache lookup."""

    __slots__ = ("threshold", "backend_id", "ignore_system", "max_messages", "vary_by")

    def __init__(self, threshold: float, backend_id: str, ignore_system: bool, max_messages: int | None,
                 vary_by: tuple[Any, ...]) -> None:
        super().__init__()
        self.threshold = threshold
        self.backend_id = backend_id
        self.ignore_system = ignore_system
        self.max_messages = max_messages
        self.vary_by = vary_by

    @classmethod
    def compile(cls, element: Any, cc: Any) -> LlmSemanticCacheLookup:
        """Threshold 0-1, an existing embeddings backend, system-assigned auth, <vary-by> texts."""
        backend_id = (cc.constant(element, "embeddings-backend-id") or "").strip()
        if not backend_id:
            raise cc.reject(element, f"<{cls.spec.name}> attribute 'embeddings-backend-id' is empty")
        cc.backend_reference(element, "embeddings-backend-id", backend_id)
        cc.choice(element, "embeddings-backend-auth", ("system-assigned",))
        max_messages = None
        if element.get("max-message-count") is not None:
            max_messages = cc.integer(element, "max-message-count", minimum=1).constant
        vary_by = []
        for child in cc.child_elements(element, ("vary-by",)):
            cc.check_attributes(child, ())
            cc.child_elements(child, (), text=True)
            vary_by.append(cc.text_value(child))
        return cls(
            cc.number(element, "score-threshold", minimum=0.0, maximum=1.0),
            backend_id,
            cc.boolean(element, "ignore-system-messages", False),
            max_messages,
            tuple(vary_by),
        )

    async def run(self, ctx: Any, services: Any) -> None:
        """Look the prompt up; on a hit answer from the cache and end the request."""
        name = self.spec.name
        body = ctx.request_json()
        if isinstance(body, dict) and body.get("stream") is True:
            ctx.note(name, "bypassed: streamed request")
            return
        prompt = self.prompt_text(body)
        store = services.cache_store
        if prompt is None or store is None:
            ctx.note(name, "bypassed: no cache store" if store is None else "bypassed: not a cacheable prompt")
            return
        partition = _SEPARATOR.join(text_of(v, ctx) for v in self.vary_by)
        cache_calls.upkeep_while_waiting(store, partition)
        try:
            vector = (await services.embed(self.backend_id, [prompt]))[0]
            # Off the event loop unless the partition is small: a large cache must not stall every other request.
            result = await cache_calls.lookup(store, partition, vector, self.threshold, services.clock())
        except (EmbeddingsFailure, CacheBackendError) as exc:
            ctx.note(name, "bypassed: cache unavailable", {"error": str(exc)})
            return
        if ctx.trace is not None:
            matched = result.entry
            ctx.note(name, "hit" if result.hit else "miss", {
                "best_distance": result.best_distance, "score_threshold": self.threshold,
                "entries_considered": result.entries_considered,
                "matched": {"key": matched.key, "prompt": matched.prompt, "stored_at": matched.stored_at}
                if result.hit and matched is not None else None,
            })
        if not result.hit:
            ctx.cache_lookup = CacheMiss(partition, vector, prompt, result.query)
            return
        entry = result.entry
        ctx.set_response(entry.status, None, HeaderMap(entry.headers.items()), entry.body)
        raise EndRequest

    def prompt_text(self, body: Any) -> str | None:
        """The text to embed, or None when the request bypasses the cache."""
        if not isinstance(body, dict):
            return None
        messages = body.get("messages")
        if isinstance(messages, list):
            kept = [m for m in messages if isinstance(m, dict)
                    and not (self.ignore_system and m.get("role") in ("system", "developer"))]
            if not kept or (self.max_messages is not None and len(kept) > self.max_messages):
                return None
            return "\n".join(message_text(m.get("content")) for m in kept)
        prompt = body.get("prompt")
        return prompt if isinstance(prompt, str) and prompt else None
