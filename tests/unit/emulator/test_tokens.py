"""The token estimator: ceil(chars / 4), plus 3 per message and 3 for the reply."""

from __future__ import annotations

import pytest

from toolkit.emulator.tokens import estimate_prompt_tokens, estimate_text_tokens, message_text


@pytest.mark.parametrize(("text", "tokens"), [("", 0), ("a", 1), ("abcd", 1), ("abcde", 2), ("x" * 400, 100)])
def test_text_tokens_are_chars_over_four_rounded_up(text: str, tokens: int) -> None:
    assert estimate_text_tokens(text) == tokens


def test_prompt_tokens_add_per_message_and_reply_overhead() -> None:
    messages = [
        {"role": "system", "content": "You are terse."},  # 14 chars -> 4
        {"role": "user", "content": "What is climate change?"},  # 23 chars -> 6
    ]
    assert estimate_prompt_tokens(messages) == 3 + (3 + 4) + (3 + 6)


def test_content_parts_count_their_text_only() -> None:
    content = [{"type": "text", "text": "abcd"}, {"type": "image_url", "image_url": {"url": "x" * 99}}]
    assert message_text(content) == "abcd"
    assert estimate_prompt_tokens([{"role": "user", "content": content}]) == 3 + 3 + 1


def test_missing_or_odd_content_counts_as_empty() -> None:
    assert estimate_prompt_tokens([{"role": "assistant"}, {"role": "tool", "content": 42}]) == 3 + 3 + 3
