"""<rewrite-uri>: the backend path (and query) from a template."""

from __future__ import annotations

import pytest
from .policy_helpers import FakeServices, api, assert_sections, document, execute, rejected

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
