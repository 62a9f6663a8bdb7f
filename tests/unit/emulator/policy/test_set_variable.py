"""<set-variable>: constants are strings, expression values keep their type."""

from __future__ import annotations

import pytest
from .policy_helpers import api, assert_sections, document, execute, rejected

from toolkit.emulator.policy.registry import SECTIONS

URL = {"backend_url": "http://backend.test"}


def test_sections() -> None:
    assert_sections('<set-variable name="a" value="1"/>', SECTIONS)


@pytest.mark.parametrize(("xml", "message"), [
    ('<set-variable value="1"/>', "missing the required attribute 'name'"),
    ('<set-variable name=" " value="1"/>', "attribute 'name' is empty"),
    ('<set-variable name="@(context.RequestId)" value="1"/>', "expressions are not allowed here"),
    ('<set-variable name="a" value="@(context.Userr.Id)"/>', "context.Userr"),
])
def test_refusals(xml: str, message: str) -> None:
    assert message in str(rejected(document(inbound=xml)))


def test_values_keep_their_types_and_feed_later_expressions() -> None:
    policy = api(inbound='<set-variable name="text" value="42"/>'
                         '<set-variable name="number" value="@(40 + 2)"/>'
                         '<set-variable name="flag" value="@(context.Subscription.Id == &quot;sub-1&quot;)"/>'
                         '<choose><when condition="@((int)context.Variables[&quot;number&quot;] &gt;= 42)">'
                         '<set-variable name="seen" value="@(context.Variables.GetValueOrDefault&lt;string&gt;'
                         '(&quot;text&quot;))"/></when></choose>')
    ctx = execute([None, policy], **URL)
    assert ctx.variables == {"text": "42", "number": 42, "flag": True, "seen": "42"}
