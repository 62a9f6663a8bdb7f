"""<llm-emit-token-metric> and <azure-openai-emit-token-metric>: token usage recorded per answered call."""

from __future__ import annotations

import pytest
from .policy_helpers import FakeServices, api, assert_sections, document, execute, rejected, response

from toolkit.emulator.policy.state import state_of

URL = {"backend_url": "http://backend.test"}


def metric(tag: str = "llm-emit-token-metric") -> str:
    return (f'<{tag} namespace="ai"><dimension name="API ID"/><dimension name="User" '
            f'value="@(context.Request.Headers.GetValueOrDefault(&quot;x-user&quot;, &quot;none&quot;))"/></{tag}>')


@pytest.mark.parametrize("tag", ["llm-emit-token-metric", "azure-openai-emit-token-metric"])
def test_sections(tag: str) -> None:
    assert_sections(metric(tag), ("inbound",))


@pytest.mark.parametrize(("xml", "message"), [
    ('<llm-emit-token-metric><dimension name="Custom"/></llm-emit-token-metric>', "needs a value"),
    ('<llm-emit-token-metric><dimension value="x"/></llm-emit-token-metric>', "missing the required attribute 'name'"),
    ("<llm-emit-token-metric>" + '<dimension name="API ID"/>' * 6 + "</llm-emit-token-metric>", "at most 5"),
])
def test_refusals(xml: str, message: str) -> None:
    assert message in str(rejected(document(inbound=xml)))


@pytest.mark.parametrize("tag", ["llm-emit-token-metric", "azure-openai-emit-token-metric"])
def test_usage_of_the_answer_is_recorded_with_the_dimensions(tag: str) -> None:
    services = FakeServices()
    ctx = execute([None, api(inbound=metric(tag))], services, headers=[("x-user", "alice")], **URL)
    recorded = {m["name"]: m for m in state_of(services).metrics}
    assert {k: v["value"] for k, v in recorded.items()} == {"Prompt Tokens": 10, "Completion Tokens": 5,
                                                            "Total Tokens": 15}
    assert recorded["Total Tokens"]["dimensions"] == {"API ID": "azure-openai", "User": "alice"}
    assert recorded["Total Tokens"]["namespace"] == "ai"
    assert [e for e in ctx.trace.find(tag) if "Total Tokens" in e["message"]]


def test_failed_answers_record_nothing() -> None:
    services = FakeServices(answers=[response(429, {"error": {}})])
    execute([None, api(inbound=metric())], services, **URL)
    assert not state_of(services).metrics


def test_a_streamed_answer_is_measured_from_its_usage_chunk() -> None:
    from toolkit.emulator.policy import BackendResponse

    stream = (b'data: {"choices":[{"delta":{"content":"Hi"}}]}\n\n'
              b'data: {"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":2,"total_tokens":9}}\n\n'
              b"data: [DONE]\n\n")
    services = FakeServices(answers=[BackendResponse(200, "OK", [("content-type", "text/event-stream")], stream)])
    execute([None, api(inbound=metric())], services, **URL)
    assert {m["name"]: m["value"] for m in state_of(services).metrics}["Total Tokens"] == 9
