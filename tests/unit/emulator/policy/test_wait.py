"""<wait>: children run concurrently; for="all" or "any"."""

from __future__ import annotations

import pytest
from .policy_helpers import FakeServices, api, assert_sections, document, execute, rejected

URL = {"backend_url": "http://backend.test"}


def send(name: str) -> str:
    return f'<send-request response-variable-name="{name}"><set-url>http://127.0.0.1:9/{name}</set-url></send-request>'


def test_sections() -> None:
    """wait-policy.md: "Policy sections: inbound, outbound, backend" (not on-error)."""
    assert_sections(f"<wait>{send('a')}</wait>", ("inbound", "outbound", "backend"))


@pytest.mark.parametrize(("xml", "message"), [
    ('<wait for="some">' + send("a") + "</wait>", "'some' is not one of"),
    ('<wait><set-variable name="a" value="1"/></wait>', "<set-variable> is not allowed inside <wait>"),
])
def test_refusals(xml: str, message: str) -> None:
    assert message in str(rejected(document(inbound=xml)))


def test_all_children_finish() -> None:
    services = FakeServices()
    ctx = execute([None, api(inbound=f"<wait>{send('a')}{send('b')}</wait>")], services, **URL)
    assert {"a", "b"} <= set(ctx.variables) and len(services.http.calls) == 2


def test_any_finishes_after_the_first() -> None:
    services = FakeServices()
    ctx = execute([None, api(inbound=f'<wait for="any">{send("a")}{send("b")}</wait>')], services, **URL)
    assert {"a", "b"} & set(ctx.variables) and ctx.response_status == 200


@pytest.mark.parametrize(("value", "status"), [("all", 200), ("ANY", 200), ("some", 500)])
def test_for_takes_an_expression_checked_when_evaluated(value: str, status: int) -> None:
    services = FakeServices()
    xml = f'<wait for="@(context.Request.Headers.GetValueOrDefault(&quot;x-for&quot;, &quot;&quot;))">{send("a")}</wait>'
    ctx = execute([None, api(inbound=xml)], services, headers=[("x-for", value)], **URL)
    assert ctx.response_status == status
    if status == 500:
        assert ctx.last_error_reason == "ExpressionValueEvaluationFailure" and services.http.calls == []
