"""<azure-openai-token-limit>: the same element as <llm-token-limit> under its Azure OpenAI name."""

from __future__ import annotations

from .policy_helpers import FakeServices, api, assert_sections, execute

from toolkit.emulator.policy.handlers.azure_openai_token_limit import AzureOpenAiTokenLimit
from toolkit.emulator.policy.handlers.llm_token_limit import LlmTokenLimit

ELEMENT = '<azure-openai-token-limit counter-key="k" tokens-per-minute="{}" estimate-prompt-tokens="true"/>'


def test_sections() -> None:
    assert_sections(ELEMENT.format(5), ("inbound",))


def test_declares_the_same_attributes_as_llm_token_limit() -> None:
    ours, theirs = AzureOpenAiTokenLimit.spec, LlmTokenLimit.spec
    assert (ours.attributes, ours.required, ours.sections) == (theirs.attributes, theirs.required, theirs.sections)


def test_refusal_names_this_element() -> None:
    ctx = execute([None, api(inbound=ELEMENT.format(1))], FakeServices(), backend_url="http://backend.test")
    assert (ctx.response_status, ctx.last_error_source) == (429, "azure-openai-token-limit")
