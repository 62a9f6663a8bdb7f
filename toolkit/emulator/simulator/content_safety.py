"""A simulated Azure AI Content Safety service: ``text:analyze`` and ``text:shieldPrompt``.

Deterministic, for tests of llm-content-safety: a category's severity is 4 (6 with
EightSeverityLevels... see `SEVERITY`) when the text contains one of its marker words, else 0; a
blocklist named N matches text containing N as a word; a prompt attack is detected for the classic
"ignore previous instructions" phrasing. Response shapes follow the Content Safety REST API
(2024-09-01): ``categoriesAnalysis`` / ``blocklistsMatch`` and ``userPromptAnalysis.attackDetected``.

The service's input limits are enforced as it enforces them, with 400 InvalidRequestBody
(content-safety overview.md, "Input requirements": analyze text "Default maximum length: 10K
characters"; Prompt Shields "Maximum prompt length: 10K characters" and "Up to five documents with
a total of 10K characters"). Characters are Unicode code points, as the service counts them.
"""

from __future__ import annotations

import json
import re
from typing import Any

MARKERS: dict[str, tuple[str, ...]] = {
    "Hate": ("hateful", "slur"),
    "Violence": ("kill", "bomb", "weapon"),
    "SelfHarm": ("self-harm", "suicide"),
    "Sexual": ("explicit", "nsfw"),
}
SEVERITY = 4  # on both scales (FourSeverityLevels: 0, 2, 4, 6; EightSeverityLevels: 0-7)
TEXT_LIMIT = 10_000  # characters of text:analyze's text, of shieldPrompt's userPrompt and of its documents together
MAX_DOCUMENTS = 5
ATTACK = re.compile(r"ignore (all |any )?(the )?(previous|prior|above) instructions|\bjailbreak\b", re.I)


def _has_word(text: str, word: str) -> bool:
    return re.search(r"(?<![\w-])" + re.escape(word) + r"(?![\w-])", text, re.I) is not None


def _invalid(message: str) -> tuple[int, dict[str, Any]]:
    return 400, {"error": {"code": "InvalidRequestBody", "message": message}}


def _too_long(request: dict[str, Any]) -> str | None:
    """Why the texts of an analyze or shieldPrompt request exceed the service's limits (None when they do not)."""
    text = request.get("text")
    if isinstance(text, str) and len(text) > TEXT_LIMIT:
        return f"The text is too long: {len(text)} characters; at most {TEXT_LIMIT} are allowed."
    prompt = request.get("userPrompt")
    if isinstance(prompt, str) and len(prompt) > TEXT_LIMIT:
        return f"The userPrompt is too long: {len(prompt)} characters; at most {TEXT_LIMIT} are allowed."
    documents = request.get("documents") or []
    if len(documents) > MAX_DOCUMENTS:
        return f"Too many documents: {len(documents)}; at most {MAX_DOCUMENTS} are allowed."
    if sum(len(str(d)) for d in documents) > TEXT_LIMIT:
        return f"The documents are too long: at most {TEXT_LIMIT} characters in total are allowed."
    return None


def analyze(request: dict[str, Any]) -> dict[str, Any]:
    """The answer of ``POST /contentsafety/text:analyze``."""
    text = str(request.get("text") or "")
    categories = request.get("categories") or list(MARKERS)
    analysis = [{"category": c, "severity": SEVERITY if any(_has_word(text, w) for w in MARKERS.get(c, ())) else 0}
                for c in categories]
    matches = [{"blocklistName": name, "blocklistItemId": f"{name}-1", "blocklistItemText": name}
               for name in request.get("blocklistNames") or [] if _has_word(text, str(name))]
    return {"blocklistsMatch": matches, "categoriesAnalysis": analysis}


def shield_prompt(request: dict[str, Any]) -> dict[str, Any]:
    """The answer of ``POST /contentsafety/text:shieldPrompt``."""
    prompt = str(request.get("userPrompt") or "")
    documents = [str(d) for d in request.get("documents") or []]
    return {"userPromptAnalysis": {"attackDetected": ATTACK.search(prompt) is not None},
            "documentsAnalysis": [{"attackDetected": ATTACK.search(d) is not None} for d in documents]}


def handle(method: str, path: str, body: bytes) -> tuple[int, dict[str, Any]] | None:
    """(status, JSON body) for a content-safety path, or None when ``path`` is not one."""
    operation = {"/contentsafety/text:analyze": analyze, "/contentsafety/text:shieldPrompt": shield_prompt}.get(path)
    if operation is None:
        return None
    if method != "POST":
        return 405, {"error": {"code": "MethodNotAllowed", "message": f"Method {method} is not allowed."}}
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        request = None
    if not isinstance(request, dict):
        return _invalid("The request body is not a JSON object.")
    problem = _too_long(request)
    return _invalid(problem) if problem else (200, operation(request))
