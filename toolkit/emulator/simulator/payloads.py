"""Azure OpenAI-shaped bodies: chat completions (whole or streamed), embeddings, errors, the canned answer.

Shapes follow Azure OpenAI's inference spec, 2024-10-21 (azure-rest-api-specs,
``specification/cognitiveservices/data-plane/AzureOpenAI/inference/stable/2024-10-21/inference.json``):
``createChatCompletionResponse`` carries ``prompt_filter_results`` (``promptFilterResults``: one
``{prompt_index, content_filter_results}`` per prompt) and one ``choices[]`` item per ``n``, each with
``content_filter_results`` (``contentFilterChoiceResults``); a stream is
``createChatCompletionStreamResponse`` chunks (``object: chat.completion.chunk``, ``delta``) sent as
server-sent events, first the prompt's filter results, then the deltas, a usage-only chunk when
``stream_options.include_usage`` is set, and ``data: [DONE]``.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import re
from http import HTTPStatus
from typing import Any

from toolkit.emulator.tokens import CHARS_PER_TOKEN, estimate_text_tokens

DEFAULT_API_VERSION = "2024-10-21"
_QUOTE_LIMIT = 120  # characters of the question repeated in the answer
_SENTENCES = (
    "A gateway in front of Azure OpenAI spreads requests across regional deployments.",
    "Each deployment has its own token quota, so a throttled region answers 429.",
    "A circuit breaker keeps traffic away from a backend that keeps failing.",
    "Retries move a request to another member of the backend pool.",
    "A semantic cache answers repeated questions without calling the model.",
    "Token limits cap how much each caller can spend per minute.",
    "This reply comes from a simulated deployment and is the same for the same prompt.",
)

# Messages Azure OpenAI (or the OpenAI API behind it) uses for these statuses.
_ERRORS: dict[int, tuple[str, str]] = {
    400: ("BadRequest", "The request is invalid."),
    401: ("401", "Access denied due to invalid subscription key or wrong API endpoint."),
    404: ("404", "Resource not found"),
    408: ("Timeout", "The operation was timeout."),
    429: ("429", "Rate limit is exceeded. Try again later."),
    500: ("InternalServerError", "The server had an error while processing your request. Sorry about that!"),
    503: ("ServiceUnavailable", "The service is temporarily unable to process your request. Please try again later."),
}


def completion_id() -> str:
    """A fresh ``chatcmpl-`` id (29 random alphanumerics, like Azure OpenAI's)."""
    # base64 of 22 random bytes with "+/" mapped to letters: alphanumeric, ~1 µs (secrets.choice per char: ~30 µs).
    return "chatcmpl-" + base64.b64encode(os.urandom(22), altchars=b"xQ")[:29].decode("ascii")


@functools.lru_cache(maxsize=4096)
def canned_answer(question: str, prompt_key: str) -> str:
    """The full deterministic answer to a prompt: it quotes the question, then canned sentences.

    ``prompt_key`` (the whole conversation) picks the first sentence and the answer's natural
    length (at least 24 to 63 estimated tokens), so equal prompts always get equal answers.
    """
    digest = hashlib.sha256(prompt_key.encode("utf-8")).digest()
    target_chars = (24 + digest[0] % 40) * CHARS_PER_TOKEN
    quoted = " ".join(question.split())
    if len(quoted) > _QUOTE_LIMIT:
        quoted = quoted[: _QUOTE_LIMIT - 3].rstrip() + "..."
    parts = [f'You asked: "{quoted}".']
    length = len(parts[0])
    index = digest[1]
    while length < target_chars:
        sentence = _SENTENCES[index % len(_SENTENCES)]
        parts.append(sentence)
        length += len(sentence) + 1
        index += 1
    return " ".join(parts)


def truncate_to_tokens(text: str, max_tokens: int | None) -> tuple[str, str]:
    """``text`` cut to at most ``max_tokens`` estimated tokens, and the finish_reason."""
    if max_tokens is None or estimate_text_tokens(text) <= max_tokens:
        return text, "stop"
    return text[: max_tokens * CHARS_PER_TOKEN].rstrip(), "length"


_SAFE = {"filtered": False, "severity": "safe"}
_HARM_CATEGORIES = ("hate", "self_harm", "sexual", "violence")


def content_filter_results() -> dict[str, Any]:
    """A choice's ``content_filter_results``: every harm category safe and not filtered."""
    return {category: dict(_SAFE) for category in _HARM_CATEGORIES}


def prompt_filter_results() -> list[dict[str, Any]]:
    """``prompt_filter_results`` for one prompt: harm categories safe, no jailbreak detected."""
    results = content_filter_results()
    results["jailbreak"] = {"filtered": False, "detected": False}
    return [{"prompt_index": 0, "content_filter_results": results}]


def _usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens}


def chat_completion_body(
    *, model: str, choices: list[tuple[str, str]], prompt_tokens: int, completion_tokens: int,
    created: int, fingerprint: str,
) -> dict[str, Any]:
    """A ``chat.completion`` object as Azure OpenAI returns it; ``choices`` are (content, finish_reason)."""
    return {
        "id": completion_id(),
        "object": "chat.completion",
        "created": created,
        "model": model,
        "prompt_filter_results": prompt_filter_results(),
        "choices": [
            {
                "index": index,
                "finish_reason": finish_reason,
                "logprobs": None,
                "message": {"role": "assistant", "content": content},
                "content_filter_results": content_filter_results(),
            }
            for index, (content, finish_reason) in enumerate(choices)
        ],
        "usage": _usage(prompt_tokens, completion_tokens),
        "system_fingerprint": fingerprint,
    }


def _event(payload: Any) -> bytes:
    return b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n"


DONE_EVENT = b"data: [DONE]\n\n"


def chat_stream_events(
    *, model: str, choices: list[tuple[str, str]], prompt_tokens: int, completion_tokens: int,
    created: int, fingerprint: str, include_usage: bool,
) -> list[tuple[int, bytes]]:
    """The server-sent events of a streamed chat completion: (completion tokens it carries, event bytes).

    Order as Azure OpenAI sends it: the prompt's filter results (empty ``choices``), for each choice a
    role delta then its text in word-sized deltas then an empty delta with ``finish_reason``, the
    usage chunk (``choices: []``) when asked for, then ``[DONE]``.
    """
    ident = completion_id()
    events: list[tuple[int, bytes]] = [(0, _event({
        "choices": [], "created": 0, "id": "", "model": "", "object": "",
        "prompt_filter_results": prompt_filter_results(),
    }))]
    usage_field = {"usage": None} if include_usage else {}

    def chunk(index: int, delta: dict[str, Any], finish: str | None, filters: bool) -> bytes:
        choice: dict[str, Any] = {"index": index, "delta": delta, "finish_reason": finish, "logprobs": None,
                                  "content_filter_results": content_filter_results() if filters else {}}
        return _event({"id": ident, "object": "chat.completion.chunk", "created": created, "model": model,
                       "system_fingerprint": fingerprint, "choices": [choice], **usage_field})

    for index, (content, finish_reason) in enumerate(choices):
        events.append((0, chunk(index, {"role": "assistant", "content": ""}, None, False)))
        for piece in re.findall(r"\S+\s*", content):
            events.append((estimate_text_tokens(piece), chunk(index, {"content": piece}, None, True)))
        events.append((0, chunk(index, {}, finish_reason, True)))
    if include_usage:
        events.append((0, _event({"id": ident, "object": "chat.completion.chunk", "created": created,
                                  "model": model, "system_fingerprint": fingerprint, "choices": [],
                                  "usage": _usage(prompt_tokens, completion_tokens)})))
    events.append((0, DONE_EVENT))
    return events


def with_dimensions(vectors: Any, dimensions: int) -> Any:
    """Vectors of ``dimensions`` values, as text-embedding-3 models shorten theirs: the leading values,
    re-normalised to unit length (zero-padded when the local embedder's vectors are shorter)."""
    import numpy as np

    rows = np.asarray(vectors, dtype=np.float32)
    if rows.shape[1] >= dimensions:
        rows = rows[:, :dimensions]
    else:
        rows = np.pad(rows, ((0, 0), (0, dimensions - rows.shape[1])))
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.where(norms == 0, 1.0, norms)


def embeddings_body(*, model: str, vectors: Any, prompt_tokens: int, encoding_format: str) -> dict[str, Any]:
    """An embeddings ``list`` object; ``vectors`` is a 2-D numpy array, one row per input."""
    import numpy as np

    rows = np.asarray(vectors, dtype=np.float32)
    if encoding_format == "base64":
        # What the openai SDK asks for by default: little-endian float32 bytes, base64-encoded.
        encoded: list[Any] = [base64.b64encode(row.astype("<f4").tobytes()).decode("ascii") for row in rows]
    else:
        encoded = rows.astype(float).tolist()
    return {
        "object": "list",
        "data": [{"object": "embedding", "index": i, "embedding": e} for i, e in enumerate(encoded)],
        "model": model,
        "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
    }


def error_body(status: int, message: str | None = None, code: str | None = None) -> dict[str, Any]:
    """``{"error": {"code", "message"}}`` with Azure OpenAI's wording for ``status`` by default."""
    default_code, default_message = _ERRORS.get(status, (str(status), _phrase(status)))
    return {"error": {"code": code or default_code, "message": message or default_message}}


def rate_limit_message(operation: str, api_version: str, exceeded: str, retry_after: int) -> str:
    """Azure OpenAI's 429 message for an exceeded token (TPM) or call (RPM) rate limit."""
    kind = "token rate limit" if exceeded == "tokens" else "call rate limit"
    return (
        f"Requests to the {operation} Operation under Azure OpenAI API version {api_version} have exceeded "
        f"{kind} of your current OpenAI S0 pricing tier. Please retry after {retry_after} seconds. "
        "Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit."
    )


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"
