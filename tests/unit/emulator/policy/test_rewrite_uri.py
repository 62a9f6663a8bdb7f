"""<rewrite-uri>: the backend path (and query) from a template."""

from __future__ import annotations

import pytest
from .policy_helpers import FakeServices, answered, api, assert_sections, document, execute, make_ctx, rejected, run

URL = {"backend_url": "http://backend.test/base"}


def test_sections() -> None:
    assert_sections('<rewrite-uri template="/x"/>', ("inbound",))


@pytest.mark.parametrize(("xml", "message"), [
    ("<rewrite-uri/>", "missing the required attribute 'template'"),
    ('<rewrite-uri template=" "/>', "'template' is empty"),
    ('<rewrite-uri template="/x" copy-unmatched-params="maybe"/>', "not true or false"),
])
def test_refusals(xml: str, message: str) -> None:
    assert message in str(rejected(document(inbound=xml)))


def test_template_parameters_come_from_the_query_and_leave_it() -> None:
    services = FakeServices()
    execute([None, api(inbound='<rewrite-uri template="/models/{model}/chat?v=2"/>')], services,
            query="model=gpt&keep=1", **URL)
    assert services.calls[0]["url"] == "http://backend.test/base/models/gpt/chat?v=2&keep=1"


def test_unmatched_parameters_can_be_dropped() -> None:
    services = FakeServices()
    execute([None, api(inbound='<rewrite-uri template="@(&quot;/fixed&quot;)" copy-unmatched-params="false"/>')],
            services, query="keep=1", **URL)
    assert services.calls[0]["url"] == "http://backend.test/base/fixed"


def test_the_operation_templates_query_parameters_are_matched_not_copied() -> None:
    # docs: request /get?a=b&c=d, operation template /get?a={b}, <rewrite-uri template="/put" /> → /put?c=d
    services = FakeServices()
    ctx = make_ctx(query="a=b&c=d", backend_url="http://backend.test/base")
    ctx.operation_query, ctx.matched_parameters = (("a", "b"),), {"b": "b"}
    run(answered([None, api(inbound='<rewrite-uri template="/put"/>')], ctx, services))
    assert services.calls[0]["url"] == "http://backend.test/base/put?c=d"


def test_copied_parameters_go_on_as_received() -> None:
    services = FakeServices()
    execute([None, api(inbound='<rewrite-uri template="/m/{model}"/>')], services,
            query="model=gpt&flag&q=a%20b&r=c+d", **URL)
    assert services.calls[0]["url"] == "http://backend.test/base/m/gpt?flag&q=a%20b&r=c+d"
