"""The pipeline: base across scopes, default policies, on-error, default error responses, return-response."""

from __future__ import annotations

import json

from .policy_helpers import FakeServices, api, body_json, compile_api, document, execute, make_ctx, run

from toolkit.emulator.policy import (
    BackendConnectionFailure,
    BackendTimeout,
    SingleBackend,
    compile_policy,
    run_pipeline,
)
from toolkit.emulator.policy.services import PoolBackend

TRAIL = '<set-header name="x-trail" exists-action="append"><value>{}</value></set-header>'


def _global(**sections: str):
    return compile_policy(document(**sections), "global")


def test_base_runs_the_parent_scopes_same_section_where_it_stands() -> None:
    glob = _global(inbound=TRAIL.format("global"), backend="<forward-request/>")
    api_policy = api(inbound=TRAIL.format("api-before") + "<base/>" + TRAIL.format("api-after"))
    operation = compile_policy(document(inbound=TRAIL.format("op") + "<base/>"), "operation")
    services = FakeServices()
    execute([glob, api_policy, operation], services, backend_url="http://backend.test")
    assert services.calls[0]["headers"]["x-trail"] == "op,api-before,global,api-after"


def test_a_section_without_base_drops_the_parent_scopes() -> None:
    glob = _global(inbound=TRAIL.format("global"), backend="<forward-request/>")
    operation = compile_policy(document(inbound=TRAIL.format("op")), "operation")
    services = FakeServices()
    execute([glob, None, operation], services, backend_url="http://backend.test")
    assert services.calls[0]["headers"]["x-trail"] == "op"


def test_missing_scopes_and_sections_use_the_defaults_so_the_request_is_forwarded() -> None:
    services = FakeServices()
    ctx = execute([None, compile_api("<policies><inbound><base/></inbound></policies>"), None], services,
                  backend_url="http://backend.test/base")
    assert len(services.calls) == 1
    assert services.calls[0]["url"] == "http://backend.test/base/openai/deployments/gpt-4o-mini/chat/completions" \
        "?api-version=2024-10-21"
    assert ctx.response_status == 200


def test_a_global_policy_without_a_backend_section_still_forwards() -> None:
    services = FakeServices()
    execute([_global(inbound="")], services, backend_url="http://backend.test")
    assert len(services.calls) == 1


def test_an_empty_backend_section_forwards_nothing_and_answers_200_without_body() -> None:
    services = FakeServices()
    ctx = execute([None, api(backend="")], services, backend_url="http://backend.test")
    assert services.calls == []
    assert (ctx.response_status, ctx.response_body) == (200, b"")


def test_outbound_runs_after_the_backend_from_the_most_specific_scope() -> None:
    glob = _global(backend="<forward-request/>", outbound='<set-header name="x-g" exists-action="override">'
                   '<value>@(context.Response.StatusCode.ToString())</value></set-header>')
    ctx = execute([glob, api()], FakeServices(), backend_url="http://backend.test")
    assert ctx.response_headers.get("x-g") == "200"


def test_error_runs_on_error_through_base_with_last_error_and_skips_outbound() -> None:
    glob = _global(backend="<forward-request/>", on_error=TRAIL.format("global-on-error"))
    api_policy = api(
        inbound='<set-variable name="x" value="@((string)context.Variables[&quot;missing&quot;])"/>',
        outbound='<set-header name="x-outbound" exists-action="override"><value>ran</value></set-header>',
        on_error="<base/>" + TRAIL.format("api-on-error")
        + '<set-header name="x-reason" exists-action="override"><value>@(context.LastError.Reason)</value></set-header>'
        + '<set-header name="x-source" exists-action="override"><value>@(context.LastError.Source)</value></set-header>',
    )
    services = FakeServices()
    ctx = execute([glob, api_policy], services, backend_url="http://backend.test")
    assert services.calls == []
    assert ctx.response_status == 500
    assert ctx.response_headers.get("x-trail") == "global-on-error,api-on-error"
    assert ctx.response_headers.get("x-reason") == "ExpressionValueEvaluationFailure"
    assert ctx.response_headers.get("x-source") == "set-variable"
    assert "x-outbound" not in ctx.response_headers
    assert body_json(ctx)["statusCode"] == 500
    assert ctx.last_error_section == "inbound"


def test_connection_failure_and_timeout_default_to_apims_generic_500() -> None:
    # APIM answers both 500 "Internal server error" with the request id; the detail is only in LastError.
    for error, reason, message in ((BackendConnectionFailure("refused"), "BackendConnectionFailure", "refused"),
                                   (BackendTimeout(), "Timeout", "Request to the backend service timed out")):
        services = FakeServices()
        services.answers = [error]
        ctx = execute([None, api()], services, backend_url="http://backend.test", request_id="req-1")
        assert ctx.response_status == 500
        assert (ctx.last_error_reason, ctx.last_error_message) == (reason, message)
        assert body_json(ctx) == {"statusCode": 500, "message": "Internal server error", "activityId": "req-1"}
        assert ctx.response_headers.get("content-type").startswith("application/json")


class _ClosedRouter:
    def choose(self, is_available):
        return None


def test_exhausted_pool_answers_503_json_without_retry_after_and_on_error_sees_503() -> None:
    services = FakeServices(backends={"pool": PoolBackend("pool", _ClosedRouter())})
    plain = execute([None, api(inbound='<set-backend-service backend-id="pool"/>')], services)
    assert plain.response_status == 503
    assert "retry-after" not in plain.response_headers
    assert body_json(plain)["statusCode"] == 503

    rewrite = api(
        inbound='<set-backend-service backend-id="pool"/>',
        on_error='<choose><when condition="@(context.Response.StatusCode == 503)"><return-response>'
                 '<set-status code="429" reason="Too Many Requests"/>'
                 '<set-header name="Retry-After" exists-action="override"><value>10</value></set-header>'
                 '</return-response></when></choose>',
    )
    ctx = execute([None, rewrite], services)
    assert (ctx.response_status, ctx.response_headers.get("retry-after")) == (429, "10")


def test_return_response_ends_the_request_at_once() -> None:
    policy = api(
        inbound='<return-response><set-status code="418" reason="Teapot"/>'
                '<set-body>short and stout</set-body></return-response>'
                '<set-header name="x-after" exists-action="override"><value>1</value></set-header>',
        outbound='<set-header name="x-outbound" exists-action="override"><value>1</value></set-header>',
    )
    services = FakeServices()
    ctx = execute([None, policy], services, backend_url="http://backend.test")
    assert services.calls == []
    assert (ctx.response_status, ctx.response_reason, ctx.response_body) == (418, "Teapot", b"short and stout")
    assert "x-after" not in ctx.request_headers and "x-outbound" not in ctx.response_headers


def test_an_error_inside_on_error_ends_with_that_errors_default_response() -> None:
    policy = api(
        inbound='<set-variable name="x" value="@((string)context.Variables[&quot;a&quot;])"/>',
        on_error='<set-variable name="y" value="@((int)context.Variables[&quot;b&quot;])"/>'
                 '<set-status code="599" reason="never"/>',
    )
    ctx = execute([None, policy], FakeServices(), backend_url="http://backend.test")
    assert ctx.response_status == 500
    assert ctx.last_error_section == "on-error"


def test_no_backend_set_is_an_error() -> None:
    ctx = execute([None, api()], FakeServices())
    assert ctx.response_status == 500
    assert ctx.last_error_reason == "BackendNotSet"


def test_the_trace_is_json_ready_and_names_sections() -> None:
    services = FakeServices(backends={"one": SingleBackend("one", "http://one.test")})
    ctx = execute([None, api(inbound='<set-backend-service backend-id="one"/>')], services)
    events = ctx.trace.to_list()
    json.dumps(events)
    assert [e["source"] for e in events] == ["set-backend-service", "forward-request"]
    assert events[1]["section"] == "backend"
    assert events[1]["data"]["backend"] == "one" and events[1]["data"]["status"] == 200
    assert events[1]["data"]["url"] == "http://one.test/openai/deployments/gpt-4o-mini/chat/completions"  # no query


def test_untraced_requests_record_nothing() -> None:
    ctx = make_ctx(trace=False, backend_url="http://backend.test")
    run(run_pipeline([None, api()], ctx, FakeServices()))
    assert ctx.trace is None and ctx.response_status == 200


def test_last_error_names_the_failing_policys_id_scope_and_section() -> None:
    from .policy_helpers import api, execute

    policy = api(inbound='<set-variable id="boom" name="x" value="@((string)context.Variables[&quot;none&quot;])"/>',
                 on_error='<set-header name="x-where"><value>@(context.LastError.Scope + "/" + context.LastError.Section'
                          ' + "/" + context.LastError.PolicyId + "/" + context.LastError.Source)</value></set-header>')
    ctx = execute([None, policy], backend_url="http://backend.test")
    assert ctx.response_headers.get("x-where") == "api/inbound/boom/set-variable"


def test_work_after_the_answer_runs_in_order_and_a_failure_is_noted_not_raised() -> None:
    from toolkit.emulator.policy import Trace, run_after_answer

    ctx = make_ctx(trace=Trace())
    ran: list[str] = []

    async def first() -> None:
        ran.append("first")
        raise RuntimeError("disk full")

    async def second() -> None:
        ran.append("second")

    ctx.after_answer += [first, second]
    run(run_after_answer(ctx))
    assert ran == ["first", "second"] and ctx.after_answer == []
    failure = ctx.trace.find("pipeline")[-1]
    assert failure["message"] == "work after the answer failed" and failure["data"] == {"error": "RuntimeError: disk full"}
    run(run_after_answer(ctx))  # each job runs once
    assert ran == ["first", "second"]


def test_the_semantic_cache_store_waits_for_the_answer() -> None:
    """The pipeline leaves the store for after the answer; until then a lookup of the partition waits."""
    from .test_llm_semantic_cache_lookup import cached_api

    from toolkit.emulator.policy import Trace, run_after_answer, run_pipeline

    services = FakeServices()
    ctx = make_ctx(backend_url="http://backend.test", trace=Trace())

    async def answered() -> None:
        await run_pipeline([None, cached_api()], ctx, services)
        assert ctx.response_status == 200 and services.cache_store.count(services.now) == 0
        assert len(ctx.after_answer) == 1
        await run_after_answer(ctx)

    run(answered())
    assert services.cache_store.count(services.now) == 1
    assert [e["message"] for e in ctx.trace.find("llm-semantic-cache-store")] == ["stored for 60 s"]
    assert not ctx.trace.find("pipeline") or all("failed" not in e["message"] for e in ctx.trace.find("pipeline"))
