"""The simulated Azure AI Content Safety service: answers, and the service's input limits."""

from __future__ import annotations

import json

import pytest

from toolkit.emulator.simulator import content_safety

ANALYZE = "/contentsafety/text:analyze"
SHIELD = "/contentsafety/text:shieldPrompt"


def call(path: str, request: dict) -> tuple[int, dict]:
    return content_safety.handle("POST", path, json.dumps(request).encode())  # type: ignore[return-value]


def test_analyze_scores_marker_words_and_blocklists() -> None:
    status, answer = call(ANALYZE, {"text": "a bomb named acme", "categories": ["Violence", "Hate"],
                                    "blocklistNames": ["acme"]})
    assert status == 200
    assert answer["categoriesAnalysis"] == [{"category": "Violence", "severity": 4}, {"category": "Hate", "severity": 0}]
    assert [m["blocklistName"] for m in answer["blocklistsMatch"]] == ["acme"]


@pytest.mark.parametrize(("path", "request_", "allowed"), [
    (ANALYZE, {"text": "x" * 10_000}, True),
    (ANALYZE, {"text": "x" * 10_001}, False),
    (ANALYZE, {"text": "é" * 10_000}, True),  # code points, not UTF-8 bytes
    (SHIELD, {"userPrompt": "x" * 10_000, "documents": ["d" * 10_000]}, True),
    (SHIELD, {"userPrompt": "x" * 10_001, "documents": []}, False),
    (SHIELD, {"userPrompt": "x", "documents": ["d" * 5_000, "d" * 5_001]}, False),
    (SHIELD, {"userPrompt": "x", "documents": ["d"] * 6}, False),
])
def test_texts_over_the_services_limits_are_refused_with_400(path: str, request_: dict, allowed: bool) -> None:
    status, answer = call(path, request_)
    if allowed:
        assert status == 200
    else:
        assert status == 400 and answer["error"]["code"] == "InvalidRequestBody"
        assert "at most" in answer["error"]["message"]
