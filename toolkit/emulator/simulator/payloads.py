"""Azure OpenAI-shaped bodies: chat completions, embeddings, errors, and the canned answer text."""

from __future__ import annotations

import base64
import functools
import hashlib
import os
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


def chat_completion_body(
    *, model: str, content: str, finish_reason: str, prompt_tokens: int, completion_tokens: int,
    created: int, fingerprint: str,
) -> dict[str, Any]:
    """A ``chat.completion`` object as Azure OpenAI returns it."""
    return {
        "id": completion_id(),
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "finish_reason": finish_reason,
                "message": {"role": "assistant", "content": content},
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
        "system_fingerprint": fingerprint,
    }


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
