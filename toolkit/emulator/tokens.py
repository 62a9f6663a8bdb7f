"""A cheap, deterministic token estimator shared by the simulated backends and the gateway.

Rule: one token per started group of four characters (``ceil(len(text) / 4)``), OpenAI's own rule
of thumb for English. A chat prompt adds a fixed overhead of 3 tokens per message (role and
separators) plus 3 for priming the reply, as in OpenAI's cookbook counting recipe. The numbers are
estimates by design: Azure OpenAI and APIM's ``estimate-prompt-tokens`` estimate too, and what
matters here is that the simulator and the gateway's token-limit policy agree exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

CHARS_PER_TOKEN = 4
TOKENS_PER_MESSAGE = 3
TOKENS_PER_REPLY = 3


def estimate_text_tokens(text: str) -> int:
    """Estimated tokens in ``text``: ``ceil(len(text) / 4)``, 0 for the empty string."""
    return -(-len(text) // CHARS_PER_TOKEN)


def message_text(content: Any) -> str:
    """The text of a chat message ``content``: a string, or the ``text`` parts of a content list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            part["text"]
            for part in content
            if isinstance(part, Mapping) and isinstance(part.get("text"), str)
        )
    return ""


def estimate_prompt_tokens(messages: Iterable[Mapping[str, Any]]) -> int:
    """Estimated prompt tokens of chat ``messages``: content tokens + 3 per message + 3."""
    total = TOKENS_PER_REPLY
    for message in messages:
        total += TOKENS_PER_MESSAGE + estimate_text_tokens(message_text(message.get("content")))
    return total
