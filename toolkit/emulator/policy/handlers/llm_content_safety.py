"""``<llm-content-safety>``: check the prompt with Azure AI Content Safety before the LLM sees it.

The backend (``backend-id``) is the Content Safety resource: in the emulator a simulated backend
answers ``/contentsafety/text:analyze`` and ``text:shieldPrompt`` (see
`toolkit.emulator.simulator.content_safety`). A category at or above its threshold, a blocklist
match or (with shield-prompt) a detected attack ends the request with 403, as APIM documents.
"""

from __future__ import annotations

import json
from typing import Any

from toolkit.emulator.policy.document import Policy
from toolkit.emulator.policy.errors import PolicyError
from toolkit.emulator.policy.outbound_http import send
from toolkit.emulator.policy.registry import handler
from toolkit.emulator.gateway.backend_credentials import with_query
from toolkit.emulator.policy.routing import credentials_of, resolve_target
from toolkit.emulator.policy.values import text_of, truth
from toolkit.emulator.tokens import message_text

API_VERSION = "2024-09-01"
CATEGORIES = ("Hate", "SelfHarm", "Sexual", "Violence")
LEVELS = {"FourSeverityLevels": 6, "EightSeverityLevels": 7}
TIMEOUT_SECONDS = 30.0


@handler("llm-content-safety", sections=("inbound",), attributes=("backend-id", "shield-prompt",
                                                                  "enforce-on-completions"),
         required=("backend-id",), children=("categories", "blocklists"),
         notes="Sends the prompt text (messages' content, or prompt) to the Content Safety backend's text:analyze "
         "(categories, output-type, blocklists) and, with shield-prompt, text:shieldPrompt; a severity ≥ the "
         "category's threshold, a blocklist match or an attack → 403 through on-error. enforce-on-completions "
         "checks the backend's completion text the same way. The emulator's simulated backends answer these "
         "calls; an unreachable or failing safety backend fails the request (500).")
class LlmContentSafety(Policy):
    """Prompt safety gate."""

    __slots__ = ("backend", "shield", "completions", "output_type", "thresholds", "blocklists")

    def __init__(self, backend: Any, shield: Any, completions: Any, output_type: str,
                 thresholds: dict[str, int], blocklists: tuple[Any, ...]) -> None:
        super().__init__()
        self.backend, self.shield, self.completions = backend, shield, completions
        self.output_type, self.thresholds, self.blocklists = output_type, thresholds, blocklists

    @classmethod
    def compile(cls, element: Any, cc: Any) -> LlmContentSafety:
        """backend-id, the switches, <categories> and <blocklists>."""
        backend = cc.value(element, "backend-id", expect="string")
        if not backend.is_expression:
            cc.backend_reference(element, "backend-id", backend.source)
        output_type, thresholds, blocklists = "FourSeverityLevels", {}, []
        for child in cc.child_elements(element, ("categories", "blocklists")):
            if child.tag == "categories":
                cc.check_attributes(child, ("output-type",))
                output_type = cc.choice(child, "output-type", tuple(LEVELS), "FourSeverityLevels")
                for category in cc.child_elements(child, ("category",)):
                    cc.check_attributes(category, ("name", "threshold"), ("name", "threshold"))
                    cc.child_elements(category, ())
                    name = cc.choice(category, "name", CATEGORIES)
                    thresholds[name] = cc.integer(category, "threshold", minimum=0,
                                                  maximum=LEVELS[output_type]).constant
            else:
                cc.check_attributes(child, ())
                for item in cc.child_elements(child, ("id",)):
                    cc.check_attributes(item, ())
                    cc.child_elements(item, (), text=True)
                    blocklists.append(cc.text_value(item, expect="string"))
        shield = cc.condition(element, "shield-prompt") if element.get("shield-prompt") is not None else False
        completions = cc.condition(element, "enforce-on-completions") \
            if element.get("enforce-on-completions") is not None else False
        return cls(backend, shield, completions, output_type, thresholds, tuple(blocklists))

    async def run(self, ctx: Any, services: Any) -> None:
        """Check the prompt; keep checking the completion when asked."""
        body = ctx.request_json()
        await self.check(ctx, services, _prompt_text(body), prompt=True)
        if truth(self.completions, ctx):
            ctx.add_hook(_CompletionCheck(self))

    async def check(self, ctx: Any, services: Any, text: str, *, prompt: bool) -> None:
        """Call the safety backend; raise 403 when the text is refused."""
        if not text:
            return
        name, url, _ = resolve_target(services, text_of(self.backend, ctx), "llm-content-safety")
        base = url.rstrip("/")
        credentials = credentials_of(services, name)  # the backend's credentials, as on every call APIM makes to it
        analysis = await self._call(services, credentials, f"{base}/contentsafety/text:analyze", {
            "text": text, "categories": sorted(self.thresholds) or list(CATEGORIES), "outputType": self.output_type,
            "blocklistNames": [text_of(b, ctx) for b in self.blocklists], "haltOnBlocklistHit": True})
        reasons = [f"{c['category']} (severity {c['severity']})" for c in analysis.get("categoriesAnalysis", [])
                   if c.get("category") in self.thresholds and c.get("severity", 0) >= self.thresholds[c["category"]]]
        reasons += [f"blocklist {m.get('blocklistName')}" for m in analysis.get("blocklistsMatch", [])]
        if prompt and truth(self.shield, ctx):
            shield = await self._call(services, credentials, f"{base}/contentsafety/text:shieldPrompt",
                                      {"userPrompt": text, "documents": []})
            if shield.get("userPromptAnalysis", {}).get("attackDetected"):
                reasons.append("prompt attack")
        ctx.note("llm-content-safety", "refused" if reasons else "passed", {"backend": name, "reasons": reasons})
        if reasons:
            what = "request" if prompt else "response"
            raise PolicyError(f"The {what} was blocked by content safety: {', '.join(reasons)}.",
                              source="llm-content-safety", reason="ContentSafetyViolation", status=403)

    async def _call(self, services: Any, credentials: tuple[Any, Any], url: str, payload: dict[str, Any]
                    ) -> dict[str, Any]:
        headers, query = credentials
        response = await send(services, "POST", with_query(f"{url}?api-version={API_VERSION}", query),
                              [("content-type", "application/json"), *headers], json.dumps(payload).encode(),
                              TIMEOUT_SECONDS, source="llm-content-safety")
        try:
            answer = json.loads(response.body) if response.status == 200 else None
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise PolicyError(f"The content safety backend answered {response.status}.", source="llm-content-safety",
                              reason="ContentSafetyUnavailable")
        return answer


class _CompletionCheck:
    __slots__ = ("policy",)

    def __init__(self, policy: LlmContentSafety) -> None:
        self.policy = policy

    async def after_backend(self, ctx: Any, services: Any) -> None:
        body = ctx.response_json() if ctx.response_status == 200 else None
        choices = body.get("choices") if isinstance(body, dict) else None
        text = " ".join(message_text((c or {}).get("message", {}).get("content")) for c in choices or []
                        if isinstance(c, dict))
        await self.policy.check(ctx, services, text.strip(), prompt=False)

    def abandon(self, ctx: Any, services: Any) -> None:
        """No completion to check."""


def _prompt_text(body: Any) -> str:
    if not isinstance(body, dict):
        return ""
    if isinstance(body.get("messages"), list):
        return "\n".join(message_text(m.get("content")) for m in body["messages"] if isinstance(m, dict)).strip()
    prompt = body.get("prompt") or body.get("input")
    return prompt if isinstance(prompt, str) else ""
