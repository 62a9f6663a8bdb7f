"""<set-header>: request or response headers by section; override, skip, append, delete."""

from __future__ import annotations

import pytest
from .policy_helpers import FakeServices, api, assert_sections, document, execute, rejected, response

from toolkit.emulator.policy.registry import SECTIONS

URL = {"backend_url": "http://backend.test"}


def _header(name: str, action: str | None, *values: str) -> str:
    action_attr = f' exists-action="{action}"' if action else ""
    return f'<set-header name="{name}"{action_attr}>' + "".join(f"<value>{v}</value>" for v in values) + "</set-header>"


def test_sections() -> None:
    assert_sections(_header("x", None, "1"), SECTIONS)


@pytest.mark.parametrize(("xml", "message"), [
    ("<set-header><value>1</value></set-header>", "missing the required attribute 'name'"),
    (_header("x", "replace", "1"), "'replace' is not one of override, skip, append, delete"),
    (_header("Content-Length", None, "1"), "header 'Content-Length' cannot be modified or deleted"),
    (_header("bad name", None, "1"), "'bad name' is not a valid header name"),
    ('<set-header name="x"><value lang="en">1</value></set-header>', "<value> attribute 'lang' is not supported"),
    ('<set-header name="x"><values>1</values></set-header>', "<values> is not allowed inside <set-header>"),
    ('<set-header name="x"><value>@(context.Request.Bodyy)</value></set-header>', "<value> text"),
])
def test_refusals(xml: str, message: str) -> None:
    assert message in str(rejected(document(inbound=xml)))


def _sent(inbound: str, headers: list[tuple[str, str]]) -> dict[str, str]:
    services = FakeServices()
    execute([None, api(inbound=inbound)], services, headers=headers, **URL)
    return services.calls[0]["headers"]


def test_inbound_actions_change_the_forwarded_request() -> None:
    original = [("x-a", "old"), ("x-b", "old"), ("x-c", "old"), ("x-d", "old")]
    sent = _sent(_header("x-a", "override", "new") + _header("x-b", "skip", "new") + _header("x-c", "append", "new")
                 + _header("x-d", "delete") + _header("x-e", "skip", "added") + _header("X-F", None, "1", "2"),
                 original)
    assert (sent["x-a"], sent["x-b"], sent["x-c"], sent["x-e"], sent["x-f"]) == ("new", "old", "old,new", "added", "1,2")
    assert "x-d" not in sent


def test_headers_apim_keeps_apart_are_not_joined() -> None:
    services = FakeServices(answers=[response(200, headers=[("set-cookie", "a=1")])])
    ctx = execute([None, api(outbound=_header("Set-Cookie", "append", "b=2"))], services, **URL)
    assert ctx.response_headers.get_all("set-cookie") == ["a=1", "b=2"]


def test_outbound_and_on_error_change_the_response() -> None:
    ctx = execute([None, api(outbound=_header("x-region", None, "@(context.Subscription.Id)"))], **URL)
    assert ctx.response_headers.get("x-region") == "sub-1"
    failed = execute([None, api(on_error=_header("x-error", None, "@(context.LastError.Reason)"))])
    assert failed.response_headers.get("x-error") == "BackendNotSet"


def test_names_and_actions_from_expressions_are_checked_when_evaluated() -> None:
    ok = _sent('<set-header name="@(&quot;x-&quot; + context.Subscription.Id)" exists-action="@(&quot;override&quot;)">'
               "<value>1</value></set-header>", [])
    assert ok["x-sub-1"] == "1"
    ctx = execute([None, api(inbound='<set-header name="@(&quot;content-length&quot;)"><value>1</value></set-header>')],
                  **URL)
    assert (ctx.response_status, ctx.last_error_reason) == (500, "InvalidHeader")


@pytest.mark.parametrize("value", [
    "@(&quot;a\\r\\nx-injected: yes&quot;)",  # CR LF: the next line would be a header of the policy author's choosing
    "@(&quot;a\\nb&quot;)",
    "@(&quot;a\\rb&quot;)",
    "@(&quot;a\\0b&quot;)",
    "@(context.Request.Url.Query.GetValueOrDefault(&quot;q&quot;, &quot;&quot;))",  # %0D%0A decoded by the gateway
])
@pytest.mark.parametrize("section", ["inbound", "outbound"])
def test_a_value_with_a_line_break_or_nul_fails_the_request_and_is_never_written(value: str, section: str) -> None:
    services = FakeServices()
    ctx = execute([None, api(**{section: _header("x-test", None, value)})], services, query="q=a%0D%0Ax-injected:%20yes",
                  **URL)
    assert (ctx.response_status, ctx.last_error_reason, ctx.last_error_source) == (500, "InvalidHeader", "set-header")
    assert "'x-test' holds a line break (CR or LF) or NUL" in ctx.last_error_message
    assert "x-test" not in ctx.response_headers and "x-injected" not in ctx.response_headers
    assert services.calls == [] if section == "inbound" else "x-test" not in services.calls[0]["headers"]


def test_a_value_with_a_tab_or_inner_spaces_is_written_as_it_is() -> None:
    assert _sent(_header("x-test", None, "@(&quot;a\\tb  c&quot;)"), [])["x-test"] == "a\tb  c"
