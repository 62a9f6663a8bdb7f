"""<set-query-parameter>: the query string the backend receives."""

from __future__ import annotations

import pytest
from .policy_helpers import FakeServices, api, assert_sections, document, execute, rejected

URL = {"backend_url": "http://backend.test"}


def test_sections() -> None:
    assert_sections('<set-query-parameter name="a"><value>1</value></set-query-parameter>', ("inbound", "backend"))


@pytest.mark.parametrize(("xml", "message"), [
    ('<set-query-parameter><value>1</value></set-query-parameter>', "missing the required attribute 'name'"),
    ('<set-query-parameter name="a"/>', "needs a <value>"),
    ('<set-query-parameter name="a" exists-action="merge"><value>1</value></set-query-parameter>', "not one of"),
])
def test_refusals(xml: str, message: str) -> None:
    assert message in str(rejected(document(inbound=xml)))


@pytest.mark.parametrize(("action", "query", "expected"), [
    ("override", "a=0&b=2", "b=2&a=1&a=%40x"),
    ("skip", "a=0", "a=0"),
    ("skip", "b=2", "b=2&a=1&a=%40x"),
    ("append", "a=0", "a=0&a=1&a=%40x"),
    ("delete", "a=0&b=2", "b=2"),
])
def test_actions(action: str, query: str, expected: str) -> None:
    services = FakeServices()
    xml = (f'<set-query-parameter name="a" exists-action="{action}"><value>1</value>'
           '<value>@("@" + "x")</value></set-query-parameter>')
    execute([None, api(inbound=xml)], services, query=query, **URL)
    assert services.calls[0]["url"].split("?", 1)[1] == expected


def test_untouched_parameters_go_on_as_received() -> None:
    services = FakeServices()
    xml = '<set-query-parameter name="x" exists-action="append"><value>2</value></set-query-parameter>'
    execute([None, api(inbound=xml)], services, query="x=1&flag&q=a%20b&r=c+d", **URL)
    assert services.calls[0]["url"].split("?", 1)[1] == "x=1&flag&q=a%20b&r=c+d&x=2"


@pytest.mark.parametrize(("action", "expected"), [("skip", "a=0&b=2"), ("Override", "b=2&a=1")])
def test_exists_action_takes_an_expression(action: str, expected: str) -> None:
    services = FakeServices()
    xml = (f'<set-query-parameter name="a" exists-action="@(&quot;{action}&quot;)"><value>1</value>'
           '</set-query-parameter>')
    execute([None, api(inbound=xml)], services, query="a=0&b=2", **URL)
    assert services.calls[0]["url"].split("?", 1)[1] == expected


@pytest.mark.parametrize(("action", "values"), [("merge", "<value>1</value>"), ("append", "")])
def test_an_exists_action_expression_with_a_bad_value_fails_the_request(action: str, values: str) -> None:
    xml = f'<set-query-parameter name="a" exists-action="@(&quot;{action}&quot;)">{values}</set-query-parameter>'
    ctx = execute([None, api(inbound=xml)], query="a=0", **URL)
    assert (ctx.response_status, ctx.last_error_reason) == (500, "ExpressionValueEvaluationFailure")
