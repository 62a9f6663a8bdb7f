"""<set-backend-service>: backend-id (single or pool) or base-url, in inbound and backend only."""

from __future__ import annotations

from .policy_helpers import FakeServices, api, assert_sections, document, execute, rejected

from toolkit.emulator.policy import SingleBackend


def _services() -> FakeServices:
    return FakeServices(backends={
        "one": SingleBackend("one", "https://one.test/openai"),
        "two": SingleBackend("two", "https://two.test/"),
    })


def test_sections() -> None:
    assert_sections('<set-backend-service backend-id="one"/>', ("inbound", "backend"))


def test_refusals() -> None:
    assert "exactly one of 'backend-id' and 'base-url'" in str(rejected(document(inbound="<set-backend-service/>")))
    both = rejected(document(inbound='<set-backend-service backend-id="one" base-url="https://x.test"/>'))
    assert "exactly one" in str(both)
    unknown = rejected(document(inbound='<set-backend-service backend-id="ghost"/>'), backends=["one"])
    assert "backend 'ghost' does not exist" in str(unknown)
    bad_url = rejected(document(inbound='<set-backend-service base-url="ftp://x.test"/>'))
    assert "is not an http(s) URL" in str(bad_url)
    service_fabric = rejected(document(inbound='<set-backend-service backend-id="one" sf-partition-key="1"/>'))
    assert "the local emulator does not support attribute 'sf-partition-key' of <set-backend-service> (APIM does)" in str(service_fabric)


def test_known_backend_ids_pass_when_the_backends_are_given() -> None:
    policy = api(inbound='<set-backend-service backend-id="one"/>', backends=["one", "two"])
    services = _services()
    ctx = execute([None, policy], services)
    assert ctx.selected_backend == "one"
    assert services.calls[0]["url"].startswith("https://one.test/openai/")
    # The same document is refused once "one" is not among the given backends: the check is live.
    refused = rejected(document(inbound='<set-backend-service backend-id="one"/>'), backends=["two"])
    assert "backend 'one' does not exist" in str(refused)


def test_backend_id_routes_to_the_backend_url_plus_the_operation_path_and_query() -> None:
    services = _services()
    ctx = execute([None, api(inbound='<set-backend-service backend-id="one"/>')], services)
    assert services.calls[0]["url"] == \
        "https://one.test/openai/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21"
    assert ctx.selected_backend == "one"


def test_the_last_setting_wins_and_base_url_clears_the_backend_id() -> None:
    services = _services()
    policy = api(inbound='<set-backend-service backend-id="one"/>',
                 backend='<set-backend-service base-url="https://other.test/v1"/><forward-request/>')
    execute([None, policy], services, query="")
    assert services.calls[0]["url"] == "https://other.test/v1/openai/deployments/gpt-4o-mini/chat/completions"


def test_backend_id_from_an_expression() -> None:
    services = _services()
    policy = api(inbound='<set-backend-service backend-id="@(context.Request.Headers.GetValueOrDefault('
                         '&quot;x-target&quot;, &quot;one&quot;))"/>')
    execute([None, policy], services, headers=[("x-target", "two")])
    assert services.calls[0]["url"].startswith("https://two.test/openai/deployments/")


def test_an_unknown_backend_at_request_time_goes_to_on_error() -> None:
    policy = api(inbound='<set-backend-service backend-id="@(&quot;gh&quot; + &quot;ost&quot;)"/>')
    ctx = execute([None, policy], _services())
    assert (ctx.response_status, ctx.last_error_reason) == (500, "BackendNotFound")


def test_a_base_url_query_never_reaches_the_trace() -> None:
    """A base-url may carry a key in its query (?code=..., from a secret named value): the trace shows the URL
    without it, as forward-request's events do; the backend still gets it."""
    services = _services()
    policy = api(backend='<set-backend-service base-url="https://other.test/v1?code=SECRET-CANARY"/><forward-request/>')
    ctx = execute([None, policy], services, query="")
    assert "code=SECRET-CANARY" in services.calls[0]["url"]
    (event,) = ctx.trace.find("set-backend-service")
    assert event["message"] == "base-url https://other.test/v1"
    refused = execute([None, api(inbound='<set-backend-service base-url="@("ftp://x.test/?code=SECRET-CANARY")"/>')],
                      _services())
    assert refused.last_error_message == "set-backend-service: base-url 'ftp://x.test/' is not an http(s) URL."
