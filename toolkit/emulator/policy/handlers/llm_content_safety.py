"""``<llm-content-safety>``: check prompts (inbound) or completions (outbound) with Azure AI Content Safety.

The backend (``backend-id``) is the Content Safety resource: in the emulator a simulated backend
answers ``/contentsafety/text:analyze`` and ``text:shieldPrompt`` (see
`toolkit.emulator.simulator.content_safety`). A category at or above its threshold, a blocklist
match or (with shield-prompt) a detected attack ends the request with 403, as APIM documents.

Per llm-content-safety-policy.md (03/2026): in inbound the prompt is checked (and, with
enforce-on-completions, the completion too); in outbound the completion (enforce-on-completions
is ignored there). The text goes to text:analyze in windows: window-size characters (default
10,000, the service's limit) overlapping by window-overlap-size (default none); "configurable only
for responses; for requests, the default window size is always used". Every window is analysed
and the worst result decides. The prompt goes to text:shieldPrompt whole. A text over the
service's character limit (the service answers 400) ends the request with 403.
"""

from __future__ import annotations

import json
from typing import Any

from toolkit.emulator.gateway.backend_credentials import with_query
from toolkit.emulator.policy.document import Policy
from toolkit.emulator.policy.errors import ExpressionFailure, PolicyError
from toolkit.emulator.policy.outbound_http import send
from toolkit.emulator.policy.registry import handler
from toolkit.emulator.policy.routing import credentials_of, resolve_target
from toolkit.emulator.policy.values import ChoiceSetting, IntSetting, text_of, truth
from toolkit.emulator.tokens import message_text

API_VERSION = "2024-09-01"
CATEGORIES = ("Hate", "SelfHarm", "Sexual", "Violence")
OUTPUT_TYPES = ("FourSeverityLevels", "EightSeverityLevels")
MAX_THRESHOLD = 7  # "between 0 (most restrictive) and 7 (least restrictive)", whatever the output type
# Azure AI Content Safety's text limit (overview.md, "Input requirements": analyze text "Default maximum
# length: 10K characters"; Prompt Shields "Maximum prompt length: 10K characters"), and APIM's default window.
SERVICE_TEXT_LIMIT = 10_000
TIMEOUT_SECONDS = 30.0
NAME = "llm-content-safety"


@handler(NAME, sections=("inbound", "outbound"),
         attributes=("backend-id", "shield-prompt", "enforce-on-completions", "window-size", "window-overlap-size"),
         required=("backend-id",), children=("categories", "blocklists"),
         notes="Inbound: the prompt text (messages' content, or prompt) goes to the Content Safety backend's "
         "text:analyze (categories, output-type, blocklists) and, with shield-prompt, text:shieldPrompt; "
         "enforce-on-completions checks the completion too. Outbound: the completion (the choices' message "
         "content, or text). Analysed in windows of window-size characters (default 10,000; configurable for "
         "completions only) overlapping by window-overlap-size; the worst window decides. A severity ≥ the "
         "category's threshold (0-7), a blocklist match, an attack or a text over the service's 10,000-character "
         "limit → 403 through on-error. Expressions allowed where APIM allows them. Streamed (SSE) completions are "
         "not checked. The emulator's simulated backends answer these calls; an unreachable or otherwise failing "
         "safety backend fails the request (500).")
class LlmContentSafety(Policy):
    """Prompt and completion safety gate."""

    __slots__ = ("backend", "shield", "completions", "window", "overlap", "output_type", "categories", "blocklists")

    def __init__(self, backend: Any, shield: Any, completions: Any, window: IntSetting, overlap: IntSetting,
                 output_type: ChoiceSetting, categories: tuple[tuple[ChoiceSetting, IntSetting], ...],
                 blocklists: tuple[Any, ...]) -> None:
        super().__init__()
        self.backend, self.shield, self.completions = backend, shield, completions
        self.window, self.overlap = window, overlap
        self.output_type, self.categories, self.blocklists = output_type, categories, blocklists

    @classmethod
    def compile(cls, element: Any, cc: Any) -> LlmContentSafety:
        """backend-id, the switches, the windows, <categories> and <blocklists>."""
        backend = cc.value(element, "backend-id", expect="string")
        if not backend.is_expression:
            cc.backend_reference(element, "backend-id", backend.source)
        window = cc.integer(element, "window-size", default=SERVICE_TEXT_LIMIT, minimum=1, expressions=True)
        overlap = cc.integer(element, "window-overlap-size", default=0, minimum=0, expressions=True)
        if window.constant is not None and overlap.constant is not None and overlap.constant >= window.constant:
            raise cc.reject(element, f"<{NAME}> attribute 'window-overlap-size' ({overlap.constant}) must be smaller "
                                     f"than window-size ({window.constant})")
        output_type = ChoiceSetting(OUTPUT_TYPES[0], None, OUTPUT_TYPES, "")
        categories, blocklists = [], []
        for child in cc.child_elements(element, ("categories", "blocklists")):
            if child.tag == "categories":
                cc.check_attributes(child, ("output-type",))
                output_type = cc.choice_setting(child, "output-type", OUTPUT_TYPES, OUTPUT_TYPES[0])
                categories += [_category(category, cc) for category in cc.child_elements(child, ("category",))]
            else:
                cc.check_attributes(child, ())
                for item in cc.child_elements(child, ("id",)):
                    cc.check_attributes(item, ())
                    cc.child_elements(item, (), text=True)
                    blocklists.append(cc.text_value(item, expect="string"))
        return cls(backend, cc.flag(element, "shield-prompt", False), cc.flag(element, "enforce-on-completions", False),
                   window, overlap, output_type, tuple(categories), tuple(blocklists))

    async def run(self, ctx: Any, services: Any) -> None:
        """Inbound: check the prompt, and keep checking the completion when asked. Outbound: the completion."""
        if ctx.section == "outbound":
            await self.check_completion(ctx, services)
            return
        await self.check(ctx, services, _prompt_text(ctx.request_json()), (SERVICE_TEXT_LIMIT, 0), prompt=True)
        if truth(self.completions, ctx):
            ctx.add_hook(_CompletionCheck(self))

    async def check_completion(self, ctx: Any, services: Any) -> None:
        """Check the response's completion text in the configured windows."""
        await self.check(ctx, services, _completion_text(ctx), self._windows(ctx), prompt=False)

    async def check(self, ctx: Any, services: Any, text: str, windows: tuple[int, int], *, prompt: bool) -> None:
        """Call the safety backend for each window (and the whole prompt, with shield-prompt); 403 when refused."""
        if not text:
            return
        what = "request" if prompt else "response"
        name, url, _ = resolve_target(services, text_of(self.backend, ctx), NAME)
        call = _Caller(services, credentials_of(services, name), url.rstrip("/"), what)
        thresholds = self._thresholds(ctx)
        payload = {"categories": sorted(thresholds) or list(CATEGORIES),
                   "outputType": self.output_type.get(ctx, NAME),
                   "blocklistNames": [text_of(b, ctx) for b in self.blocklists], "haltOnBlocklistHit": True}
        worst: dict[str, int] = {}  # the highest severity of any window, per configured category
        blocklists: dict[str, None] = {}  # matched blocklist names, in order, once each
        for window in _split(text, *windows):
            analysis = await call("text:analyze", "text", window, payload)
            for c in analysis.get("categoriesAnalysis", []):
                if c.get("category") in thresholds:
                    worst[c["category"]] = max(worst.get(c["category"], 0), c.get("severity") or 0)
            blocklists.update((m.get("blocklistName"), None) for m in analysis.get("blocklistsMatch", []))
        reasons = [f"{c} (severity {s})" for c, s in sorted(worst.items()) if s >= thresholds[c]]
        reasons += [f"blocklist {b}" for b in blocklists]
        if prompt and truth(self.shield, ctx):
            shield = await call("text:shieldPrompt", "userPrompt", text, {"documents": []})
            if shield.get("userPromptAnalysis", {}).get("attackDetected"):
                reasons.append("prompt attack")
        ctx.note(NAME, "refused" if reasons else "passed", {"backend": name, "reasons": reasons})
        if reasons:
            raise PolicyError(f"The {what} was blocked by content safety: {', '.join(reasons)}.",
                              source=NAME, reason="ContentSafetyViolation", status=403)

    def _thresholds(self, ctx: Any) -> dict[str, int]:
        return {name.get(ctx, NAME): threshold.get(ctx, NAME) for name, threshold in self.categories}

    def _windows(self, ctx: Any) -> tuple[int, int]:
        """(window-size, window-overlap-size) for a completion; expressions checked here."""
        size, overlap = self.window.get(ctx, NAME), self.overlap.get(ctx, NAME)
        if overlap >= size:
            raise ExpressionFailure(f"<{NAME}> window-overlap-size {overlap} is not smaller than window-size {size}.",
                                    source=NAME)
        return size, overlap


class _Caller:
    """POSTs to one Content Safety resource with its backend's credentials, as on every call APIM makes to it."""

    __slots__ = ("services", "credentials", "base", "what")

    def __init__(self, services: Any, credentials: tuple[Any, Any], base: str, what: str) -> None:
        self.services, self.credentials, self.base, self.what = services, credentials, base, what

    async def __call__(self, operation: str, field: str, text: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The JSON answer of ``operation`` for ``text`` (sent as ``field``, with ``payload``)."""
        headers, query = self.credentials
        url = with_query(f"{self.base}/contentsafety/{operation}?api-version={API_VERSION}", query)
        response = await send(self.services, "POST", url, [("content-type", "application/json"), *headers],
                              json.dumps({field: text, **payload}).encode(), TIMEOUT_SECONDS, source=NAME)
        try:
            answer = json.loads(response.body) if response.status == 200 else None
        except ValueError:
            answer = None
        if isinstance(answer, dict):
            return answer
        if response.status == 400 and len(text) > SERVICE_TEXT_LIMIT:  # the service refused the text as too long
            raise PolicyError(f"The {self.what} exceeds the character limit of Azure AI Content Safety ({len(text):,} "
                              f"characters sent to {operation}; at most {SERVICE_TEXT_LIMIT:,}).", source=NAME,
                              reason="ContentSafetyTextTooLong", status=403)
        raise PolicyError(f"The content safety backend answered {response.status}.", source=NAME,
                          reason="ContentSafetyUnavailable")


class _CompletionCheck:
    __slots__ = ("policy",)

    def __init__(self, policy: LlmContentSafety) -> None:
        self.policy = policy

    async def after_backend(self, ctx: Any, services: Any) -> None:
        await self.policy.check_completion(ctx, services)

    def abandon(self, ctx: Any, services: Any) -> None:
        """No completion to check."""


def _category(element: Any, cc: Any) -> tuple[ChoiceSetting, IntSetting]:
    """``<category name threshold>``: both may be expressions, checked when evaluated."""
    cc.check_attributes(element, ("name", "threshold"), ("name", "threshold"))
    cc.child_elements(element, ())
    return (cc.choice_setting(element, "name", CATEGORIES, None),
            cc.integer(element, "threshold", minimum=0, maximum=MAX_THRESHOLD, expressions=True))


def _split(text: str, size: int, overlap: int) -> list[str]:
    """``text`` in windows of ``size`` characters, each starting ``size - overlap`` after the previous one."""
    step = size - overlap
    return [text[start:start + size] for start in range(0, max(len(text) - overlap, 1), step)]


def _prompt_text(body: Any) -> str:
    if not isinstance(body, dict):
        return ""
    if isinstance(body.get("messages"), list):
        return "\n".join(message_text(m.get("content")) for m in body["messages"] if isinstance(m, dict)).strip()
    prompt = body.get("prompt") or body.get("input")
    return prompt if isinstance(prompt, str) else ""


def _completion_text(ctx: Any) -> str:
    """The completion of a successful JSON answer: each choice's message content (chat) or text (completions)."""
    body = ctx.response_json() if ctx.response_status == 200 else None
    choices = body.get("choices") if isinstance(body, dict) else None
    texts = [message_text((choice.get("message") or {}).get("content")) or message_text(choice.get("text"))
             for choice in choices or [] if isinstance(choice, dict)]
    return " ".join(texts).strip()
