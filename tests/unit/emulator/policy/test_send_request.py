"""<send-request>, <send-one-way-request>, and return-response's response-variable-name."""

from __future__ import annotations

import asyncio

import pytest
from .policy_helpers import FakeServices, api, assert_sections, body_json, document, execute, rejected, run

from toolkit.emulator.gateway.http_client import ConnectFailure
from toolkit.emulator.policy import RequestContext, run_pipeline
from toolkit.emulator.policy.registry import SECTIONS
from toolkit.emulator.policy.state import state_of

URL = {"backend_url": "http://backend.test"}
SEND = ('<send-request mode="new" response-variable-name="r" timeout="5" {extra}>'
        '<set-url>{url}</set-url><set-method>POST</set-method>'
        '<set-header name="x-a" exists-action="override"><value>@(context.Subscription.Id)</value></set-header>'
        '<set-body>@("{{\\"q\\":\\"" + context.Request.Method + "\\"}}")</set-body></send-request>')


def send(url: str = "http://127.0.0.1:9/check", extra: str = "") -> str:
    return SEND.format(url=url, extra=extra)


def test_sections() -> None:
    assert_sections(send(), SECTIONS)
    assert_sections('<send-one-way-request><set-url>http://127.0.0.1:9/x</set-url></send-one-way-request>', SECTIONS)


@pytest.mark.parametrize(("xml", "message"), [
    ('<send-request response-variable-name="r"/>', "needs <set-url>"),
    ('<send-request mode="clone"><set-url>http://127.0.0.1/</set-url></send-request>', "'clone' is not one of"),
    ('<send-request><set-url>http://127.0.0.1/</set-url><set-status code="200"/></send-request>',
     "<set-status> is not allowed inside <send-request>"),
    ('<send-request><set-url>http://127.0.0.1/</set-url><authentication-certificate/></send-request>',
     "the local emulator does not support <authentication-certificate> inside <send-request> (APIM does)"),
    ('<set-method>GET POST</set-method>', "is not an HTTP method"),
])
def test_refusals(xml: str, message: str) -> None:
    assert message in str(rejected(document(inbound=xml)))


def test_the_request_is_built_from_the_children_and_the_response_kept_as_an_iresponse() -> None:
    services = FakeServices()
    services.http.routes["/check"] = (200, {"attack": True})
    inbound = send() + '<set-variable name="flag" value="@((bool)((IResponse)context.Variables[&quot;r&quot;])' \
                       '.Body.As&lt;JObject&gt;()[&quot;attack&quot;])"/>'
    ctx = execute([None, api(inbound=inbound)], services, subscription_id="sub-9", **URL)
    call = services.http.calls[0]
    assert (call["method"], call["url"], call["headers"]["x-a"], call["body"]) == (
        "POST", "http://127.0.0.1:9/check", "sub-9", b'{"q":"POST"}')
    assert call["timeout"] == 5.0 and ctx.variables["flag"] is True


def test_urls_off_the_machine_are_refused_as_the_emulators_limit() -> None:
    services = FakeServices()
    ctx = execute([None, api(inbound=send("https://graph.microsoft.com/v1.0/me"))], services, **URL)
    assert ctx.response_status == 500 and ctx.last_error_reason == "BackendConnectionFailure"
    assert "the local emulator does not send requests to graph.microsoft.com (APIM does)" in ctx.last_error_message
    assert services.http.calls == []


def test_ignore_error_stores_null() -> None:
    services = FakeServices()
    services.http.routes["/check"] = ConnectFailure("refused")
    inbound = send(extra='ignore-error="true"') + '<set-variable name="none" value="@(context.Variables[&quot;r&quot;] == null)"/>'
    ctx = execute([None, api(inbound=inbound)], services, **URL)
    assert ctx.variables["none"] is True and ctx.response_status == 200


def test_https_to_loopback_is_sent_as_http() -> None:
    services = FakeServices()
    execute([None, api(inbound=send("https://127.0.0.1:9/check"))], services, **URL)
    assert services.http.calls[0]["url"] == "http://127.0.0.1:9/check"


def test_copy_mode_starts_from_the_current_request() -> None:
    services = FakeServices()
    xml = ('<send-request mode="copy" response-variable-name="r"><set-url>http://127.0.0.1:9/copy</set-url>'
           '</send-request>')
    execute([None, api(inbound=xml)], services, headers=[("x-user", "alice")], **URL)
    call = services.http.calls[0]
    assert call["method"] == "POST" and call["headers"]["x-user"] == "alice" and b"climate" in call["body"]


def test_copy_mode_in_outbound_starts_without_the_request_body() -> None:
    """send-request-policy.md: "In outbound mode, mode=copy does not initialize the request body"."""
    services = FakeServices()
    copy = '<send-request mode="copy" response-variable-name="r"><set-url>http://127.0.0.1:9/copy</set-url>{}</send-request>'
    execute([None, api(outbound="<base/>" + copy.format(""))], services, headers=[("x-user", "alice")], **URL)
    call = services.http.calls[0]
    assert call["method"] == "POST" and call["headers"]["x-user"] == "alice" and call["body"] == b""
    execute([None, api(outbound=copy.format("<set-body>given</set-body>"))], services, **URL)
    assert services.http.calls[1]["body"] == b"given"


def test_mode_and_response_variable_name_take_expressions() -> None:
    services = FakeServices()
    xml = ('<send-request mode="@(context.Request.Headers.GetValueOrDefault(&quot;x-mode&quot;, &quot;new&quot;))" '
           'response-variable-name="@(&quot;r-&quot; + context.Subscription.Id)">'
           "<set-url>http://127.0.0.1:9/side</set-url></send-request>")
    policy = api(inbound=xml)
    ctx = execute([None, policy], services, subscription_id="s1", **URL)
    assert services.http.calls[0]["method"] == "GET" and "r-s1" in ctx.variables
    execute([None, policy], services, headers=[("x-mode", "Copy")], **URL)
    assert services.http.calls[1]["method"] == "POST" and b"climate" in services.http.calls[1]["body"]
    ctx = execute([None, policy], services, headers=[("x-mode", "clone")], **URL)
    assert (ctx.response_status, ctx.last_error_reason) == (500, "ExpressionValueEvaluationFailure")
    assert "'mode' evaluated to 'clone', not one of new, copy" in ctx.last_error_message
    assert len(services.http.calls) == 2


def test_return_response_answers_with_the_stored_response() -> None:
    services = FakeServices()
    services.http.routes["/check"] = (202, {"from": "side"})
    inbound = send() + '<return-response response-variable-name="r"><set-header name="x-b"><value>1</value>' \
                       '</set-header></return-response>'
    ctx = execute([None, api(inbound=inbound)], services, **URL)
    assert ctx.response_status == 202 and body_json(ctx) == {"from": "side"}
    assert ctx.response_headers.get("x-b") == "1" and services.calls == []


def test_one_way_requests_do_not_wait_and_record_their_outcome() -> None:
    services = FakeServices()
    xml = '<send-one-way-request><set-url>http://127.0.0.1:9/hook</set-url><set-method>PUT</set-method></send-one-way-request>'
    policy = api(inbound=xml)

    async def scenario() -> RequestContext:
        from .policy_helpers import make_ctx

        ctx = make_ctx(**URL)
        await run_pipeline([None, policy], ctx, services)
        await asyncio.sleep(0)
        await asyncio.gather(*state_of(services).background)
        return ctx

    ctx = run(scenario())
    assert ctx.response_status == 200
    assert [e["status"] for e in state_of(services).events if e["kind"] == "send-one-way-request"] == [200]
    assert services.http.calls[0]["method"] == "PUT"


def test_set_method_changes_what_the_backend_receives() -> None:
    services = FakeServices()
    execute([None, api(inbound="<set-method>@(&quot;put&quot;)</set-method>")], services, **URL)
    assert services.calls[0]["method"] == "PUT"
